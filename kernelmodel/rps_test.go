package kernelmodel

import (
	"testing"
	"time"
)

// Packets steered by hash land on the CPU rps_cpus and reciprocal_scale pick.
func TestRPSSteersByHash(t *testing.T) {
	k := New(Config{CPUs: 4})
	d := newTestDev(t, k, 0)
	d.sink()
	if err := d.dev.SetRPSCPUs(0, 0b1110); err != nil {
		t.Fatal(err)
	}
	hashes := []uint32{1, 0x40000000, 0x55555556, 0x80000000, 0xAAAAAAAB, 0xC0000000, 0xFFFFFFFF}
	wantCPU := []int{1, 1, 2, 2, 3, 3, 3}
	for i, h := range hashes {
		d.hash = h
		d.arrive(1)
		k.Clock().RunFor(time.Millisecond)
		if len(d.received) != i+1 {
			t.Fatalf("hash %#x: packet not received", h)
		}
		if got := d.cpus[i]; got != wantCPU[i] {
			t.Errorf("hash %#x delivered on CPU %d, want %d", h, got, wantCPU[i])
		}
	}
	var ipis uint64
	for i := 1; i < 4; i++ {
		ipis += k.CPU(i).Softnet.ReceivedRPS
	}
	if ipis != uint64(len(hashes)) {
		t.Errorf("received_rps total %d, want %d", ipis, len(hashes))
	}
	if k.CPU(0).Softnet.ReceivedRPS != 0 {
		t.Errorf("CPU 0 got RPS IPIs")
	}
}

// A flood into one CPU's backlog past netdev_max_backlog is dropped and
// counted in that CPU's softnet_stat; nothing is lost without a count.
func TestRPSBacklogDrops(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxBacklog int
		packets    int
		wantDrops  bool
	}{
		{"overflow", 10, 500, true},
		{"fits", 1000, 500, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cost := DefaultCost()
			cost.ReceiveSKB = 5 * time.Microsecond // a slow protocol on CPU 1
			k := New(Config{CPUs: 2, Cost: &cost})
			k.Sysctl.NetdevMaxBacklog = tc.maxBacklog
			d := newTestDev(t, k, 0)
			d.sink()
			d.hash = 0xFFFFFFFF
			if err := d.dev.SetRPSCPUs(0, 0b10); err != nil {
				t.Fatal(err)
			}
			d.arrive(tc.packets)
			k.Clock().RunFor(100 * time.Millisecond)
			sd1 := &k.CPU(1).Softnet
			got := uint64(len(d.received))
			if got+sd1.Dropped != uint64(tc.packets) {
				t.Fatalf("received %d + dropped %d != sent %d", got, sd1.Dropped, tc.packets)
			}
			if tc.wantDrops != (sd1.Dropped > 0) {
				t.Errorf("dropped %d", sd1.Dropped)
			}
			if k.Drops.Reason[SKB_DROP_REASON_CPU_BACKLOG] != sd1.Dropped {
				t.Errorf("drop reason CPU_BACKLOG %d, softnet dropped %d", k.Drops.Reason[SKB_DROP_REASON_CPU_BACKLOG], sd1.Dropped)
			}
			if d.dev.Stats.RxDropped != sd1.Dropped {
				t.Errorf("rx_dropped %d", d.dev.Stats.RxDropped)
			}
			for _, c := range d.cpus {
				if c != 1 {
					t.Fatalf("packet processed on CPU %d", c)
				}
			}
			// Order is kept among what got through.
			for i := 1; i < len(d.received); i++ {
				if d.received[i] <= d.received[i-1] {
					t.Fatalf("reordered: %d after %d", d.received[i], d.received[i-1])
				}
			}
			if err := k.SKBAudit(); err != nil {
				t.Error(err)
			}
		})
	}
}
