package fuzzmin

import (
	"flag"
	"testing"
)

// TestBound: without -fuzzminimizetime on the command line, Bound sets a
// count of runs; a bad count is refused and changes nothing.
func TestBound(t *testing.T) {
	if !flag.Parsed() {
		t.Fatal("flags not parsed")
	}
	if Given() {
		return // the command line's bound stands; nothing to check
	}
	old := Value()
	t.Cleanup(func() { flag.Set(FlagName, old) })
	if err := Bound(0); err == nil || Value() != old {
		t.Errorf("Bound(0) = %v, bound %s; want an error and %s", err, Value(), old)
	}
	if err := Bound(1234); err != nil || Value() != "1234x" {
		t.Errorf("Bound(1234) = %v, bound %s; want 1234x", err, Value())
	}
}
