package prandom

import "testing"

// TestReplay: the same seed gives the same numbers; Below stays below n
// and reaches every value of a small range.
func TestReplay(t *testing.T) {
	a, b := New(42), New(42)
	for i := 0; i < 1000; i++ {
		if x, y := a.U64(), b.U64(); x != y {
			t.Fatalf("step %d: %d != %d", i, x, y)
		}
	}
	s1, s2 := New(1), New(2)
	if x, y := s1.U32(), s2.U32(); x == y {
		t.Errorf("seeds 1 and 2 start alike: %d", x)
	}
	r := New(7)
	seen := map[uint32]bool{}
	for i := 0; i < 1000; i++ {
		v := r.Below(10)
		if v >= 10 {
			t.Fatalf("Below(10) = %d", v)
		}
		seen[v] = true
	}
	if len(seen) != 10 {
		t.Errorf("Below(10) took %d values in 1000 draws", len(seen))
	}
	z := New(0)
	if z.U64() == 0 {
		t.Error("seed 0 gives a stuck generator")
	}
}
