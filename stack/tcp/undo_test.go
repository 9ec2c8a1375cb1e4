package tcp_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/tcp"
)

// TestDSACKUndo: the link holds A's 20th data segment back 300 µs. RACK
// takes it for lost, A enters Recovery, halves cwnd and retransmits it;
// the retransmission fills B's hole, and when the held original comes B
// D-SACKs it: every retransmission since the recovery began was spurious,
// so A undoes the reduction (tcp_try_undo_dsack: cwnd and ssthresh back,
// TCPDSACKUndo) and the transfer completes intact.
func TestDSACKUndo(t *testing.T) {
	p := newPair(t)
	cl, srv := p.connected(t, 5010)
	n := 0
	held := false
	p.pa.Drop = func(f []byte) bool {
		segs := tcpFrames([]stacktest.Sent{{Frame: f}})
		if len(segs) != 1 || len(segs[0]) <= segs[0].DataOffset() {
			return false
		}
		if n++; n != 20 || held {
			return false
		}
		held = true
		frame := append([]byte(nil), f...)
		p.n.Clock.AfterFunc(300*time.Microsecond, func() { injectFrame(p.pb, frame) })
		return true
	}
	data := pattern(2<<20, 5)
	var cwndAtRecovery, ssthreshBefore uint32
	inRecovery := false
	probe := func() {
		if i, _ := cl.TCPInfo(); i.CAState == tcp.CARecovery && !inRecovery {
			inRecovery = true
			cwndAtRecovery = i.SndCwnd
		} else if !inRecovery {
			ssthreshBefore = i.SndSsthresh
		}
	}
	stop := false
	var tick func()
	tick = func() {
		probe()
		if !stop {
			p.n.Clock.AfterFunc(20*time.Microsecond, tick)
		}
	}
	tick()
	sum := p.transfer(t, p.ka, p.kb, cl, srv, data, 30*time.Second)
	stop = true
	if sum != sha256.Sum256(data) {
		t.Fatal("data differs")
	}
	ext := p.a.TCP.Ext
	if !inRecovery || ext.TCPSackRecovery == 0 {
		t.Fatalf("A never entered Recovery (TCPSackRecovery %d)", ext.TCPSackRecovery)
	}

	if ext.TCPDSACKRecv == 0 {
		t.Fatal("no D-SACK reached A")
	}
	if ext.TCPDSACKUndo != 1 {
		t.Errorf("TCPDSACKUndo %d, want 1", ext.TCPDSACKUndo)
	}
	i, _ := cl.TCPInfo()
	if i.SndSsthresh < ssthreshBefore {
		t.Errorf("ssthresh %d after the undo, %d before the recovery", i.SndSsthresh, ssthreshBefore)
	}
	t.Logf("cwnd %d in recovery, %d at the end; ssthresh %d before, %d at the end; DSACKRecv %d, retrans %d",
		cwndAtRecovery, i.SndCwnd, ssthreshBefore, i.SndSsthresh, ext.TCPDSACKRecv, p.a.TCP.MIB.RetransSegs)
}
