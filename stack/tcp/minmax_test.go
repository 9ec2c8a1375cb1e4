package tcp

import "testing"

func TestMinMax(t *testing.T) {
	const win = 100
	type step struct{ t, v, want uint32 }
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"first sample", []step{{0, 50, 50}}},
		{"a lower one replaces it", []step{{0, 50, 50}, {10, 40, 40}, {20, 45, 40}}},
		{"equal resets its time", []step{{0, 50, 50}, {90, 50, 50}, {150, 60, 50}}},
		// The best (40 at 0) ages out after the window; the second
		// choice taken in the second quarter (60 at 30) takes over.
		{"ages out to the second choice", []step{{0, 40, 40}, {30, 60, 40}, {60, 70, 40}, {101, 80, 60}}},
		// Rising samples: second choice from past a quarter, third
		// from past half the window; at 170 both the best (30 at 30)
		// and the next (40 at 60) are out of the window.
		{"sub-window choices", []step{{0, 10, 10}, {20, 20, 10}, {30, 30, 10}, {60, 40, 10}, {110, 50, 30}, {170, 55, 50}}},
		{"nothing left in the window", []step{{0, 10, 10}, {50, 20, 10}, {300, 90, 90}}},
		{"clock wraps", []step{{0xffffffc0, 10, 10}, {10, 20, 10}, {37, 30, 20}}}, // 37 is 0xffffffc0+101
	} {
		t.Run(c.name, func(t *testing.T) {
			m := NewMinRTT()
			for i, s := range c.steps {
				if got := m.RunningMin(win, s.t, s.v); got != s.want || m.Get() != s.want {
					t.Fatalf("step %d (t=%d v=%d): min %d, want %d (%+v)", i, s.t, s.v, got, s.want, m.S)
				}
			}
		})
	}
}
