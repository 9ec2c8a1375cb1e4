package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The demo's text trace is in time order per (host, CPU), and every
// irq_handler_entry of the NIC's interrupt comes after the IMS write
// (e1000_irq_enable) that unmasked it and before any later e1000_intr has
// masked it again: a device access happens at the time of the CPU that
// makes it, so no effect precedes its cause.
func TestDemoTraceCausality(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		// Minimum-size frames on an infinitely fast cable without ITR:
		// the interrupt an IMS write unmasks is due at once.
		{"small frames no ITR", []string{"--frames", "2000", "--min-size", "60", "--max-size", "60", "--speed", "0", "--itr", "0"}},
		{"default", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "t.txt")
			var out, errb bytes.Buffer
			if code := run(append(append([]string{"demo"}, tc.args...), "--trace", file), &out, &errb); code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
			}
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			checkTraceCausality(t, f)
		})
	}
}

func checkTraceCausality(t *testing.T, f *os.File) {
	t.Helper()
	type hostState struct {
		masked   bool
		enableAt int64 // ns, of the last e1000_irq_enable
		enables  int
		entries  int
	}
	last := map[string]int64{} // "host cpuN" -> ns
	hosts := map[string]*hostState{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	lines, backward := 0, 0
	for sc.Scan() {
		line := sc.Text()
		fld := strings.Fields(line)
		if len(fld) < 4 {
			t.Fatalf("short trace line %q", line)
		}
		ts := parseNanos(t, fld[0])
		key := fld[1] + " " + fld[2]
		if l, ok := last[key]; ok && ts < l {
			if backward++; backward <= 5 {
				t.Errorf("%s: time goes back %d ns at line %d: %q", key, l-ts, lines+1, line)
			}
		}
		last[key] = ts
		lines++
		h := hosts[fld[1]]
		if h == nil {
			h = &hostState{masked: true}
			hosts[fld[1]] = h
		}
		switch fld[3] {
		case "e1000_irq_enable":
			h.masked, h.enableAt = false, ts
			h.enables++
		case "e1000_intr": // it read a non-zero ICR and writes IMC next
			h.masked = true
		case "irq_handler_entry":
			h.entries++
			if h.masked || ts < h.enableAt {
				t.Errorf("%s: irq_handler_entry at line %d (%q) while masked %v, last IMS write at %d ns", fld[1], lines, line, h.masked, h.enableAt)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if backward > 0 {
		t.Errorf("%d backward steps in %d lines", backward, lines)
	}
	if len(hosts) != 2 {
		t.Fatalf("trace of %d hosts, want 2", len(hosts))
	}
	for name, h := range hosts {
		if h.enables < 10 || h.entries < 10 {
			t.Errorf("%s: %d IMS writes and %d interrupts traced; the check had nothing to look at", name, h.enables, h.entries)
		}
	}
}

// parseNanos reads the text trace's "seconds.nanoseconds" timestamp.
func parseNanos(t *testing.T, s string) int64 {
	sec, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 9 {
		t.Fatalf("bad timestamp %q", s)
	}
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad timestamp %q", s)
	}
	return a*1e9 + b
}
