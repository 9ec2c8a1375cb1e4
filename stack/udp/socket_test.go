package udp_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/socket"
)

var (
	ipA = netip.AddrFrom4(stacktest.IPA)
	ipB = netip.AddrFrom4(stacktest.IPB)
)

// host is one stack on a recording device, B being a peer whose frames
// the test injects.
type host struct {
	dev *stacktest.Dev
	s   *inet.Stack
}

func newHost(t testing.TB) *host {
	t.Helper()
	d, err := stacktest.New(stacktest.MACA)
	if err != nil {
		t.Fatal(err)
	}
	d.Record = false
	s := inet.New(d.K, inet.Config{Seed: 1})
	if err := s.AddInterface(d.D, netip.PrefixFrom(ipA, 24)); err != nil {
		t.Fatal(err)
	}
	return &host{dev: d, s: s}
}

// udpFrame is an Ethernet frame from B to A carrying a UDP datagram; a
// zero csum field is filled in unless noCsum.
func udpFrame(src, dst netip.AddrPort, payload []byte, noCsum bool) []byte {
	u := make([]byte, 8+len(payload))
	uh := header.UDP(u)
	uh.SetSourcePort(src.Port())
	uh.SetDestinationPort(dst.Port())
	uh.SetLength(uint16(8 + len(payload)))
	copy(u[8:], payload)
	f := ipFrame(src.Addr().As4(), dst.Addr().As4(), u)
	if !noCsum {
		setUDPChecksum(f)
	}
	return f
}

// ipFrame is an Ethernet frame from B to A with an IPv4 header (protocol
// UDP) in front of l4.
func ipFrame(src, dst [4]byte, l4 []byte) []byte {
	f := make([]byte, 14+20+len(l4))
	e := header.Ethernet(f)
	e.SetDestination(stacktest.MACA)
	e.SetSource(stacktest.MACB)
	binary.BigEndian.PutUint16(f[12:], header.EtherTypeIPv4)
	ip := header.IPv4(f[14:])
	ip.SetVersionIHL(20)
	ip.SetTotalLength(uint16(20 + len(l4)))
	ip.SetTTL(64)
	ip.SetProtocol(17)
	ip.SetSource(src)
	ip.SetDestination(dst)
	ip.SetChecksum(ip.CalculateChecksum())
	copy(f[34:], l4)
	return f
}

// setUDPChecksum computes the checksum of the UDP datagram in frame f
// (over its UDP length, or what the frame holds of it).
func setUDPChecksum(f []byte) {
	ip := header.IPv4(f[14:])
	uh := header.UDP(f[34:])
	uh.SetChecksum(0)
	l := min(int(uh.Length()), len(f)-34)
	s, d := ip.Source(), ip.Destination()
	c := ^checksum.Checksum(f[34:34+l], checksum.PseudoHeaderIPv4(s[:], d[:], 17, uint16(l)))
	if c == 0 {
		c = 0xffff
	}
	uh.SetChecksum(c)
}

func (h *host) inject(f []byte) {
	h.dev.Receive(f)
	h.dev.K.Clock().RunFor(time.Millisecond)
}

func isErr(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

// TestSocketSemantics: each errno case of socket, bind, connect, sendto,
// recvfrom, getsockname/getpeername, setsockopt/getsockopt and close, as
// Linux returns it, on a fresh stack each.
func TestSocketSemantics(t *testing.T) {
	any := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(netip.IPv4Unspecified(), port) }
	cases := []struct {
		name string
		run  func(h *host, so *socket.Socket) error
		want error
	}{
		{"socket SOCK_DGRAM IPPROTO_TCP", func(h *host, _ *socket.Socket) error {
			_, err := h.s.Socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_TCP)
			return err
		}, syscall.EPROTONOSUPPORT},
		{"socket AF_INET6", func(h *host, _ *socket.Socket) error {
			_, err := h.s.Socket(socket.AF_INET6, socket.SOCK_DGRAM, 0)
			return err
		}, syscall.EAFNOSUPPORT},
		{"bind", func(h *host, so *socket.Socket) error { return so.Bind(any(5000)) }, nil},
		{"bind twice", func(h *host, so *socket.Socket) error {
			so.Bind(any(5000))
			return so.Bind(any(5001))
		}, syscall.EINVAL},
		{"bind a port in use", func(h *host, so *socket.Socket) error {
			o := mustUDP(h.s)
			o.Bind(any(5000))
			return so.Bind(any(5000))
		}, syscall.EADDRINUSE},
		{"bind wildcard over a specific address", func(h *host, so *socket.Socket) error {
			o := mustUDP(h.s)
			o.Bind(netip.AddrPortFrom(ipA, 5000))
			return so.Bind(any(5000))
		}, syscall.EADDRINUSE},
		{"bind with SO_REUSEADDR on one only", func(h *host, so *socket.Socket) error {
			o := mustUDP(h.s)
			o.SetSockOpt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
			o.Bind(any(5000))
			return so.Bind(any(5000))
		}, syscall.EADDRINUSE},
		{"bind with SO_REUSEADDR on both", func(h *host, so *socket.Socket) error {
			o := mustUDP(h.s)
			o.SetSockOpt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
			o.Bind(any(5000))
			so.SetSockOpt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
			return so.Bind(any(5000))
		}, nil},
		{"bind the port of a closed socket", func(h *host, so *socket.Socket) error {
			o := mustUDP(h.s)
			o.Bind(any(5000))
			o.Close()
			return so.Bind(any(5000))
		}, nil},
		{"bind an address not ours", func(h *host, so *socket.Socket) error {
			return so.Bind(netip.AddrPortFrom(ipB, 5000))
		}, syscall.EADDRNOTAVAIL},
		{"bind the broadcast address", func(h *host, so *socket.Socket) error {
			return so.Bind(netip.MustParseAddrPort("10.0.0.255:5000"))
		}, nil},
		{"bind IPv6", func(h *host, so *socket.Socket) error {
			return so.Bind(netip.MustParseAddrPort("[::1]:5000"))
		}, syscall.EAFNOSUPPORT},
		{"send unconnected", func(h *host, so *socket.Socket) error {
			_, err := so.Send(nil, []byte("x"), 0)
			return err
		}, syscall.EDESTADDRREQ},
		{"sendto port 0", func(h *host, so *socket.Socket) error {
			_, err := so.SendTo(nil, []byte("x"), 0, netip.AddrPortFrom(ipB, 0))
			return err
		}, syscall.EINVAL},
		{"sendto IPv6", func(h *host, so *socket.Socket) error {
			_, err := so.SendTo(nil, []byte("x"), 0, netip.MustParseAddrPort("[::1]:53"))
			return err
		}, syscall.EAFNOSUPPORT},
		{"sendto 65507 bytes", func(h *host, so *socket.Socket) error {
			_, err := so.SendTo(nil, make([]byte, 65507), 0, netip.AddrPortFrom(ipB, 9))
			return err
		}, nil},
		{"sendto 65508 bytes", func(h *host, so *socket.Socket) error {
			_, err := so.SendTo(nil, make([]byte, 65508), 0, netip.AddrPortFrom(ipB, 9))
			return err
		}, syscall.EMSGSIZE},
		{"sendto 65536 bytes", func(h *host, so *socket.Socket) error {
			_, err := so.SendTo(nil, make([]byte, 65536), 0, netip.AddrPortFrom(ipB, 9))
			return err
		}, syscall.EMSGSIZE},
		{"sendto above the MTU with IP_PMTUDISC_DO", func(h *host, so *socket.Socket) error {
			so.SetSockOpt(socket.SOL_IP, socket.IP_MTU_DISCOVER, socket.IP_PMTUDISC_DO)
			_, err := so.SendTo(nil, make([]byte, 1473), 0, netip.AddrPortFrom(ipB, 9))
			return err
		}, syscall.EMSGSIZE},
		{"sendto without a route", func(h *host, so *socket.Socket) error {
			_, err := so.SendTo(nil, []byte("x"), 0, netip.MustParseAddrPort("192.168.7.7:9"))
			return err
		}, syscall.ENETUNREACH},
		{"sendto broadcast without SO_BROADCAST", func(h *host, so *socket.Socket) error {
			_, err := so.SendTo(nil, []byte("x"), 0, netip.MustParseAddrPort("10.0.0.255:9"))
			return err
		}, syscall.EACCES},
		{"sendto broadcast with SO_BROADCAST", func(h *host, so *socket.Socket) error {
			so.SetSockOpt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
			_, err := so.SendTo(nil, []byte("x"), 0, netip.MustParseAddrPort("10.0.0.255:9"))
			return err
		}, nil},
		{"connect broadcast without SO_BROADCAST", func(h *host, so *socket.Socket) error {
			return so.Connect(nil, netip.MustParseAddrPort("10.0.0.255:9"))
		}, syscall.EACCES},
		{"connect without a route", func(h *host, so *socket.Socket) error {
			return so.Connect(nil, netip.MustParseAddrPort("192.168.7.7:9"))
		}, syscall.ENETUNREACH},
		{"connect then bind", func(h *host, so *socket.Socket) error {
			so.Connect(nil, netip.AddrPortFrom(ipB, 9))
			return so.Bind(any(5000))
		}, syscall.EINVAL},
		{"recvfrom without a task", func(h *host, so *socket.Socket) error {
			_, _, err := so.RecvFrom(nil, make([]byte, 10), 0)
			return err
		}, syscall.EAGAIN},
		{"recvfrom O_NONBLOCK in a task", func(h *host, so *socket.Socket) error {
			so.SetNonblock(true)
			return inTask(h, func(t *kernelmodel.Task) error {
				_, _, err := so.RecvFrom(t, make([]byte, 10), 0)
				return err
			})
		}, syscall.EAGAIN},
		{"recvfrom MSG_DONTWAIT in a task", func(h *host, so *socket.Socket) error {
			return inTask(h, func(t *kernelmodel.Task) error {
				_, _, err := so.RecvFrom(t, make([]byte, 10), socket.MSG_DONTWAIT)
				return err
			})
		}, syscall.EAGAIN},
		{"recvfrom SO_RCVTIMEO", func(h *host, so *socket.Socket) error {
			so.SetSockOpt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 20000)
			return inTask(h, func(t *kernelmodel.Task) error {
				start := h.s.K.Now()
				_, _, err := so.RecvFrom(t, make([]byte, 10), 0)
				if d := h.s.K.Now() - start; d < 20*time.Millisecond || d > 21*time.Millisecond {
					return errors.New("waited " + d.String())
				}
				return err
			})
		}, syscall.EAGAIN},
		{"recvfrom MSG_ERRQUEUE", func(h *host, so *socket.Socket) error {
			_, _, err := so.RecvFrom(nil, make([]byte, 10), socket.MSG_ERRQUEUE)
			return err
		}, syscall.EAGAIN},
		{"getpeername unconnected", func(h *host, so *socket.Socket) error {
			_, err := so.GetPeerName()
			return err
		}, syscall.ENOTCONN},
		{"getpeername connected", func(h *host, so *socket.Socket) error {
			so.Connect(nil, netip.AddrPortFrom(ipB, 9))
			a, err := so.GetPeerName()
			if err == nil && a != netip.AddrPortFrom(ipB, 9) {
				return errors.New("peer " + a.String())
			}
			return err
		}, nil},
		{"getsockname after connect", func(h *host, so *socket.Socket) error {
			so.Connect(nil, netip.AddrPortFrom(ipB, 9))
			a, _ := so.GetSockName()
			if a.Addr() != ipA || a.Port() < 32768 || a.Port() > 60999 {
				return errors.New("local " + a.String())
			}
			return nil
		}, nil},
		{"disconnect", func(h *host, so *socket.Socket) error {
			so.Connect(nil, netip.AddrPortFrom(ipB, 9))
			so.Disconnect()
			a, _ := so.GetSockName()
			if a != any(0) {
				return errors.New("local after disconnect " + a.String())
			}
			_, err := so.Send(nil, []byte("x"), 0)
			return err
		}, syscall.EDESTADDRREQ},
		{"ephemeral ports exhausted: autobind", func(h *host, so *socket.Socket) error {
			h.s.UDP.SetLocalPortRange(40000, 40000)
			mustUDP(h.s).Bind(any(0))
			_, err := so.SendTo(nil, []byte("x"), 0, netip.AddrPortFrom(ipB, 9))
			return err
		}, syscall.EAGAIN},
		{"ephemeral ports exhausted: bind 0", func(h *host, so *socket.Socket) error {
			h.s.UDP.SetLocalPortRange(40000, 40000)
			mustUDP(h.s).Bind(any(0))
			return so.Bind(any(0))
		}, syscall.EADDRINUSE},
		{"setsockopt unknown", func(h *host, so *socket.Socket) error {
			return so.SetSockOpt(socket.SOL_SOCKET, 9999, 1)
		}, syscall.ENOPROTOOPT},
		{"setsockopt SO_TYPE", func(h *host, so *socket.Socket) error {
			return so.SetSockOpt(socket.SOL_SOCKET, socket.SO_TYPE, 1)
		}, syscall.ENOPROTOOPT},
		{"setsockopt SOL_UDP", func(h *host, so *socket.Socket) error {
			return so.SetSockOpt(socket.SOL_UDP, 1, 1)
		}, syscall.ENOPROTOOPT},
		{"IP_TTL 0", func(h *host, so *socket.Socket) error {
			return so.SetSockOpt(socket.SOL_IP, socket.IP_TTL, 0)
		}, syscall.EINVAL},
		{"IP_TTL 256", func(h *host, so *socket.Socket) error {
			return so.SetSockOpt(socket.SOL_IP, socket.IP_TTL, 256)
		}, syscall.EINVAL},
		{"IP_HDRINCL on UDP", func(h *host, so *socket.Socket) error {
			return so.SetSockOpt(socket.SOL_IP, socket.IP_HDRINCL, 1)
		}, syscall.ENOPROTOOPT},
		{"close twice", func(h *host, so *socket.Socket) error {
			so.Close()
			return so.Close()
		}, syscall.EBADF},
		{"sendto after close", func(h *host, so *socket.Socket) error {
			so.Close()
			_, err := so.SendTo(nil, []byte("x"), 0, netip.AddrPortFrom(ipB, 9))
			return err
		}, syscall.EBADF},
		{"bind after close", func(h *host, so *socket.Socket) error {
			so.Close()
			return so.Bind(any(5000))
		}, syscall.EBADF},
		{"setsockopt after close", func(h *host, so *socket.Socket) error {
			so.Close()
			return so.SetSockOpt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
		}, syscall.EBADF},
		{"getsockname after close", func(h *host, so *socket.Socket) error {
			so.Close()
			_, err := so.GetSockName()
			return err
		}, syscall.EBADF},
		{"close wakes a blocked reader", func(h *host, so *socket.Socket) error {
			var err error
			h.s.K.Spawn(0, "reader", func(t *kernelmodel.Task) { _, _, err = so.RecvFrom(t, make([]byte, 10), 0) })
			h.s.K.Clock().RunFor(time.Millisecond)
			so.Close()
			h.s.K.Clock().RunFor(time.Millisecond)
			return err
		}, syscall.EBADF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHost(t)
			so := udpSocket(t, h.s)
			if err := c.run(h, so); !isErr(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

// inTask runs fn as a task on h's CPU 0 until it returns.
func inTask(h *host, fn func(t *kernelmodel.Task) error) error {
	var err error
	done := false
	h.s.K.Spawn(0, "test", func(t *kernelmodel.Task) { err = fn(t); done = true })
	h.s.K.Clock().RunWhile(func() bool { return !done }, h.s.K.Clock().Now()+time.Second)
	if !done {
		return errors.New("task did not finish")
	}
	return err
}

// TestSockOpts: SO_RCVBUF and SO_SNDBUF doubled and clamped as Linux
// does (rmem_max/wmem_max 212992, the minimums 2304 and 4608, a negative
// value taken as u32), the defaults, IP_TTL and IP_TOS, SO_TYPE/PROTOCOL/
// DOMAIN.
func TestSockOpts(t *testing.T) {
	h := newHost(t)
	so := udpSocket(t, h.s)
	get := func(level, name int) int {
		v, err := so.GetSockOpt(level, name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := get(socket.SOL_SOCKET, socket.SO_RCVBUF); v != 212992 {
		t.Errorf("default SO_RCVBUF %d", v)
	}
	if v := get(socket.SOL_SOCKET, socket.SO_SNDBUF); v != 212992 {
		t.Errorf("default SO_SNDBUF %d", v)
	}
	for _, c := range []struct{ opt, set, want int }{
		{socket.SO_RCVBUF, 1000, 2304},
		{socket.SO_RCVBUF, 100000, 200000},
		{socket.SO_RCVBUF, 1 << 30, 425984},
		{socket.SO_RCVBUF, -1, 425984},
		{socket.SO_RCVBUF, 0, 2304},
		{socket.SO_SNDBUF, 1000, 4608},
		{socket.SO_SNDBUF, 65536, 131072},
		{socket.SO_SNDBUF, 1 << 30, 425984},
		{socket.SO_RCVBUFFORCE, 1 << 20, 2 << 20},
	} {
		if err := so.SetSockOpt(socket.SOL_SOCKET, c.opt, c.set); err != nil {
			t.Fatal(err)
		}
		get := c.opt
		if get == socket.SO_RCVBUFFORCE {
			get = socket.SO_RCVBUF
		}
		if v, _ := so.GetSockOpt(socket.SOL_SOCKET, get); v != c.want {
			t.Errorf("setsockopt(%d, %d): getsockopt %d, want %d", c.opt, c.set, v, c.want)
		}
	}
	h.s.SetSysctl("net.core.rmem_max", 1<<20)
	so.SetSockOpt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1<<30)
	if v := get(socket.SOL_SOCKET, socket.SO_RCVBUF); v != 2<<20 {
		t.Errorf("SO_RCVBUF with rmem_max 1 MiB: %d", v)
	}
	if v := get(socket.SOL_IP, socket.IP_TTL); v != 64 {
		t.Errorf("IP_TTL default %d", v)
	}
	so.SetSockOpt(socket.SOL_IP, socket.IP_TTL, 5)
	if v := get(socket.SOL_IP, socket.IP_TTL); v != 5 {
		t.Errorf("IP_TTL %d", v)
	}
	so.SetSockOpt(socket.SOL_IP, socket.IP_TTL, -1)
	if v := get(socket.SOL_IP, socket.IP_TTL); v != 64 {
		t.Errorf("IP_TTL reset %d", v)
	}
	so.SetSockOpt(socket.SOL_IP, socket.IP_TOS, 0x1b8)
	if v := get(socket.SOL_IP, socket.IP_TOS); v != 0xb8 {
		t.Errorf("IP_TOS %#x", v)
	}
	for _, c := range []struct{ opt, want int }{{socket.SO_TYPE, socket.SOCK_DGRAM}, {socket.SO_PROTOCOL, 17}, {socket.SO_DOMAIN, socket.AF_INET}, {socket.SO_ERROR, 0}, {socket.SO_REUSEADDR, 0}} {
		if v := get(socket.SOL_SOCKET, c.opt); v != c.want {
			t.Errorf("getsockopt %d: %d, want %d", c.opt, v, c.want)
		}
	}
}

// TestRecvFlags: MSG_PEEK leaves the datagram, MSG_TRUNC returns its
// full length and sets the flag, a short buffer cuts it; poll says
// EPOLLIN while one is queued; a readiness callback runs on arrival; a
// datagram with a bad checksum is dropped at recvmsg (InCsumErrors) and
// one without a checksum is taken.
func TestRecvFlags(t *testing.T) {
	h := newHost(t)
	so := udpSocket(t, h.s)
	if err := so.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 53)); err != nil {
		t.Fatal(err)
	}
	if m := so.Poll(); m != socket.EPOLLOUT|socket.EPOLLWRNORM|socket.EPOLLWRBAND {
		t.Errorf("poll of an empty socket %#x", m)
	}
	woken := 0
	e := &kernelmodel.WaitQueueEntry{Func: func(*kernelmodel.WaitQueueEntry) bool {
		if so.Poll()&socket.EPOLLIN != 0 {
			woken++
		}
		return true
	}}
	so.AddWaiter(e)
	src := netip.AddrPortFrom(ipB, 1234)
	h.inject(udpFrame(src, netip.AddrPortFrom(ipA, 53), []byte("hello world"), false))
	if woken != 1 || so.Poll()&socket.EPOLLIN == 0 {
		t.Fatalf("after one datagram: woken %d, poll %#x", woken, so.Poll())
	}
	so.RemoveWaiter(e)
	buf := make([]byte, 5)
	n, from, fl, err := so.RecvMsg(nil, buf, socket.MSG_PEEK)
	if err != nil || n != 5 || from != src || fl != socket.MSG_TRUNC || string(buf) != "hello" {
		t.Fatalf("peek: %d %v %#x %v %q", n, from, fl, err, buf)
	}
	n, _, fl, err = so.RecvMsg(nil, buf, socket.MSG_TRUNC)
	if err != nil || n != 11 || fl != socket.MSG_TRUNC {
		t.Fatalf("MSG_TRUNC: %d %#x %v", n, fl, err)
	}
	if _, _, err := so.RecvFrom(nil, buf, 0); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("queue not empty: %v", err)
	}
	bad := udpFrame(src, netip.AddrPortFrom(ipA, 53), []byte("bad"), false)
	bad[len(bad)-1] ^= 1
	h.inject(bad)
	h.inject(udpFrame(src, netip.AddrPortFrom(ipA, 53), []byte("nocsum"), true))
	n, _, err = so.RecvFrom(nil, make([]byte, 100), 0)
	if err != nil || n != 6 {
		t.Fatalf("after a bad checksum: %d %v", n, err)
	}
	m := h.s.UDP.MIB
	if m.InDatagrams != 2 || m.InCsumErrors != 1 || m.InErrors != 1 {
		t.Errorf("counters %+v", m)
	}
	// No socket: port unreachable for unicast, nothing for a bad checksum.
	h.inject(udpFrame(src, netip.AddrPortFrom(ipA, 54), []byte("x"), false))
	bad = udpFrame(src, netip.AddrPortFrom(ipA, 54), []byte("y"), false)
	bad[len(bad)-1] ^= 1
	h.inject(bad)
	if m := h.s.UDP.MIB; m.NoPorts != 1 || m.InCsumErrors != 2 || h.s.IPv4.SNMP.Icmp.OutType[3] != 1 {
		t.Errorf("no socket: %+v, ICMP out %d", m, h.s.IPv4.SNMP.Icmp.OutType[3])
	}
	so.Close()
	h.s.K.Clock().RunFor(5 * time.Second) // the ICMP error waits for ARP, which fails after 3 s
	if err := h.s.K.SKBAudit(); err != nil {
		t.Fatal(err)
	}
}

func mustUDP(s *inet.Stack) *socket.Socket {
	so, err := s.Socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
	if err != nil {
		panic(err)
	}
	return so
}

// TestSndbuf: datagrams waiting for ARP stay charged to the sender
// (sk_wmem_alloc, until sock_wfree); with the send buffer full a
// non-blocking sendto is EAGAIN (SndbufErrors) and poll drops EPOLLOUT;
// a blocking sender sleeps until the buffer drains — here when ARP gives
// up and the queued datagrams are freed — and then sends.
func TestSndbuf(t *testing.T) {
	h := newHost(t)
	// Room for everything in the unresolved queue, so that it does not
	// drop (and uncharge) the oldest.
	if err := h.s.SetSysctl("net.ipv4.neigh.default.unres_qlen_bytes", 1<<20); err != nil {
		t.Fatal(err)
	}
	so := mustUDP(h.s)
	dst := netip.AddrPortFrom(ipB, 9) // B never answers ARP
	msg := make([]byte, 100)
	sent := 0
	for sent < 1000 {
		_, err := so.SendTo(nil, msg, 0, dst)
		if err != nil {
			if !errors.Is(err, syscall.EAGAIN) {
				t.Fatal(err)
			}
			break
		}
		sent++
	}
	sk := so.Sk
	if sk.WmemAlloc < sk.Sndbuf || sent == 0 || h.s.UDP.MIB.SndbufErrors != 1 || so.Poll()&socket.EPOLLOUT != 0 {
		t.Fatalf("sent %d: wmem %d, sndbuf %d, SndbufErrors %d, poll %#x", sent, sk.WmemAlloc, sk.Sndbuf, h.s.UDP.MIB.SndbufErrors, so.Poll())
	}
	var woke time.Duration
	h.s.K.Spawn(0, "sender", func(tk *kernelmodel.Task) {
		if _, err := so.SendTo(tk, msg, 0, dst); err != nil {
			t.Error(err)
		}
		woke = h.s.K.Now()
	})
	start := h.s.K.Now()
	h.s.K.Clock().RunFor(5 * time.Second)
	if d := woke - start; woke == 0 || d < 2*time.Second || d > 4*time.Second {
		t.Errorf("the blocked sender went on after %v (ARP gives up after 3 s)", d)
	}
	if so.Poll()&socket.EPOLLOUT == 0 {
		t.Errorf("poll %#x after the buffer drained", so.Poll())
	}
	so.Close()
	h.s.K.Clock().RunFor(5 * time.Second)
	if err := h.s.K.SKBAudit(); err != nil {
		t.Fatal(err)
	}
}
