package driver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/kernelmodel"
)

// slowDev is the fake 82540EM of hostile_test.go with slow register
// operations, as a device behind VFIO (QEMU's, or real hardware) may be: an
// EEPROM read through EERD sets DONE eerd after START, an MDI access sets
// MDIC.READY mdic after it was started. A negative delay means never. It
// counts the reads of each register.
type slowDev struct {
	*hostileDev
	clk        *kernelmodel.Clock
	eerd, mdic time.Duration
	eerdAt     time.Duration // when the EERD read in progress is done
	mdicAt     time.Duration
	reads      map[uint32]int
}

func (d *slowDev) BAR(i int) pci.BAR {
	if i == 0 {
		return (*slowBAR)(d)
	}
	return d.hostileDev.BAR(i)
}

type slowBAR slowDev

func (b *slowBAR) done(at, delay time.Duration) bool {
	return delay >= 0 && b.clk.Now() >= at
}

func (b *slowBAR) Read32(off uint32) uint32 {
	b.reads[off]++
	v := (*hostileBAR)(b.hostileDev).Read32(off)
	switch off {
	case e1000.EERD:
		if !b.done(b.eerdAt, b.eerd) {
			v &^= e1000.EERD_DONE | 0xFFFF<<e1000.EERD_DATA_SHIFT
		}
	case e1000.MDIC:
		if !b.done(b.mdicAt, b.mdic) {
			v &^= e1000.MDIC_READY | e1000.MDIC_DATA_MASK
		}
	}
	return v
}

func (b *slowBAR) Write32(off, v uint32) {
	switch off {
	case e1000.EERD:
		b.eerdAt = b.clk.Now() + b.eerd
	case e1000.MDIC:
		b.mdicAt = b.clk.Now() + b.mdic
	}
	(*hostileBAR)(b.hostileDev).Write32(off, v)
}

// probeSlow probes a slowDev in a task and reports what it returned, how
// much model time it took and the device.
func probeSlow(t *testing.T, eerd, mdic time.Duration) (*driver.Adapter, error, time.Duration, *slowDev) {
	t.Helper()
	k := kernelmodel.New(kernelmodel.Config{CPUs: 1})
	t.Cleanup(k.Close)
	d := &slowDev{hostileDev: newHostileDev(), clk: k.Clock(), eerd: eerd, mdic: mdic, reads: map[uint32]int{}}
	mem := &testMem{next: 0x1_0000_0000}
	pdev := k.NewPCIDev("0000:00:05.0", d, mem)
	d.line = k.INTxLine(pdev.IRQ)
	start := k.Clock().Now()
	a, err := probeTask(k, pdev, driver.Options{})
	return a, err, k.Clock().Now() - start, d
}

// TestProbeWaits: probe against a device whose EEPROM reads and MDI accesses
// take their time succeeds, in about the model time the waits add up to and
// with the register reads the poll intervals allow (EERD every 5 µs, MDIC
// every 50 µs on a read, 5 µs on a write); against a device that never
// finishes one it fails after Linux's bound with an error that says which.
// (Before probe ran in a task, the driver spun 2000 reads without letting
// time pass: the slow device failed probe.)
func TestProbeWaits(t *testing.T) {
	// What probe does: two MAC resets (msleep 10 + 5 each), a PHY hardware
	// reset (10 ms + 150 µs), 68 EEPROM words (64 for the checksum, 3 for
	// the address, ICW2), and MDI reads and writes.
	const (
		eepromWords = 68
		resetSleeps = 2*15*time.Millisecond + 10*time.Millisecond + 150*time.Microsecond
	)
	fast, err, fastTime, fastDev := probeSlow(t, 0, 0)
	if err != nil {
		t.Fatalf("fast device: %v", err)
	}
	if fast == nil || fastTime < resetSleeps {
		t.Fatalf("fast device: probe took %v, want at least the %v of resets", fastTime, resetSleeps)
	}
	mdiOps := fastDev.reads[e1000.MDIC] // one look each when the PHY answers at once
	if mdiOps < 10 {
		t.Fatalf("fast device: %d MDIC reads", mdiOps)
	}

	t.Run("slow", func(t *testing.T) {
		const eerd, mdic = time.Millisecond, 120 * time.Microsecond
		a, err, took, d := probeSlow(t, eerd, mdic)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if a.MAC() != [6]byte{0x52, 0x54, 0x00, 0xBA, 0xD0, 0x01} {
			t.Errorf("MAC %x", a.MAC())
		}
		// Each EEPROM word waits its millisecond; each MDI access at
		// least 120 µs (3 looks of 50 µs on a read). The rest is as
		// for the fast device.
		low := fastTime + eepromWords*eerd + time.Duration(mdiOps)*mdic
		high := fastTime + eepromWords*(eerd+20*time.Microsecond) + time.Duration(mdiOps)*(mdic+60*time.Microsecond)
		t.Logf("probe took %v (fast device %v), %d EERD and %d MDIC reads for %d MDI accesses", took, fastTime, d.reads[e1000.EERD], d.reads[e1000.MDIC], mdiOps)
		if took < low || took > high {
			t.Errorf("probe took %v of model time, want %v to %v", took, low, high)
		}
		// EERD is looked at every 5 µs (plus the read's own cost): about
		// 200 reads a word, not thousands.
		if n := d.reads[e1000.EERD]; n < eepromWords*150 || n > eepromWords*205 {
			t.Errorf("%d EERD reads for %d words, want about %d", n, eepromWords, eepromWords*200)
		}
		if n := d.reads[e1000.MDIC]; n > mdiOps*25 {
			t.Errorf("%d MDIC reads for %d MDI accesses", n, mdiOps)
		}
	})

	tests := []struct {
		name       string
		eerd, mdic time.Duration
		wantErr    string
		min, max   time.Duration // model time probe took
		maxReads   map[uint32]int
	}{
		{
			// 100000 looks 5 µs apart: 0.5 s, then the first word fails.
			name: "EEPROM never done", eerd: -1, wantErr: "EERD.DONE not set after 500ms",
			min: 500 * time.Millisecond, max: 560 * time.Millisecond,
			maxReads: map[uint32]int{e1000.EERD: 100000},
		},
		{
			// 64 looks 50 µs apart at the first MDI read (the PHY ID).
			name: "MDI never ready", mdic: -1, wantErr: "MDIC.READY not set after 3.2ms",
			min: resetSleeps, max: resetSleeps + 4*time.Millisecond + 70*5200*time.Nanosecond,
			maxReads: map[uint32]int{e1000.MDIC: 64},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err, took, d := probeSlow(t, tc.eerd, tc.mdic)
			if err == nil || a != nil {
				t.Fatalf("probe succeeded against a device that never finishes")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q, want it to say %q", err, tc.wantErr)
			}
			if took < tc.min || took > tc.max {
				t.Errorf("probe failed after %v of model time, want %v to %v", took, tc.min, tc.max)
			}
			for reg, n := range tc.maxReads {
				if d.reads[reg] != n {
					t.Errorf("register %#x read %d times, want %d", reg, d.reads[reg], n)
				}
			}
		})
	}
}
