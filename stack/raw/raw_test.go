package raw_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/twostack"
	"github.com/nicbed/nicbed/stack/raw"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/testbed"
)

// echoRequest is an ICMP echo request with its checksum.
func echoRequest(id, seq uint16, data []byte) []byte {
	m := make([]byte, 8+len(data))
	m[0] = header.ICMPv4Echo
	binary.BigEndian.PutUint16(m[4:], id)
	binary.BigEndian.PutUint16(m[6:], seq)
	copy(m[8:], data)
	binary.BigEndian.PutUint16(m[2:], ^checksum.Checksum(m, 0))
	return m
}

// TestRawPing: ping from A's SOCK_RAW IPPROTO_ICMP socket to B. Each
// echo reply comes back to the raw socket with its IP header (from B, TTL
// 64, the identifier, sequence and data of the request, a valid
// checksum), at a round trip time the model measures; a raw ICMP socket
// on B sees each request (raw_v4_input runs before icmp_rcv) and B still
// answers; B's ICMP_FILTER for echo requests stops its copies.
func TestRawPing(t *testing.T) {
	p, err := twostack.New(testbed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ping, err := p.A.Socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	spy, err := p.B.Socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij")
	var rtts []time.Duration
	err = p.TB.RunTask(p.TB.A, "ping", 5*time.Second, func(tk *kernelmodel.Task) error {
		ping.SetSockOpt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 100000)
		buf := make([]byte, 1500)
		for seq := uint16(1); seq <= 10; seq++ {
			if seq == 6 {
				spy.SetSockOpt(socket.SOL_RAW, raw.ICMP_FILTER, 1<<header.ICMPv4Echo)
			}
			start := p.A.K.Now()
			if _, err := ping.SendTo(tk, echoRequest(0x4242, seq, data), 0, netip.AddrPortFrom(twostack.B, 0)); err != nil {
				return err
			}
			n, from, err := ping.RecvFrom(tk, buf, 0)
			if err != nil {
				return err
			}
			rtts = append(rtts, p.A.K.Now()-start)
			ip := header.IPv4(buf[:n])
			m := buf[ip.HeaderLength():n]
			if from != netip.AddrPortFrom(twostack.B, 0) || ip.Source() != twostack.B.As4() || ip.TTL() != 64 ||
				m[0] != header.ICMPv4EchoReply || binary.BigEndian.Uint16(m[4:]) != 0x4242 ||
				binary.BigEndian.Uint16(m[6:]) != seq || !bytes.Equal(m[8:], data) || checksum.Checksum(m, 0) != 0xffff {
				t.Errorf("reply %d from %v: %x", seq, from, buf[:n])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rtt %v", rtts)
	for _, r := range rtts[1:] {
		if r <= 0 || r > time.Millisecond {
			t.Errorf("rtt %v", r)
		}
	}
	got := 0
	for {
		n, _, err := spy.RecvFrom(nil, make([]byte, 1500), 0)
		if err != nil {
			break
		}
		if n != 20+8+len(data) {
			t.Errorf("B's copy: %d bytes", n)
		}
		got++
	}
	if got != 5 || p.B.IPv4.SNMP.Icmp.OutType[0] != 10 {
		t.Errorf("B's raw socket saw %d requests (want 5), B replied %d times", got, p.B.IPv4.SNMP.Icmp.OutType[0])
	}
	ping.Close()
	spy.Close()
	if err := p.Settle(); err != nil {
		t.Fatal(err)
	}
}

// TestRawHdrincl: an IPPROTO_RAW socket (IP_HDRINCL on) sends a UDP
// datagram whose IP header the user built with zero source, ID, length
// and checksum; the stack fills them and B's UDP socket receives it. A
// header-included datagram above the MTU is EMSGSIZE.
func TestRawHdrincl(t *testing.T) {
	p, err := twostack.New(testbed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	so, err := p.A.Socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := so.GetSockOpt(socket.SOL_IP, socket.IP_HDRINCL); v != 1 {
		t.Fatalf("IPPROTO_RAW: IP_HDRINCL %d", v)
	}
	rx, _ := p.B.Socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
	if err := rx.Bind(netip.AddrPortFrom(twostack.B, 4000)); err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 20+8+5)
	ip := header.IPv4(pkt)
	ip.SetVersionIHL(20)
	ip.SetTTL(9)
	ip.SetProtocol(17)
	ip.SetDestination(twostack.B.As4())
	u := header.UDP(pkt[20:])
	u.SetSourcePort(1111)
	u.SetDestinationPort(4000)
	u.SetLength(13)
	copy(pkt[28:], "hello")
	err = p.TB.RunTask(p.TB.A, "send", time.Second, func(tk *kernelmodel.Task) error {
		if _, err := so.SendTo(tk, pkt, 0, netip.AddrPortFrom(twostack.B, 0)); err != nil {
			return err
		}
		if _, err := so.SendTo(tk, make([]byte, 1501), 0, netip.AddrPortFrom(twostack.B, 0)); !errors.Is(err, syscall.EMSGSIZE) {
			t.Errorf("1501-byte hdrincl datagram: %v, want EMSGSIZE", err)
		}
		bad := append([]byte(nil), pkt...)
		bad[0] = 0x44 // IHL 16 bytes
		if _, err := so.SendTo(tk, bad, 0, netip.AddrPortFrom(twostack.B, 0)); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("IHL 4: %v, want EINVAL", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p.TB.Clock.RunFor(5 * time.Millisecond)
	buf := make([]byte, 100)
	n, from, err := rx.RecvFrom(nil, buf, 0)
	if err != nil || string(buf[:n]) != "hello" || from != netip.AddrPortFrom(twostack.A, 1111) {
		t.Fatalf("B got %q from %v: %v", buf[:n], from, err)
	}
	so.Close()
	rx.Close()
	if err := p.Settle(); err != nil {
		t.Fatal(err)
	}
}

// TestRawSocketErrors: socket(SOCK_RAW) needs a protocol; ICMP_FILTER is
// for ICMP sockets; sends without a destination or too large fail as
// Linux's.
func TestRawSocketErrors(t *testing.T) {
	p, err := twostack.New(testbed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.A.Socket(socket.AF_INET, socket.SOCK_RAW, 0); !errors.Is(err, syscall.EPROTONOSUPPORT) {
		t.Errorf("SOCK_RAW protocol 0: %v", err)
	}
	so, err := p.A.Socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
	if err != nil {
		t.Fatal(err)
	}
	if err := so.SetSockOpt(socket.SOL_RAW, raw.ICMP_FILTER, 1); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("ICMP_FILTER on a UDP raw socket: %v", err)
	}
	if _, err := so.Send(nil, []byte("x"), 0); !errors.Is(err, syscall.EDESTADDRREQ) {
		t.Errorf("send unconnected: %v", err)
	}
	if _, err := so.SendTo(nil, make([]byte, 65516), 0, netip.AddrPortFrom(twostack.B, 0)); !errors.Is(err, syscall.EMSGSIZE) {
		t.Errorf("65516 bytes: %v", err)
	}
	if err := so.Bind(netip.AddrPortFrom(twostack.B, 0)); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Errorf("bind B's address: %v", err)
	}
	if v, _ := so.GetSockOpt(socket.SOL_SOCKET, socket.SO_PROTOCOL); v != socket.IPPROTO_UDP {
		t.Errorf("SO_PROTOCOL %d", v)
	}
	so.Close()
	if err := p.Settle(); err != nil {
		t.Fatal(err)
	}
}
