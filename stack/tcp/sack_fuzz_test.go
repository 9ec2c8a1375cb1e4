package tcp

import (
	"testing"
	"time"
)

// FuzzRcvSACK feeds out-of-order segments (two bytes each: offset and
// length in units of 100 octets beyond rcv_nxt, or an advance of rcv_nxt)
// to the receiver's SACK blocks and checks them against the set of
// octets actually queued: every block holds queued data only, the first
// covers the latest segment, the blocks are disjoint and do not touch,
// at most four.
func FuzzRcvSACK(f *testing.F) {
	f.Add([]byte{10, 5, 20, 5, 15, 5, 30, 1})
	f.Add([]byte{1, 1, 3, 1, 5, 1, 7, 1, 9, 1, 2, 1, 0xff, 3})
	f.Add([]byte{50, 10, 40, 10, 45, 10, 0xff, 60})
	f.Fuzz(func(t *testing.T, ops []byte) {
		ops = ops[:min(len(ops), 64)]
		const base = 0xfffff000 // across the wrap
		rcvNxt := uint32(base)
		queued := map[uint32]bool{} // 100-octet units beyond base that are queued
		var r RcvSACK
		for i := 0; i+1 < len(ops); i += 2 {
			if ops[i] == 0xff { // rcv_nxt advances by ops[i+1] units
				rcvNxt += 100 * uint32(ops[i+1])
				for u := range queued {
					if !After(base+100*u+100, rcvNxt) {
						delete(queued, u)
					}
				}
				r.Remove(rcvNxt, len(queued) == 0)
				continue
			}
			start := rcvNxt - base + 100*uint32(ops[i]) + 100 // beyond rcv_nxt
			n := uint32(ops[i+1]%8) + 1
			seq := base + start
			end := seq + 100*n
			for u := start / 100; u < start/100+n; u++ {
				queued[u] = true
			}
			r.NewOfo(seq, end)
			if r.NumSACKs == 0 || Before(seq, r.Selective[0].Start) || After(end, r.Selective[0].End) {
				t.Fatalf("the first block %v does not cover the latest segment [%d, %d)", r.Selective[:r.NumSACKs], seq, end)
			}
		}
		if r.NumSACKs > TCPNumSACKs {
			t.Fatalf("%d blocks", r.NumSACKs)
		}
		for i, b := range r.Selective[:r.NumSACKs] {
			if !After(b.End, b.Start) || !After(b.Start, rcvNxt) {
				t.Fatalf("block %d %v with rcv_nxt %d", i, b, rcvNxt)
			}
			for s := b.Start; s != b.End; s += 100 {
				if !queued[(s-base)/100] {
					t.Fatalf("block %v reports unqueued octets at %d", b, s)
				}
			}
			for j, c := range r.Selective[:r.NumSACKs] {
				if i != j && !After(b.Start, c.End) && !After(c.Start, b.End) {
					t.Fatalf("blocks %v and %v touch", b, c)
				}
			}
		}
	})
}

// FuzzScoreboard SACKs arbitrary ranges of a 20-segment flight and runs
// loss recovery to the end: IsLost is monotone (a lost sequence implies
// every earlier unSACKed one is lost), pipe stays within twice the flight,
// NextSeg never picks a SACKed segment and every rule is taken at most as
// often as there are segments, with one rescue at most.
func FuzzScoreboard(f *testing.F) {
	f.Add([]byte{2, 5, 8, 9, 12, 3})
	f.Add([]byte{0, 19, 1, 1})
	f.Add([]byte{10, 1, 12, 1, 14, 1, 16, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		ops = ops[:min(len(ops), 64)]
		b := board(20)
		var blocks []SACKBlock
		for i := 0; i+1 < len(ops); i += 2 {
			s := uint32(ops[i]%20) * 1000
			e := s + (uint32(ops[i+1]%5)+1)*700 // partial coverage too
			blocks = append(blocks, SACKBlock{s, min(e, 20000)})
		}
		b.Update(blocks)
		lost := false
		for i := len(b.Segs) - 1; i >= 0; i-- {
			if b.Segs[i].Sacked {
				continue
			}
			l := b.IsLost(b.Segs[i].Start)
			if lost && !l {
				t.Fatalf("segment %d not lost while a later one is", i)
			}
			lost = lost || l
		}
		rescues := 0
		for n := 0; n < 100; n++ {
			if p := b.Pipe(); p > 2*20000 {
				t.Fatalf("pipe %d", p)
			}
			rule, i := b.NextSeg(false)
			if rule == NextSegNone {
				return
			}
			if rule == NextSegNew {
				t.Fatal("new data with none to send")
			}
			if b.Segs[i].Sacked {
				t.Fatalf("rule %d picked SACKed segment %d", rule, i)
			}
			if rule == NextSegRescue {
				rescues++
			}
			b.Retransmit(i, rule, time.Duration(n))
		}
		t.Fatalf("recovery did not end in 100 steps (%d rescues)", rescues)
	})
}
