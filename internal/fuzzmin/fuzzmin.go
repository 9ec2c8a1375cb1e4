// Package fuzzmin bounds Go's minimization of new fuzz inputs for fuzz
// targets whose inputs are expensive (a kernel model, a device, a driver
// per input).
//
// When a fuzz worker finds an input that widens coverage it minimizes it:
// on the order of n² runs for an input of n bytes (each byte, then each
// range of bytes, removed), for up to -fuzzminimizetime, 60 s by default.
// At a millisecond a run, inputs of a few hundred bytes keep both workers
// of a two-core machine minimizing for most of those 60 s: nothing is
// fuzzed, and the exec count stands still, since minimization runs are
// counted only when it ends. Bound sets a count of runs instead. A count,
// not a shorter time: a worker whose minimization runs out of time is
// killed and restarted by the coordinator.
package fuzzmin

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// FlagName is the testing flag of the minimization bound.
const FlagName = "test.fuzzminimizetime"

// Given reports whether the command line set -fuzzminimizetime.
func Given() (given bool) {
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == FlagName })
	return given
}

// Bound bounds the minimization of each new fuzz input at runs calls of the
// fuzz function, unless the command line set -fuzzminimizetime. Call it
// from TestMain after flag.Parse and before m.Run.
func Bound(runs int) error {
	if Given() {
		return nil
	}
	if runs <= 0 {
		return fmt.Errorf("fuzzmin: %d runs", runs)
	}
	return flag.Set(FlagName, fmt.Sprintf("%dx", runs))
}

// Value is the minimization bound in force, as the flag prints it ("1000x",
// "1m0s").
func Value() string {
	if f := flag.Lookup(FlagName); f != nil {
		return f.Value.String()
	}
	return ""
}

// Main is a TestMain that bounds minimization at runs (Bound) and runs the
// tests.
func Main(m *testing.M, runs int) {
	flag.Parse()
	if err := Bound(runs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// Check fails t unless the bound in force is runs runs or the command
// line's: a test that the package's TestMain is Main.
func Check(t testing.TB, runs int) {
	t.Helper()
	if want := fmt.Sprintf("%dx", runs); !Given() && Value() != want {
		t.Errorf("-%s is %s, want %s", FlagName, Value(), want)
	}
}
