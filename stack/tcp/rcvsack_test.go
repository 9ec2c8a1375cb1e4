package tcp

import (
	"fmt"
	"testing"
)

// ackOf lays out the ACK's SACK blocks as EstablishedOptions (without
// timestamps) and WriteOptions send them, then reads them back with
// ParseOptions: what the peer sees.
func ackOf(t *testing.T, r *RcvSACK) string {
	t.Helper()
	d, s := r.Blocks()
	var o OutOptions
	n := EstablishedOptions(&o, false, 0, 0, d, s)
	var buf [40]byte
	WriteOptions(buf[:n], &o)
	r.Sent()
	sys := NewSysctl()
	rx := RxOptions{SackOK: true}
	ParseOptions(buf[:n], false, true, &sys, &rx)
	out := ""
	for _, b := range rx.SACK[:rx.NumSACK] {
		out += fmt.Sprintf(" %d-%d", b.Start, b.End)
	}
	return out
}

// receiver is the test's in-order receive side: rcv_nxt and the
// out-of-order segments, driving RcvSACK as tcp_data_queue does.
type receiver struct {
	rcvNxt uint32
	ofo    map[uint32]uint32 // start -> end
	r      RcvSACK
	sys    Sysctl
}

func (rc *receiver) segment(seq, end uint32) {
	if Before(seq, rc.rcvNxt) {
		rc.r.InOrderDuplicate(&rc.sys, true, seq, end, rc.rcvNxt, nil)
		if !After(end, rc.rcvNxt) {
			return
		}
		seq = rc.rcvNxt
	}
	switch {
	case seq == rc.rcvNxt:
		rc.rcvNxt = end
		for e, ok := rc.ofo[rc.rcvNxt]; ok; e, ok = rc.ofo[rc.rcvNxt] {
			delete(rc.ofo, rc.rcvNxt)
			rc.rcvNxt = e
		}
		rc.r.Remove(rc.rcvNxt, len(rc.ofo) == 0)
	default:
		if e, dup := rc.ofo[seq]; dup && e == end {
			rc.r.DSACKSet(&rc.sys, true, seq, end, rc.rcvNxt, nil)
			return
		}
		rc.ofo[seq] = end
		rc.r.NewOfo(seq, end)
	}
}

// TestRcvSACKRFC2018 replays RFC 2018 section 5's third example: 8
// segments of 500 octets from 5000, the 2nd, 4th, 6th and 8th dropped;
// then the 4th and the 2nd arrive late.
func TestRcvSACKRFC2018(t *testing.T) {
	rc := &receiver{rcvNxt: 5000, ofo: map[uint32]uint32{}, sys: NewSysctl()}
	for _, c := range []struct {
		seg   uint32
		ack   uint32
		sacks string
	}{
		{5000, 5500, ""},
		{6000, 5500, " 6000-6500"},
		{7000, 5500, " 7000-7500 6000-6500"},
		{8000, 5500, " 8000-8500 7000-7500 6000-6500"},
		{6500, 5500, " 6000-7500 8000-8500"}, // the 4th, out of order
		{5500, 7500, " 8000-8500"},           // the 2nd
	} {
		rc.segment(c.seg, c.seg+500)
		if got := ackOf(t, &rc.r); rc.rcvNxt != c.ack || got != c.sacks {
			t.Errorf("after %d: ACK %d SACK%s, want ACK %d SACK%s", c.seg, rc.rcvNxt, got, c.ack, c.sacks)
		}
	}
}

// TestRcvDSACKRFC2883 replays RFC 2883 section 4.1's examples: a
// duplicate below the ACK is reported first as D-SACK, followed by the
// SACK blocks; a duplicate of an out-of-order segment likewise; each
// D-SACK is sent once.
func TestRcvDSACKRFC2883(t *testing.T) {
	// 4.1.1: 3000-3499 and 3500-3999 ACKed (the ACKs lost), 3000-3499
	// comes again: ACK 4000, D-SACK 3000-3500.
	rc := &receiver{rcvNxt: 3000, ofo: map[uint32]uint32{}, sys: NewSysctl()}
	rc.segment(3000, 3500)
	rc.segment(3500, 4000)
	rc.segment(3000, 3500)
	if got := ackOf(t, &rc.r); got != " 3000-3500" {
		t.Errorf("4.1.1: SACK%s", got)
	}
	if got := ackOf(t, &rc.r); got != "" {
		t.Errorf("the D-SACK was sent twice: SACK%s", got)
	}
	// 4.1.2: then 4000-4499 lost, 4500-4999 arrives, 3000-3499 again:
	// ACK 4000, SACK 3000-3500, 4500-5000.
	rc.segment(4500, 5000)
	rc.segment(3000, 3500)
	if got := ackOf(t, &rc.r); got != " 3000-3500 4500-5000" {
		t.Errorf("4.1.2: SACK%s", got)
	}
	// A duplicate of the out-of-order segment: D-SACK of it, then it.
	rc.segment(4500, 5000)
	if got := ackOf(t, &rc.r); got != " 4500-5000 4500-5000" {
		t.Errorf("out-of-order duplicate: SACK%s", got)
	}
	// A segment overlapping rcv_nxt: its old part is the D-SACK.
	// A segment overlapping rcv_nxt: its old part is the D-SACK, the
	// rest fills the hole.
	rc.segment(3800, 4500)
	if got := ackOf(t, &rc.r); rc.rcvNxt != 5000 || got != " 3800-4000" {
		t.Fatalf("rcv_nxt %d SACK%s", rc.rcvNxt, got)
	}
	var mib TcpExtMIB
	rc.r.InOrderDuplicate(&rc.sys, true, 4800, 5200, 5000, &mib)
	if got := ackOf(t, &rc.r); got != " 4800-5000" || mib.TCPDSACKOldSent != 1 {
		t.Errorf("partial duplicate: SACK%s (TCPDSACKOldSent %d)", got, mib.TCPDSACKOldSent)
	}
	rc.sys.DSACK = 0
	rc.r.InOrderDuplicate(&rc.sys, true, 4000, 4500, 5000, nil)
	if got := ackOf(t, &rc.r); got != "" {
		t.Errorf("tcp_dsack 0 still reported SACK%s", got)
	}
}

func TestRcvSACKLimits(t *testing.T) {
	var r RcvSACK
	for i := range uint32(6) {
		r.NewOfo(1000*(2*i+1), 1000*(2*i+1)+500)
	}
	if r.NumSACKs != 4 || r.Selective[0].Start != 11000 || r.Selective[3].Start != 5000 {
		t.Errorf("%d blocks %v: want the 4 most recent, newest first", r.NumSACKs, r.Selective)
	}
	// A segment bridging the 2nd and 3rd blocks grows the 2nd, moves
	// it to the front and merges the 3rd into it.
	if ackNow := r.NewOfo(7500, 9000); ackNow || r.NumSACKs != 3 || r.Selective[0] != (SACKBlock{7000, 9500}) {
		t.Errorf("bridge: ack now %v, %d blocks %v", ackNow, r.NumSACKs, r.Selective[:r.NumSACKs])
	}
	// Growing the 3rd block, or a new block with 2 or more there, is
	// acked at once (no SACK compression).
	if !r.NewOfo(5500, 6000) || r.Selective[0] != (SACKBlock{5000, 6000}) {
		t.Errorf("3rd block grown: %v", r.Selective[:r.NumSACKs])
	}
	// With timestamps only 3 fit: the oldest is not sent.
	if !r.NewOfo(20000, 20500) {
		t.Error("a new block among 3 not acked at once")
	}
	d, s := r.Blocks()
	var o OutOptions
	EstablishedOptions(&o, true, 1, 2, d, s)
	if o.NumSACKBlocks != 3 || o.SACK[0].Start != 20000 {
		t.Errorf("sent %d blocks %v", o.NumSACKBlocks, o.SACK[:o.NumSACKBlocks])
	}
	r.Remove(9500, false)
	if r.NumSACKs != 2 || r.Selective[0].Start != 20000 || r.Selective[1].Start != 11000 {
		t.Errorf("after rcv_nxt 9500: %v", r.Selective[:r.NumSACKs])
	}
}
