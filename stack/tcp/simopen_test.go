package tcp_test

import (
	"crypto/sha256"
	"net/netip"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/tcp"
)

// TestSimultaneousOpen: two sockets bound to known ports connect to each
// other at the same moment (RFC 9293 3.5, figure 8): the SYNs cross, each
// end goes SYN-SENT → SYN-RECV (answering the other's SYN with a SYN-ACK)
// → ESTABLISHED, neither is a passive open, and data flows both ways.
func TestSimultaneousOpen(t *testing.T) {
	p := newPair(t)
	sa, sb := tcpSocket(t, p.a), tcpSocket(t, p.b)
	if err := sa.Bind(netip.AddrPortFrom(addrA, 5000)); err != nil {
		t.Fatal(err)
	}
	if err := sb.Bind(netip.AddrPortFrom(addrB, 6000)); err != nil {
		t.Fatal(err)
	}
	// Both ends know each other's MAC first, so the SYNs leave at once
	// and cross on the wire.
	for _, x := range []struct {
		s  *inet.Stack
		to netip.Addr
	}{{p.a, addrB}, {p.b, addrA}} {
		u, err := x.s.Socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.SendTo(nil, []byte("arp"), 0, netip.AddrPortFrom(x.to, 9)); err != nil {
			t.Fatal(err)
		}
		p.n.Clock.RunFor(10 * time.Millisecond)
		u.Close()
	}
	p.pa.Sent, p.pb.Sent = nil, nil
	var errA, errB error
	doneA, doneB := false, false
	p.ka.Spawn(0, "connect-a", func(tk *kernelmodel.Task) { errA = sa.Connect(tk, netip.AddrPortFrom(addrB, 6000)); doneA = true })
	p.kb.Spawn(0, "connect-b", func(tk *kernelmodel.Task) { errB = sb.Connect(tk, netip.AddrPortFrom(addrA, 5000)); doneB = true })
	p.n.Clock.RunWhile(func() bool { return !doneA || !doneB }, p.n.Clock.Now()+5*time.Second)
	if !doneA || !doneB || errA != nil || errB != nil {
		t.Fatalf("connect: A done %v %v, B done %v %v", doneA, errA, doneB, errB)
	}
	syns, synacks := 0, 0
	for _, h := range tcpFrames(append(append([]stacktest.Sent(nil), p.pa.Sent...), p.pb.Sent...)) {
		switch {
		case h.Flags()&0x12 == 0x12:
			synacks++
		case h.Flags()&0x02 != 0:
			syns++
		}
	}
	if syns != 2 || synacks != 2 {
		t.Errorf("%d SYNs and %d SYN-ACKs on the wire, want 2 and 2 (crossed SYNs, each answered)", syns, synacks)
	}
	ca := p.a.TCP.Lookup(netip.AddrPortFrom(addrB, 6000), netip.AddrPortFrom(addrA, 5000))
	cb := p.b.TCP.Lookup(netip.AddrPortFrom(addrA, 5000), netip.AddrPortFrom(addrB, 6000))
	if ca == nil || cb == nil || ca.State() != tcp.StateEstablished || cb.State() != tcp.StateEstablished {
		t.Fatalf("connections %v %v, want both ESTABLISHED", ca, cb)
	}
	for _, s := range []*tcp.Table{p.a.TCP, p.b.TCP} {
		if s.MIB.ActiveOpens != 1 || s.MIB.PassiveOpens != 0 {
			t.Errorf("ActiveOpens %d PassiveOpens %d, want 1 and 0", s.MIB.ActiveOpens, s.MIB.PassiveOpens)
		}
	}
	msg := pattern(100000, 3)
	if got := p.transfer(t, p.ka, p.kb, sa, sb, msg, 5*time.Second); got != sha256.Sum256(msg) {
		t.Error("A to B not intact")
	}
	if got := p.transfer(t, p.kb, p.ka, sb, sa, msg, 5*time.Second); got != sha256.Sum256(msg) {
		t.Error("B to A not intact")
	}
}

// TestFastRetransmitOneLoss: one data segment lost in the middle of a
// 200 KB transfer; the segments after it draw duplicate ACKs, and on the
// third the sender resends it (tcp_fastretrans_alert, RFC 5681 3.2): one
// retransmission, no RTO, the data intact.
func TestFastRetransmitOneLoss(t *testing.T) {
	p := newPair(t)
	for _, d := range []*kernelmodel.NetDevice{p.pa.D, p.pb.D} {
		d.Features &^= kernelmodel.NETIF_F_GSO | kernelmodel.NETIF_F_GRO // one segment a frame
	}
	cl, srv := p.connected(t, 80)
	n := 0
	p.pa.Drop = func(frame []byte) bool {
		if len(frame) < 14+20+20+1000 {
			return false // ACKs, the handshake
		}
		n++
		return n == 40
	}
	msg := pattern(200000, 9)
	if got := p.transfer(t, p.ka, p.kb, cl, srv, msg, 10*time.Second); got != sha256.Sum256(msg) {
		t.Fatal("not intact")
	}
	m, x := p.a.TCP.MIB, p.a.TCP.Ext
	if m.RetransSegs != 1 || x.TCPFastRetrans != 1 || x.TCPTimeouts != 0 {
		t.Errorf("RetransSegs %d TCPFastRetrans %d TCPTimeouts %d, want 1, 1, 0", m.RetransSegs, x.TCPFastRetrans, x.TCPTimeouts)
	}
}
