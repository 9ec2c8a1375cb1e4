package tcp

import (
	"testing"
	"time"
)

// board is a flight of n segments of 1000 octets from 0, the given ones
// SACKed.
func board(n int, sacked ...int) *Scoreboard {
	b := &Scoreboard{SMSS: 1000, DupThresh: 3, HighData: uint32(1000 * n)}
	for i := range n {
		b.Segs = append(b.Segs, Seg{Start: uint32(1000 * i), End: uint32(1000 * (i + 1))})
	}
	b.RecoveryPoint = b.HighData
	for _, i := range sacked {
		blk := []SACKBlock{{b.Segs[i].Start, b.Segs[i].End}}
		if b.Update(blk) != 1 {
			panic("update")
		}
	}
	return b
}

func TestScoreboardUpdate(t *testing.T) {
	b := board(10)
	if n := b.Update([]SACKBlock{{2000, 5000}, {6500, 8000}}); n != 4 {
		t.Errorf("newly SACKed %d, want 4 (2, 3, 4 and 7; 6 is half covered)", n)
	}
	if n := b.Update([]SACKBlock{{2000, 5000}}); n != 0 {
		t.Errorf("the same block again SACKed %d", n)
	}
	b.HighACK = 1000
	if n := b.Update([]SACKBlock{{0, 1000}}); n != 0 {
		t.Errorf("a D-SACK below snd_una SACKed %d", n)
	}
	for i, want := range []bool{false, false, true, true, true, false, false, true, false, false} {
		if b.Segs[i].Sacked != want {
			t.Errorf("segment %d SACKed %v", i, b.Segs[i].Sacked)
		}
	}
}

func TestIsLost(t *testing.T) {
	for _, c := range []struct {
		name   string
		b      *Scoreboard
		seq    uint32
		isLost bool
	}{
		{"3 SACKed segments above", board(10, 2, 3, 4), 0, true},
		{"3 SACKed above the second", board(10, 2, 3, 4), 1000, true},
		{"2 SACKed above, 2000 octets is not more than 2*SMSS", board(10, 3, 4), 0, false},
		{"nothing SACKed above", board(10, 2, 3, 4), 5000, false},
		{"SACKed below does not count", board(10, 0, 1, 2, 9), 3000, false},
		{"3 discontiguous SACKed segments", board(10, 2, 5, 8), 1000, true},
		{"octets: 2 SACKed segments of 1500", func() *Scoreboard {
			b := &Scoreboard{SMSS: 1000, DupThresh: 3, Segs: []Seg{{Start: 0, End: 1000}, {Start: 1000, End: 2500}, {Start: 2500, End: 4000}}}
			b.Update([]SACKBlock{{1000, 4000}})
			return b
		}(), 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.b.IsLost(c.seq); got != c.isLost {
				t.Errorf("IsLost(%d) = %v", c.seq, got)
			}
		})
	}
}

// TestSACKRecovery walks RFC 6675's loss recovery over 10 segments whose
// first two were lost: pipe, NextSeg's rules in order, the rescue
// retransmission once.
func TestSACKRecovery(t *testing.T) {
	b := board(10, 2, 3, 4)
	// 0 and 1 lost (3 SACKed above each), 2-4 SACKed, 5-9 in flight.
	if p := b.Pipe(); p != 5000 {
		t.Fatalf("pipe %d, want 5000", p)
	}
	now := time.Second
	rule, i := b.NextSeg(false)
	if rule != NextSegLost || i != 0 {
		t.Fatalf("NextSeg = rule %d segment %d, want rule 1 segment 0", rule, i)
	}
	b.Retransmit(i, rule, now)
	if b.HighRxt != 1000 || b.Pipe() != 6000 {
		t.Fatalf("after the retransmission HighRxt %d pipe %d, want 1000 and 6000", b.HighRxt, b.Pipe())
	}
	if rule, i = b.NextSeg(true); rule != NextSegLost || i != 1 {
		t.Fatalf("NextSeg = rule %d segment %d, want rule 1 segment 1 (before new data)", rule, i)
	}
	b.Retransmit(i, rule, now)
	if rule, _ = b.NextSeg(true); rule != NextSegNew {
		t.Fatalf("rule %d, want new data (2)", rule)
	}
	// No new data: no hole below the highest SACK is left, so the rescue
	// retransmission takes the highest unSACKed segment, once.
	if rule, i = b.NextSeg(false); rule != NextSegRescue || i != 9 {
		t.Fatalf("rule %d segment %d, want rescue of segment 9", rule, i)
	}
	b.Retransmit(i, rule, now)
	if b.HighRxt != 2000 || b.RescueRxt != 10000 {
		t.Errorf("the rescue moved HighRxt to %d (RescueRxt %d)", b.HighRxt, b.RescueRxt)
	}
	if rule, _ = b.NextSeg(false); rule != NextSegNone {
		t.Errorf("a second rescue (rule %d) in one recovery", rule)
	}
}

func TestNextSegHole(t *testing.T) {
	// One SACKed segment: nothing is lost yet, but 0-2 are holes below
	// it (rule 3), after new data (rule 2).
	b := board(10, 3)
	if rule, _ := b.NextSeg(true); rule != NextSegNew {
		t.Errorf("rule %d, want 2", rule)
	}
	if rule, i := b.NextSeg(false); rule != NextSegHole || i != 0 {
		t.Errorf("rule %d segment %d, want rule 3 segment 0", rule, i)
	}
	if p := b.Pipe(); p != 9000 {
		t.Errorf("pipe %d, want 9000 (nothing lost)", p)
	}
}
