package tcp_test

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

// synFloodBytes is the heap that n SYNs from distinct ports, each held
// in the SYN queue of a listener with room for them all, cost per
// request (runtime.MemStats.HeapAlloc after a GC, before and after).
func synFloodBytes(t testing.TB, n int) float64 {
	p := newPair(t)
	p.pa.Record, p.pb.Record = false, false
	p.pb.Drop = func(f []byte) bool { return isTCP(f) } // the SYN-ACKs go nowhere
	l := tcpSocket(t, p.b)
	if err := l.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 80)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(2*n + 1); err != nil {
		t.Fatal(err)
	}
	ep := endpoint{port: p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA, local: netip.AddrPortFrom(addrB, 80)}
	syn := func(i int) {
		ep.remote = netip.AddrPortFrom(addrA, uint16(10000+i))
		ep.send(rawSeg{seq: uint32(i) * 7919, flags: fSYN, win: 65535, opts: []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}})
	}
	// Warm the pools and maps up with requests that are then reset away.
	for i := 0; i < n; i++ {
		syn(i)
	}
	p.n.Clock.RunFor(time.Millisecond)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for i := n; i < 2*n; i++ {
		syn(i)
	}
	p.n.Clock.RunFor(time.Millisecond)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if q := p.b.TCP.Ext.SyncookiesSent; q != 0 {
		t.Fatalf("%d cookies: the SYN queue overflowed", q)
	}
	runtime.KeepAlive(l)
	return float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n)
}

// TestRequestSockBytes: the memory a SYN flood costs per request held in
// the SYN queue stays under its bound.
func TestRequestSockBytes(t *testing.T) {
	b := synFloodBytes(t, 1000)
	t.Logf("%.0f bytes per request sock", b)
	if b <= 0 || b > requestSockBytesMax {
		t.Errorf("%.0f bytes per queued SYN, want at most %d", b, requestSockBytesMax)
	}
}

// BenchmarkSynFloodRequest reports the bytes per request sock of a SYN
// flood of b.N SYNs, at least 100 and at most 2000: the listener's
// backlog (2n+1) stops at net.core.somaxconn (4096), past which the SYN
// queue would overflow.
func BenchmarkSynFloodRequest(b *testing.B) {
	b.ReportMetric(synFloodBytes(b, min(max(b.N, 100), 2000)), "B/request")
}

// requestSockBytesMax bounds the bytes per queued SYN. A request is a
// requestSock record (the 4-tuple, ISNs, options, window, ts_recent, its
// timer) in the ehash's request map: 170 to 360 bytes measured with the
// map's growth (a whole child Conn with its socket, timers and SYN-ACK
// skb, as before, was 2.4 to 4.7 KB).
const requestSockBytesMax = 512
