package kernelmodel

import (
	"testing"
	"time"
)

// A poll list that needs more than netdev_budget counts a time_squeeze per
// net_rx_action and re-raises NET_RX until the work is done.
func TestNetRxActionBudgetSqueeze(t *testing.T) {
	for _, tc := range []struct {
		name        string
		budget      int
		devs        int
		packets     int // per device
		wantSqueeze uint64
	}{
		// Two devices with a full weight each: the first pass polls both
		// (64+64 > 100) and squeezes; the second pass finds both rings
		// empty and completes them.
		{"budget", 100, 2, 64, 1},
		// A single device that uses its whole weight goes to repoll and
		// net_rx_action ends (the list is empty) without a squeeze: NET_RX
		// is re-raised for it instead.
		{"single device repolls", 100, 1, 640, 0},
		// Five devices of 200 packets, budget 100, weight 64: every pass
		// polls two devices for 64 each (64 < 100 <= 128) and squeezes,
		// rotating through the list, while each device still has 64
		// to give. Each device needs 200 = 3×64 + 8: the fifteen full
		// polls that leave 8 behind and the ones before them are 7
		// passes of two (14 full polls of the 15, squeeze each); the
		// 8th pass polls the last full one (64) and the four 8s
		// (36 left, no squeeze) and the 9th the last 8.
		{"five devices", 100, 5, 200, 7},
		// Plenty of budget: no squeeze.
		{"no squeeze", 300, 2, 64, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(Config{CPUs: 1})
			k.Sysctl.NetdevBudget = tc.budget
			var devs []*testDev
			for i := 0; i < tc.devs; i++ {
				d := newTestDev(t, k, 0)
				d.sink()
				devs = append(devs, d)
			}
			for _, d := range devs {
				d.arrive(tc.packets)
			}
			k.Clock().RunFor(100 * time.Millisecond)
			total := 0
			for _, d := range devs {
				total += len(d.received)
			}
			if total != tc.devs*tc.packets {
				t.Fatalf("received %d, want %d", total, tc.devs*tc.packets)
			}
			sd := &k.CPU(0).Softnet
			if sd.TimeSqueeze != tc.wantSqueeze {
				t.Errorf("time_squeeze %d, want %d", sd.TimeSqueeze, tc.wantSqueeze)
			}
			if tc.name == "five devices" {
				if runs := k.CPU(0).SoftirqCount[NET_RX_SOFTIRQ]; runs != 9 {
					t.Errorf("NET_RX ran %d times, want 9 passes", runs)
				}
			}
			if runs := k.CPU(0).SoftirqCount[NET_RX_SOFTIRQ]; runs < tc.wantSqueeze+1 {
				t.Errorf("NET_RX ran %d times, want at least %d (re-raised after each squeeze)", runs, tc.wantSqueeze+1)
			}
			if sd.Processed != uint64(tc.devs*tc.packets) {
				t.Errorf("processed %d", sd.Processed)
			}
		})
	}
}

// netdev_budget_usecs bounds a net_rx_action in CPU time: with every packet
// costing 20 µs and a 100 µs limit (usecs_to_jiffies: one jiffy), each pass
// stops after the first poll, which crosses a jiffy boundary.
func TestNetRxActionTimeLimit(t *testing.T) {
	cost := DefaultCost()
	cost.RxDescriptor = 20 * time.Microsecond
	k := New(Config{CPUs: 1, Cost: &cost})
	k.Sysctl.NetdevBudgetUsecs = 100
	d := newTestDev(t, k, 0)
	d.sink()
	d.arrive(640)
	k.Clock().RunFor(time.Second)
	if len(d.received) != 640 {
		t.Fatalf("received %d", len(d.received))
	}
	// One poll of 64 packets is 1.28 ms > 1 jiffy: every pass squeezes,
	// including the 10th, which empties the ring with exactly 64.
	if got := k.CPU(0).Softnet.TimeSqueeze; got != 10 {
		t.Errorf("time_squeeze %d, want 10", got)
	}
}

// A poll that uses its whole weight goes to the tail of the poll list, so
// two busy devices alternate.
func TestNAPIFullWeightRotates(t *testing.T) {
	k := New(Config{CPUs: 1})
	a := newTestDev(t, k, 0)
	b := newTestDev(t, k, 0)
	b.dev.Name = "tstb"
	var order []string
	for _, d := range []*testDev{a, b} {
		d := d
		d.pollHook = func(*testDev) { order = append(order, d.dev.Name) }
	}
	a.sink()
	b.sink()
	a.arrive(150)
	b.arrive(150)
	k.Clock().RunFor(10 * time.Millisecond)
	want := []string{"tst0", "tstb", "tst0", "tstb", "tst0", "tstb"}
	if len(order) != len(want) {
		t.Fatalf("poll order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("poll order %v, want %v", order, want)
		}
	}
	if a.polls[0] != 64 || a.polls[1] != 64 || a.polls[2] != 22 {
		t.Errorf("a's polls %v, want [64 64 22]", a.polls)
	}
	if a.napi.WeightUsed != 2 || a.napi.Completes != 1 {
		t.Errorf("weight used %d completes %d", a.napi.WeightUsed, a.napi.Completes)
	}
}

// A napi_schedule that arrives while the instance is being polled sets
// MISSED; napi_complete_done then returns false, the driver keeps its
// interrupt masked, and the instance is polled once more: nothing is lost.
func TestNAPIMissedSchedule(t *testing.T) {
	k := New(Config{CPUs: 1})
	d := newTestDev(t, k, 0)
	d.sink()
	fired := false
	d.pollHook = func(d *testDev) {
		if fired {
			return
		}
		fired = true
		// Packets land and an interrupt is handled on another path while
		// this poll runs: the schedule cannot take the instance (SCHED is
		// set) and leaves MISSED behind.
		d.ring = append(d.ring, 1000, 1001)
		if d.napi.NAPISchedule() {
			t.Error("napi_schedule during poll claimed the instance")
		}
		if d.napi.State()&NAPI_STATE_MISSED == 0 {
			t.Error("MISSED not set")
		}
	}
	d.arrive(5)
	k.Clock().RunFor(time.Millisecond)
	if len(d.received) != 7 {
		t.Fatalf("received %v, want 7 packets", d.received)
	}
	if d.napi.Missed != 1 {
		t.Errorf("missed %d, want 1", d.napi.Missed)
	}
	// First poll: complete_done false, interrupt stays off. Second poll:
	// true, interrupt back on. Exactly one re-enable.
	if len(d.polls) != 2 || d.enables != 1 {
		t.Errorf("polls %v enables %d; want 2 polls, 1 enable", d.polls, d.enables)
	}
	if d.napi.State()&(NAPI_STATE_SCHED|NAPI_STATE_MISSED) != 0 {
		t.Errorf("state %#x after completion", d.napi.State())
	}
}

// napi_disable waits for a scheduled instance and blocks new schedules;
// napi_enable allows them again.
func TestNAPIDisableEnable(t *testing.T) {
	k := New(Config{CPUs: 1})
	d := newTestDev(t, k, 0)
	d.sink()
	var disabledAt time.Duration
	k.Spawn(0, "ifdown", func(task *Task) {
		d.napi.NAPIDisable(task)
		disabledAt = k.Now()
	})
	k.Clock().RunFor(time.Millisecond)
	if disabledAt == 0 && d.napi.State()&NAPI_STATE_SCHED == 0 {
		t.Fatal("napi_disable did not finish")
	}
	if d.napi.NAPISchedulePrep() {
		t.Fatal("disabled instance could be scheduled")
	}
	d.arrive(3)
	k.Clock().RunFor(time.Millisecond)
	if len(d.received) != 0 {
		t.Fatalf("disabled instance polled: %d packets", len(d.received))
	}
	d.napi.NAPIEnable()
	d.irqOn = true
	k.Raise(d.irq)
	k.Clock().RunFor(time.Millisecond)
	if len(d.received) != 3 {
		t.Fatalf("after enable: %d packets", len(d.received))
	}
}

// Linux 6.1 measures netdev_budget_usecs in jiffies: the limit is
// usecs_to_jiffies(2000) = 2 jiffies after the jiffy net_rx_action started
// in, so a 1.2 ms poll squeezes when it starts late in a jiffy (0.9 ms: it
// ends in jiffy 2) and not when it starts early (0.1 ms: it ends in jiffy 1).
func TestNetRxActionTimeLimitJiffies(t *testing.T) {
	for _, tc := range []struct {
		start       time.Duration
		wantSqueeze uint64
	}{
		{100 * time.Microsecond, 0},
		{900 * time.Microsecond, 1},
	} {
		cost := CostModel{RxDescriptor: 1200 * time.Microsecond / 32} // 32 packets: 1.2 ms
		k := New(Config{CPUs: 1, Cost: &cost})
		d := newTestDev(t, k, 0)
		d.sink()
		k.Clock().RunUntil(tc.start)
		d.arrive(32)
		k.Clock().RunFor(10 * time.Millisecond)
		if len(d.received) != 32 || len(d.polls) != 1 {
			t.Fatalf("start %v: received %d in polls %v", tc.start, len(d.received), d.polls)
		}
		if got := k.CPU(0).Softnet.TimeSqueeze; got != tc.wantSqueeze {
			t.Errorf("poll from %v to %v: time_squeeze %d, want %d", tc.start, tc.start+1200*time.Microsecond, got, tc.wantSqueeze)
		}
	}
	for us, want := range map[int]uint64{1: 1, 999: 1, 1000: 1, 1001: 2, 2000: 2} {
		if got := usecsToJiffies(us); got != want {
			t.Errorf("usecs_to_jiffies(%d) = %d, want %d", us, got, want)
		}
	}
}

// napi_disable of a scheduled instance while the device keeps it busy
// (every poll uses the whole weight): the poll after the disable request
// completes the instance (__napi_poll: disable pending), napi_disable
// returns once it is no longer scheduled, owns it (SCHED|NPSVC, on no poll
// list), and it is never polled again, though packets are left.
func TestNAPIDisableBusyInstance(t *testing.T) {
	cost := DefaultCost()
	cost.RxDescriptor = time.Microsecond // a poll of 64 takes 64+ µs
	k := New(Config{CPUs: 2, Cost: &cost})
	d := newTestDev(t, k, 0)
	d.sink()
	d.arrive(100000)
	var schedAtCall bool
	var pollsAtCall, pollsAtReturn uint64
	var calledAt, returnedAt time.Duration
	k.Clock().AfterFunc(500*time.Microsecond, func() {
		k.Spawn(1, "ifdown", func(task *Task) {
			schedAtCall = d.napi.State()&NAPI_STATE_SCHED != 0
			pollsAtCall, calledAt = d.napi.Polls, k.Now()
			d.napi.NAPIDisable(task)
			pollsAtReturn, returnedAt = d.napi.Polls, k.Now()
		})
	})
	k.Clock().RunFor(50 * time.Millisecond)
	if !schedAtCall {
		t.Fatal("instance not scheduled when napi_disable was called")
	}
	if returnedAt == 0 || returnedAt <= calledAt {
		t.Fatalf("napi_disable called at %v returned at %v", calledAt, returnedAt)
	}
	if pollsAtReturn != pollsAtCall+1 {
		t.Errorf("polls %d at napi_disable, %d at its return: want exactly the one that completes it", pollsAtCall, pollsAtReturn)
	}
	if d.napi.Polls != pollsAtReturn {
		t.Errorf("polled %d times after napi_disable returned", d.napi.Polls-pollsAtReturn)
	}
	if st := d.napi.State(); st != NAPI_STATE_SCHED|NAPI_STATE_NPSVC|NAPI_STATE_LISTED || d.napi.onList {
		t.Errorf("state %#x on a list %v after napi_disable; want SCHED|NPSVC|LISTED, owned", st, d.napi.onList)
	}
	if len(d.ring) == 0 || len(d.received)+len(d.ring) != 100000 {
		t.Errorf("received %d, left %d of 100000", len(d.received), len(d.ring))
	}
	// Every poll used the whole weight; the last was completed by
	// __napi_poll for the pending disable, not by the driver.
	if d.napi.Completes != 1 || d.napi.WeightUsed != pollsAtReturn || d.enables != 0 {
		t.Errorf("completes %d, full-weight polls %d of %d, driver re-enables %d; want 1, all, 0", d.napi.Completes, d.napi.WeightUsed, pollsAtReturn, d.enables)
	}
}
