package kernelmodel

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
)

// scenario is a busy little run: two devices on two CPUs, RPS, bursts at
// seeded random times, a periodic timer_list and a task.
func scenario(t testing.TB, seed uint64, tr *Tracer) *Kernel {
	clk := NewVirtualClock()
	k := New(Config{Name: "h", CPUs: 2, Clock: clk, Tracer: tr})
	a := newTestDev(t, k, 0)
	b := newTestDev(t, k, 1)
	a.sink()
	b.sink()
	b.hash = 0x9000_0000
	if err := b.dev.SetRPSCPUs(0, 0b11); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var at time.Duration
	for i := 0; i < 200; i++ {
		at += time.Duration(rng.IntN(20_000)) * time.Nanosecond
		d, n := a, 1+rng.IntN(100)
		if rng.IntN(2) == 1 {
			d = b
		}
		clk.AfterFunc(at, func() { d.arrive(n) })
	}
	var tl TimerList
	k.TimerSetup(&tl, func(tl *TimerList) { k.ModTimer(tl, tl.Expires+1) })
	k.ModTimer(&tl, 1)
	k.Spawn(1, "worker", func(task *Task) {
		for i := 0; i < 20; i++ {
			task.Charge(50 * time.Microsecond)
			task.CondResched()
			task.Sleep(100 * time.Microsecond)
		}
	})
	clk.RunFor(10 * time.Millisecond)
	return k
}

// The same seed gives the same trace, byte for byte; another seed does not.
func TestDeterministicTrace(t *testing.T) {
	run := func(seed uint64) (string, string) {
		var text, js bytes.Buffer
		tr := NewTracer(&text, &js)
		scenario(t, seed, tr)
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		return text.String(), js.String()
	}
	t1, j1 := run(1)
	t2, j2 := run(1)
	t3, _ := run(2)
	if len(t1) < 10000 || strings.Count(t1, "\n") < 500 {
		t.Fatalf("trace too small to mean anything: %d bytes", len(t1))
	}
	if t1 != t2 || j1 != j2 {
		t.Fatal("same seed, different traces")
	}
	if t1 == t3 {
		t.Fatal("different seeds, same trace")
	}
	for _, fn := range []string{"irq_handler_entry", "napi_schedule", "napi_poll", "__netif_receive_skb_core", "napi_complete_done", "enqueue_to_backlog", "timer_expire_entry"} {
		if !strings.Contains(t1, " "+fn+" ") {
			t.Errorf("trace has no %s", fn)
		}
	}
}

type traceEvent struct {
	Ph   string          `json:"ph"`
	Name string          `json:"name"`
	Ts   *float64        `json:"ts"`
	Pid  *int            `json:"pid"`
	Tid  *int            `json:"tid"`
	S    string          `json:"s"`
	Args json.RawMessage `json:"args"`
}

// The Perfetto JSON parses back and follows the Trace Event Format: known
// phases, a pid per host and a tid per CPU track, named by metadata, and
// begin/end events that balance and nest on every track.
func TestPerfettoJSON(t *testing.T) {
	var js bytes.Buffer
	tr := NewTracer(nil, &js)
	k := scenario(t, 7, tr)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		DisplayTimeUnit string       `json:"displayTimeUnit"`
		TraceEvents     []traceEvent `json:"traceEvents"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(doc.TraceEvents) < 1000 {
		t.Fatalf("only %d events", len(doc.TraceEvents))
	}
	threadNames := map[[2]int]string{}
	procNames := map[int]string{}
	type ev struct {
		ph   string
		name string
		ts   float64
		i    int
	}
	tracks := map[[2]int][]ev{}
	for i, e := range doc.TraceEvents {
		if e.Pid == nil || e.Tid == nil {
			t.Fatalf("event %d without pid/tid: %+v", i, e)
		}
		key := [2]int{*e.Pid, *e.Tid}
		switch e.Ph {
		case "M":
			var a struct{ Name string }
			if err := json.Unmarshal(e.Args, &a); err != nil || a.Name == "" {
				t.Fatalf("metadata %d without a name", i)
			}
			switch e.Name {
			case "thread_name":
				threadNames[key] = a.Name
			case "process_name":
				procNames[*e.Pid] = a.Name
			default:
				t.Fatalf("unknown metadata %q", e.Name)
			}
		case "B", "E", "i":
			if e.Ts == nil || *e.Ts < 0 {
				t.Fatalf("event %d without a timestamp", i)
			}
			if e.Ph == "i" && e.S != "t" {
				t.Fatalf("instant %d not thread-scoped", i)
			}
			tracks[key] = append(tracks[key], ev{e.Ph, e.Name, *e.Ts, i})
		default:
			t.Fatalf("event %d: unknown phase %q", i, e.Ph)
		}
	}
	if procNames[1] != "h" {
		t.Errorf("process names %v", procNames)
	}
	for key, evs := range tracks {
		name, ok := threadNames[key]
		if !ok {
			t.Fatalf("track %v has no thread_name", key)
		}
		cpu := key[1] % hardirqTrack
		if cpu >= k.NumCPUs() || !strings.HasPrefix(name, "CPU"+itoa(cpu)) {
			t.Fatalf("track %v named %q", key, name)
		}
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].ts < evs[j].ts })
		var stack []string
		spans := 0
		for _, e := range evs {
			switch e.ph {
			case "B":
				stack = append(stack, e.name)
			case "E":
				if len(stack) == 0 || stack[len(stack)-1] != e.name {
					t.Fatalf("track %q: end of %q at %.3f does not match open %v", name, e.name, e.ts, stack)
				}
				stack = stack[:len(stack)-1]
				spans++
			}
		}
		if len(stack) != 0 {
			t.Fatalf("track %q: unclosed spans %v", name, stack)
		}
		if spans == 0 && !strings.HasSuffix(name, "hardirq") {
			t.Errorf("track %q has no spans", name)
		}
	}
	for _, want := range []string{"CPU0", "CPU1", "CPU0 hardirq", "CPU1 hardirq"} {
		found := false
		for _, n := range threadNames {
			found = found || n == want
		}
		if !found {
			t.Errorf("no track %q", want)
		}
	}
}
