package driver_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/e1000/model"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// upE1000 builds two e1000 hosts whose drivers are probed with opts and
// brings both interfaces up.
func upE1000(t testing.TB, opts driver.Options) *testbed.Testbed {
	t.Helper()
	tb, err := testbed.NewUp(withDriver(opts))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// withDriver is a testbed configuration of two e1000 hosts whose drivers
// are probed with opts.
func withDriver(opts driver.Options) testbed.Config {
	return testbed.Config{NIC: testbed.E1000{Driver: opts}}
}

// adapter is h's e1000 driver.
func adapter(h *testbed.Host) *driver.Adapter { return testbed.E1000Of(h).Adapter }

// nicModel is h's 82540EM model.
func nicModel(h *testbed.Host) *model.Device { return testbed.E1000Of(h).Model }

// stat returns an ethtool -S value by name.
func stat(t testing.TB, h *testbed.Host, name string) uint64 {
	t.Helper()
	v, ok := h.Stat(name)
	if !ok {
		t.Fatalf("%s: no ethtool stat %q", h.Name, name)
	}
	return v
}

// settle runs the clock a little so that transmit completions are cleaned,
// then checks both hosts (Testbed.Settle: the drivers' books, no DMA
// faults, no skb leaked, neither model nor driver saw the other misbehave).
func settle(t testing.TB, tb *testbed.Testbed) {
	t.Helper()
	if err := tb.Settle(5 * time.Millisecond); err != nil {
		t.Errorf("%v\n%s", err, tb.Report())
	}
}

// itrMax is the most interrupts in one second that the ITR interval Linux
// programs for rate (10^9 / (rate × 256) units of 256 ns, truncated) allows.
func itrMax(rate int) uint64 {
	units := 1_000_000_000 / (uint64(rate) * 256)
	return 1_000_000_000/(units*256) + 1
}

// TestITRFixedRate floods host B with full-sized frames with
// InterruptThrottleRate set to a fixed rate R and counts B's interrupts over
// one second of model time: at most what the ITR register Linux programs for
// R allows (its interval is truncated, so slightly more than R: 8004.6/s for
// 8000), at least 0.9 R.
func TestITRFixedRate(t *testing.T) {
	for _, rate := range []int{1000, 8000, 30000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			tb := upE1000(t, driver.Options{InterruptThrottleRate: driver.Int(rate)})
			f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{MinSize: 1514, MaxSize: 1514, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			tb.Clock.RunFor(50 * time.Millisecond) // steady state
			n0, r0 := tb.B.Interrupts(), f.Received
			tb.Clock.RunFor(time.Second)
			n := tb.B.Interrupts() - n0
			f.Pktgen.Stop()
			t.Logf("R=%d: %d interrupts, %d frames in 1 s", rate, n, f.Received-r0)
			if n > itrMax(rate) || float64(n) < 0.9*float64(rate) {
				t.Errorf("%d interrupts in 1 s with InterruptThrottleRate %d", n, rate)
			}
			if err := f.Err(); err != nil {
				t.Error(err)
			}
			if f.Lost != 0 {
				t.Errorf("%d frames lost", f.Lost)
			}
		})
	}
}

// TestITRDynamic checks the dynamic modes' choice of class: a flood of
// jumbo frames (over 8000 bytes a packet) is bulk_latency (4000 ints/s) in
// both dynamic modes; sparse small frames go to lowest_latency (70000) in
// mode 1 but stay at low_latency (20000) in conservative mode 3; mode 4 is
// the watchdog's 8000 for traffic all one way and 2000 for symmetric
// traffic.
func TestITRDynamic(t *testing.T) {
	tests := []struct {
		mode     int
		size     int
		delay    time.Duration
		both     bool // a flow each way
		wantRate int
	}{
		{mode: 1, size: 9014, wantRate: 4000},
		{mode: 3, size: 9014, wantRate: 4000},
		{mode: 1, size: 60, delay: 200 * time.Microsecond, wantRate: 70000},
		{mode: 3, size: 60, delay: 200 * time.Microsecond, wantRate: 20000},
		{mode: 4, size: 1514, wantRate: 8000},
		{mode: 4, size: 1514, both: true, wantRate: 2000},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("mode%d/%dB/both=%v", tc.mode, tc.size, tc.both), func(t *testing.T) {
			opts := driver.Options{InterruptThrottleRate: driver.Int(tc.mode)}
			if tc.size > 1514 {
				opts.MTU = 9000
			}
			tb := upE1000(t, opts)
			cfg := testbed.FlowConfig{MinSize: tc.size, MaxSize: tc.size, Delay: tc.delay, Seed: 4}
			f, err := tb.StartFlow(tb.A, tb.B, cfg)
			if err != nil {
				t.Fatal(err)
			}
			flows := []*testbed.Flow{f}
			if tc.both {
				back, err := tb.StartFlow(tb.B, tb.A, cfg)
				if err != nil {
					t.Fatal(err)
				}
				flows = append(flows, back)
			}
			tb.Clock.RunFor(2100 * time.Millisecond) // past a watchdog run
			n0 := tb.B.Interrupts()
			tb.Clock.RunFor(time.Second)
			n := tb.B.Interrupts() - n0
			got := adapter(tb.B).CurrentITR()
			t.Logf("mode %d, %d-byte frames: ITR %d ints/s, %d interrupts in 1 s", tc.mode, tc.size, got, n)
			if got != tc.wantRate {
				t.Errorf("ITR %d ints/s, want %d", got, tc.wantRate)
			}
			if n > itrMax(tc.wantRate) {
				t.Errorf("%d interrupts in 1 s at %d ints/s", n, tc.wantRate)
			}
			for _, f := range flows {
				f.Pktgen.Stop()
				if err := f.Err(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestProbeEEPROM: probe fails with a clear error on a bad EEPROM checksum
// or a multicast address in the EEPROM, and succeeds with a good image.
func TestProbeEEPROM(t *testing.T) {
	good := model.DefaultEEPROM(testbed.MACA)
	badSum := good
	badSum[0x10]++
	mcast := good
	mcast[0] |= 1
	model.FixEEPROMChecksum(&mcast)
	tests := []struct {
		name    string
		eeprom  [64]uint16
		wantErr error
	}{
		{"good", good, nil},
		{"bad checksum", badSum, driver.ErrEEPROMChecksum},
		{"multicast MAC", mcast, driver.ErrInvalidMAC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ee := tc.eeprom
			_, err := testbed.New(testbed.Config{NIC: testbed.E1000{Model: func(h *testbed.Host, c *model.Config) {
				if h.Index == 0 {
					c.EEPROM = &ee
				}
			}}})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("probe: %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				t.Logf("probe: %v", err)
				if !strings.Contains(err.Error(), "EEPROM checksum") && tc.wantErr == driver.ErrEEPROMChecksum {
					t.Errorf("error %q does not name the EEPROM checksum", err)
				}
			}
		})
	}
}

// TestPHYAutoneg checks what probe and open did to the PHY through MDIC:
// the M88E1011 found, our abilities advertised (10/100 half and full,
// 1000 full only, symmetric and asymmetric pause from the EEPROM's ICW2),
// autonegotiation enabled and completed, and the MAC at 1000 Mb/s full
// duplex.
func TestPHYAutoneg(t *testing.T) {
	// Autonegotiation takes longer than the other host's probe (about
	// 55 ms of model time), as QEMU's 500 ms does.
	tb, err := testbed.New(testbed.Config{NIC: testbed.E1000{Model: func(_ *testbed.Host, c *model.Config) { c.AutonegDelay = 300 * time.Millisecond }}})
	if err != nil {
		t.Fatal(err)
	}
	a := adapter(tb.A)
	bmsr, err := a.ReadPHY(e1000.PHY_BMSR)
	if err != nil {
		t.Fatal(err)
	}
	if bmsr&e1000.BMSR_ANEGCOMPLETE != 0 {
		t.Errorf("autonegotiation complete at probe time (BMSR %#04x)", bmsr)
	}
	if err := tb.Up(time.Second); err != nil {
		t.Fatal(err)
	}
	reg := func(r uint32) uint16 {
		v, err := a.ReadPHY(r)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if id := uint32(reg(e1000.PHY_ID1))<<16 | uint32(reg(e1000.PHY_ID2)); id&^0xF != e1000.PHY_ID1_82540EM<<16|e1000.PHY_ID2_82540EM {
		t.Errorf("PHY ID %#08x", id)
	}
	checks := []struct {
		name      string
		reg       uint32
		set, clea uint16
	}{
		{"BMCR", e1000.PHY_BMCR, e1000.BMCR_ANENABLE, e1000.BMCR_PDOWN | e1000.BMCR_ISOLATE | e1000.BMCR_LOOPBACK},
		{"BMSR", e1000.PHY_BMSR, e1000.BMSR_ANEGCOMPLETE | e1000.BMSR_LSTATUS, 0},
		{"ANAR", e1000.PHY_ANAR, e1000.ANAR_SELECTOR_8023 | e1000.ANAR_10HALF | e1000.ANAR_10FULL | e1000.ANAR_100HALF | e1000.ANAR_100FULL | e1000.ANAR_PAUSE | e1000.ANAR_ASM_DIR, e1000.ANAR_100T4},
		{"1000T_CTRL", e1000.PHY_1000T_CTRL, e1000.GCR_1000T_FD, e1000.GCR_1000T_HD},
		{"1000T_STATUS", e1000.PHY_1000T_STATUS, e1000.GSR_LP_1000T_FD, 0},
		{"PSCR", e1000.M88_PSCR, 0x0060, 0x0002},
	}
	for _, c := range checks {
		v := reg(c.reg)
		if v&c.set != c.set || v&c.clea != 0 {
			t.Errorf("%s = %#04x: want %#04x set and %#04x clear", c.name, v, c.set, c.clea)
		}
	}
	if s, fd := a.Link(); s != 1000 || !fd {
		t.Errorf("link %d Mb/s, full duplex %v", s, fd)
	}
	mc := testbed.E1000Of(tb.A).Model.Counters()
	if mc.MDIOAccesses == 0 || mc.AutonegCompleted == 0 || mc.MDIOBadAccess != 0 {
		t.Errorf("model: %d MDIO accesses (%d bad), %d autonegotiations", mc.MDIOAccesses, mc.MDIOBadAccess, mc.AutonegCompleted)
	}
	if _, err := a.ReadPHY(0x20); err == nil {
		t.Error("PHY register 0x20 read without error")
	}
}

// TestRingparam exercises ethtool -G's bounds: sizes out of 80–4096 are
// refused and leave the rings as they were, others are rounded up to a
// multiple of 8. (Traffic across resizes is testbed's TestRingResize.)
func TestRingparam(t *testing.T) {
	tb := upE1000(t, driver.Options{})
	a := adapter(tb.B)
	tests := []struct {
		rx, tx         int
		wantRx, wantTx int
		wantErr        bool
	}{
		{rx: 79, tx: 256, wantErr: true},
		{rx: 256, tx: 4097, wantErr: true},
		{rx: 0, tx: 256, wantErr: true},
		{rx: 80, tx: 80, wantRx: 80, wantTx: 80},
		{rx: 81, tx: 100, wantRx: 88, wantTx: 104},
		{rx: 4096, tx: 4096, wantRx: 4096, wantTx: 4096},
		{rx: 256, tx: 256, wantRx: 256, wantTx: 256},
	}
	for _, tc := range tests {
		before := a.GetRingparam()
		err := tb.RunTask(tb.B, "ethtool-G", time.Second, func(task *kernelmodel.Task) error {
			return a.SetRingparam(task, tc.rx, tc.tx)
		})
		got := a.GetRingparam()
		if tc.wantErr {
			if err == nil || got != before {
				t.Errorf("rx %d tx %d: err %v, ring %+v (was %+v)", tc.rx, tc.tx, err, got, before)
			}
			continue
		}
		if err != nil {
			t.Fatalf("rx %d tx %d: %v", tc.rx, tc.tx, err)
		}
		if got.RxPending != tc.wantRx || got.TxPending != tc.wantTx || got.RxMaxPending != 4096 {
			t.Errorf("rx %d tx %d: ring %+v", tc.rx, tc.tx, got)
		}
		if err := tb.WaitCarrier(true, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.ChangeMTU(nil, 16111); err == nil {
		t.Error("MTU 16111 accepted")
	}
	settle(t, tb)
}

// TestOptions checks the module parameters probe refuses.
func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts driver.Options
		ok   bool
	}{
		{"defaults", driver.Options{}, true},
		{"itr 2", driver.Options{InterruptThrottleRate: driver.Int(2)}, false},
		{"itr 99", driver.Options{InterruptThrottleRate: driver.Int(99)}, false},
		{"itr 100000", driver.Options{InterruptThrottleRate: driver.Int(100000)}, true},
		{"itr 100001", driver.Options{InterruptThrottleRate: driver.Int(100001)}, false},
		{"rx 72", driver.Options{RxDescriptors: 72}, false},
		{"tx 5000", driver.Options{TxDescriptors: 5000}, false},
		{"rx delay -1", driver.Options{RxIntDelay: driver.Int(-1)}, false},
		{"tadv 65536", driver.Options{TxAbsIntDelay: driver.Int(65536)}, false},
		{"mtu 45", driver.Options{MTU: 45}, false},
		{"mtu 16110", driver.Options{MTU: 16110}, true},
		{"mtu 16111", driver.Options{MTU: 16111}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := testbed.New(withDriver(tc.opts))
			if (err == nil) != tc.ok {
				t.Errorf("probe: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
