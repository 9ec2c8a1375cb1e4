package services

import "net"

// Echo is the Echo Protocol (RFC 862): on TCP every byte received is
// sent back until the client closes; on UDP every datagram goes back to
// its sender.
type Echo struct{ base }

// Serve serves TCP connections from l until Close.
func (s *Echo) Serve(l net.Listener) error {
	return s.serve(l, func(c net.Conn) { s.copyFrom(c, c) })
}

// ServePacket serves UDP datagrams from pc until Close.
func (s *Echo) ServePacket(pc net.PacketConn) error {
	return s.servePacket(pc, func(p []byte, from net.Addr) { s.reply(pc, p, from) })
}
