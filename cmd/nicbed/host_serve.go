package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/nicbed/nicbed/internal/services"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/inet"
)

// serviceDef is one service --serve offers.
type serviceDef struct {
	name string
	help string
	udp  bool // it has a UDP form, served next to the TCP one
	new  func() hostService
}

// hostService is a service of internal/services.
type hostService interface {
	Serve(l net.Listener) error
	Close() error
	Counters() *services.Stats
}

// serviceDefs are the services, in --help's order.
var serviceDefs = []serviceDef{
	{"echo", "echo (RFC 862), TCP and UDP: what arrives goes back", true, func() hostService { return &services.Echo{} }},
	{"discard", "discard (RFC 863), TCP and UDP: what arrives is thrown away", true, func() hostService { return &services.Discard{} }},
	{"chargen", "chargen (RFC 864), TCP and UDP: 72-character lines of the 95 printable characters;\n    on UDP one datagram of 0-512 bytes of them for each received", true, func() hostService { return &services.Chargen{} }},
	{"http", "HTTP/1.1, TCP: GET /bytes/N is N bytes of a fixed pseudo-random sequence,\n    PUT or POST /sink answers the body's length and hex SHA-256", false, func() hostService { return &services.HTTP{} }},
	{"iperf3", "an iperf3 3.x server, TCP: iperf3 -c ADDR -p PORT [-R] [-P N] [-t S | -n BYTES] from Linux", false, func() hostService { return &services.Iperf3{} }},
}

func lookupService(name string) (serviceDef, bool) {
	for _, d := range serviceDefs {
		if d.name == name {
			return d, true
		}
	}
	return serviceDef{}, false
}

// serviceNames are the services' names, for messages.
func serviceNames() string {
	var names []string
	for _, d := range serviceDefs {
		names = append(names, d.name)
	}
	return strings.Join(names, ", ")
}

// serveUsage is --serve's text in --help.
func serveUsage() string {
	var b strings.Builder
	b.WriteString("services to run, a comma-separated list of name=PORT (repeatable),\n  e.g. echo=7,discard=9,chargen=19,http=80,iperf3=5201:")
	for _, d := range serviceDefs {
		fmt.Fprintf(&b, "\n  %-8s %s", d.name, d.help)
	}
	return b.String()
}

// offLoop runs fn on a goroutine while the loop runs, 10 s at most, and
// reports whether fn returned: how the services, which use the stack's Go
// adapters, open and close their sockets.
func offLoop(clk *kernelmodel.Clock, fn func()) bool {
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	return clk.RunWhile(func() bool {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}, clk.Now()+10*time.Second)
}

// listenTCP is the stack's TCP listener on laddr ((*inet.Stack).ListenTCP)
// as a net.Listener.
func listenTCP(st *inet.Stack, laddr netip.AddrPort) (net.Listener, error) {
	l, err := st.ListenTCP(laddr)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// server is one running --serve service: its UDP and TCP halves, each a
// server of its own so the report tells them apart.
type server struct {
	service
	def      serviceDef
	udp, tcp hostService
	done     chan error
	running  int   // Serve and ServePacket calls that run
	err      error // why a half stopped before Close, if one did
}

// startServers opens each service's sockets on the stack (a UDP socket
// through ListenUDP, a TCP listener through listenTCP, on the wildcard
// address and the service's port) and serves them on goroutines. It runs
// off the loop, which must run meanwhile. A service that cannot open its
// sockets is an error: nicbed host does not start without it.
func startServers(st *inet.Stack, list serveFlag) ([]*server, error) {
	var out []*server
	fail := func(err error) ([]*server, error) {
		closeServers(out)
		return nil, err
	}
	for _, s := range list {
		def, _ := lookupService(s.name)
		sv := &server{service: s, def: def, done: make(chan error, 2)}
		out = append(out, sv)
		laddr := netip.AddrPortFrom(netip.IPv4Unspecified(), s.port)
		if def.udp {
			pc, err := st.ListenUDP(laddr)
			if err != nil {
				return fail(fmt.Errorf("--serve %s=%d: udp: %w", s.name, s.port, err))
			}
			u := def.new()
			sv.udp = u
			sv.running++
			go func() { sv.done <- u.(interface{ ServePacket(net.PacketConn) error }).ServePacket(pc) }()
		}
		l, err := listenTCP(st, laddr)
		if err != nil {
			return fail(fmt.Errorf("--serve %s=%d: tcp: %w", s.name, s.port, err))
		}
		tc := def.new()
		sv.tcp = tc
		sv.running++
		go func() { sv.done <- tc.Serve(l) }()
	}
	return out, nil
}

// closeServers closes every server and waits for it to stop; off the
// loop, which must run meanwhile (closing a socket enters it).
func closeServers(servers []*server) {
	for _, sv := range servers {
		for _, h := range []hostService{sv.udp, sv.tcp} {
			if h != nil {
				h.Close()
			}
		}
		for range sv.running {
			if err := <-sv.done; err != nil && sv.err == nil {
				sv.err = err
			}
		}
		sv.running = 0
	}
}

// writeServers prints a line per service for the exit report: the UDP
// half's datagrams, the TCP half's connections, and each half's bytes and
// errors.
func writeServers(w io.Writer, servers []*server) {
	for _, sv := range servers {
		var parts []string
		if sv.udp != nil {
			c := sv.udp.Counters()
			parts = append(parts, fmt.Sprintf("%d datagrams (%d bytes) in, %d (%d bytes) out, %d errors",
				c.Datagrams.Load(), c.BytesIn.Load(), c.Replies.Load(), c.BytesOut.Load(), c.Errors.Load()))
		}
		if sv.tcp != nil {
			c := sv.tcp.Counters()
			tcp := fmt.Sprintf("tcp: %d connections, %d bytes in, %d bytes out, %d errors", c.Conns.Load(), c.BytesIn.Load(), c.BytesOut.Load(), c.Errors.Load())
			switch s := sv.tcp.(type) {
			case *services.HTTP:
				tcp += fmt.Sprintf(", %d requests", s.Requests.Load())
			case *services.Iperf3:
				tcp += fmt.Sprintf(", %d tests, %d denied", s.Tests.Load(), s.Denied.Load())
			}
			parts = append(parts, tcp)
		}
		if sv.err != nil {
			parts = append(parts, fmt.Sprintf("stopped: %v", sv.err))
		}
		fmt.Fprintf(w, "serve %s=%d: %s\n", sv.name, sv.port, strings.Join(parts, "; "))
	}
}
