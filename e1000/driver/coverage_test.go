package driver_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// throttleLimit is the most interrupts per second the device's ITR register
// allows now (the interval is ITR × 256 ns); 0 when it is off.
func throttleLimit(h *testbed.Host) float64 {
	itr := nicModel(h).BAR(0).Read32(e1000.ITR) & 0xFFFF
	if itr == 0 {
		return 0
	}
	return 1e9 / (float64(itr) * 256)
}

// itrFor reports whether limit is what an ITR register programmed for rate
// interrupts/s allows: the interval 10^9 / (rate × 256) in 256 ns units,
// truncated as Linux writes it (TestITRRegister checks the register).
func itrFor(limit float64, rate int) bool {
	u := math.Floor(1e9 / (256 * float64(rate)))
	return u > 0 && limit == 1e9/(256*u)
}

// rateWindow counts host h's interrupts and the frames flow f delivered over
// window of model time, in samples of step; it checks at every sample that
// the driver's rate stays wantITR (the dynamic mode settled) and returns the
// totals, the lowest and highest interrupt count of a sample and the
// throttle limit.
type rateWindow struct {
	ints, frames   uint64
	minInt, maxInt uint64
	limit          float64
}

func measureRate(t *testing.T, tb *testbed.Testbed, h *testbed.Host, f *testbed.Flow, window, step time.Duration, wantITR int) rateWindow {
	t.Helper()
	w := rateWindow{minInt: ^uint64(0)}
	i0, f0 := h.Interrupts(), f.Received
	for range window / step {
		a := h.Interrupts()
		tb.Clock.RunFor(step)
		d := h.Interrupts() - a
		w.minInt, w.maxInt = min(w.minInt, d), max(w.maxInt, d)
		if got := adapter(h).CurrentITR(); got != wantITR {
			t.Fatalf("at %v: ITR %d ints/s, want %d", tb.Clock.Now(), got, wantITR)
		}
	}
	w.ints, w.frames = h.Interrupts()-i0, f.Received-f0
	w.limit = throttleLimit(h)
	return w
}

// checkBand checks the interrupt count of a window (and of each sample) from
// both sides. An interrupt cleans at least one frame, so there are no more
// interrupts than frames (+2 at the window's edges) and no more than the
// throttle allows (+1); and since the receiver's NAPI poll finishes long
// before the next frame or throttle interval, there is at least one
// interrupt per throttle interval or per frame, whichever is rarer: at least
// 98% of min(frames, limit × window).
func checkBand(t *testing.T, w rateWindow, window, step time.Duration) {
	t.Helper()
	sec := window.Seconds()
	expect := min(float64(w.frames), w.limit*sec)
	lo := 0.98 * expect
	hi := min(float64(w.frames)+2, w.limit*sec+1)
	if float64(w.ints) < lo || float64(w.ints) > hi {
		t.Errorf("%d interrupts in %v with %d frames and a limit of %.0f ints/s: want %.0f..%.0f", w.ints, window, w.frames, w.limit, lo, hi)
	}
	// Each sample too: the rate is steady, not an average of bursts.
	n := float64(window / step)
	if float64(w.minInt) < lo/n-2 || float64(w.maxInt) > hi/n+2 {
		t.Errorf("interrupts per %v between %d and %d, want %.0f..%.0f", step, w.minInt, w.maxInt, lo/n-2, hi/n+2)
	}
}

// TestITRDynamicBounds bounds the dynamic InterruptThrottleRate modes from
// both sides (e1000_set_itr, e1000_update_itr). Each case settles into one
// latency class, stays there sample after sample, and B takes as many
// interrupts as that class's throttle allows (floods) or one per frame
// (traffic sparser than the throttle):
//
//   - jumbo flood (9014 bytes, ~13800 frames/s): over 8000 bytes a frame is
//     bulk_latency in both modes, 4000 ints/s;
//   - minimum-size flood (60 bytes, ~1.49 Mframes/s): mode 1 goes to
//     lowest_latency (70000 ints/s: 21 small frames an interrupt never pass
//     its thresholds), mode 3 never below low_latency (20000);
//   - 60-byte frames every 25 µs (~39000 frames/s): under mode 1's 70000 an
//     interrupt per frame, capped at 20000 in mode 3;
//   - 60-byte frames every 200 µs (~5000 frames/s): an interrupt per frame
//     in both modes, at their class's rate.
//
// A flood of 1514-byte frames has two fixed points (a hysteresis of
// e1000_update_itr): 4 frames (6 KB) an interrupt at 20000 ints/s keep
// low_latency, 20 frames (30 KB) at 4000 keep bulk_latency; which one is
// reached depends on the first interrupts. That case checks the band of the
// class it settled in.
func TestITRDynamicBounds(t *testing.T) {
	tests := []struct {
		mode    int
		name    string
		size    int
		delay   time.Duration
		wantITR []int // the rate it settles to (either, for the 1514-byte flood)
	}{
		{1, "jumbo flood", 9014, 0, []int{4000}},
		{3, "jumbo flood", 9014, 0, []int{4000}},
		{1, "60B flood", 60, 0, []int{70000}}, // shorter windows: 1.49 Mframes/s cost wall time
		{3, "60B flood", 60, 0, []int{20000}},
		{1, "60B every 25µs", 60, 25 * time.Microsecond, []int{70000}},
		{3, "60B every 25µs", 60, 25 * time.Microsecond, []int{20000}},
		{1, "60B every 200µs", 60, 200 * time.Microsecond, []int{70000}},
		{3, "60B every 200µs", 60, 200 * time.Microsecond, []int{20000}},
		{1, "1514B flood", 1514, 0, []int{4000, 20000}},
		{3, "1514B flood", 1514, 0, []int{4000, 20000}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("mode%d/%s", tc.mode, tc.name), func(t *testing.T) {
			opts := driver.Options{InterruptThrottleRate: driver.Int(tc.mode)}
			if tc.size > 1514 {
				opts.MTU = 9000
			}
			tb := upE1000(t, opts)
			f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{MinSize: tc.size, MaxSize: tc.size, Delay: tc.delay, Seed: 4})
			if err != nil {
				t.Fatal(err)
			}
			settle, window, step := 100*time.Millisecond, 500*time.Millisecond, 50*time.Millisecond
			if tc.size == 60 && tc.delay == 0 {
				settle, window, step = 20*time.Millisecond, 100*time.Millisecond, 20*time.Millisecond
			}
			tb.Clock.RunFor(settle)
			settled := adapter(tb.B).CurrentITR()
			if !slices.Contains(tc.wantITR, settled) {
				t.Fatalf("settled at %d ints/s, want one of %v", settled, tc.wantITR)
			}
			w := measureRate(t, tb, tb.B, f, window, step, settled)
			t.Logf("ITR %d (limit %.0f ints/s): %d interrupts, %d frames in %v; per %v %d..%d",
				settled, w.limit, w.ints, w.frames, window, step, w.minInt, w.maxInt)
			if !itrFor(w.limit, settled) {
				t.Errorf("throttle limit %.0f ints/s for ITR %d", w.limit, settled)
			}
			checkBand(t, w, window, step)
			if tc.delay > 0 {
				// Paced: the frame rate is pktgen's (within the wire's
				// serialization and the host's cost per frame).
				if rate := float64(w.frames) / window.Seconds(); rate < 0.95/tc.delay.Seconds() || rate > 1/tc.delay.Seconds() {
					t.Errorf("%.0f frames/s with a %v gap", rate, tc.delay)
				}
			}
			f.Pktgen.Stop()
			if err := f.Err(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSetInterruptThrottleRate changes InterruptThrottleRate on a running
// interface under a flood of 1514-byte frames (~81000 frames/s), as ethtool
// -C does: each fixed rate R takes effect at once and bounds the interrupts
// from both sides (98% of R to R), mode 0 turns throttling off (more
// interrupts than at any fixed rate tried, and no more than frames), and
// bad values are refused with the setting kept.
func TestSetInterruptThrottleRate(t *testing.T) {
	const window, step = 200 * time.Millisecond, 50 * time.Millisecond
	tb := upE1000(t, driver.Options{InterruptThrottleRate: driver.Int(8000)})
	h := tb.B
	f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{MinSize: 1514, MaxSize: 1514, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	tb.Clock.RunFor(20 * time.Millisecond)
	highest := 0.0
	for _, rate := range []int{8000, 2000, 30000, 1000, 12345} {
		if err := adapter(h).SetInterruptThrottleRate(rate); err != nil {
			t.Fatalf("rate %d: %v", rate, err)
		}
		if got := adapter(h).InterruptThrottleRate(); got != rate {
			t.Errorf("InterruptThrottleRate() = %d after setting %d", got, rate)
		}
		tb.Clock.RunFor(step) // one interval at the old rate may be pending
		w := measureRate(t, tb, h, f, window, step, rate)
		if !itrFor(w.limit, rate) {
			t.Errorf("rate %d: the device throttles to %.0f ints/s", rate, w.limit)
		}
		t.Logf("rate %d: %d interrupts, %d frames in %v", rate, w.ints, w.frames, window)
		checkBand(t, w, window, step)
		highest = max(highest, float64(w.ints)/window.Seconds())
	}
	if err := adapter(h).SetInterruptThrottleRate(0); err != nil {
		t.Fatal(err)
	}
	tb.Clock.RunFor(step)
	if nicModel(h).BAR(0).Read32(e1000.ITR) != 0 || adapter(h).CurrentITR() != 0 {
		t.Errorf("mode 0: ITR register %d, CurrentITR %d", nicModel(h).BAR(0).Read32(e1000.ITR), adapter(h).CurrentITR())
	}
	w := measureRate(t, tb, h, f, window, step, 0)
	t.Logf("off: %d interrupts, %d frames in %v", w.ints, w.frames, window)
	if float64(w.ints)/window.Seconds() <= highest || w.ints > w.frames+2 {
		t.Errorf("throttling off: %d interrupts for %d frames in %v (the highest fixed rate gave %.0f/s)", w.ints, w.frames, window, highest)
	}
	for _, bad := range []int{2, 5, 99, 100001, -1} {
		if err := adapter(h).SetInterruptThrottleRate(bad); err == nil {
			t.Errorf("InterruptThrottleRate %d accepted", bad)
		}
		if got := adapter(h).InterruptThrottleRate(); got != 0 {
			t.Errorf("after refusing %d: InterruptThrottleRate %d, want 0 kept", bad, got)
		}
	}
	f.Pktgen.Stop()
	if err := f.Err(); err != nil {
		t.Error(err)
	}
	if f.Lost != 0 {
		t.Errorf("%d frames lost across the changes", f.Lost)
	}
}

// TestPromiscuous: a frame to another unicast address is dropped by the
// receive address filter (the model's RxFiltered; neither the MAC's good
// packet counters nor the stack see it) until promiscuous mode (RCTL.UPE and
// MPE, e1000_set_rx_mode) is on; then it is received, counted in rx_packets
// and delivered as PACKET_OTHERHOST; so is a multicast frame to a group not
// joined (MPE; PACKET_MULTICAST, rx_multicast). Promiscuous mode survives a
// down/up cycle and turns off again.
func TestPromiscuous(t *testing.T) {
	tb := upE1000(t, driver.Options{})
	h := tb.B
	other := [6]byte{0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF} // nobody's
	group := [6]byte{0x01, 0x00, 0x5E, 0x00, 0x00, 0x42} // not joined
	seen := map[[6]byte]uint64{}
	var otherhost uint64
	h.Kernel.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_ALL, Func: func(skb *kernelmodel.SKB) {
		seen[[6]byte(skb.MAC())]++
		if skb.PktType == kernelmodel.PACKET_OTHERHOST {
			otherhost++
		}
		h.Kernel.ConsumeSKB(skb) // the tap's reference
	}})
	frame := func(dst [6]byte, n int) []byte {
		p := make([]byte, n)
		copy(p, dst[:])
		copy(p[6:], tb.A.Dev.Addr[:])
		binary.BigEndian.PutUint16(p[12:], 0x88B5) // local experimental
		return p
	}
	const nOther, nGroup, nOurs = 100, 20, 10
	send := func() {
		for i := range nOther + nGroup + nOurs {
			switch {
			case i < nOther:
				nicModel(h).Receive(frame(other, 60+i))
			case i < nOther+nGroup:
				nicModel(h).Receive(frame(group, 60))
			default:
				nicModel(h).Receive(frame(h.Dev.Addr, 100))
			}
			tb.Clock.RunFor(20 * time.Microsecond)
		}
		tb.Clock.RunFor(2 * time.Millisecond)
	}
	type counts struct{ filtered, rxPackets, multicast, other, group, ours, otherhost uint64 }
	snap := func() counts {
		return counts{
			filtered:  nicModel(h).Counters().RxFiltered,
			rxPackets: stat(t, h, "rx_packets"),
			multicast: stat(t, h, "rx_multicast"),
			other:     seen[other], group: seen[group], ours: seen[h.Dev.Addr], otherhost: otherhost,
		}
	}
	diff := func(a, b counts) counts {
		return counts{b.filtered - a.filtered, b.rxPackets - a.rxPackets, b.multicast - a.multicast,
			b.other - a.other, b.group - a.group, b.ours - a.ours, b.otherhost - a.otherhost}
	}
	upe := func() bool {
		return nicModel(h).BAR(0).Read32(e1000.RCTL)&(e1000.RCTL_UPE|e1000.RCTL_MPE) == e1000.RCTL_UPE|e1000.RCTL_MPE
	}
	filteredOut := counts{filtered: nOther + nGroup, rxPackets: nOurs, ours: nOurs}
	allIn := counts{rxPackets: nOther + nGroup + nOurs, multicast: nGroup, other: nOther, group: nGroup, ours: nOurs, otherhost: nOther}

	steps := []struct {
		name    string
		do      func()
		promisc bool
		want    counts
	}{
		{"default", func() {}, false, filteredOut},
		{"promisc on", func() { adapter(h).SetPromisc(true) }, true, allIn},
		{"promisc across down/up", func() {
			inTask(t, tb, h, "ip-link-down-up", func(task *kernelmodel.Task) error {
				if err := h.Dev.DevClose(task); err != nil {
					return err
				}
				return h.Dev.DevOpen(task)
			})
			if err := tb.WaitCarrier(true, time.Second); err != nil {
				t.Fatal(err)
			}
		}, true, allIn},
		{"promisc off", func() { adapter(h).SetPromisc(false) }, false, filteredOut},
	}
	for _, st := range steps {
		st.do()
		if upe() != st.promisc {
			t.Errorf("%s: RCTL %#x, UPE|MPE want %v", st.name, nicModel(h).BAR(0).Read32(e1000.RCTL), st.promisc)
		}
		before := snap()
		send()
		if got := diff(before, snap()); got != st.want {
			t.Errorf("%s: counts %+v, want %+v", st.name, got, st.want)
		}
	}
	settle(t, tb)
}

// TestCoalesce: ethtool -C rx-usecs as e1000_set_coalesce maps it (modes,
// fixed rates as 10^6/usecs, refused values leave everything as it was),
// ethtool -c reads it back, the ITR register holds what Linux writes, and a
// fixed rate set this way throttles a flood to that rate.
func TestCoalesce(t *testing.T) {
	const window, step = 200 * time.Millisecond, 50 * time.Millisecond
	tb := upE1000(t, driver.Options{})
	h := tb.B
	a := adapter(h)
	itrReg := func() uint32 { return nicModel(h).BAR(0).Read32(e1000.ITR) }
	for _, tc := range []struct {
		usecs, get, itrMode int
		reg                 uint32
	}{
		{0, 0, 0, 0},
		{1, 1, 1, 195}, // dynamic, starting at 20000/s
		{3, 3, 3, 195}, // conservative
		{4, 4, 4, 488}, // simplified, starting at 8000/s
		{10, 10, 100000, 39},
		{125, 125, 8000, 488},
		{333, 333, 3003, 1300}, // 3003/s; itr_setting 3000 (&^3) reads back as 333
		{10000, 10000, 100, 39062},
	} {
		if err := a.SetCoalesce(driver.Coalesce{RxUsecs: tc.usecs}); err != nil {
			t.Fatalf("rx-usecs %d: %v", tc.usecs, err)
		}
		if got := a.GetCoalesce().RxUsecs; got != tc.get {
			t.Errorf("rx-usecs %d: ethtool -c says %d, want %d", tc.usecs, got, tc.get)
		}
		if got := a.InterruptThrottleRate(); got != tc.itrMode {
			t.Errorf("rx-usecs %d: InterruptThrottleRate %d, want %d", tc.usecs, got, tc.itrMode)
		}
		if got := itrReg(); got != tc.reg {
			t.Errorf("rx-usecs %d: ITR register %d, want %d", tc.usecs, got, tc.reg)
		}
	}
	for _, bad := range []int{2, 5, 9, 10001, -1} {
		if err := a.SetCoalesce(driver.Coalesce{RxUsecs: bad}); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("rx-usecs %d: %v, want ErrInvalid", bad, err)
		}
		if got := a.GetCoalesce().RxUsecs; got != 10000 {
			t.Errorf("after refusing %d: rx-usecs %d, want 10000 kept", bad, got)
		}
	}
	f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{MinSize: 1514, MaxSize: 1514, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetCoalesce(driver.Coalesce{RxUsecs: 200}); err != nil { // 5000/s
		t.Fatal(err)
	}
	tb.Clock.RunFor(step)
	w := measureRate(t, tb, h, f, window, step, 5000)
	if !itrFor(w.limit, 5000) {
		t.Errorf("rx-usecs 200: the device throttles to %.0f ints/s, want 5000", w.limit)
	}
	checkBand(t, w, window, step)
	f.Pktgen.Stop()
	if err := f.Err(); err != nil {
		t.Error(err)
	}
}
