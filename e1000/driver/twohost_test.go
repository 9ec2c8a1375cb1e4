package driver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000/driver/testbed"
)

func TestSmoke(t *testing.T) {
	tb, err := testbed.New(testbed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Up(time.Second); err != nil {
		t.Fatal(err)
	}
	f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ok := tb.RunFlows(time.Second, f)
	t.Logf("ok=%v received=%d lost=%d bad=%d next=%d sent=%d err=%v now=%v", ok, f.Received, f.Lost, f.Bad, f.Next, f.Pktgen.Sent, f.Err(), tb.Clock.Now())
	for _, h := range tb.Hosts() {
		var sb strings.Builder
		h.WriteCounters(&sb)
		t.Log(sb.String())
		if err := h.Check(); err != nil {
			t.Error(err)
		}
	}
}
