package driver_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/e1000/driver/testbed"
	"github.com/nicbed/nicbed/e1000/model"
	"github.com/nicbed/nicbed/kernelmodel"
)

// upTestbed builds two hosts with cfg and brings both interfaces up.
func upTestbed(t testing.TB, cfg testbed.Config) *testbed.Testbed {
	t.Helper()
	tb, err := testbed.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Up(time.Second); err != nil {
		t.Fatal(err)
	}
	return tb
}

// stat returns an ethtool -S value by name.
func stat(t testing.TB, h *testbed.Host, name string) uint64 {
	t.Helper()
	for _, s := range h.Adapter.EthtoolStats() {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s: no ethtool stat %q", h.Name, name)
	return 0
}

// settle runs the clock a little so that transmit completions are cleaned,
// then checks both hosts: the drivers' books, no DMA faults, no skb leaked,
// and neither model nor driver saw the other misbehave.
func settle(t testing.TB, tb *testbed.Testbed) {
	t.Helper()
	tb.Clock.RunFor(5 * time.Millisecond)
	for _, h := range tb.Hosts() {
		if err := h.Check(); err != nil {
			t.Error(err)
		}
		if n := h.Kernel.SKBsInUse(); n != 0 {
			t.Errorf("%s: %d skbs in use", h.Name, n)
		}
		if c := h.Adapter.Counters(); c != (driver.DriverCounters{}) {
			t.Errorf("%s: driver counters %+v", h.Name, c)
		}
		mc := h.NIC.Counters()
		bad := map[string]uint64{
			"BadRingLength": mc.BadRingLength, "BadRingIndex": mc.BadRingIndex, "RxBadRing": mc.RxBadRing,
			"RxDescFaults": mc.RxDescFaults, "RxBufferFaults": mc.RxBufferFaults, "RxBadBufferSize": mc.RxBadBufferSize,
			"TxBadRing": mc.TxBadRing, "TxDescFaults": mc.TxDescFaults, "TxBufferFaults": mc.TxBufferFaults,
			"TxZeroLength": mc.TxZeroLength, "TxOversize": mc.TxOversize, "TxTSOInvalid": mc.TxTSOInvalid,
			"TxBadDescType": mc.TxBadDescType, "TxContextInPacket": mc.TxContextInPacket,
			"TxBadChecksumOffsets": mc.TxBadChecksumOffsets, "TxTSOPaylenMismatch": mc.TxTSOPaylenMismatch,
		}
		for name, v := range bad {
			if v != 0 {
				t.Errorf("%s: model counter %s = %d", h.Name, name, v)
			}
		}
	}
	if t.Failed() {
		for _, h := range tb.Hosts() {
			var sb strings.Builder
			h.WriteCounters(&sb)
			t.Log(sb.String())
		}
	}
}

// TestTwoHosts sends frames of mixed sizes from host A to host B through
// pktgen, the driver, the model and a 1 Gb/s cable, and checks that every
// one arrives intact (every byte) and in order, and that the rings wrapped
// many times.
func TestTwoHosts(t *testing.T) {
	tests := []struct {
		name             string
		frames           uint64
		mtu              int
		minSize, maxSize int
		minDescsPerFrame uint64 // the most descriptors one received frame took, at least
	}{
		{name: "standard", frames: 1_000_000, minSize: 60, maxSize: 1514, minDescsPerFrame: 1},
		{name: "jumbo", frames: 50_000, mtu: 9000, minSize: 60, maxSize: 9014, minDescsPerFrame: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frames := tc.frames
			if testing.Short() {
				frames /= 20
			}
			tb := upTestbed(t, testbed.Config{Driver: driver.Options{MTU: tc.mtu}})
			f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: frames, MinSize: tc.minSize, MaxSize: tc.maxSize, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if !tb.RunFlows(time.Minute, f) {
				t.Fatalf("flow incomplete after a minute of model time: sent %d, received %d", f.Pktgen.Sent, f.Received)
			}
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			if f.Received != frames || f.Lost != 0 {
				t.Fatalf("received %d of %d frames, %d lost", f.Received, frames, f.Lost)
			}
			settle(t, tb)
			if got := stat(t, tb.B, "rx_packets"); got != frames {
				t.Errorf("B rx_packets %d, want %d", got, frames)
			}
			if got := stat(t, tb.A, "tx_packets"); got != frames {
				t.Errorf("A tx_packets %d, want %d", got, frames)
			}
			if got, want := tb.A.Dev.Stats.TxBytes, f.Bytes; got != want {
				t.Errorf("A tx_bytes (ip -s link) %d, want %d", got, want)
			}
			rx := tb.B.Adapter.GetRingparam().RxPending
			if wraps := frames / uint64(rx); wraps < 100 {
				t.Errorf("the receive ring wrapped only %d times", wraps)
			}
			if got := tb.B.NIC.Counters().RxMaxDescs; got < tc.minDescsPerFrame {
				t.Errorf("frames took at most %d receive descriptors, want at least %d", got, tc.minDescsPerFrame)
			}
			if tb.B.Kernel.Drops.Reason[kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED] != 0 {
				t.Errorf("B dropped skbs: %v", tb.B.Kernel.Drops.Reason)
			}
		})
	}
}

// TestStalledReceiver keeps host B's CPU 0 (where the NIC's interrupt goes)
// busy with bottom halves disabled while A floods it: NAPI cannot run, the
// receive ring fills, the NIC counts frames it had no buffer for
// (rx_no_buffer_count, rx_missed_errors) and drops them whole. Every frame
// that does arrive is intact and in order, exactly the missed ones are
// missing, and traffic resumes when the CPU is free.
func TestStalledReceiver(t *testing.T) {
	for _, stall := range []time.Duration{5 * time.Millisecond, 20 * time.Millisecond} {
		t.Run(stall.String(), func(t *testing.T) {
			tb := upTestbed(t, testbed.Config{})
			const frames = 20000
			f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: frames, Seed: 2})
			if err != nil {
				t.Fatal(err)
			}
			tb.Clock.RunFor(20 * time.Millisecond)
			before := f.Received
			if before == 0 || f.Complete() {
				t.Fatalf("flow not in progress: received %d", before)
			}
			stalled := false
			tb.B.Kernel.Spawn(0, "hog", func(task *kernelmodel.Task) {
				c := task.CPU()
				c.LocalBHDisable()
				stalled = true
				for end := task.CPU().Kernel().Now() + stall; task.CPU().Kernel().Now() < end; {
					task.Charge(100 * time.Microsecond)
					task.CondResched()
				}
				stalled = false
				c.LocalBHEnable()
			})
			tb.Clock.RunWhile(func() bool { return !stalled }, tb.Clock.Now()+time.Second)
			tb.Clock.RunWhile(func() bool { return stalled }, tb.Clock.Now()+time.Second)
			during := f.Received
			if !tb.RunFlows(10*time.Second, f) {
				t.Fatalf("flow incomplete: received %d, lost %d, next %d", f.Received, f.Lost, f.Next)
			}
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			settle(t, tb)
			rnbc := stat(t, tb.B, "rx_no_buffer_count")
			mpc := stat(t, tb.B, "rx_missed_errors")
			t.Logf("stall %v: received %d before, %d after the stall, %d in all; lost %d; RNBC %d MPC %d",
				stall, before, during, f.Received, f.Lost, rnbc, mpc)
			if rnbc == 0 || mpc == 0 {
				t.Errorf("RNBC %d, MPC %d: the ring never ran out", rnbc, mpc)
			}
			if f.Lost != mpc {
				t.Errorf("%d frames missing, MPC %d", f.Lost, mpc)
			}
			if f.Received+f.Lost != frames {
				t.Errorf("received %d + lost %d != %d", f.Received, f.Lost, frames)
			}
			if f.Received-during < frames/4 {
				t.Errorf("only %d frames after the stall: traffic did not resume", f.Received-during)
			}
		})
	}
}

// TestITRFixedRate floods host B with full-sized frames with
// InterruptThrottleRate set to a fixed rate R and counts B's interrupts over
// one second of model time: at most R, at least 0.9 R.
func TestITRFixedRate(t *testing.T) {
	for _, rate := range []int{1000, 8000, 30000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			tb := upTestbed(t, testbed.Config{Driver: driver.Options{InterruptThrottleRate: driver.Int(rate)}})
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
			if n > uint64(rate) || float64(n) < 0.9*float64(rate) {
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
			tb := upTestbed(t, testbed.Config{Driver: opts})
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
			got := tb.B.Adapter.CurrentITR()
			t.Logf("mode %d, %d-byte frames: ITR %d ints/s, %d interrupts in 1 s", tc.mode, tc.size, got, n)
			if got != tc.wantRate {
				t.Errorf("ITR %d ints/s, want %d", got, tc.wantRate)
			}
			if n > uint64(tc.wantRate) {
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

// TestLinkChange pulls the cable and plugs it back: both drivers see LSC,
// the watchdog turns the carrier off and on again, and traffic flows after.
func TestLinkChange(t *testing.T) {
	tb := upTestbed(t, testbed.Config{})
	for round := range 3 {
		tb.Cable.SetUp(false)
		if err := tb.WaitCarrier(false, 100*time.Millisecond); err != nil {
			t.Fatalf("round %d, unplugged: %v", round, err)
		}
		for _, h := range tb.Hosts() {
			if s, _ := h.Adapter.Link(); s != 0 {
				t.Errorf("%s: link speed %d with the cable out", h.Name, s)
			}
		}
		tb.Clock.RunFor(10 * time.Millisecond)
		tb.Cable.SetUp(true)
		if err := tb.WaitCarrier(true, 100*time.Millisecond); err != nil {
			t.Fatalf("round %d, plugged: %v", round, err)
		}
		for _, h := range tb.Hosts() {
			if s, fd := h.Adapter.Link(); s != 1000 || !fd {
				t.Errorf("%s: link %d Mb/s full duplex %v, want 1000 full", h.Name, s, fd)
			}
		}
	}
	f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !tb.RunFlows(time.Second, f) || f.Received != 1000 {
		t.Fatalf("after replugging: received %d of 1000", f.Received)
	}
	for _, h := range tb.Hosts() {
		if got := h.NIC.Counters().LinkChanges; got < 7 {
			t.Errorf("%s: %d link changes in the model", h.Name, got)
		}
	}
	settle(t, tb)
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
			_, err := testbed.New(testbed.Config{EEPROMA: &ee})
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
	tb, err := testbed.New(testbed.Config{AutonegDelay: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a := tb.A.Adapter
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
	mc := tb.A.NIC.Counters()
	if mc.MDIOAccesses == 0 || mc.AutonegCompleted == 0 || mc.MDIOBadAccess != 0 {
		t.Errorf("model: %d MDIO accesses (%d bad), %d autonegotiations", mc.MDIOAccesses, mc.MDIOBadAccess, mc.AutonegCompleted)
	}
	if _, err := a.ReadPHY(0x20); err == nil {
		t.Error("PHY register 0x20 read without error")
	}
}

// TestRingparam exercises ethtool -G: sizes out of 80–4096 are refused,
// others rounded up to a multiple of 8; resizing a running interface keeps
// traffic intact.
func TestRingparam(t *testing.T) {
	tb := upTestbed(t, testbed.Config{})
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
	seed := uint64(10)
	for _, tc := range tests {
		before := tb.B.Adapter.GetRingparam()
		err := tb.RunTask(tb.B, "ethtool-G", time.Second, func(task *kernelmodel.Task) error {
			return tb.B.Adapter.SetRingparam(task, tc.rx, tc.tx)
		})
		got := tb.B.Adapter.GetRingparam()
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
		seed++
		fwd, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: 3000, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		back, err := tb.StartFlow(tb.B, tb.A, testbed.FlowConfig{Count: 3000, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if !tb.RunFlows(time.Second, fwd, back) || fwd.Lost+back.Lost != 0 {
			t.Fatalf("ring %+v: flows received %d and %d of 3000", got, fwd.Received, back.Received)
		}
		if err := errors.Join(fwd.Err(), back.Err()); err != nil {
			t.Fatal(err)
		}
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
			_, err := testbed.New(testbed.Config{Driver: tc.opts})
			if (err == nil) != tc.ok {
				t.Errorf("probe: %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestOpenCloseMTU closes and opens both interfaces and changes the MTU of
// running interfaces between flows: every flow arrives whole, nothing leaks,
// and the device never touches memory the driver gave back (DMA faults).
func TestOpenCloseMTU(t *testing.T) {
	tb := upTestbed(t, testbed.Config{})
	steps := []struct {
		name    string
		do      func(h *testbed.Host, task *kernelmodel.Task) error
		maxSize int
	}{
		{"close-open", func(h *testbed.Host, task *kernelmodel.Task) error {
			if err := h.Dev.DevClose(task); err != nil {
				return err
			}
			return h.Dev.DevOpen(task)
		}, 1514},
		{"mtu 9000", func(h *testbed.Host, task *kernelmodel.Task) error { return h.Adapter.ChangeMTU(task, 9000) }, 9014},
		{"close-open jumbo", func(h *testbed.Host, task *kernelmodel.Task) error {
			if err := h.Dev.DevClose(task); err != nil {
				return err
			}
			return h.Dev.DevOpen(task)
		}, 9014},
		{"mtu 1500", func(h *testbed.Host, task *kernelmodel.Task) error { return h.Adapter.ChangeMTU(task, 1500) }, 1514},
	}
	for i, st := range steps {
		for _, h := range tb.Hosts() {
			if err := tb.RunTask(h, st.name, time.Second, func(task *kernelmodel.Task) error { return st.do(h, task) }); err != nil {
				t.Fatalf("%s: %s: %v", st.name, h.Name, err)
			}
		}
		if err := tb.WaitCarrier(true, time.Second); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: 2000, MaxSize: st.maxSize, Seed: uint64(20 + i)})
		if err != nil {
			t.Fatal(err)
		}
		if !tb.RunFlows(time.Second, f) || f.Lost != 0 || f.Err() != nil {
			t.Fatalf("%s: received %d of 2000, lost %d: %v", st.name, f.Received, f.Lost, f.Err())
		}
		settle(t, tb)
	}
	if err := tb.Down(time.Second); err != nil {
		t.Fatal(err)
	}
	for _, h := range tb.Hosts() {
		if n := h.Mem.Allocated(); n != 0 {
			t.Errorf("%s: %d bytes of DMA memory still allocated after close", h.Name, n)
		}
	}
	if err := tb.A.Adapter.ChangeMTU(nil, 16111); err == nil {
		t.Error("MTU 16111 accepted")
	}
}
