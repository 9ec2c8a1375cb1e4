package driver

import (
	"testing"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/kernelmodel"
)

func TestUpdateITR(t *testing.T) {
	tests := []struct {
		cur            latencyRange
		packets, bytes uint64
		want           latencyRange
	}{
		// Nothing moved: no change.
		{lowestLatency, 0, 0, lowestLatency},
		{lowLatency, 0, 0, lowLatency},
		{bulkLatency, 0, 0, bulkLatency},
		// lowest_latency.
		{lowestLatency, 1, 9000, bulkLatency}, // jumbo
		{lowestLatency, 4, 600, lowLatency},   // few but not tiny
		{lowestLatency, 4, 512, lowestLatency},
		{lowestLatency, 10, 600, lowestLatency},
		// low_latency, more than 10000 bytes.
		{lowLatency, 2, 18000, bulkLatency},  // jumbo
		{lowLatency, 9, 10800, bulkLatency},  // few packets
		{lowLatency, 20, 30000, bulkLatency}, // large packets
		{lowLatency, 36, 36000, lowestLatency},
		{lowLatency, 20, 20000, lowLatency},
		// low_latency, up to 10000 bytes.
		{lowLatency, 3, 9000, bulkLatency},
		{lowLatency, 2, 500, lowestLatency},
		{lowLatency, 3, 500, lowLatency},
		{lowLatency, 6, 9084, lowLatency},
		// bulk_latency.
		{bulkLatency, 36, 30000, lowLatency},
		{bulkLatency, 35, 30000, bulkLatency},
		{bulkLatency, 3, 5999, lowLatency},
		{bulkLatency, 10, 15000, bulkLatency},
	}
	for _, tc := range tests {
		if got := updateITR(tc.cur, tc.packets, tc.bytes); got != tc.want {
			t.Errorf("updateITR(%d, %d pkts, %d bytes) = %d, want %d", tc.cur, tc.packets, tc.bytes, got, tc.want)
		}
	}
}

func TestITRRegister(t *testing.T) {
	tests := []struct {
		rate int
		want uint32
	}{
		{0, 0}, {100, 39062}, {4000, 976}, {8000, 488}, {20000, 195}, {70000, 55}, {100000, 39},
	}
	for _, tc := range tests {
		got := itrRegister(tc.rate)
		if got != tc.want {
			t.Errorf("itrRegister(%d) = %d, want %d", tc.rate, got, tc.want)
		}
		if tc.rate == 0 {
			continue
		}
		// Truncated as Linux: the interval allows at least the rate,
		// and one unit more would allow less.
		if r := 1e9 / (float64(got) * 256); r < float64(tc.rate) {
			t.Errorf("itrRegister(%d) = %d allows only %.1f ints/s", tc.rate, got, r)
		}
		if r := 1e9 / (float64(got+1) * 256); r >= float64(tc.rate) {
			t.Errorf("itrRegister(%d) = %d is not the largest interval (%d allows %.1f)", tc.rate, got, got+1, r)
		}
	}
}

func TestSimplifiedITR(t *testing.T) {
	tests := []struct {
		gotc, gorc uint64
		want       int
	}{
		{0, 0, 8000},
		{0, 9999, 8000},              // less than 10000 octets: no measure
		{1_000_000, 0, 8000},         // all transmit
		{0, 1_000_000, 8000},         // all receive
		{1_000_000, 1_000_000, 2000}, // symmetric
		{3_000_000, 1_000_000, 5000}, // between
	}
	for _, tc := range tests {
		if got := simplifiedITR(tc.gotc, tc.gorc); got != tc.want {
			t.Errorf("simplifiedITR(%d, %d) = %d, want %d", tc.gotc, tc.gorc, got, tc.want)
		}
	}
}

// regLog is a BAR that records writes.
type regLog struct{ writes map[uint32][]uint32 }

func (r *regLog) Read32(off uint32) uint32 { return 0 }
func (r *regLog) Write32(off, v uint32) {
	if r.writes == nil {
		r.writes = map[uint32][]uint32{}
	}
	r.writes[off] = append(r.writes[off], v)
}

// TestSetITRSteps checks e1000_set_itr's moves: down at once, up by a
// quarter of the target per poll; conservative mode never picks
// lowest_latency; below gigabit the rate is 4000.
func TestSetITRSteps(t *testing.T) {
	k := kernelmodel.New(kernelmodel.Config{CPUs: 1})
	tests := []struct {
		mode      int
		speed     int
		from      int
		packets   uint64
		bytes     uint64
		wantSteps []int
	}{
		// A single small packet an interrupt: lowest_latency.
		{mode: ITRDynamic, speed: 1000, from: 4000, packets: 1, bytes: 60, wantSteps: []int{21500, 39000, 56500, 70000, 70000}},
		{mode: ITRConservative, speed: 1000, from: 4000, packets: 1, bytes: 60, wantSteps: []int{9000, 14000, 19000, 20000, 20000}},
		// Jumbo frames: bulk at once.
		{mode: ITRDynamic, speed: 1000, from: 70000, packets: 3, bytes: 27000, wantSteps: []int{4000, 4000}},
		{mode: ITRDynamic, speed: 100, from: 20000, packets: 1, bytes: 60, wantSteps: []int{4000, 4000}},
	}
	for _, tc := range tests {
		bar := &regLog{}
		a := &Adapter{k: k, hw: bar, linkSpeed: tc.speed}
		if err := a.setITRParam(tc.mode); err != nil {
			t.Fatal(err)
		}
		a.itr = tc.from
		var got []int
		for range tc.wantSteps {
			a.totalRxPackets, a.totalRxBytes = tc.packets, tc.bytes
			a.setITR()
			got = append(got, a.itr)
		}
		if len(got) != len(tc.wantSteps) {
			t.Fatalf("steps %v", got)
		}
		for i := range got {
			if got[i] != tc.wantSteps[i] {
				t.Errorf("mode %d speed %d from %d: steps %v, want %v", tc.mode, tc.speed, tc.from, got, tc.wantSteps)
				break
			}
		}
		w := bar.writes[e1000.ITR]
		if len(w) == 0 || w[len(w)-1] != itrRegister(a.itr) {
			t.Errorf("ITR writes %v, last should be %d", w, itrRegister(a.itr))
		}
	}
}

func TestCheckRingCount(t *testing.T) {
	tests := []struct {
		n, want int
		ok      bool
	}{
		{0, 0, false}, {79, 0, false}, {80, 80, true}, {81, 88, true}, {255, 256, true},
		{256, 256, true}, {4095, 4096, true}, {4096, 4096, true}, {4097, 0, false}, {-8, 0, false},
	}
	for _, tc := range tests {
		got, err := checkRingCount("rx", tc.n)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("checkRingCount(%d) = %d, %v; want %d, ok %v", tc.n, got, err, tc.want, tc.ok)
		}
	}
}
