package testbed

import (
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
)

// Every model counter Anomalies names exists in model.Counters (a renamed
// counter would drop out of the check silently), and a driver that
// misbehaves — a ring length the model refuses — fails Settle, naming it.
func TestE1000Anomalies(t *testing.T) {
	tb, err := NewUp(Config{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range tb.A.Model().ModelCounters() {
		have[s.Name] = true
	}
	for name := range e1000ModelAnomalies {
		if !have[name] {
			t.Errorf("model.Counters has no %s", name)
		}
	}
	if err := tb.Settle(time.Millisecond); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	E1000Of(tb.B).Model.BAR(0).Write32(e1000.RDLEN, 100) // not a multiple of 128
	err = tb.Settle(time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "hostB: model.BadRingLength = 1") {
		t.Errorf("Settle after a bad RDLEN write: %v", err)
	}
}
