package inet_test

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/ipv4"
)

func newStack(t *testing.T) (*inet.Stack, *stacktest.Dev) {
	t.Helper()
	d, err := stacktest.New(stacktest.MACA)
	if err != nil {
		t.Fatal(err)
	}
	return inet.New(d.K, inet.Config{Seed: 1}), d
}

// TestSocketErrors: socket(2)'s errors as inet_create gives them.
func TestSocketErrors(t *testing.T) {
	s, _ := newStack(t)
	for _, c := range []struct {
		name               string
		family, typ, proto int
		want               error
	}{
		{"AF_INET6", 10, 2, 0, syscall.EAFNOSUPPORT},
		{"AF_UNIX", 1, 2, 0, syscall.EAFNOSUPPORT},
		{"type out of range", 2, 11, 0, syscall.EINVAL},
		{"negative type", 2, -1, 0, syscall.EINVAL},
		{"protocol out of range", 2, 2, 256, syscall.EINVAL},
		{"SOCK_SEQPACKET", 2, 5, 0, syscall.ESOCKTNOSUPPORT},
	} {
		if _, err := s.Socket(c.family, c.typ, c.proto); !errors.Is(err, c.want) {
			t.Errorf("%s: socket(%d, %d, %d) = %v, want %v", c.name, c.family, c.typ, c.proto, err, c.want)
		}
	}
}

// TestConfigure: addresses, routes and the gateway as ip addr / ip route
// make them, and their errors.
func TestConfigure(t *testing.T) {
	s, d := newStack(t)
	if err := s.AddInterface(d.D, netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddInterface(d.D, netip.MustParsePrefix("10.0.0.1/24")); err == nil {
		t.Error("adding an address twice succeeded")
	}
	if err := s.AddInterface(d.D, netip.MustParsePrefix("fe80::1/64")); err == nil {
		t.Error("an IPv6 address was taken")
	}
	if err := s.SetGateway(netip.MustParseAddr("192.168.1.1")); err == nil || !strings.Contains(err.Error(), "no interface") {
		t.Errorf("gateway off every network: %v", err)
	}
	if err := s.SetGateway(netip.MustParseAddr("10.0.0.254")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoute(netip.MustParsePrefix("172.16.0.0/12"), netip.Addr{}, d.D); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	s.IPv4.FIB.WriteRoutes(&b, ipv4.RT_TABLE_MAIN)
	want := "default via 10.0.0.254 dev eth0\n10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n172.16.0.0/12 dev eth0 scope link\n"
	if b.String() != want {
		t.Errorf("ip route:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := s.SetSysctl("net.core.rmem_max", 1<<20); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.GetSysctl("net.core.rmem_max"); v != 1<<20 || s.Core.RmemMax != 1<<20 {
		t.Errorf("rmem_max %d", v)
	}
	if v, err := s.GetSysctl("net.ipv4.ip_default_ttl"); err != nil || v != 64 {
		t.Errorf("ip_default_ttl %d %v", v, err)
	}
}

// TestWriteSNMP: /proc/net/snmp's lines in Linux's order, Tcp then Udp
// after IPv4's, their values those of the MIBs.
func TestWriteSNMP(t *testing.T) {
	s, _ := newStack(t)
	s.UDP.MIB.InDatagrams = 5
	s.UDP.MIB.RcvbufErrors = 2
	var b bytes.Buffer
	if err := s.WriteSNMP(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var heads []string
	for _, l := range lines {
		heads = append(heads, strings.SplitN(l, ":", 2)[0])
	}
	if strings.Join(heads, " ") != "Ip Ip Icmp Icmp Tcp Tcp Udp Udp" {
		t.Fatalf("lines %v", heads)
	}
	if lines[4] != "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors" ||
		lines[5] != "Tcp: 1 200 120000 -1 0 0 0 0 0 0 0 0 0 0 0" {
		t.Errorf("Tcp lines:\n%s\n%s", lines[4], lines[5])
	}
	if lines[6] != "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors" ||
		lines[7] != "Udp: 5 0 0 0 2 0 0 0 0" {
		t.Errorf("Udp lines:\n%s\n%s", lines[6], lines[7])
	}
}
