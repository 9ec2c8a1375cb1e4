package tcp_test

import (
	"crypto/sha256"
	"math/rand"
	"testing"
	"time"

	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

// impair is a netem-like impairment of A's data frames to B: loss,
// duplication and wire-like reordering (a frame held back goes out right
// after the next one, or after holdMax when none follows).
type impair struct {
	p                    *pair
	rng                  *rand.Rand
	loss, dup, reorder   float64
	held                 []byte
	gen                  int
	lost, dups, reorders int
}

const holdMax = 200 * time.Microsecond

// deliver hands B frame after d, as the link would.
func (m *impair) deliver(frame []byte, d time.Duration) {
	p := m.p
	p.n.Clock.AfterFunc(p.n.Delay+d, func() {
		skb := p.kb.AllocSKB(len(frame))
		copy(skb.Put(len(frame)), frame)
		p.kb.EthTypeTrans(skb, p.pb.D)
		p.kb.NetifRx(skb)
	})
}

// drop is A's Port.Drop: it decides each frame's fate.
func (m *impair) drop(f []byte) bool {
	segs := tcpFrames([]stacktest.Sent{{Frame: f}})
	if len(segs) != 1 || len(segs[0]) <= segs[0].DataOffset() {
		return false
	}
	if m.held != nil {
		// The held frame goes after this one: the two swap.
		m.deliver(m.held, time.Microsecond)
		m.held = nil
	}
	r := m.rng.Float64()
	switch {
	case r < m.loss:
		m.lost++
		return true
	case r < m.loss+m.dup:
		m.dups++
		m.deliver(append([]byte(nil), f...), 2*time.Microsecond)
	case r < m.loss+m.dup+m.reorder:
		m.reorders++
		m.held = append([]byte(nil), f...)
		m.gen++
		g := m.gen
		m.p.n.Clock.AfterFunc(holdMax, func() {
			if m.held != nil && m.gen == g {
				m.deliver(m.held, 0)
				m.held = nil
			}
		})
		return true
	}
	return false
}

func newImpair(p *pair, seed int64, loss, dup, reorder float64) *impair {
	m := &impair{p: p, rng: rand.New(rand.NewSource(seed)), loss: loss, dup: dup, reorder: reorder}
	p.pa.Drop = m.drop
	return m
}

// TestSACKRecoveryOneLoss: one data segment of 1 MB lost on a 2 ms RTT
// path: the SACKs that follow start SACK recovery (RACK marks the hole
// lost), exactly one retransmission repairs it, no RTO.
func TestSACKRecoveryOneLoss(t *testing.T) {
	p := newPair(t)
	p.n.Delay = time.Millisecond
	p.pa.Record, p.pb.Record = false, false
	cl, srv := p.connected(t, 5101)
	n := 0
	p.pa.Drop = func(f []byte) bool {
		segs := tcpFrames([]stacktest.Sent{{Frame: f}})
		if len(segs) == 1 && len(segs[0]) > segs[0].DataOffset() {
			n++
			return n == 40
		}
		return false
	}
	data := pattern(1<<20, 11)
	if got := p.transfer(t, p.ka, p.kb, cl, srv, data, 30*time.Second); got != sha256.Sum256(data) {
		t.Fatal("SHA-256 differs")
	}
	e := &p.a.TCP.Ext
	if e.TCPSackRecovery != 1 || e.TCPTimeouts != 0 || p.a.TCP.MIB.RetransSegs != 1 || e.TCPRenoRecovery != 0 {
		t.Errorf("TCPSackRecovery %d TCPTimeouts %d RetransSegs %d TCPRenoRecovery %d, want 1 0 1 0",
			e.TCPSackRecovery, e.TCPTimeouts, p.a.TCP.MIB.RetransSegs, e.TCPRenoRecovery)
	}
}

// TestRACKReorderNoRetrans: a quarter of A's data frames swap with the
// next one; RACK's reordering window (min_rtt/4) takes that for
// reordering, not loss: 4 MB arrive with no retransmission at all.
func TestRACKReorderNoRetrans(t *testing.T) {
	p := newPair(t)
	p.n.Delay = time.Millisecond
	p.pa.Record, p.pb.Record = false, false
	cl, srv := p.connected(t, 5102)
	m := newImpair(p, 1, 0, 0, 0.25)
	data := pattern(4<<20, 12)
	if got := p.transfer(t, p.ka, p.kb, cl, srv, data, 60*time.Second); got != sha256.Sum256(data) {
		t.Fatal("SHA-256 differs")
	}
	if m.reorders < 500 {
		t.Fatalf("only %d frames reordered", m.reorders)
	}
	e := &p.a.TCP.Ext
	if r := p.a.TCP.MIB.RetransSegs; r != 0 || e.TCPSackRecovery != 0 || e.TCPTimeouts != 0 {
		t.Errorf("%d reordered: RetransSegs %d TCPSackRecovery %d TCPTimeouts %d, want 0",
			m.reorders, r, e.TCPSackRecovery, e.TCPTimeouts)
	}
	if e.TCPSACKReorder == 0 {
		t.Error("TCPSACKReorder 0: reordering not seen")
	}
}

// TestSACKRecoveryNetem: 10 MB through 5% loss, 25% reordering and 2%
// duplicates arrive intact; SACK recovery repairs the losses with few
// RTOs, where the NewReno sender (tcp_sack=0) times out many times more.
func TestSACKRecoveryNetem(t *testing.T) {
	run := func(sack int) (timeouts, sackRec uint64, took time.Duration) {
		p := newPair(t)
		p.n.Delay = time.Millisecond
		p.pa.Record, p.pb.Record = false, false
		p.a.TCP.Sysctl.SACK = sack
		cl, srv := p.connected(t, 5103)
		newImpair(p, 7, 0.05, 0.02, 0.25)
		data := pattern(10<<20, 13)
		start := p.n.Clock.Now()
		if got := p.transfer(t, p.ka, p.kb, cl, srv, data, 600*time.Second); got != sha256.Sum256(data) {
			t.Fatalf("sack=%d: SHA-256 differs", sack)
		}
		e := &p.a.TCP.Ext
		t.Logf("tcp_sack=%d: %v, TCPTimeouts %d TCPSackRecovery %d TCPRenoRecovery %d RetransSegs %d",
			sack, p.n.Clock.Now()-start, e.TCPTimeouts, e.TCPSackRecovery, e.TCPRenoRecovery, p.a.TCP.MIB.RetransSegs)
		return e.TCPTimeouts, e.TCPSackRecovery, p.n.Clock.Now() - start
	}
	to, rec, took := run(1)
	if rec == 0 || to > 20 {
		t.Errorf("with SACK: TCPSackRecovery %d TCPTimeouts %d, want > 0 and <= 20", rec, to)
	}
	toReno, _, tookReno := run(0)
	if toReno < 5*max(to, 1) || tookReno < 2*took {
		t.Errorf("NewReno %d RTOs in %v, SACK %d in %v: want SACK far better", toReno, tookReno, to, took)
	}
}

// TestTLPTailLoss: the last segment of a 100 000-byte write is lost;
// nothing after it brings SACKs, so the tail loss probe (not an RTO)
// resends it (TCPLossProbes, one retransmission); the next write's ACK
// beyond the probe counts TCPLossProbeRecovery.
func TestTLPTailLoss(t *testing.T) {
	p := newPair(t)
	p.n.Delay = time.Millisecond
	p.pa.Record, p.pb.Record = false, false
	cl, srv := p.connected(t, 5104)
	dropped := false
	p.pa.Drop = func(f []byte) bool {
		segs := tcpFrames([]stacktest.Sent{{Frame: f}})
		if !dropped && len(segs) == 1 && len(segs[0])-segs[0].DataOffset() == 100000%1448 {
			dropped = true
			return true
		}
		return false
	}
	for i := range 2 {
		data := pattern(100000, byte(20+i))
		if got := p.transfer(t, p.ka, p.kb, cl, srv, data, 10*time.Second); got != sha256.Sum256(data) {
			t.Fatalf("write %d: SHA-256 differs", i)
		}
	}
	p.n.Clock.RunFor(50 * time.Millisecond) // the last ACKs reach A
	e := &p.a.TCP.Ext
	if !dropped || e.TCPLossProbes == 0 || e.TCPLossProbeRecovery != 1 || e.TCPTimeouts != 0 || p.a.TCP.MIB.RetransSegs != 1 {
		t.Errorf("dropped %v: TCPLossProbes %d TCPLossProbeRecovery %d TCPTimeouts %d RetransSegs %d, want >0 1 0 1",
			dropped, e.TCPLossProbes, e.TCPLossProbeRecovery, e.TCPTimeouts, p.a.TCP.MIB.RetransSegs)
	}
}
