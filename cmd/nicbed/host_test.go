package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// runMainEnv makes the test binary run nicbed's main instead of the tests:
// the tests of nicbed host start it so (in a namespace, with
// ip netns exec), the same code a user's nicbed runs.
const runMainEnv = "NICBED_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestHostFlags: every bad flag of nicbed host is one line on stderr and
// exit status 2, before anything is opened; --help explains every flag.
func TestHostFlags(t *testing.T) {
	ok := []string{"host", "--tap", "nbt0", "--addr", "10.99.0.2/24"}
	with := func(extra ...string) []string { return append(append([]string(nil), ok...), extra...) }
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no port", []string{"host", "--addr", "10.99.0.2/24"}, "one of --tap NAME and --afpacket IFACE"},
		{"both ports", with("--afpacket", "veth0"), "exclude each other"},
		{"no addr", []string{"host", "--tap", "nbt0"}, "--addr CIDR is needed"},
		{"addr without prefix", []string{"host", "--tap", "nbt0", "--addr", "10.99.0.2"}, `--addr "10.99.0.2": want an IPv4 address with a prefix length`},
		{"addr prefix 33", []string{"host", "--tap", "nbt0", "--addr", "10.99.0.2/33"}, "want an IPv4 address"},
		{"addr IPv6", []string{"host", "--tap", "nbt0", "--addr", "fd00::2/64"}, "want an IPv4 address"},
		{"addr garbage", []string{"host", "--tap", "nbt0", "--addr", "ten.0.0.2/8"}, "want an IPv4 address"},
		{"addr network", []string{"host", "--tap", "nbt0", "--addr", "10.99.0.0/24"}, "network or broadcast"},
		{"addr broadcast", []string{"host", "--tap", "nbt0", "--addr", "10.99.0.255/24"}, "network or broadcast"},
		{"addr multicast", []string{"host", "--tap", "nbt0", "--addr", "224.0.0.5/24"}, "not a unicast host address"},
		{"addr /0", []string{"host", "--tap", "nbt0", "--addr", "10.0.0.1/0"}, "prefix length 0"},
		{"gw off link", with("--gw", "10.98.0.1"), "--gw 10.98.0.1: not a host on 10.99.0.0/24"},
		{"gw self", with("--gw", "10.99.0.2"), "not a host on"},
		{"gw garbage", with("--gw", "router"), `--gw "router": not an IPv4 address`},
		{"mac garbage", with("--mac", "52:54:00"), "--mac"},
		{"mac multicast", with("--mac", "01:00:5e:00:00:01"), "not a unicast address"},
		{"mtu small", with("--mtu", "67"), "--mtu 67: want 68-16110"},
		{"mtu big", with("--mtu", "16111"), "--mtu 16111"},
		{"mtu not a number", with("--mtu", "big"), `invalid value "big" for flag -mtu`},
		{"cpus", with("--cpus", "0"), "--cpus 0"},
		{"netem loss over 100", with("--netem", "loss=101%"), `loss="101%": want a percentage 0-100`},
		{"netem unknown key", with("--netem", "jitter=1ms"), `unknown key "jitter"`},
		{"netem no value", with("--netem", "loss"), `want key=value, got "loss"`},
		{"netem bad dir", with("--netem", "dir=up"), `dir="up": want in, out or both`},
		{"netem bad delay", with("--netem", "delay=-1ms"), `delay="-1ms": want a duration`},
		{"unknown nic", with("--nic", "rtl8139"), `--nic "rtl8139": unknown NIC`},
		{"tap name too long", []string{"host", "--tap", "a-very-long-tap-name", "--addr", "10.99.0.2/24"}, "not an interface name"},
		{"tap name slash", []string{"host", "--tap", "a/b", "--addr", "10.99.0.2/24"}, "not an interface name"},
		{"serve unknown", with("--serve", "gopher=70"), `unknown service "gopher" (want one of echo, discard, chargen, http, iperf3)`},
		{"serve unknown in a list", with("--serve", "echo=7,ftp=21"), `unknown service "ftp"`},
		{"serve repeated port", with("--serve", "echo=7", "--serve", "http=7"), "port 7 is served twice"},
		{"serve empty port", with("--serve", "http="), `http: port "" is not 1-65535`},
		{"serve no port", with("--serve", "echo"), "want name=PORT"},
		{"serve bad port", with("--serve", "echo=70000"), "not 1-65535"},
		{"serve port 0", with("--serve", "echo=0"), "not 1-65535"},
		{"serve twice", with("--serve", "echo=7,echo=7"), "served twice"},
		{"unknown flag", with("--bogus"), "flag provided but not defined: -bogus"},
		{"stray argument", with("now"), `unexpected argument "now"`},
		{"vfio and tap", with("--vfio", "0000:00:03.0"), "--vfio excludes --tap and --afpacket"},
		{"vfio bad address", []string{"host", "--vfio", "00:03.0", "--addr", "10.99.0.2/24"}, `--vfio "00:03.0": not a PCI address like 0000:00:03.0`},
		{"vfio upper case", []string{"host", "--vfio", "0000:00:0A.0", "--addr", "10.99.0.2/24"}, "not a PCI address"},
		{"vfio mac", []string{"host", "--vfio", "0000:00:03.0", "--addr", "10.99.0.2/24", "--mac", "52:54:00:00:00:01"}, "--mac does not apply with --vfio"},
		{"vfio pcap", []string{"host", "--vfio", "0000:00:03.0", "--addr", "10.99.0.2/24", "--pcap", "x.pcap"}, "--pcap needs --tap or --afpacket"},
		{"vfio netem", []string{"host", "--vfio", "0000:00:03.0", "--addr", "10.99.0.2/24", "--netem", "loss=1%"}, "--netem needs --tap or --afpacket"},
		{"vfio no addr", []string{"host", "--vfio", "0000:00:03.0"}, "--addr CIDR is needed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.args, &out, &errb); code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", code, errb.String())
			}
			if out.Len() != 0 {
				t.Errorf("stdout: %q", out.String())
			}
			msg := errb.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "nicbed host: ") || !strings.Contains(msg, tc.wantErr) {
				t.Errorf("stderr %q: want one line with %q", msg, tc.wantErr)
			}
		})
	}
	t.Run("help", func(t *testing.T) {
		var out, errb bytes.Buffer
		if code := run([]string{"host", "--help"}, &out, &errb); code != 0 || errb.Len() != 0 {
			t.Fatalf("exit %d, stderr %q", code, errb.String())
		}
		for _, flag := range []string{"-nic", "-tap", "-afpacket", "-addr", "-gw", "-mac", "-mtu", "-serve", "-pcap", "-trace", "-cpus", "-verbose", "-vfio", "vfio-pci", "intel_iommu=on", "Example:", "nicbed host --nic e1000 --tap"} {
			if !strings.Contains(out.String(), flag) {
				t.Errorf("--help lacks %q", flag)
			}
		}
	})
}
