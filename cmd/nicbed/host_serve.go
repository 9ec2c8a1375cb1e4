package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"syscall"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/stack/socket"
)

// server is one running --serve service and its counters.
type server struct {
	service
	so       *socket.Socket
	requests uint64 // datagrams received
	bytes    uint64 // their bytes
	replies  uint64 // datagrams sent back
	sendErrs uint64 // sends that failed (the reply is lost, as a server's would be)
	err      error  // why the server stopped, if it did
}

// startServers opens and binds each service's socket (socket, bind to the
// wildcard address and its port) and starts its task: an RFC 862 UDP echo
// server sends every datagram back to its sender. A service that cannot
// open its socket is an error: nicbed host does not start without it.
func startServers(st *inet.Stack, k *kernelmodel.Kernel, list serveFlag) ([]*server, error) {
	var out []*server
	for _, s := range list {
		so, err := st.Socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
		if err != nil {
			return nil, fmt.Errorf("--serve %s=%d: socket: %w", s.name, s.port, err)
		}
		if err := so.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), s.port)); err != nil {
			return nil, fmt.Errorf("--serve %s=%d: bind: %w", s.name, s.port, err)
		}
		sv := &server{service: s, so: so}
		k.Spawn(0, fmt.Sprintf("%s-%d", s.name, s.port), sv.echo)
		out = append(out, sv)
	}
	return out, nil
}

// echo is the UDP echo server's loop (RFC 862): recvfrom, sendto the
// sender, until the socket fails. A transient error (EAGAIN, EINTR: a
// datagram dropped on recvmsg for its checksum) does not stop it.
func (sv *server) echo(t *kernelmodel.Task) {
	buf := make([]byte, 65536)
	for {
		n, from, err := sv.so.RecvFrom(t, buf, 0)
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
			t.CondResched()
			continue
		}
		if err != nil {
			sv.err = err
			return
		}
		sv.requests++
		sv.bytes += uint64(n)
		if _, err := sv.so.SendTo(t, buf[:n], 0, from); err != nil {
			sv.sendErrs++
			continue
		}
		sv.replies++
	}
}

// writeServers prints a line per service for the exit report.
func writeServers(w io.Writer, servers []*server) {
	for _, sv := range servers {
		fmt.Fprintf(w, "serve %s=%d: %d datagrams (%d bytes) in, %d echoed, %d send errors", sv.name, sv.port, sv.requests, sv.bytes, sv.replies, sv.sendErrs)
		if sv.err != nil {
			fmt.Fprintf(w, ", stopped: %v", sv.err)
		}
		fmt.Fprintln(w)
	}
}
