package ipv4

import (
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
)

// TestNetfilterVerdicts: a hook at each of the points an echo request and
// its reply pass (PRE_ROUTING, LOCAL_IN on the way in, LOCAL_OUT and
// POST_ROUTING on the way out) drops or steals the packet there: a drop
// is counted under NETFILTER_DROP and nothing after the hook happens; a
// stolen skb belongs to the hook, which frees it later; an accepting hook
// changes nothing. The skb audit is clean in every case.
func TestNetfilterVerdicts(t *testing.T) {
	for _, hook := range []int{NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING} {
		for _, v := range []NFVerdict{NF_ACCEPT, NF_DROP, NF_STOLEN} {
			e := newEnv(t)
			var stolen []*kernelmodel.SKB
			var seen []NFHookState
			ops := &NFHookOps{Hooknum: hook, Hook: func(skb *kernelmodel.SKB, st NFHookState) NFVerdict {
				if h := header.IPv4(skb.Data); len(h) < 20 || h.Protocol() != IPPROTO_ICMP {
					t.Errorf("hook %d: Data is not at the IP header: %x", hook, skb.Data)
				}
				seen = append(seen, st)
				if v == NF_STOLEN {
					stolen = append(stolen, skb)
				}
				return v
			}}
			if err := e.s.NFRegisterNetHook(ops); err != nil {
				t.Fatal(err)
			}
			e.dev.Receive(frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4}, echo(1, 1, []byte("nf"))...))
			if len(seen) != 1 || seen[0].Hook != hook {
				t.Fatalf("hook %d verdict %d: ran %v", hook, v, seen)
			}
			in, out := seen[0].In, seen[0].Out
			switch hook {
			case NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN:
				if in != e.dev.D || out != nil {
					t.Errorf("hook %d: in %v out %v", hook, in, out)
				}
			default:
				if in != nil || out != e.dev.D {
					t.Errorf("hook %d: in %v out %v", hook, in, out)
				}
			}
			replied := len(e.dev.Sent) == 1
			inbound := hook == NF_INET_PRE_ROUTING || hook == NF_INET_LOCAL_IN
			if replied != (v == NF_ACCEPT) {
				t.Errorf("hook %d verdict %d: replied %v", hook, v, replied)
			}
			if d := e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_NETFILTER_DROP]; d != map[bool]uint64{true: 1}[v == NF_DROP] {
				t.Errorf("hook %d verdict %d: %d NETFILTER_DROP", hook, v, d)
			}
			st := e.s.NFStats()
			if st.Drops[hook] != map[bool]uint64{true: 1}[v == NF_DROP] || st.Stolen[hook] != map[bool]uint64{true: 1}[v == NF_STOLEN] {
				t.Errorf("hook %d verdict %d: stats %+v", hook, v, st)
			}
			delivered := e.s.SNMP.Ip.InDelivers == 1
			if want := !inbound || v == NF_ACCEPT; delivered != want {
				t.Errorf("hook %d verdict %d: delivered %v", hook, v, delivered)
			}
			if len(stolen) == 1 {
				if e.k.SKBAudit() == nil {
					t.Errorf("hook %d: a stolen skb was freed by the stack", hook)
				}
				e.k.KfreeSKB(stolen[0], kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
			}
			e.settle(t)
		}
	}
}

// TestNetfilterOrder: hooks run in ascending priority, a later one of
// equal priority first; a drop stops the chain; NF_REPEAT calls the same
// hook again; unregistering takes a hook out.
func TestNetfilterOrder(t *testing.T) {
	e := newEnv(t)
	var order []string
	mk := func(name string, prio int, v func(n int) NFVerdict) *NFHookOps {
		n := 0
		return &NFHookOps{Name: name, Hooknum: NF_INET_PRE_ROUTING, Priority: prio, Hook: func(*kernelmodel.SKB, NFHookState) NFVerdict {
			order = append(order, name)
			n++
			return v(n)
		}}
	}
	accept := func(int) NFVerdict { return NF_ACCEPT }
	filter := mk("filter", NF_IP_PRI_FILTER, accept)
	raw := mk("raw", NF_IP_PRI_RAW, func(n int) NFVerdict {
		if n == 1 {
			return NF_REPEAT
		}
		return NF_ACCEPT
	})
	mangle := mk("mangle", NF_IP_PRI_MANGLE, accept)
	filter2 := mk("filter2", NF_IP_PRI_FILTER, accept)
	for _, o := range []*NFHookOps{filter, raw, mangle, filter2} {
		if err := e.s.NFRegisterNetHook(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.NFRegisterNetHook(filter); err == nil {
		t.Fatal("a hook registered twice")
	}
	if err := e.s.NFRegisterNetHook(&NFHookOps{Hooknum: 7, Hook: filter.Hook}); err == nil {
		t.Fatal("hook point 7 accepted")
	}
	req := frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4}, echo(1, 1, nil)...)
	e.dev.Receive(req)
	want := []string{"raw", "raw", "mangle", "filter2", "filter"}
	if len(order) != len(want) || len(e.dev.Sent) != 1 {
		t.Fatalf("order %v, %d replies", order, len(e.dev.Sent))
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	// A drop in the middle: the hooks after it do not run.
	order = nil
	drop := mk("drop", NF_IP_PRI_MANGLE+1, func(int) NFVerdict { return NF_DROP })
	if err := e.s.NFRegisterNetHook(drop); err != nil {
		t.Fatal(err)
	}
	e.dev.Receive(req)
	if len(order) != 3 || order[2] != "drop" || len(e.dev.Sent) != 1 {
		t.Fatalf("with a drop: order %v, %d replies", order, len(e.dev.Sent))
	}
	e.s.NFUnregisterNetHook(drop)
	e.dev.Receive(req)
	if len(e.dev.Sent) != 2 {
		t.Fatalf("after unregistering the drop: %d replies", len(e.dev.Sent))
	}
	e.settle(t)
}

// TestNetfilterQueue: NF_QUEUE hands the skb to the queue handler, which
// reinjects it 5 ms later: NF_ACCEPT goes on with the next hook and then
// the packet's path (the reply goes out then, not before); NF_DROP frees
// it. Without a queue handler a queued packet is dropped.
func TestNetfilterQueue(t *testing.T) {
	e := newEnv(t)
	req := frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4}, echo(1, 1, nil)...)
	q := &NFHookOps{Hooknum: NF_INET_LOCAL_IN, Hook: func(*kernelmodel.SKB, NFHookState) NFVerdict { return NF_QUEUE }}
	after := 0
	next := &NFHookOps{Hooknum: NF_INET_LOCAL_IN, Priority: 10, Hook: func(*kernelmodel.SKB, NFHookState) NFVerdict { after++; return NF_ACCEPT }}
	e.s.NFRegisterNetHook(q)
	e.s.NFRegisterNetHook(next)
	e.dev.Receive(req)
	if len(e.dev.Sent) != 0 || after != 0 || e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_NETFILTER_DROP] != 1 {
		t.Fatalf("no queue handler: %d replies, next hook ran %d, drops %v", len(e.dev.Sent), after, e.k.Drops.Reason)
	}
	verdict := NF_ACCEPT
	e.s.NFRegisterQueueHandler(func(en *NFQueueEntry) {
		if en.State.Hook != NF_INET_LOCAL_IN || en.State.In != e.dev.D {
			t.Errorf("queued at %+v", en.State)
		}
		v := verdict
		e.k.Clock().AfterFunc(5*time.Millisecond, func() { e.s.NFReinject(en, v) })
	})
	e.dev.Receive(req)
	at := e.k.Clock().Now()
	e.k.Clock().RunFor(4 * time.Millisecond)
	if len(e.dev.Sent) != 0 {
		t.Fatal("replied before the reinjection")
	}
	e.k.Clock().RunFor(2 * time.Millisecond)
	if len(e.dev.Sent) != 1 || after != 1 || e.dev.Sent[0].At-at != 5*time.Millisecond {
		t.Fatalf("after the reinjection: %d replies, next hook ran %d", len(e.dev.Sent), after)
	}
	verdict = NF_DROP
	e.dev.Receive(req)
	e.k.Clock().RunFor(10 * time.Millisecond)
	if len(e.dev.Sent) != 1 || e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_NETFILTER_DROP] != 2 || e.s.NFStats().Queued[NF_INET_LOCAL_IN] != 3 {
		t.Fatalf("queue drop: %d replies, %v", len(e.dev.Sent), e.s.NFStats())
	}
	e.settle(t)
}

// TestNetfilterNoHookAllocs: running a hook point allocates nothing, with
// no hook (a length check) and with an accepting hook.
func TestNetfilterNoHookAllocs(t *testing.T) {
	e := newEnv(t)
	skb := e.k.AllocSKB(64)
	defer e.k.ConsumeSKB(skb)
	if n := testing.AllocsPerRun(100, func() { e.s.nfHook(NF_INET_FORWARD, skb, e.dev.D, e.dev.D, nil) }); n != 0 {
		t.Fatalf("no hooks: %v allocs", n)
	}
	e.s.NFRegisterNetHook(&NFHookOps{Hooknum: NF_INET_FORWARD, Hook: func(*kernelmodel.SKB, NFHookState) NFVerdict { return NF_ACCEPT }})
	if n := testing.AllocsPerRun(100, func() { e.s.nfHook(NF_INET_FORWARD, skb, e.dev.D, e.dev.D, nil) }); n != 0 {
		t.Fatalf("one hook: %v allocs", n)
	}
}

// BenchmarkIPRcvEchoHooks is BenchmarkIPRcvEcho's path with an accepting
// hook at each of the four points it passes: 0 allocs/op, the cost of
// the hooks next to BenchmarkIPRcvEcho's.
func BenchmarkIPRcvEchoHooks(b *testing.B) {
	e := newEnv(b)
	for _, h := range []int{NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING} {
		e.s.NFRegisterNetHook(&NFHookOps{Hooknum: h, Hook: func(*kernelmodel.SKB, NFHookState) NFVerdict { return NF_ACCEPT }})
	}
	benchEcho(b, e)
}
