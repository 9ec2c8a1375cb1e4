package tcp_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/tcp"
)

var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
)

// pair is two stacks on one virtual clock joined by a link.
type pair struct {
	n      *stacktest.Net
	ka, kb *kernelmodel.Kernel
	pa, pb *stacktest.Port
	a, b   *inet.Stack
}

func newPair(t testing.TB) *pair {
	t.Helper()
	n := stacktest.NewNet()
	p := &pair{n: n, ka: n.Host("a"), kb: n.Host("b")}
	var err error
	p.pa, p.pb, err = n.Link(p.ka, "eth0", stacktest.MACA, p.kb, "eth0", stacktest.MACB)
	if err != nil {
		t.Fatal(err)
	}
	p.a = inet.New(p.ka, inet.Config{Seed: 1})
	p.b = inet.New(p.kb, inet.Config{Seed: 2})
	if err := p.a.AddInterface(p.pa.D, netip.PrefixFrom(addrA, 24)); err != nil {
		t.Fatal(err)
	}
	if err := p.b.AddInterface(p.pb.D, netip.PrefixFrom(addrB, 24)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return p
}

func tcpSocket(t testing.TB, s *inet.Stack) *socket.Socket {
	t.Helper()
	so, err := s.Socket(socket.AF_INET, socket.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	return so
}

// run runs fn in a task of k and the clock until it returns (at most
// limit of virtual time).
func (p *pair) run(t *testing.T, k *kernelmodel.Kernel, limit time.Duration, fn func(tk *kernelmodel.Task)) {
	t.Helper()
	done := false
	k.Spawn(0, "test", func(tk *kernelmodel.Task) { fn(tk); done = true })
	if !p.n.Clock.RunWhile(func() bool { return !done }, p.n.Clock.Now()+limit) && !done {
		t.Fatalf("task did not finish in %v", limit)
	}
}

// listen makes a listener on B's port.
func (p *pair) listen(t *testing.T, port uint16) *socket.Socket {
	t.Helper()
	l := tcpSocket(t, p.b)
	if err := l.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), port)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(128); err != nil {
		t.Fatal(err)
	}
	return l
}

// tcpFrames returns the TCP headers of the frames in fs.
func tcpFrames(fs []stacktest.Sent) []header.TCP {
	var out []header.TCP
	for _, f := range fs {
		b := f.Frame
		if len(b) < 14+20 || binary.BigEndian.Uint16(b[12:]) != 0x0800 || b[14+9] != 6 {
			continue
		}
		ihl := int(b[14]&0xf) * 4
		out = append(out, header.TCP(b[14+ihl:]))
	}
	return out
}

// TestHandshakeOptions: connect and accept; the SYN carries Linux's
// options in Linux's order (mss 1460, sackOK, TS, nop, wscale 7), the
// SYN-ACK too, the ACK nop,nop,TS; both ends ESTABLISHED with MSS 1448,
// accept gives the client's address.
func TestHandshakeOptions(t *testing.T) {
	p := newPair(t)
	l := p.listen(t, 80)
	var srv *socket.Socket
	var peer netip.AddrPort
	p.kb.Spawn(0, "accept", func(tk *kernelmodel.Task) {
		var err error
		srv, peer, err = l.Accept(tk, 0)
		if err != nil {
			t.Errorf("accept: %v", err)
		}
	})
	cl := tcpSocket(t, p.a)
	p.run(t, p.ka, time.Second, func(tk *kernelmodel.Task) {
		if err := cl.Connect(tk, netip.AddrPortFrom(addrB, 80)); err != nil {
			t.Errorf("connect: %v", err)
		}
	})
	p.n.Clock.RunFor(10 * time.Millisecond)
	if srv == nil {
		t.Fatal("no connection accepted")
	}
	me, _ := cl.GetSockName()
	if peer != me {
		t.Errorf("accept peer %v, client %v", peer, me)
	}
	segs := tcpFrames(p.pa.Sent)
	if len(segs) < 2 {
		t.Fatalf("%d segments sent", len(segs))
	}
	syn := segs[0]
	wantSyn := []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}
	opts := syn[20:syn.DataOffset()]
	if syn.Flags() != header.TCPFlagSYN || len(opts) != 20 || !bytes.Equal(opts[:8], wantSyn) || !bytes.Equal(opts[16:], []byte{1, 3, 3, 7}) {
		t.Errorf("SYN flags %#x options % x", syn.Flags(), opts)
	}
	if syn.WindowSize() != 64240 {
		t.Errorf("SYN window %d, want 64240", syn.WindowSize())
	}
	synack := tcpFrames(p.pb.Sent)[0]
	sopts := synack[20:synack.DataOffset()]
	if synack.Flags() != header.TCPFlagSYN|header.TCPFlagACK || len(sopts) != 20 || !bytes.Equal(sopts[:8], wantSyn) || !bytes.Equal(sopts[16:], []byte{1, 3, 3, 7}) {
		t.Errorf("SYN-ACK flags %#x options % x", synack.Flags(), sopts)
	}
	if synack.AckNumber() != syn.SequenceNumber()+1 {
		t.Errorf("SYN-ACK ack %d, SYN seq %d", synack.AckNumber(), syn.SequenceNumber())
	}
	ack := segs[1]
	aopts := ack[20:ack.DataOffset()]
	if ack.Flags() != header.TCPFlagACK || len(aopts) != 12 || !bytes.Equal(aopts[:4], []byte{1, 1, 8, 10}) {
		t.Errorf("ACK flags %#x options % x", ack.Flags(), aopts)
	}
	ia, _ := cl.TCPInfo()
	ib, _ := srv.TCPInfo()
	if ia.State != tcp.StateEstablished || ib.State != tcp.StateEstablished || ia.SndMSS != 1448 || ib.SndMSS != 1448 || ia.SndCwnd != 10 {
		t.Errorf("client %v mss %d cwnd %d, server %v mss %d", ia.State, ia.SndMSS, ia.SndCwnd, ib.State, ib.SndMSS)
	}
	if c, _ := cl.GetSockOptString(socket.SOL_TCP, socket.TCP_CONGESTION); c != "cubic" {
		t.Errorf("congestion control %q", c)
	}
	if p.a.TCP.MIB.ActiveOpens != 1 || p.b.TCP.MIB.PassiveOpens != 1 {
		t.Errorf("ActiveOpens %d PassiveOpens %d", p.a.TCP.MIB.ActiveOpens, p.b.TCP.MIB.PassiveOpens)
	}
}

// connected returns a connected client on A and its accepted server on B.
func (p *pair) connected(t *testing.T, port uint16) (cl, srv *socket.Socket) {
	t.Helper()
	return p.connectedWith(t, port, nil)
}

// connectedWith is connected with setup run on the listener before it
// listens.
func (p *pair) connectedWith(t *testing.T, port uint16, setup func(l *socket.Socket)) (cl, srv *socket.Socket) {
	t.Helper()
	l := tcpSocket(t, p.b)
	if err := l.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), port)); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(l)
	}
	if err := l.Listen(128); err != nil {
		t.Fatal(err)
	}
	p.kb.Spawn(0, "accept", func(tk *kernelmodel.Task) {
		srv, _, _ = l.Accept(tk, 0)
	})
	cl = tcpSocket(t, p.a)
	p.run(t, p.ka, 5*time.Second, func(tk *kernelmodel.Task) {
		if err := cl.Connect(tk, netip.AddrPortFrom(addrB, port)); err != nil {
			t.Errorf("connect: %v", err)
		}
	})
	p.n.Clock.RunFor(10 * time.Millisecond)
	if srv == nil {
		t.Fatal("not accepted")
	}
	return cl, srv
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// transfer sends data from a task on ks through from and reads it in a
// task on kr from to; it returns the SHA-256 of what was read.
func (p *pair) transfer(t *testing.T, ks, kr *kernelmodel.Kernel, from, to *socket.Socket, data []byte, limit time.Duration) [32]byte {
	t.Helper()
	h := sha256.New()
	got := 0
	rdone := false
	kr.Spawn(0, "reader", func(tk *kernelmodel.Task) {
		buf := make([]byte, 65536)
		for got < len(data) {
			n, _, err := to.RecvFrom(tk, buf, 0)
			if err != nil || n == 0 {
				t.Errorf("recv after %d bytes: %d %v", got, n, err)
				break
			}
			h.Write(buf[:n])
			got += n
		}
		rdone = true
	})
	p.run(t, ks, limit, func(tk *kernelmodel.Task) {
		for off := 0; off < len(data); {
			n, err := from.Send(tk, data[off:min(off+100000, len(data))], 0)
			if err != nil {
				t.Errorf("send at %d: %v", off, err)
				return
			}
			off += n
		}
	})
	if !p.n.Clock.RunWhile(func() bool { return !rdone }, p.n.Clock.Now()+limit) && !rdone {
		t.Fatalf("read %d of %d bytes", got, len(data))
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// TestTransfer10MB: 10 MB each way, SHA-256 equal, no retransmission on
// a clean link; no ACK waits for the delayed-ACK timer (the reader's
// tcp_cleanup_rbuf sends it) and the receive buffer grows past
// tcp_rmem[1] (tcp_rcv_space_adjust).
func TestTransfer10MB(t *testing.T) {
	p := newPair(t)
	p.pa.Record, p.pb.Record = false, false
	cl, srv := p.connected(t, 5001)
	data := pattern(10<<20, 1)
	if got := p.transfer(t, p.ka, p.kb, cl, srv, data, 60*time.Second); got != sha256.Sum256(data) {
		t.Error("A→B: SHA-256 differs")
	}
	if n := p.b.TCP.Ext.DelayedACKs; n != 0 {
		t.Errorf("%d delayed ACKs timed out in a bulk transfer", n)
	}
	if rb, _ := srv.GetSockOpt(socket.SOL_SOCKET, socket.SO_RCVBUF); rb <= 131072 {
		t.Errorf("receive buffer %d after 10 MB, not grown", rb)
	}
	back := pattern(10<<20, 2)
	if got := p.transfer(t, p.kb, p.ka, srv, cl, back, 60*time.Second); got != sha256.Sum256(back) {
		t.Error("B→A: SHA-256 differs")
	}
	if r := p.a.TCP.MIB.RetransSegs + p.b.TCP.MIB.RetransSegs; r != 0 {
		t.Errorf("RetransSegs %d on a clean link", r)
	}
	if n, _ := srv.Ioctl(socket.SIOCINQ); n != 0 {
		t.Errorf("SIOCINQ %d after reading all", n)
	}
}

// TestTransferOffload: with GSO on (the default) A's TCP hands the
// device GSO skbs, which the kernel segments in software; with it off,
// none; both deliver their data (1 MB, and 100 MB with GSO) intact in
// frames of at most 1514 bytes.
func TestTransferOffload(t *testing.T) {
	for _, c := range []struct {
		off  bool
		size int
	}{{false, 1 << 20}, {true, 1 << 20}, {false, 100 << 20}} {
		off := c.off
		p := newPair(t)
		if off {
			p.offloadOff()
		}
		p.pa.Record = c.size <= 1<<20
		p.pb.Record = p.pa.Record
		cl, srv := p.connected(t, 5005)
		data := pattern(c.size, 5)
		if got := p.transfer(t, p.ka, p.kb, cl, srv, data, 60*time.Second); got != sha256.Sum256(data) {
			t.Errorf("off=%v %d bytes: SHA-256 differs", off, c.size)
		}
		if seg := p.ka.GSOStats().Segmented; off != (seg == 0) {
			t.Errorf("off=%v: %d GSO skbs segmented", off, seg)
		}
		for _, f := range p.pa.Sent {
			if len(f.Frame) > 1514 {
				t.Fatalf("off=%v: a frame of %d bytes", off, len(f.Frame))
			}
		}
	}
}

// TestLossyTransfer: every 50th frame from A lost; 2 MB still arrives
// intact and RetransSegs counts the resends.
func TestLossyTransfer(t *testing.T) {
	p := newPair(t)
	p.pa.Record, p.pb.Record = false, false
	cl, srv := p.connected(t, 5002)
	n := 0
	p.pa.Drop = func([]byte) bool { n++; return n%50 == 0 }
	data := pattern(2<<20, 3)
	if got := p.transfer(t, p.ka, p.kb, cl, srv, data, 120*time.Second); got != sha256.Sum256(data) {
		t.Error("SHA-256 differs")
	}
	if p.a.TCP.MIB.RetransSegs == 0 {
		t.Error("RetransSegs 0 on a lossy link")
	}
}

// TestCloseTimeWait: A closes first: FIN_WAIT2 until B closes, then A in
// TIME_WAIT for 60 s and CLOSED after; B reads EOF and goes LAST_ACK →
// CLOSED.
func TestCloseTimeWait(t *testing.T) {
	p := newPair(t)
	cl, srv := p.connected(t, 7)
	ca := p.a.TCP.Lookup(netip.AddrPortFrom(addrB, 7), mustName(t, cl))
	if ca == nil {
		t.Fatal("client connection not found")
	}
	if err := cl.Shutdown(socket.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	p.n.Clock.RunFor(10 * time.Millisecond)
	if ca.State() != tcp.StateFinWait2 {
		t.Fatalf("client %v after shutdown, want FIN-WAIT-2", ca.State())
	}
	if srv.Poll()&socket.EPOLLRDHUP == 0 {
		t.Error("server poll without RDHUP after the FIN")
	}
	p.run(t, p.kb, time.Second, func(tk *kernelmodel.Task) {
		buf := make([]byte, 10)
		if n, _, err := srv.RecvFrom(tk, buf, 0); n != 0 || err != nil {
			t.Errorf("server read %d %v, want EOF", n, err)
		}
		if _, err := srv.Send(tk, []byte("x"), 0); err != nil {
			t.Errorf("send in CLOSE_WAIT: %v", err)
		}
		srv.Close()
	})
	p.n.Clock.RunFor(10 * time.Millisecond)
	if ca.State() != tcp.StateTimeWait {
		t.Fatalf("client %v, want TIME-WAIT", ca.State())
	}
	p.n.Clock.RunFor(59 * time.Second)
	if ca.State() != tcp.StateTimeWait {
		t.Fatalf("client %v after 59 s, want TIME-WAIT", ca.State())
	}
	p.n.Clock.RunFor(2 * time.Second)
	if ca.State() != tcp.StateClose {
		t.Fatalf("client %v after 61 s, want CLOSE", ca.State())
	}
	if sb := p.b.TCP.Lookup(netip.AddrPortFrom(addrA, ca.Sock().Sport), netip.AddrPortFrom(addrB, 7)); sb != nil && sb.State() != tcp.StateListen {
		t.Errorf("server connection still %v", sb.State())
	}
	cl.Close()
}

func mustName(t *testing.T, so *socket.Socket) netip.AddrPort {
	a, err := so.GetSockName()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSimultaneousClose: both shut down at once: FIN_WAIT1 → CLOSING →
// TIME_WAIT on both.
func TestSimultaneousClose(t *testing.T) {
	p := newPair(t)
	cl, srv := p.connected(t, 9)
	ca := p.a.TCP.Lookup(netip.AddrPortFrom(addrB, 9), mustName(t, cl))
	peer, _ := srv.GetPeerName()
	cb := p.b.TCP.Lookup(peer, netip.AddrPortFrom(addrB, 9))
	cl.Shutdown(socket.SHUT_WR)
	srv.Shutdown(socket.SHUT_WR)
	p.n.Clock.RunFor(10 * time.Millisecond)
	if ca.State() != tcp.StateTimeWait || cb.State() != tcp.StateTimeWait {
		t.Errorf("states %v %v, want TIME-WAIT both", ca.State(), cb.State())
	}
}

// TestConnectRefused: a SYN to a closed port gets a RST; connect fails
// with ECONNREFUSED; a non-blocking one says EINPROGRESS, then SO_ERROR.
func TestConnectRefused(t *testing.T) {
	p := newPair(t)
	cl := tcpSocket(t, p.a)
	p.run(t, p.ka, time.Second, func(tk *kernelmodel.Task) {
		if err := cl.Connect(tk, netip.AddrPortFrom(addrB, 81)); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("connect: %v, want ECONNREFUSED", err)
		}
	})
	if p.b.TCP.MIB.OutRsts != 1 {
		t.Errorf("OutRsts %d", p.b.TCP.MIB.OutRsts)
	}
	nb := tcpSocket(t, p.a)
	nb.SetNonblock(true)
	if err := nb.Connect(nil, netip.AddrPortFrom(addrB, 81)); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatalf("non-blocking connect: %v", err)
	}
	if err := nb.Connect(nil, netip.AddrPortFrom(addrB, 81)); !errors.Is(err, syscall.EALREADY) {
		t.Errorf("second connect: %v, want EALREADY", err)
	}
	p.n.Clock.RunFor(10 * time.Millisecond)
	if nb.Poll()&(socket.EPOLLERR|socket.EPOLLHUP) != socket.EPOLLERR|socket.EPOLLHUP {
		t.Errorf("poll %#x after the RST", nb.Poll())
	}
	if e, _ := nb.GetSockOpt(socket.SOL_SOCKET, socket.SO_ERROR); e != int(syscall.ECONNREFUSED) {
		t.Errorf("SO_ERROR %d", e)
	}
}

// TestSynBackoff: SYNs into the void go at 0, 1, 3, 7, 15, 31, 63 s
// (RTO 1 s doubling, tcp_syn_retries 6) and connect fails with ETIMEDOUT
// at 127 s.
func TestSynBackoff(t *testing.T) {
	p := newPair(t)
	p.pa.Drop = isTCP
	cl := tcpSocket(t, p.a)
	var failed time.Duration
	start := p.n.Clock.Now()
	p.run(t, p.ka, 200*time.Second, func(tk *kernelmodel.Task) {
		if err := cl.Connect(tk, netip.AddrPortFrom(addrB, 80)); !errors.Is(err, syscall.ETIMEDOUT) {
			t.Errorf("connect: %v, want ETIMEDOUT", err)
		}
		failed = p.n.Clock.Now() - start
	})
	var at []time.Duration
	for _, f := range p.pa.Sent {
		if segs := tcpFrames([]stacktest.Sent{f}); len(segs) == 1 && segs[0].Flags() == header.TCPFlagSYN {
			at = append(at, (f.At - start).Round(10*time.Millisecond))
		}
	}
	want := []time.Duration{0, 1, 3, 7, 15, 31, 63}
	if len(at) != len(want) {
		t.Fatalf("SYNs at %v", at)
	}
	for i, w := range want {
		if d := at[i] - at[0]; d != w*time.Second {
			t.Errorf("SYN %d at %v, want %v", i, d, w*time.Second)
		}
	}
	if f := failed.Round(10 * time.Millisecond); f != 127*time.Second {
		t.Errorf("ETIMEDOUT after %v, want 127s", f)
	}
	if p.a.TCP.MIB.RetransSegs != 6 || p.a.TCP.Ext.TCPTimeouts != 6 {
		t.Errorf("RetransSegs %d TCPTimeouts %d", p.a.TCP.MIB.RetransSegs, p.a.TCP.Ext.TCPTimeouts)
	}
}
