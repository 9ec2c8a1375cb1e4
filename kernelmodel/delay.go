package kernelmodel

import "time"

// Udelay is udelay() for a driver: a busy wait of d. The CPU is charged d;
// in a task t, with the virtual clock, the charge is paid off at once
// (cond_resched), so the device sees the time pass before the driver looks
// at it again; with the real clock the task sleeps d instead. In atomic
// context (t nil: a timer, an interrupt) the time is only charged, to be
// paid off when the context gives the CPU back.
func (k *Kernel) Udelay(t *Task, d time.Duration) {
	switch {
	case t == nil:
		k.Charge(d)
	case k.Clock().Virtual():
		k.Charge(d)
		t.CondResched()
	default:
		t.Sleep(d)
	}
}

// Msleep is msleep(): the task t sleeps for d, the CPU free meanwhile. Only
// process context sleeps (probe, open, close, reset, ethtool); t nil is
// atomic context, where the wait becomes a busy wait (mdelay).
func (k *Kernel) Msleep(t *Task, d time.Duration) {
	if t == nil {
		k.Udelay(nil, d)
		return
	}
	t.Sleep(d)
}
