package model

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestFrameQueue pushes and pops frames of random sizes through a small
// queue that wraps and grows, against a slice of copies.
func TestFrameQueue(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	q := newFrameQueue(256, 4, 64<<10, 200)
	var want [][]byte
	out := make([]byte, 4096)
	for i := range 20000 {
		if r.IntN(3) != 0 {
			f := make([]byte, 1+r.IntN(2000))
			for j := range f {
				f[j] = byte(i + j)
			}
			if !q.fits(len(f), 1, 1<<30) {
				if q.en < q.maxEnts && q.used+len(f) <= q.maxBytes {
					t.Fatalf("refused with room")
				}
				continue
			}
			q.push(f, queued{cost: 1})
			want = append(want, f)
		} else if len(want) > 0 {
			f, _ := q.peek(out)
			if !bytes.Equal(f, want[0]) {
				t.Fatalf("step %d: frame of %d bytes, want %d", i, len(f), len(want[0]))
			}
			q.pop()
			want = want[1:]
		}
		if q.en != len(want) {
			t.Fatalf("%d entries, want %d", q.en, len(want))
		}
	}
	if len(q.data) > q.maxBytes || len(q.ents) > q.maxEnts {
		t.Fatalf("grew beyond its bounds: %d bytes, %d entries", len(q.data), len(q.ents))
	}
}
