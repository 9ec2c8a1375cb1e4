package fifo

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestFrames pushes and pops frames of random sizes through a small queue
// that wraps and grows, against a slice of copies; the metadata and the
// cost travel with each frame.
func TestFrames(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	q := New[int](256, 4, 64<<10, 200)
	var want [][]byte
	var wantMeta []int
	cost := 0
	out := make([]byte, 4096)
	for i := range 20000 {
		if r.IntN(3) != 0 {
			f := make([]byte, 1+r.IntN(2000))
			for j := range f {
				f[j] = byte(i + j)
			}
			if !q.Fits(len(f), len(f)+4, 1<<30) {
				if q.Len() < q.maxEnts && q.Bytes()+len(f) <= q.maxBytes {
					t.Fatalf("refused with room")
				}
				continue
			}
			q.Push(f, len(f)+4, i)
			cost += len(f) + 4
			want = append(want, f)
			wantMeta = append(wantMeta, i)
		} else if len(want) > 0 {
			f, m := q.Peek(out)
			if !bytes.Equal(f, want[0]) || m != wantMeta[0] {
				t.Fatalf("step %d: frame of %d bytes meta %d, want %d bytes meta %d", i, len(f), m, len(want[0]), wantMeta[0])
			}
			q.Pop()
			cost -= len(want[0]) + 4
			want, wantMeta = want[1:], wantMeta[1:]
		}
		if q.Len() != len(want) || q.Cost() != cost {
			t.Fatalf("%d entries cost %d, want %d cost %d", q.Len(), q.Cost(), len(want), cost)
		}
	}
	if len(q.data) > q.maxBytes || len(q.ents) > q.maxEnts {
		t.Fatalf("grew beyond its bounds: %d bytes, %d entries", len(q.data), len(q.ents))
	}
	if n := q.Clear(); n != len(want) || !q.Empty() || q.Cost() != 0 {
		t.Fatalf("Clear: %d frames, empty %v, cost %d", n, q.Empty(), q.Cost())
	}
}

// TestFramesCapacity: Fits honours the caller's capacity in cost units.
func TestFramesCapacity(t *testing.T) {
	q := New[struct{}](64, 2, 1<<20, 100)
	f := make([]byte, 100)
	for q.Fits(len(f), 104, 1000) {
		q.Push(f, 104, struct{}{})
	}
	if q.Len() != 9 || q.Cost() != 936 {
		t.Fatalf("%d frames costing %d fit in 1000, want 9 costing 936", q.Len(), q.Cost())
	}
}

// BenchmarkFrames: a push and a pop allocate nothing once grown.
func BenchmarkFrames(b *testing.B) {
	q := New[int](64<<10, 1024, 64<<10, 1024)
	f := make([]byte, 64)
	out := make([]byte, 2048)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q.Push(f, 68, i)
		q.Peek(out)
		q.Pop()
	}
}
