package tcp_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

// TestTCPDropReasons: each class of bad segment, sent to an established
// connection or a listener on B, is freed with Linux 6.1's
// skb_drop_reason for it (kernelmodel's per-reason counters), and a pure
// ACK is consumed, not counted as a drop.
func TestTCPDropReasons(t *testing.T) {
	p := newPair(t)
	cl, srv := p.connected(t, 80)
	p.pb.Drop = func(f []byte) bool { return isTCP(f) } // keep A out of it
	ep := endpoint{port: p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA,
		local: netip.AddrPortFrom(addrB, 80), remote: mustName(t, cl)}
	lis := ep
	lis.remote = netip.AddrPortFrom(addrA, 40100)
	closed := ep
	closed.local = netip.AddrPortFrom(addrB, 81)
	info, _ := srv.TCPInfo()
	// rwnd is the window B advertised last.
	rwnd := func() uint32 {
		segs := ep.sentTo(0)
		th := segs[len(segs)-1]
		return uint32(th.WindowSize()) << info.RcvWscale
	}
	// tsval is A's last TSval to B.
	tsval := func() uint32 {
		segs := tcpFrames(p.pa.Sent)
		th := segs[len(segs)-1]
		return binary.BigEndian.Uint32(th[24:])
	}
	data := make([]byte, 100)
	type dcase struct {
		name   string
		ep     endpoint
		seg    func(s, r uint32) rawSeg
		badSum bool
		want   kernelmodel.DropReason
	}
	cases := []dcase{
		{"bad checksum", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fACK} }, true, kernelmodel.SKB_DROP_REASON_TCP_CSUM},
		{"no socket", closed, func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fACK} }, false, kernelmodel.SKB_DROP_REASON_NO_SOCKET},
		{"no ACK, RST or SYN", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fFIN | fPSH} }, false, kernelmodel.SKB_DROP_REASON_TCP_FLAGS},
		{"out of window", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r + 1<<30, ack: s, flags: fACK, data: data} }, false, kernelmodel.SKB_DROP_REASON_TCP_INVALID_SEQUENCE},
		{"SYN in window", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r, flags: fSYN} }, false, kernelmodel.SKB_DROP_REASON_TCP_INVALID_SYN},
		{"RST not at rcv_nxt", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r + 1, flags: fRST} }, false, kernelmodel.SKB_DROP_REASON_TCP_RESET},
		{"PAWS in the first second", ep, func(s, r uint32) rawSeg {
			// ts_recent_stamp is 0 s here (ktime_get_seconds): PAWS
			// applies all the same, as tcp_paws_check has no such gate.
			if now := p.n.Clock.Now(); now >= time.Second {
				t.Fatalf("the case runs at %v: it must run in the first second", now)
			}
			ep.send(rawSeg{seq: r, ack: s, flags: fACK, opts: tsOpt(tsval() + 1000)})
			p.n.Clock.RunFor(time.Millisecond)
			return rawSeg{seq: r, ack: s, flags: fACK, opts: tsOpt(tsval() + 1000 - 0x10000), data: data}
		}, false, kernelmodel.SKB_DROP_REASON_TCP_RFC7323_PAWS},
		{"PAWS", ep, func(s, r uint32) rawSeg {
			// An ACK with a new TSval at 2 s sets ts_recent and its
			// stamp; then one 65536 ticks older.
			p.n.Clock.RunFor(2 * time.Second)
			ep.send(rawSeg{seq: r, ack: s, flags: fACK, opts: tsOpt(tsval() + 2000)})
			p.n.Clock.RunFor(time.Millisecond)
			return rawSeg{seq: r, ack: s, flags: fACK, opts: tsOpt(tsval() + 2000 - 0x10000), data: data}
		}, false, kernelmodel.SKB_DROP_REASON_TCP_RFC7323_PAWS},
		{"old data", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r - 100, ack: s, flags: fACK, data: data} }, false, kernelmodel.SKB_DROP_REASON_TCP_OLD_DATA},
		{"data at the window's edge", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r + rwnd(), ack: s, flags: fACK, data: data} }, false, kernelmodel.SKB_DROP_REASON_TCP_OVERWINDOW},
		{"ACK of unsent data", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s + 100000, flags: fACK, data: data} }, false, kernelmodel.SKB_DROP_REASON_TCP_ACK_UNSENT_DATA},
		{"ACK too old", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s - 1<<30, flags: fACK, data: data} }, false, kernelmodel.SKB_DROP_REASON_TCP_TOO_OLD_ACK},
		{"out of order twice", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r + 1000, ack: s, flags: fACK, data: data} }, false, kernelmodel.SKB_DROP_REASON_TCP_OFOMERGE},
		// [r+1000, r+1100) is still queued out of order: in-order data
		// past it leaves it wholly received when the queue drains.
		{"out of order, then covered", ep, func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fACK, data: make([]byte, 1200)} }, false, kernelmodel.SKB_DROP_REASON_TCP_OFO_DROP},
		{"RST to a listener", lis, func(s, r uint32) rawSeg { return rawSeg{seq: 5000, flags: fRST} }, false, kernelmodel.SKB_DROP_REASON_TCP_RESET},
		{"SYN|FIN to a listener", lis, func(s, r uint32) rawSeg { return rawSeg{seq: 5000, flags: fSYN | fFIN} }, false, kernelmodel.SKB_DROP_REASON_TCP_FLAGS},
	}
	drops := &p.kb.Drops.Reason
	total := func() (n uint64) {
		for _, d := range drops {
			n += d
		}
		return n
	}
	for _, c := range cases {
		s, r := ep.seqs(t)
		seg := c.seg(s, r)
		if c.want == kernelmodel.SKB_DROP_REASON_TCP_OFOMERGE {
			c.ep.send(seg) // queued out of order the first time
			p.n.Clock.RunFor(time.Millisecond)
		}
		before, all := drops[c.want], total()
		f := tcpFrame(c.ep.remote, c.ep.local, c.ep.mac, c.ep.peerMAC, seg)
		if c.badSum {
			f[14+20+16] ^= 0xff
		}
		injectFrame(c.ep.port, f)
		p.n.Clock.RunFor(time.Millisecond)
		if d := drops[c.want] - before; d != 1 || total()-all != 1 {
			t.Errorf("%s: %v moved by %d, all reasons by %d, want 1 and 1", c.name, c.want, d, total()-all)
		}
	}
	// A pure ACK at rcv_nxt is consumed.
	s, r := ep.seqs(t)
	all := total()
	ep.send(rawSeg{seq: r, ack: s, flags: fACK})
	p.n.Clock.RunFor(time.Millisecond)
	if total() != all {
		t.Errorf("a pure ACK moved the drop counters by %d", total()-all)
	}
}

// tsOpt is the options nop, nop, TS val 0.
func tsOpt(val uint32) []byte {
	ts := []byte{1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(ts[4:], val)
	return ts
}
