package model

import (
	"testing"

	"github.com/nicbed/nicbed/internal/fuzzmin"
)

// fuzzMinimizeRuns bounds the runs a fuzz worker spends minimizing one new
// input of FuzzE1000Model (see internal/fuzzmin): with Go's default of
// 60 s, both workers minimized for most of a 60 s run (0 execs/s shown for
// 45 s of it).
const fuzzMinimizeRuns = 1000

// TestMain applies fuzzMinimizeRuns unless the command line gave a bound.
func TestMain(m *testing.M) { fuzzmin.Main(m, fuzzMinimizeRuns) }

// TestFuzzMinimizeBound: without -fuzzminimizetime, minimization is bounded
// by a count of runs, not Go's 60 s.
func TestFuzzMinimizeBound(t *testing.T) { fuzzmin.Check(t, fuzzMinimizeRuns) }
