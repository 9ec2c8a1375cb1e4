package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestServeFlag: --serve takes a list and is repeatable; --help explains
// every service.
func TestServeFlag(t *testing.T) {
	f, err := parseHost([]string{"--tap", "nbt0", "--addr", "10.99.0.2/24",
		"--serve", "echo=7, discard=9,chargen=19", "--serve", "http=80", "--serve", "iperf3=5201"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := serveFlag{{"echo", 7}, {"discard", 9}, {"chargen", 19}, {"http", 80}, {"iperf3", 5201}}
	if !reflect.DeepEqual(f.serve, want) {
		t.Errorf("--serve: %v, want %v", f.serve, want)
	}
	var out bytes.Buffer
	parseHost([]string{"--help"}, &out, &bytes.Buffer{})
	for _, s := range []string{"echo ", "RFC 862", "discard ", "RFC 863", "chargen ", "RFC 864", "http ", "/bytes/N", "/sink", "iperf3 ", "-R"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("--help lacks %q", s)
		}
	}
}
