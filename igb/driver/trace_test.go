package driver_test

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// TestTraceMonotonic: the text trace of two igb hosts with four queue
// pairs on two CPUs under TCP flows is in time order per (host, CPU), and
// every igb_msix_ring (its arg the MSI-X vector) is on the vector's affine
// CPU (vector mod 2).
func TestTraceMonotonic(t *testing.T) {
	var buf bytes.Buffer
	tr := kernelmodel.NewTracer(&buf, nil)
	tb, err := testbed.NewUp(testbed.Config{NIC: testbed.IGB{Queues: 4}, Tracer: tr})
	if err != nil {
		t.Fatal(err)
	}
	var flows []*testbed.Flow
	for i, tu := range tuples(8) {
		f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: 300, TCP: &tu, Seed: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		flows = append(flows, f)
	}
	if !tb.RunFlows(5*time.Second, flows...) {
		t.Fatal("flows incomplete")
	}
	settle(t, tb)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	last := map[string]float64{}
	rings := 0
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		ts, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		key := f[1] + " " + f[2]
		if l, ok := last[key]; ok && ts < l {
			t.Fatalf("%s: time goes back from %.9f at %q", key, l, sc.Text())
		}
		last[key] = ts
		if f[3] == "igb_msix_ring" {
			rings++
			v, err := strconv.Atoi(strings.TrimPrefix(f[len(f)-1], "arg="))
			if err != nil {
				t.Fatalf("bad line %q", sc.Text())
			}
			if want := "cpu" + strconv.Itoa(v%2); f[2] != want {
				t.Errorf("vector %d's igb_msix_ring on %s: %q", v, f[2], sc.Text())
			}
		}
	}
	if rings == 0 || len(last) < 4 {
		t.Fatalf("%d igb_msix_ring lines, %d host/CPU timelines", rings, len(last))
	}
}
