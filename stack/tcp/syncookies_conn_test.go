package tcp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/tcp"
)

// synFlood sends SYNs to B's port from A's address and forged ports
// first, first+1, ... (their SYN-ACKs lost on the way back, as to forged
// sources), 20 every millisecond while *on.
type synFlood struct {
	p          *pair
	dst        netip.AddrPort
	next, last uint16
	sent       int
}

func (f *synFlood) burst(n int) {
	for range n {
		ep := endpoint{port: f.p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA,
			local: f.dst, remote: netip.AddrPortFrom(addrA, f.next)}
		ep.send(rawSeg{seq: uint32(f.next) * 7919, flags: fSYN, win: 64240,
			opts: []byte{2, 4, 0x05, 0xb4, 4, 2, 1, 1}})
		f.sent++
		f.next++
		if f.next == f.last {
			f.next = 1024
		}
	}
}

func (f *synFlood) forged(frame []byte) bool {
	if !isTCP(frame) {
		return false
	}
	port := header.TCP(frame[34:]).DestinationPort()
	return port >= 1024 && port < f.last
}

func (f *synFlood) run(on *bool) {
	f.burst(20)
	if *on {
		f.p.n.Clock.AfterFunc(time.Millisecond, func() { f.run(on) })
	}
}

// TestSynFloodCookies: a SYN flood of thousands of SYNs from forged ports
// fills a listener's SYN queue (backlog 16); from then on it answers with
// SYN cookies and keeps nothing (SyncookiesSent, TCPReqQFullDoCookies, the
// flood warned once), while a legitimate client connects through a cookie
// (SyncookiesRecv) with its MSS, window scale and SACK restored from the
// cookie and its timestamp, and moves 1 MB each way with SHA-256 intact.
// The listener never holds more than 16 request socks, and once the flood
// stops and the requests time out, the connections and live skbs are
// what they were before.
func TestSynFloodCookies(t *testing.T) {
	p := newPair(t)
	const backlog = 16
	l := tcpSocket(t, p.b)
	if err := l.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 80)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(backlog); err != nil {
		t.Fatal(err)
	}
	p.pa.Record, p.pb.Record = false, false
	f := &synFlood{p: p, dst: netip.AddrPortFrom(addrB, 80), next: 1024, last: 1024 + 20000}
	p.pb.Drop = f.forged
	conns0, skbs0 := len(p.b.TCP.Conns()), p.kb.SKBsInUse()
	maxReq := 0
	requests := func() int {
		n := 0
		for _, c := range p.b.TCP.Conns() {
			if c.State() == tcp.StateSynRecv {
				n++
			}
		}
		maxReq = max(maxReq, n)
		return n
	}
	for range 4 { // within netdev_max_backlog (1000) each
		f.burst(500)
		p.n.Clock.RunFor(time.Millisecond)
	}
	if n := requests(); n != backlog {
		t.Errorf("%d request socks after 2000 SYNs, want %d", n, backlog)
	}
	on := true
	f.run(&on)

	var srv *socket.Socket
	p.kb.Spawn(0, "accept", func(tk *kernelmodel.Task) { srv, _, _ = l.Accept(tk, 0) })
	cl := tcpSocket(t, p.a)
	p.run(t, p.ka, 5*time.Second, func(tk *kernelmodel.Task) {
		if err := cl.Connect(tk, f.dst); err != nil {
			t.Errorf("connect: %v", err)
		}
	})
	p.n.Clock.RunFor(10 * time.Millisecond)
	if srv == nil {
		t.Fatal("legitimate client not accepted")
	}
	ext := p.b.TCP.Ext
	if ext.SyncookiesRecv != 1 || ext.SyncookiesFailed != 0 {
		t.Errorf("SyncookiesRecv %d SyncookiesFailed %d, want 1 0", ext.SyncookiesRecv, ext.SyncookiesFailed)
	}
	i, _ := srv.TCPInfo()
	if i.State != tcp.StateEstablished || i.Options&(tcp.TCPIOptTimestamps|tcp.TCPIOptSACK|tcp.TCPIOptWscale) != tcp.TCPIOptTimestamps|tcp.TCPIOptSACK|tcp.TCPIOptWscale ||
		i.SndWscale != 7 || i.SndMSS != 1448 {
		t.Errorf("cookie connection: %v options %#x snd_wscale %d snd_mss %d", i.State, i.Options, i.SndWscale, i.SndMSS)
	}
	p.megabyteEachWay(t, cl, srv, 3)
	requests()
	on = false
	p.n.Clock.RunFor(2 * time.Millisecond)
	ext = p.b.TCP.Ext
	if f.sent < 2100 { // 2000, then 20 a millisecond through the connection
		t.Errorf("only %d SYNs in the flood", f.sent)
	}
	// The first 16 SYNs made requests; every other (and the client's)
	// got a cookie.
	if want := uint64(f.sent - backlog + 1); ext.SyncookiesSent != want || ext.TCPReqQFullDoCookies != want {
		t.Errorf("SyncookiesSent %d TCPReqQFullDoCookies %d, want %d", ext.SyncookiesSent, ext.TCPReqQFullDoCookies, want)
	}
	if c := p.b.TCP.Lookup(netip.AddrPortFrom(addrA, 1), f.dst); c == nil || !c.SynFloodWarned() {
		t.Error("listener did not warn of the SYN flood")
	}
	if maxReq != backlog {
		t.Errorf("at most %d request socks, want %d", maxReq, backlog)
	}
	cl.Close()
	srv.Close()
	// The requests' SYN-ACKs go at 1, 3, 7, 15, 31 s; they end at 63 s.
	p.n.Clock.RunFor(130 * time.Second)
	if n := requests(); n != 0 {
		t.Errorf("%d request socks left", n)
	}
	if n, s := len(p.b.TCP.Conns()), p.kb.SKBsInUse(); n != conns0 || s != skbs0 {
		t.Errorf("after: %d connections, %d live skbs; before %d, %d", n, s, conns0, skbs0)
	}
}

// TestSyncookiesSysctl: tcp_syncookies=0 drops the SYNs beyond a full SYN
// queue (TCPReqQFullDrop, ListenDrops) and answers none; =2 answers every
// SYN with a cookie and keeps no request, and the ACK makes the
// connection.
func TestSyncookiesSysctl(t *testing.T) {
	for _, mode := range []int{0, 2} {
		p := newPair(t)
		p.b.TCP.Sysctl.Syncookies = mode
		l := tcpSocket(t, p.b)
		if err := l.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 80)); err != nil {
			t.Fatal(err)
		}
		if err := l.Listen(4); err != nil {
			t.Fatal(err)
		}
		f := &synFlood{p: p, dst: netip.AddrPortFrom(addrB, 80), next: 1024, last: 2000}
		p.pb.Drop = f.forged
		f.burst(10)
		p.n.Clock.RunFor(time.Millisecond)
		ext := p.b.TCP.Ext
		reqs := 0
		for _, c := range p.b.TCP.Conns() {
			if c.State() == tcp.StateSynRecv {
				reqs++
			}
		}
		switch mode {
		case 0:
			if reqs != 4 || ext.TCPReqQFullDrop != 6 || ext.ListenDrops != 6 || ext.SyncookiesSent != 0 {
				t.Errorf("syncookies=0: %d requests, TCPReqQFullDrop %d ListenDrops %d SyncookiesSent %d", reqs, ext.TCPReqQFullDrop, ext.ListenDrops, ext.SyncookiesSent)
			}
		case 2:
			if reqs != 0 || ext.SyncookiesSent != 10 {
				t.Errorf("syncookies=2: %d requests, SyncookiesSent %d", reqs, ext.SyncookiesSent)
			}
			cl, _ := p.connected(t, 81)
			if i, _ := cl.TCPInfo(); i.State != tcp.StateEstablished || p.b.TCP.Ext.SyncookiesRecv != 1 {
				t.Errorf("syncookies=2: client %v, SyncookiesRecv %d", i.State, p.b.TCP.Ext.SyncookiesRecv)
			}
		}
	}
}
