package services

import (
	"io"
	"net"
)

// Discard is the Discard Protocol (RFC 863): whatever arrives, on TCP or
// UDP, is thrown away and nothing is sent.
type Discard struct{ base }

// Serve serves TCP connections from l until Close.
func (s *Discard) Serve(l net.Listener) error {
	return s.serve(l, func(c net.Conn) { s.copyFrom(io.Discard, c) })
}

// ServePacket serves UDP datagrams from pc until Close.
func (s *Discard) ServePacket(pc net.PacketConn) error {
	return s.servePacket(pc, func([]byte, net.Addr) {})
}
