package kernelmodel

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

// /proc/net/softnet_stat has Linux 6.1's 13 hex columns per CPU, in order:
// processed, dropped, time_squeeze, five zeros (was fastroute), zero (was
// cpu_collision), received_rps, flow_limit_count, backlog length, CPU
// index; the counters as 32-bit values.
func TestSoftnetStatColumns(t *testing.T) {
	k := New(Config{CPUs: 2})
	d := newTestDev(t, k, 0)
	d.sink()
	d.arrive(10)
	k.Clock().RunFor(time.Millisecond)
	sd0, sd1 := &k.CPU(0).Softnet, &k.CPU(1).Softnet
	sd0.Dropped, sd0.TimeSqueeze, sd0.ReceivedRPS, sd0.FlowLimitCount = 2, 3, 5, 6
	sd1.Processed = 1<<32 | 0x1234abcd // printed as the low 32 bits
	for i := 0; i < 4; i++ {
		s := k.AllocSKB(60)
		s.Put(60)
		s.Protocol = 0x88b5
		s.Dev = d.dev
		k.enqueueToBacklog(s, k.CPU(1))
	}
	var buf bytes.Buffer
	if err := k.WriteSoftnetStat(&buf); err != nil {
		t.Fatal(err)
	}
	want := [][13]uint64{
		{10, 2, 3, 0, 0, 0, 0, 0, 0, 5, 6, 0, 0},
		{0x1234abcd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1},
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	for cpu, line := range lines {
		f := strings.Fields(line)
		if len(f) != 13 {
			t.Fatalf("cpu %d: %d columns: %q", cpu, len(f), line)
		}
		for col, s := range f {
			v, err := strconv.ParseUint(s, 16, 32)
			if err != nil || len(s) != 8 || v != want[cpu][col] {
				t.Errorf("cpu %d column %d = %q, want %08x", cpu, col+1, s, want[cpu][col])
			}
		}
	}
	k.Clock().RunFor(time.Millisecond)
	if len(d.received) != 14 || sd1.BacklogLen() != 0 {
		t.Errorf("received %d, backlog %d", len(d.received), sd1.BacklogLen())
	}
	if err := k.SKBAudit(); err != nil {
		t.Error(err)
	}
}
