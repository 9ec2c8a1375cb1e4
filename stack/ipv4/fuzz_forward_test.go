package ipv4

import (
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

// newRouterEnv is newEnv as a router: forwarding on, a second device eth1
// (10.0.1.1/24, MTU 1000), a route to 10.0.3.0/24 back out of eth0 via
// 10.0.0.3 (redirects), and an accepting netfilter hook at every point.
func newRouterEnv(t testing.TB) *env {
	t.Helper()
	e := newEnv(t)
	k := e.k
	d := k.AllocEtherdev("eth1", 1, 1)
	d.Addr = [6]byte{2, 0, 0, 0, 1, 1}
	d.MTU = 1000
	d.Ops = &stacktest.Dev{K: k, D: d}
	if err := k.RegisterNetdev(d); err != nil {
		t.Fatal(err)
	}
	var err error
	k.Spawn(0, "up", func(tk *kernelmodel.Task) { err = d.DevOpen(tk) })
	k.Clock().RunFor(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.AddAddress(d, [4]byte{10, 0, 1, 1}, 24); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AddRoute([4]byte{10, 0, 3, 0}, 24, [4]byte{10, 0, 0, 3}, nil, 0); err != nil {
		t.Fatal(err)
	}
	e.s.Sysctl.IPForward = 1
	for h := 0; h < NF_INET_NUMHOOKS; h++ {
		e.s.NFRegisterNetHook(&NFHookOps{Hooknum: h, Hook: func(*kernelmodel.SKB, NFHookState) NFVerdict { return NF_ACCEPT }})
	}
	return e
}

// FuzzIPv4Forward feeds any bytes as the IPv4 packet of a frame from B to
// a router (newRouterEnv) and asserts: no panic, at most one drop at
// once and none for a datagram counted as forwarded, and after the
// neighbour timers and ipfrag_time an exact skb audit. Seeds are under
// testdata/fuzz/FuzzIPv4Forward: a forwarded echo, TTL 1, DF above eth1's
// MTU, a fragment forwarded, a redirect, no route.
func FuzzIPv4Forward(f *testing.F) {
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) > 9000 {
			return
		}
		e := newRouterEnv(t)
		defer e.k.Close()
		fr := make([]byte, 14+len(pkt))
		copy(fr, frame(t, &layers.IPv4{Protocol: 1})[:14])
		copy(fr[14:], pkt)
		before := e.k.Drops.Reason
		e.dev.Receive(fr)
		var drops uint64
		for r := range e.k.Drops.Reason {
			drops += e.k.Drops.Reason[r] - before[r]
		}
		if drops > 1 || drops == 1 && e.s.SNMP.Ip.ForwDatagrams != 0 {
			t.Fatalf("%d drops, %d forwarded: %v", drops, e.s.SNMP.Ip.ForwDatagrams, e.k.Drops.Reason)
		}
		e.k.Clock().RunFor(31 * time.Second)
		if err := e.k.SKBAudit(); err != nil {
			t.Fatal(err)
		}
	})
}
