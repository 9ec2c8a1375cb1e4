package tcp

import "testing"

func TestSeqCompare(t *testing.T) {
	for _, c := range []struct {
		a, b          uint32
		before, after bool
	}{
		{1, 2, true, false},
		{2, 1, false, true},
		{5, 5, false, false},
		{0xFFFFFFF0, 0x10, true, false}, // across the wrap
		{0x10, 0xFFFFFFF0, false, true},
		{0, 0x7FFFFFFF, true, false}, // just under half the space ahead
		// Exactly half the space apart, the difference is int32's
		// minimum either way: each is before (and after) the other, as
		// with Linux's before()/after().
		{0, 0x80000000, true, true},
		{0x80000000, 0, true, true},
	} {
		if got := Before(c.a, c.b); got != c.before {
			t.Errorf("Before(%#x, %#x) = %v, want %v", c.a, c.b, got, c.before)
		}
		if got := After(c.a, c.b); got != c.after {
			t.Errorf("After(%#x, %#x) = %v, want %v", c.a, c.b, got, c.after)
		}
	}
}

func TestSeqBetween(t *testing.T) {
	for _, c := range []struct {
		s, lo, hi uint32
		want      bool
	}{
		{5, 1, 10, true},
		{1, 1, 10, true},
		{10, 1, 10, true},
		{11, 1, 10, false},
		{0, 1, 10, false},
		{2, 0xFFFFFFF0, 5, true}, // the range wraps
		{0xFFFFFFF5, 0xFFFFFFF0, 5, true},
		{6, 0xFFFFFFF0, 5, false},
		{0xFFFFFFEF, 0xFFFFFFF0, 5, false},
	} {
		if got := Between(c.s, c.lo, c.hi); got != c.want {
			t.Errorf("Between(%#x, %#x, %#x) = %v, want %v", c.s, c.lo, c.hi, got, c.want)
		}
	}
	if SeqMax(0xFFFFFFF0, 3) != 3 || SeqMin(0xFFFFFFF0, 3) != 0xFFFFFFF0 {
		t.Error("SeqMax/SeqMin do not follow the wrap")
	}
}
