package testbed_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/testbed"
)

func TestZZDebug(t *testing.T) {
	tb := upTestbed(t, testbed.Config{NIC: testbed.IGB{}, InfiniteSpeed: true})
	f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: 20000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ok := tb.RunFlows(time.Second, f)
	t.Logf("ok %v sent %d recv %d lost %d err %v", ok, f.Pktgen.Sent, f.Received, f.Lost, f.Err())
	t.Log(tb.Report())
}
