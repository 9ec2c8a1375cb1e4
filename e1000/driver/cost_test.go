package driver_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostileAllocs runs data through the fuzz harness and reports what it
// cost and the bytes it allocated on the heap.
func hostileAllocs(t *testing.T, data []byte) (hostileCost, uint64) {
	t.Helper()
	var cost hostileCost
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t.Run("run", func(t *testing.T) {
		var err error
		if _, cost, err = runHostileCost(t, data); err != nil {
			t.Fatal(err)
		}
	})
	runtime.ReadMemStats(&after)
	return cost, after.TotalAlloc - before.TotalAlloc
}

// Bounds of what one fuzz input may cost beyond what it asks for, counted,
// never timed: a kernel, probe, open and close read some 320 registers,
// take about 90 ms of model time and allocate about 50 KiB once the DMA
// memory of an earlier host is recycled. The first input of a process
// allocates its rings afresh; each skb the input sends is 1 KiB or more.
const (
	costFixedReads     = 600
	costReadsPerAction = 2
	costFixedModelTime = 250 * time.Millisecond // probe, open, close, a reset or two
	costFixedAlloc     = 256 << 10
	costAllocPerAction = 1536
)

// fuzzSeedFiles reads the seed corpus of FuzzE1000Driver under testdata.
func fuzzSeedFiles(t *testing.T) map[string][]byte {
	t.Helper()
	const dir = "testdata/fuzz/FuzzE1000Driver"
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		head, lit, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		lit = strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")")
		data, err := strconv.Unquote(lit)
		if head != "go test fuzz v1" || err != nil {
			t.Fatalf("%s: not a seed of one []byte: %v", e.Name(), err)
		}
		seeds[e.Name()] = []byte(data)
	}
	return seeds
}

// TestHostileCost: every seed of FuzzE1000Driver (testdata and f.Add),
// and the empty program, costs what the bounds above allow. The fuzzer stalled when inputs cost
// milliseconds each: Go's minimizer runs an input some n² times. Before
// the fix each input allocated its 1.5 MiB of rings afresh (1330 KiB an
// empty program) and each check of the driver's books a map of the frames
// held (6 MiB for tx_ring_full), most of the fuzzer's time.
func TestHostileCost(t *testing.T) {
	seeds := fuzzSeedFiles(t)
	if _, ok := seeds["tx_ring_full"]; !ok {
		t.Error("no tx_ring_full in the seed corpus")
	}
	for i, s := range hostileSeeds() {
		seeds[fmt.Sprintf("add#%d", i)] = s
	}
	seeds["empty"] = []byte{0}
	for name, s := range seeds {
		t.Run(name, func(t *testing.T) {
			hostileAllocs(t, s) // recycles the DMA memory of a first host
			c, alloc := hostileAllocs(t, s)
			t.Logf("%d bytes: %+v, %d KiB allocated", len(s), c, alloc>>10)
			if max := uint64(costFixedReads + costReadsPerAction*c.Actions); c.RegReads > max {
				t.Errorf("%d register reads for %d actions, want at most %d", c.RegReads, c.Actions, max)
			}
			if max := c.RunTime + costFixedModelTime; c.ModelTime > max {
				t.Errorf("%v of model time for %v run by the harness, want at most %v", c.ModelTime, c.RunTime, max)
			}
			if max := uint64(costFixedAlloc + costAllocPerAction*c.Actions); alloc > max {
				t.Errorf("%d KiB allocated for %d actions, want at most %d KiB", alloc>>10, c.Actions, max>>10)
			}
		})
	}
}
