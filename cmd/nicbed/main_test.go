package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

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
		{"demo --help", []string{"demo", "--help"}, 0, "", "-pcap"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help unknown", []string{"help", "frobnicate"}, 2, "", "unknown command"},
		{"bad flag", []string{"demo", "--bogus"}, 2, "", "flag provided but not defined"},
		{"bad number", []string{"demo", "--frames", "many"}, 2, "", "invalid value"},
		{"extra argument", []string{"demo", "now"}, 2, "", "unexpected argument"},
		{"igb not yet", []string{"demo", "--nic", "igb"}, 2, "", "--nic igb"},
		{"unknown nic", []string{"demo", "--nic", "rtl8139"}, 2, "", "unknown NIC"},
		{"zero frames", []string{"demo", "--frames", "0"}, 2, "", "--frames"},
		{"runt", []string{"demo", "--min-size", "20"}, 2, "", "at least 60"},
		{"too big for mtu", []string{"demo", "--max-size", "2000"}, 2, "", "does not fit"},
		{"bad sysctl name", []string{"demo", "--sysctl", "net.core.bogus=1"}, 2, "", "unknown tunable"},
		{"bad sysctl value", []string{"demo", "--sysctl", "net.core.netdev_budget=lots"}, 2, "", "not an integer"},
		{"sysctl without value", []string{"demo", "--sysctl", "netdev_budget"}, 2, "", "name=value"},
		{"loss out of range", []string{"demo", "--loss", "1.5"}, 2, "", "--loss"},
		{"trace dir missing", []string{"demo", "--frames", "10", "--trace", "/nonexistent/dir/t.json"}, 1, "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, out.String(), errb.String())
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

// The demo runs two hosts, every frame arrives, the counters agree with
// each other, and the pcap and trace files are readable.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	pcapFile := filepath.Join(dir, "w.pcap")
	traceFile := filepath.Join(dir, "t.json")
	var out, errb bytes.Buffer
	args := []string{"demo", "--frames", "3000", "--bidir", "--seed", "5", "--pcap", pcapFile, "--trace", traceFile, "--sysctl", "net.core.netdev_budget=600"}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	s := out.String()
	for _, re := range []string{
		`flow hostA -> hostB: sent 3000, received 3000 intact \(\d+ bytes\), lost 0, bad 0`,
		`flow hostB -> hostA: sent 3000, received 3000 intact \(\d+ bytes\), lost 0, bad 0`,
		`cable A->B: delivered 3000, lost 0`,
		`(?m)^== hostA \(eth0, 52:54:00:12:34:56\)`,
		`(?m)^     rx_packets: 3000$`,
		`(?m)^     tx_packets: 3000$`,
		`(?m)^/proc/net/softnet_stat:\n[0-9a-f]{8}( [0-9a-f]{8}){12}\n`,
	} {
		if !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("output does not match %s:\n%s", re, s)
		}
	}
	// Interrupts and NAPI polls happened and are reported.
	m := regexp.MustCompile(`interrupts: (\d+)`).FindAllStringSubmatch(s, -1)
	if len(m) != 2 {
		t.Fatalf("interrupt lines: %v", m)
	}
	for _, x := range m {
		if n, _ := strconv.Atoi(x[1]); n < 10 {
			t.Errorf("only %d interrupts", n)
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
	frames := 0
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if len(data) < 60 || len(data) > 1514 {
			t.Fatalf("frame of %d bytes in the capture", len(data))
		}
		frames++
	}
	if frames != 6000 {
		t.Errorf("pcap holds %d frames, want 6000", frames)
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
// net_rx_action squeeze on host B, which it never does by default.
func TestDemoSysctl(t *testing.T) {
	squeeze := func(args ...string) uint64 {
		var out, errb bytes.Buffer
		if code := run(append([]string{"demo", "--frames", "3000"}, args...), &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		_, hostB, _ := strings.Cut(out.String(), "== hostB")
		_, stat, _ := strings.Cut(hostB, "/proc/net/softnet_stat:\n")
		var total uint64
		for _, line := range strings.Split(strings.TrimSpace(stat), "\n") {
			f := strings.Fields(line)
			if len(f) != 13 {
				break
			}
			n, err := strconv.ParseUint(f[2], 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
		return total
	}
	if n := squeeze(); n != 0 {
		t.Errorf("default run: time_squeeze %d", n)
	}
	if n := squeeze("--sysctl", "net.core.netdev_budget_usecs=1"); n == 0 {
		t.Error("netdev_budget_usecs=1 did not squeeze")
	}
}
