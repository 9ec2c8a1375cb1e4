package model

import (
	"testing"

	"github.com/nicbed/nicbed/internal/fuzzmin"
)

// fuzzMinimizeRuns bounds the runs a fuzz worker spends minimizing one new
// input of FuzzIGBModel (see internal/fuzzmin), as for FuzzE1000Model.
const fuzzMinimizeRuns = 1000

// TestMain applies fuzzMinimizeRuns unless the command line gave a bound.
func TestMain(m *testing.M) { fuzzmin.Main(m, fuzzMinimizeRuns) }

// TestFuzzMinimizeBound: without -fuzzminimizetime, minimization is bounded
// by a count of runs, not Go's 60 s.
func TestFuzzMinimizeBound(t *testing.T) { fuzzmin.Check(t, fuzzMinimizeRuns) }
