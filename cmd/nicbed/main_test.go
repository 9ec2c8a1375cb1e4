package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"
)

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{"no args", nil, 2, "", "Usage:"},
		{"help", []string{"help"}, 0, "demo ", ""},
		{"help demo", []string{"help", "demo"}, 0, "-frames", ""},
		{"demo --help", []string{"demo", "--help"}, 0, "-verbose", ""},
		{"demo -h", []string{"demo", "-h"}, 0, "Usage: nicbed demo", ""},
		{"--help", []string{"--help"}, 0, "Commands:", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help unknown", []string{"help", "frobnicate"}, 2, "", "unknown command"},
		{"bad flag", []string{"demo", "--bogus"}, 2, "", "flag provided but not defined: -bogus\nUsage: nicbed demo"},
		{"bad number", []string{"demo", "--frames", "many"}, 2, "", "invalid value"},
		{"extra argument", []string{"demo", "now"}, 2, "", "unexpected argument"},
		{"igb queues", []string{"demo", "--nic", "igb", "--queues", "9"}, 2, "", "--queues 9: want 1-8"},
		{"e1000 queues", []string{"demo", "--queues", "2"}, 2, "", "--queues: the e1000 has one queue"},
		{"igb itr", []string{"demo", "--nic", "igb", "--itr", "1"}, 2, "", "--itr is the e1000's"},
		{"zero flows", []string{"demo", "--flows", "0"}, 2, "", "--flows 0"},
		{"demo --help igb", []string{"demo", "--help"}, 0, "-queues", ""},
		{"unknown nic", []string{"demo", "--nic", "rtl8139"}, 2, "", "unknown NIC"},
		{"zero frames", []string{"demo", "--frames", "0"}, 2, "", "--frames"},
		{"runt", []string{"demo", "--min-size", "20"}, 2, "", "at least 60"},
		{"too big for mtu", []string{"demo", "--max-size", "2000"}, 2, "", "does not fit"},
		{"bad sysctl name", []string{"demo", "--sysctl", "net.core.bogus=1"}, 2, "", "unknown tunable"},
		{"bad sysctl value", []string{"demo", "--sysctl", "net.core.netdev_budget=lots"}, 2, "", "not an integer"},
		{"sysctl without value", []string{"demo", "--sysctl", "netdev_budget"}, 2, "", "name=value"},
		{"loss out of range", []string{"demo", "--loss", "1.5"}, 2, "", "--loss"},
		{"unknown clock", []string{"demo", "--clock", "sundial"}, 2, "", "--clock"},
		{"unknown profile", []string{"demo", "--profile", "vmware"}, 2, "", "--profile"},
		{"trace dir missing", []string{"demo", "--frames", "10", "--trace", "/nonexistent/dir/t.json"}, 1, "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, out.String(), errb.String())
			}
			// Help goes to stdout alone; a usage error to stderr alone.
			switch {
			case code == 0 && errb.Len() != 0:
				t.Errorf("exit 0 with stderr: %s", errb.String())
			case code == 2 && out.Len() != 0:
				t.Errorf("usage error with stdout: %s", out.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantOut, out.String())
			}
			if !strings.Contains(errb.String(), tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, errb.String())
			}
		})
	}
}

// flowSummary is a flow's lines of the demo's summary.
type flowSummary struct {
	from, to                         string
	sent, received, bytes, lost, bad uint64
	framesPerSec, mbPerSec           float64
	span                             time.Duration
}

// hostSummary is a host's section of the demo's summary.
type hostSummary struct {
	interrupts                               map[string]uint64
	polls, rxPackets, fullWeight             uint64
	perPoll                                  float64
	processed, squeeze, dropped, receivedRPS uint64
	drops                                    map[string]uint64
	ethtool                                  map[string]uint64 // the non-zero ones listed
	cpus                                     []softnetCPU      // softnet_stat per CPU
	qvectors                                 []qvectorSummary  // igb only
}

// softnetCPU is one CPU's softnet_stat line.
type softnetCPU struct{ processed, dropped, squeeze, receivedRPS uint64 }

// qvectorSummary is one igb q_vector's line.
type qvectorSummary struct {
	name                  string
	vector                int
	hardirqs, polls       uint64
	hardirqCPUs, pollCPUs string
	eitr, rate            uint64
}

// demoSummary is the demo's summary, parsed; verbose is what follows it.
type demoSummary struct {
	flows       []flowSummary
	model, wall time.Duration
	cable       map[string][3]uint64 // delivered, lost, dropped
	hosts       map[string]*hostSummary
	verbose     string
}

// parseSummary parses the demo's output: every line of the summary must
// have one of the summary's shapes. The verbose part starts at the second
// header of a host.
func parseSummary(t *testing.T, out string) demoSummary {
	t.Helper()
	var (
		reHead     = regexp.MustCompile(`^nicbed demo: \S+ \((datasheet|qemu) profile\), \d+ CPUs per host, cable .+, seed \d+, (virtual|real) clock$`)
		reFlow     = regexp.MustCompile(`^flow (\S+) -> (\S+): sent (\d+), received (\d+) intact \((\d+) bytes\), lost (\d+), bad (\d+)$`)
		reRate     = regexp.MustCompile(`^  throughput: (\d+) frames/s, ([\d.]+) Mb/s over (\S+) of model time$`)
		reTime     = regexp.MustCompile(`^time: (\S+) of model time in (\S+) of wall time$`)
		reCable    = regexp.MustCompile(`^cable (\S+): delivered (\d+), lost (\d+), dropped (\d+) \(queue \d+, down \d+, size \d+\)$`)
		reHost     = regexp.MustCompile(`^== (\S+) \((\S+), ([0-9a-f:]{17})\)$`)
		reIntr     = regexp.MustCompile(` (\S+) (\d+) \(\d+/s\)`)
		reNAPI     = regexp.MustCompile(`^napi: (\d+) polls, (\d+) rx packets, ([\d.]+) packets per poll, (\d+) polls used the whole weight$`)
		reSoftnet  = regexp.MustCompile(`^softnet: processed (\d+), time_squeeze (\d+), dropped (\d+), received_rps (\d+)$`)
		reCPU      = regexp.MustCompile(`^softnet_stat cpu(\d+): processed (\d+), dropped (\d+), time_squeeze (\d+), received_rps (\d+)$`)
		reQVector  = regexp.MustCompile(`^q_vector (\S+): vector (\d+), hardirqs (\d+) \(\d+/s\) on cpus (\S+), polls (\d+) on cpus (\S+), EITR (\d+) \((\d+) ints/s, \d+ writes\)$`)
		reDrop     = regexp.MustCompile(` ([A-Z_]+) (\d+)`)
		reEthtool  = regexp.MustCompile(`^ethtool -S \S+ \(not zero; --verbose for all\):$`)
		reStatLine = regexp.MustCompile(`^     (\w+): (\d+)$`)
	)
	num := func(s string) uint64 {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	flt := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	dur := func(s string) time.Duration {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	sum := demoSummary{hosts: map[string]*hostSummary{}, cable: map[string][3]uint64{}}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || !reHead.MatchString(lines[0]) {
		t.Fatalf("first line %q", lines[0])
	}
	var h *hostSummary
	for i := 1; i < len(lines); i++ {
		l := lines[i]
		switch m := reHost.FindStringSubmatch(l); {
		case m != nil:
			if sum.hosts[m[1]] != nil {
				sum.verbose = strings.Join(lines[i:], "\n")
				return sum
			}
			h = &hostSummary{interrupts: map[string]uint64{}, drops: map[string]uint64{}, ethtool: map[string]uint64{}}
			sum.hosts[m[1]] = h
			continue
		case l == "":
			continue
		}
		if h == nil {
			if m := reFlow.FindStringSubmatch(l); m != nil {
				sum.flows = append(sum.flows, flowSummary{from: m[1], to: m[2], sent: num(m[3]), received: num(m[4]), bytes: num(m[5]), lost: num(m[6]), bad: num(m[7])})
			} else if m := reRate.FindStringSubmatch(l); m != nil && len(sum.flows) > 0 {
				f := &sum.flows[len(sum.flows)-1]
				f.framesPerSec, f.mbPerSec, f.span = flt(m[1]), flt(m[2]), dur(m[3])
			} else if m := reTime.FindStringSubmatch(l); m != nil {
				sum.model, sum.wall = dur(m[1]), dur(m[2])
			} else if m := reCable.FindStringSubmatch(l); m != nil {
				sum.cable[m[1]] = [3]uint64{num(m[2]), num(m[3]), num(m[4])}
			} else {
				t.Fatalf("summary line %d not of a known shape: %q", i+1, l)
			}
			continue
		}
		if rest, ok := strings.CutPrefix(l, "interrupts:"); ok {
			for _, m := range reIntr.FindAllStringSubmatch(rest, -1) {
				h.interrupts[m[1]] = num(m[2])
			}
		} else if m := reNAPI.FindStringSubmatch(l); m != nil {
			h.polls, h.rxPackets, h.perPoll, h.fullWeight = num(m[1]), num(m[2]), flt(m[3]), num(m[4])
		} else if m := reSoftnet.FindStringSubmatch(l); m != nil {
			h.processed, h.squeeze, h.dropped, h.receivedRPS = num(m[1]), num(m[2]), num(m[3]), num(m[4])
		} else if m := reCPU.FindStringSubmatch(l); m != nil {
			if int(num(m[1])) != len(h.cpus) {
				t.Fatalf("softnet_stat line for cpu%s after %d CPUs", m[1], len(h.cpus))
			}
			h.cpus = append(h.cpus, softnetCPU{num(m[2]), num(m[3]), num(m[4]), num(m[5])})
		} else if m := reQVector.FindStringSubmatch(l); m != nil {
			h.qvectors = append(h.qvectors, qvectorSummary{name: m[1], vector: int(num(m[2])), hardirqs: num(m[3]),
				hardirqCPUs: m[4], polls: num(m[5]), pollCPUs: m[6], eitr: num(m[7]), rate: num(m[8])})
		} else if rest, ok := strings.CutPrefix(l, "drops:"); ok {
			if rest != " none" {
				for _, m := range reDrop.FindAllStringSubmatch(rest, -1) {
					h.drops[m[1]] = num(m[2])
				}
			}
		} else if reEthtool.MatchString(l) {
		} else if m := reStatLine.FindStringSubmatch(l); m != nil {
			h.ethtool[m[1]] = num(m[2])
		} else {
			t.Fatalf("summary line %d not of a known shape: %q", i+1, l)
		}
	}
	return sum
}

// demoRun runs nicbed with args, which must succeed, and parses the output.
func demoRun(t *testing.T, args ...string) demoSummary {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"demo"}, args...), &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	return parseSummary(t, out.String())
}

// The demo runs two hosts and every frame arrives; its summary's figures
// agree with each other (throughput with bytes and time, packets per poll
// with packets and polls, only non-zero counters listed); and the pcap and
// trace files are readable.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	pcapFile := filepath.Join(dir, "w.pcap")
	traceFile := filepath.Join(dir, "t.json")
	const frames = 3000
	sum := demoRun(t, "--frames", strconv.Itoa(frames), "--bidir", "--seed", "5", "--pcap", pcapFile, "--trace", traceFile, "--sysctl", "net.core.netdev_budget=600")
	if len(sum.flows) != 2 || len(sum.hosts) != 2 || sum.verbose != "" {
		t.Fatalf("%d flows, %d hosts, verbose part %q", len(sum.flows), len(sum.hosts), sum.verbose)
	}
	if sum.model <= 0 || sum.wall <= 0 {
		t.Errorf("model time %v, wall time %v", sum.model, sum.wall)
	}
	for _, f := range sum.flows {
		if f.sent != frames || f.received != frames || f.lost != 0 || f.bad != 0 {
			t.Errorf("flow %s->%s: %+v", f.from, f.to, f)
		}
		if f.span <= 0 || f.span > sum.model+time.Millisecond { // the last arrival is at the CPU's time, which may run ahead
			t.Errorf("flow %s->%s over %v of %v", f.from, f.to, f.span, sum.model)
		}
		if want := float64(f.received) / f.span.Seconds(); math.Abs(f.framesPerSec-want) > 0.01*want {
			t.Errorf("flow %s->%s: %.0f frames/s, want %.0f", f.from, f.to, f.framesPerSec, want)
		}
		if want := float64(f.bytes) * 8 / f.span.Seconds() / 1e6; math.Abs(f.mbPerSec-want) > 0.01*want || f.mbPerSec > 1000 {
			t.Errorf("flow %s->%s: %.1f Mb/s, want %.1f (on a 1 Gb/s cable)", f.from, f.to, f.mbPerSec, want)
		}
	}
	for dir, c := range sum.cable {
		if c != [3]uint64{frames, 0, 0} {
			t.Errorf("cable %s: delivered, lost, dropped %v", dir, c)
		}
	}
	for name, h := range sum.hosts {
		if len(h.interrupts) != 1 || h.interrupts["eth0"] < 10 {
			t.Errorf("%s: interrupts per vector %v", name, h.interrupts)
		}
		if h.rxPackets != frames || h.polls == 0 || math.Abs(h.perPoll-float64(h.rxPackets)/float64(h.polls)) > 0.05 {
			t.Errorf("%s: %d rx packets, %d polls, %.1f per poll", name, h.rxPackets, h.polls, h.perPoll)
		}
		if h.processed != frames || h.dropped != 0 || len(h.drops) != 0 {
			t.Errorf("%s: processed %d, dropped %d, drops %v", name, h.processed, h.dropped, h.drops)
		}
		if h.ethtool["rx_packets"] != frames || h.ethtool["tx_packets"] != frames {
			t.Errorf("%s: ethtool rx_packets %d tx_packets %d", name, h.ethtool["rx_packets"], h.ethtool["tx_packets"])
		}
		for k, v := range h.ethtool {
			if v == 0 {
				t.Errorf("%s: zero counter %s listed in the summary", name, k)
			}
		}
		if _, ok := h.ethtool["rx_errors"]; ok {
			t.Errorf("%s: rx_errors listed", name)
		}
	}

	f, err := os.Open(pcapFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if len(data) < 60 || len(data) > 1514 {
			t.Fatalf("frame of %d bytes in the capture", len(data))
		}
		n++
	}
	if n != 2*frames {
		t.Errorf("pcap holds %d frames, want %d", n, 2*frames)
	}

	js, err := os.ReadFile(traceFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []map[string]any `json:"traceEvents"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatalf("trace is not JSON: %v", err)
	}
	if len(doc.TraceEvents) < 10000 {
		t.Errorf("trace has %d events", len(doc.TraceEvents))
	}
}

// --verbose adds every counter after the summary: the full ethtool -S list
// (zeros included, the summary's non-zero ones among them with the same
// values), the model's counters and /proc/net/softnet_stat.
func TestDemoVerbose(t *testing.T) {
	sum := demoRun(t, "--frames", "500", "--verbose")
	if sum.verbose == "" {
		t.Fatal("no verbose part")
	}
	for name, h := range sum.hosts {
		_, part, ok := strings.Cut(sum.verbose, "== "+name+" (")
		if !ok {
			t.Fatalf("no verbose section for %s", name)
		}
		if i := strings.Index(part, "\n== "); i >= 0 {
			part = part[:i]
		}
		_, list, _ := strings.Cut(part, "ethtool -S eth0:\n")
		full := map[string]uint64{}
		for _, m := range regexp.MustCompile(`(?m)^     (\w+): (\d+)$`).FindAllStringSubmatch(list, -1) {
			v, _ := strconv.ParseUint(m[2], 10, 64)
			full[m[1]] = v
		}
		zeros := 0
		for _, v := range full {
			if v == 0 {
				zeros++
			}
		}
		if zeros == 0 || len(full) <= len(h.ethtool) {
			t.Errorf("%s: verbose ethtool -S has %d counters (%d zero), the summary %d", name, len(full), zeros, len(h.ethtool))
		}
		for k, v := range h.ethtool {
			if full[k] != v {
				t.Errorf("%s: %s is %d in the summary, %d in the full list", name, k, v, full[k])
			}
		}
		if !regexp.MustCompile(`(?m)^/proc/net/softnet_stat:\n[0-9a-f]{8}( [0-9a-f]{8}){12}\n[0-9a-f]{8}( [0-9a-f]{8}){12}$`).MatchString(part) {
			t.Errorf("%s: no softnet_stat in:\n%s", name, part)
		}
		if !regexp.MustCompile(`(?m)^model counters:( \w+=\d+)+$`).MatchString(part) {
			t.Errorf("%s: no model counters in:\n%s", name, part)
		}
	}
}

// --clock real runs the same demo on the real clock: every frame arrives
// (or is one the NIC counted as missed), model time is wall time.
func TestDemoRealClock(t *testing.T) {
	const frames = 2000
	sum := demoRun(t, "--frames", strconv.Itoa(frames), "--bidir", "--clock", "real")
	for _, f := range sum.flows {
		if f.bad != 0 || f.received+f.lost != frames || f.received < frames*9/10 {
			t.Errorf("flow %s->%s: %+v", f.from, f.to, f)
		}
		if missed := sum.hosts[f.to].ethtool["rx_missed_errors"]; missed != f.lost {
			t.Errorf("flow %s->%s: lost %d, rx_missed_errors %d", f.from, f.to, f.lost, missed)
		}
	}
	if sum.model <= 0 || sum.wall < sum.model*9/10 {
		t.Errorf("real clock: %v of model time in %v of wall time", sum.model, sum.wall)
	}
}

// --profile qemu runs the demo against the model's QEMU profile: every
// frame arrives, and the mitigation timer (at least 128 µs between
// interrupts) bounds the interrupt rate where the datasheet model's ITR
// (dynamic conservative mode by default) gives more.
func TestDemoProfile(t *testing.T) {
	const frames = 5000
	rates := map[string]float64{}
	for _, p := range []string{"datasheet", "qemu"} {
		sum := demoRun(t, "--frames", strconv.Itoa(frames), "--profile", p, "--itr", "0")
		if f := sum.flows[0]; f.received != frames || f.lost != 0 || f.bad != 0 {
			t.Errorf("%s: flow %+v", p, f)
		}
		rates[p] = float64(sum.hosts["hostB"].interrupts["eth0"]) / sum.model.Seconds()
	}
	// The count includes the few interrupts of link-up before the flow.
	if rates["qemu"] > 1.1e6/128 || rates["qemu"]*4 >= rates["datasheet"] {
		t.Errorf("interrupts/s with ITR off: datasheet %.0f, qemu %.0f (QEMU's timer allows at most %.0f)", rates["datasheet"], rates["qemu"], 1e6/128)
	}
}

// Trace points about one queue or vector name it: in the text output as
// queue=NAME after the step's name, in the JSON as args.queue.
func TestTraceQueue(t *testing.T) {
	dir := t.TempDir()
	txt, js := filepath.Join(dir, "t.txt"), filepath.Join(dir, "t.json")
	demoRun(t, "--frames", "200", "--trace", txt)
	demoRun(t, "--frames", "200", "--trace", js)
	want := map[string]string{
		"irq_handler_entry": "eth0", "irq_handler_exit": "eth0", "napi_poll": "eth0",
		"pktgen_xmit": "tx-0", "napi_gro_receive_entry": "rx-0",
	}
	text, err := os.ReadFile(txt)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	re := regexp.MustCompile(`^\d+\.\d{9} host[AB] cpu\d+ (\S+)(?: queue=(\S+))?(?: pkt=\d+)? arg=-?\d+$`)
	for _, l := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue // steps with spaces in their names
		}
		if q, ok := want[m[1]]; ok {
			if m[2] != q {
				t.Fatalf("%q: queue %q, want %q", l, m[2], q)
			}
			seen[m[1]]++
		}
	}
	var doc struct {
		TraceEvents []struct {
			Ph, Name string
			Args     map[string]any
		} `json:"traceEvents"`
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	seenJSON := map[string]int{}
	for _, e := range doc.TraceEvents {
		if q, ok := want[e.Name]; ok && e.Ph == "i" {
			if e.Args["queue"] != q {
				t.Fatalf("%s: args %v, want queue %q", e.Name, e.Args, q)
			}
			seenJSON[e.Name]++
		}
	}
	for name := range want {
		if seen[name] == 0 || seen[name] != seenJSON[name] {
			t.Errorf("%s: %d text lines, %d JSON events", name, seen[name], seenJSON[name])
		}
	}
	if seen["pktgen_xmit"] != 200 || seen["napi_gro_receive_entry"] != 200 {
		t.Errorf("pktgen_xmit %d, napi_gro_receive_entry %d, want 200 each", seen["pktgen_xmit"], seen["napi_gro_receive_entry"])
	}
}

// The same seed gives the same output, but for the wall-time line.
func TestDemoDeterministic(t *testing.T) {
	outs := make([]string, 2)
	for i := range outs {
		var out, errb bytes.Buffer
		if code := run([]string{"demo", "--frames", "2000", "--loss", "0.05", "--seed", "9"}, &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		outs[i] = regexp.MustCompile(`in \S+ of wall time`).ReplaceAllString(out.String(), "")
	}
	if outs[0] != outs[1] {
		t.Errorf("two runs with one seed differ:\n%s\n----\n%s", outs[0], outs[1])
	}
	if !regexp.MustCompile(`lost [1-9]\d*, bad 0`).MatchString(outs[0]) {
		t.Errorf("5%% loss lost nothing:\n%s", outs[0])
	}
}

// --sysctl reaches both kernels: a 1 µs netdev_budget_usecs makes
// net_rx_action squeeze on host B, which it never does by default. As in
// Linux 6.1 the limit is usecs_to_jiffies(1) = one jiffy: a net_rx_action
// squeezes when it runs across a jiffy boundary, so the run is long enough
// to cross many (about 65 ms of model time).
func TestDemoSysctl(t *testing.T) {
	if n := demoRun(t, "--frames", "3000").hosts["hostB"].squeeze; n != 0 {
		t.Errorf("default run: time_squeeze %d", n)
	}
	if n := demoRun(t, "--frames", "10000", "--sysctl", "net.core.netdev_budget_usecs=1").hosts["hostB"].squeeze; n == 0 {
		t.Error("netdev_budget_usecs=1 did not squeeze")
	}
}
