package tcp

import (
	"testing"
	"time"
)

func TestPAWS(t *testing.T) {
	now := 1000 * time.Second
	p := PAWS{}
	p.Store(5000, now)
	for _, c := range []struct {
		name   string
		tsval  uint32
		rst    bool
		at     time.Duration
		reject bool
	}{
		{"newer", 5001, false, now, false},
		{"equal", 5000, false, now, false},
		{"older by one tick", 4999, false, now, true},
		{"older across the wrap", 0xfffffff0, false, now, true},
		{"newer across the wrap", 5000 + 1<<31 - 1, false, now, false},
		{"old RST within MSL", 4000, true, now + 59*time.Second, true},
		{"old RST after MSL", 4000, true, now + 60*time.Second, false},
		{"old data after MSL", 4000, false, now + 60*time.Second, true},
		{"ts_recent 24 days old: not trusted", 4000, false, now + TCPPAWS24Days, false},
	} {
		if got := p.Reject(c.tsval, c.rst, c.at); got != c.reject {
			t.Errorf("%s: reject %v", c.name, got)
		}
	}
	if !(&PAWS{}).Check(1, 0, now) {
		t.Error("a ts_recent of 0 rejected a segment")
	}
	// The replay window of tcp_paws_discard is one tick.
	if p.PAWSDiscard(4999, false, now) || !p.PAWSDiscard(4998, false, now) || p.PAWSDiscard(4998, true, now) {
		t.Error("tcp_paws_discard's window")
	}
	// ts_recent moves only for segments at or before rcv_wup.
	p.Replace(true, 6000, 200, 100, now+time.Second)
	if p.TSRecent != 5000 {
		t.Error("a segment beyond rcv_wup replaced ts_recent")
	}
	p.Replace(true, 6000, 100, 100, now+time.Second)
	if p.TSRecent != 6000 || p.TSRecentStamp != 1001 {
		t.Errorf("ts_recent %d stamp %d", p.TSRecent, p.TSRecentStamp)
	}
	p.Replace(true, 5500, 100, 100, now+2*time.Second)
	if p.TSRecent != 6000 {
		t.Error("an older TSval replaced ts_recent")
	}
}

func TestDisorderedAck(t *testing.T) {
	rto := 200 * time.Millisecond // 204 ticks of replay window
	base := func() (bool, uint32, uint32, uint32, uint32, uint32, bool, uint32, uint32) {
		return true, 100, 100, 50, 100, 50, false, 5000, 4900
	}
	ack, seq, end, ackSeq, rcvNxt, sndUna, upd, recent, tsval := base()
	if !DisorderedAck(ack, seq, end, ackSeq, rcvNxt, sndUna, upd, recent, tsval, rto) {
		t.Fatal("a reordered pure dupack was not taken")
	}
	for _, c := range []struct {
		name string
		mod  func()
	}{
		{"carries data", func() { end = 200 }},
		{"not at rcv_nxt", func() { seq, end = 90, 90 }},
		{"acks new data", func() { ackSeq = 60 }},
		{"updates the window", func() { upd = true }},
		{"beyond the replay window", func() { tsval = 5000 - 205 }},
		{"no ACK flag", func() { ack = false }},
	} {
		ack, seq, end, ackSeq, rcvNxt, sndUna, upd, recent, tsval = base()
		c.mod()
		if DisorderedAck(ack, seq, end, ackSeq, rcvNxt, sndUna, upd, recent, tsval, rto) {
			t.Errorf("%s: taken", c.name)
		}
	}
	if !MayUpdateWindow(60, 10, 50, 10, 1000, 1000) || !MayUpdateWindow(50, 11, 50, 10, 1000, 1000) ||
		!MayUpdateWindow(50, 10, 50, 10, 1000, 2000) || !MayUpdateWindow(50, 10, 50, 10, 1000, 0) ||
		MayUpdateWindow(50, 10, 50, 10, 1000, 1000) || MayUpdateWindow(50, 9, 50, 10, 1000, 5000) {
		t.Error("tcp_may_update_window")
	}
}

func TestSequence(t *testing.T) {
	// Window advertised at rcv_wup 1000 of 500: right edge 1500;
	// rcv_nxt has moved to 1200.
	wup, wnd, nxt := uint32(1000), uint32(500), uint32(1200)
	if w := ReceiveWindow(wup, wnd, nxt); w != 300 {
		t.Fatalf("receive window %d", w)
	}
	if w := ReceiveWindow(1000, 100, 1200); w != 0 {
		t.Errorf("overrun window %d, want 0", w)
	}
	for _, c := range []struct {
		seq, end uint32
		want     SeqVerdict
	}{
		{1200, 1300, SeqOK},
		{1500, 1600, SeqOK}, // at the right edge (Linux's <=)
		{1501, 1600, SeqInvalidSequence},
		{900, 1000, SeqOK}, // ends at rcv_wup: a retransmission, taken (and D-SACKed)
		{800, 999, SeqOld},
		{0xfffffff0, 1100, SeqOK},
	} {
		if got := Sequence(c.seq, c.end, wup, wnd, nxt); got != c.want {
			t.Errorf("[%d, %d): %v, want %v", c.seq, c.end, got, c.want)
		}
	}
	if SeqOld.String() != "TCP_OLD_SEQUENCE" || SeqInvalidSequence.String() != "TCP_INVALID_SEQUENCE" {
		t.Error("drop reason names")
	}
}

func TestValidateRST(t *testing.T) {
	sacks := []SACKBlock{{3000, 4000}, {5000, 6000}, {2000, 2500}}
	for _, c := range []struct {
		name     string
		seq      uint32
		st       State
		inWindow bool
		sacks    []SACKBlock
		want     RSTVerdict
	}{
		{"exact rcv_nxt", 1000, StateEstablished, true, nil, RSTReset},
		{"in window, not exact: challenge", 1001, StateEstablished, true, nil, RSTChallenge},
		{"out of window: dropped", 900, StateEstablished, false, nil, RSTDiscard},
		{"at the FIN after it", 999, StateCloseWait, false, nil, RSTReset},
		{"at the FIN in LAST_ACK", 999, StateLastAck, true, nil, RSTReset},
		{"rcv_nxt-1 while established", 999, StateEstablished, false, nil, RSTDiscard},
		{"the highest SACK edge", 6000, StateEstablished, true, sacks, RSTReset},
		{"another SACK edge", 4000, StateEstablished, true, sacks, RSTChallenge},
	} {
		if got := ValidateRST(c.seq, 1000, c.st, c.inWindow, c.sacks); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestChallengeACK(t *testing.T) {
	sys := NewSysctl()
	var mib TcpExtMIB
	var c ChallengeACKs
	var last uint32
	now := 100 * time.Second
	// One per 500 ms (tcp_invalid_ratelimit) per connection.
	var sent []time.Duration
	for d := time.Duration(0); d < 2*time.Second; d += 100 * time.Millisecond {
		if c.Allow(&sys, &last, now+d, &mib) {
			sent = append(sent, d)
		}
	}
	want := []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond}
	if len(sent) != len(want) {
		t.Fatalf("sent at %v, want %v", sent, want)
	}
	for i := range want {
		if sent[i] != want[i] {
			t.Fatalf("sent at %v, want %v", sent, want)
		}
	}
	if mib.TCPChallengeACK != 4 || mib.TCPACKSkippedChallenge != 16 {
		t.Errorf("TCPChallengeACK %d TCPACKSkippedChallenge %d", mib.TCPChallengeACK, mib.TCPACKSkippedChallenge)
	}
	// A global limit of 100: each second between 50 and 149 over many
	// connections, a different count each second.
	sys.ChallengeACKLimit = 100
	counts := map[int]bool{}
	for s := range 5 {
		n := 0
		for conn := range 1000 {
			l := uint32(0)
			_ = conn
			if c.Allow(&sys, &l, time.Duration(200+s)*time.Second, &mib) {
				n++
			}
		}
		if n < 50 || n > 149 {
			t.Errorf("second %d: %d challenge ACKs, want in [50, 150)", s, n)
		}
		counts[n] = true
	}
	if len(counts) < 2 {
		t.Errorf("the same count every second: %v", counts)
	}
}

func TestStateNames(t *testing.T) {
	if StateEstablished != 1 || StateListen != 10 || StateNewSynRecv != 12 {
		t.Error("state numbers differ from Linux's")
	}
	if StateEstablished.String() != "ESTAB" || StateTimeWait.String() != "TIME-WAIT" || StateNewSynRecv.String() != "SYN-RECV" {
		t.Error("ss names")
	}
}
