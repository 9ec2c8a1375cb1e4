package kernelmodel

import (
	"testing"
	"time"
)

// TestChargeBytes: per-byte terms make a big frame cost more CPU time than a
// small one.
func TestChargeBytes(t *testing.T) {
	cost := func(n int) time.Duration {
		k := New(Config{CPUs: 1})
		defer k.Close()
		var took time.Duration
		k.Spawn(0, "copy", func(task *Task) {
			start := k.Now()
			k.ChargeBytes(k.Cost.RxPerKiB, n)
			k.ChargeBytes(k.Cost.CsumPerKiB, n)
			task.CondResched()
			took = k.Now() - start
		})
		k.Clock().RunFor(time.Second)
		return took
	}
	small, jumbo := cost(60), cost(9014)
	if want := (DefaultCost().RxPerKiB + DefaultCost().CsumPerKiB) * 9014 / 1024; jumbo < want-time.Nanosecond || jumbo > want+time.Nanosecond {
		t.Errorf("9014 bytes cost %v, want %v", jumbo, want)
	}
	if jumbo <= 10*small {
		t.Errorf("9014 bytes cost %v, 60 bytes %v: want the jumbo frame to cost far more", jumbo, small)
	}
}
