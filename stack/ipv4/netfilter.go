package ipv4

import (
	"errors"
	"math"

	"github.com/nicbed/nicbed/kernelmodel"
)

// Netfilter hook points (enum nf_inet_hooks).
const (
	NF_INET_PRE_ROUTING  = 0 // ip_rcv, before the input route
	NF_INET_LOCAL_IN     = 1 // ip_local_deliver, after reassembly
	NF_INET_FORWARD      = 2 // ip_forward
	NF_INET_LOCAL_OUT    = 3 // __ip_local_out
	NF_INET_POST_ROUTING = 4 // ip_output
	NF_INET_NUMHOOKS     = 5
)

// NFVerdict is a hook's verdict (NF_DROP, NF_ACCEPT, ... of
// include/uapi/linux/netfilter.h).
type NFVerdict int

// Verdicts.
const (
	NF_DROP   NFVerdict = 0 // the skb is freed (SKB_DROP_REASON_NETFILTER_DROP)
	NF_ACCEPT NFVerdict = 1 // on to the next hook, then the okfn
	NF_STOLEN NFVerdict = 2 // the hook owns the skb now
	NF_QUEUE  NFVerdict = 3 // to the queue handler (nf_queue), reinjected later
	NF_REPEAT NFVerdict = 4 // call the same hook again
)

// Hook priorities (enum nf_ip_hook_priorities), lowest first.
const (
	NF_IP_PRI_FIRST     = math.MinInt32
	NF_IP_PRI_RAW       = -300
	NF_IP_PRI_CONNTRACK = -200
	NF_IP_PRI_MANGLE    = -150
	NF_IP_PRI_NAT_DST   = -100
	NF_IP_PRI_FILTER    = 0
	NF_IP_PRI_SECURITY  = 50
	NF_IP_PRI_NAT_SRC   = 100
	NF_IP_PRI_LAST      = math.MaxInt32
)

// NFHookState is struct nf_hook_state: where the hook runs. It is passed
// by value, so that running hooks allocates nothing.
type NFHookState struct {
	Hook int                    // NF_INET_*
	In   *kernelmodel.NetDevice // the input device (PRE_ROUTING, LOCAL_IN, FORWARD)
	Out  *kernelmodel.NetDevice // the output device (FORWARD, LOCAL_OUT, POST_ROUTING)
}

// NFHookFn is nf_hookfn: it looks at (and may change) skb, whose Data
// starts at the IPv4 header, and returns a verdict. On NF_STOLEN it owns
// skb (it must free it or hand it on); on NF_DROP it must not free it.
type NFHookFn func(skb *kernelmodel.SKB, state NFHookState) NFVerdict

// NFHookOps is struct nf_hook_ops: a hook function at a hook point with a
// priority. Hooks run in ascending priority; among equal priorities the one
// registered last runs first, as nf_hook_entries_grow inserts it.
type NFHookOps struct {
	Hook     NFHookFn
	Hooknum  int
	Priority int
	Name     string // for traces
}

// NFQueueEntry is struct nf_queue_entry: an skb a hook queued (NF_QUEUE),
// held by the queue handler until NFReinject.
type NFQueueEntry struct {
	SKB   *kernelmodel.SKB
	State NFHookState
	ops   *NFHookOps // the hook that queued it
	rt    *Route     // the route the okfn continues with
}

// NFStats counts the hooks' verdicts per hook point (the model's; Linux
// counts only the drops, under the drop reason).
type NFStats struct {
	Drops  [NF_INET_NUMHOOKS]uint64
	Stolen [NF_INET_NUMHOOKS]uint64
	Queued [NF_INET_NUMHOOKS]uint64
}

// nfState is the stack's net->nf.hooks_ipv4 and its queue handler.
type nfState struct {
	hooks [NF_INET_NUMHOOKS][]*NFHookOps
	queue func(e *NFQueueEntry)
	Stats NFStats
}

// NFRegisterNetHook is nf_register_net_hook(): add ops at its hook point.
// The hook list is copied, so registering from a hook is safe.
func (s *Stack) NFRegisterNetHook(ops *NFHookOps) error {
	if ops == nil || ops.Hook == nil {
		return errors.New("nf_register_net_hook: no hook function")
	}
	if ops.Hooknum < 0 || ops.Hooknum >= NF_INET_NUMHOOKS {
		return errors.New("nf_register_net_hook: no such hook point")
	}
	old := s.nf.hooks[ops.Hooknum]
	for _, o := range old {
		if o == ops {
			return errors.New("nf_register_net_hook: registered already")
		}
	}
	hs := make([]*NFHookOps, 0, len(old)+1)
	inserted := false
	for _, o := range old {
		if !inserted && ops.Priority <= o.Priority {
			hs = append(hs, ops)
			inserted = true
		}
		hs = append(hs, o)
	}
	if !inserted {
		hs = append(hs, ops)
	}
	s.nf.hooks[ops.Hooknum] = hs
	return nil
}

// NFUnregisterNetHook is nf_unregister_net_hook().
func (s *Stack) NFUnregisterNetHook(ops *NFHookOps) {
	old := s.nf.hooks[ops.Hooknum]
	var hs []*NFHookOps
	for _, o := range old {
		if o != ops {
			hs = append(hs, o)
		}
	}
	s.nf.hooks[ops.Hooknum] = hs
}

// NFRegisterQueueHandler is nf_register_queue_handler(): qh receives every
// skb a hook queues (NF_QUEUE) and must hand each back with NFReinject.
// Without a handler a queued skb is dropped, as nf_queue does (-ESRCH).
func (s *Stack) NFRegisterQueueHandler(qh func(e *NFQueueEntry)) { s.nf.queue = qh }

// NFStats are the verdict counts.
func (s *Stack) NFStats() NFStats { return s.nf.Stats }

// nfHook is nf_hook() / NF_HOOK's test: 1 if skb goes on to the okfn (no
// hooks — a length check, nothing else —, or every hook accepted), 0 if a
// hook stole or queued it, -EPERM if one dropped it (freed here).
func (s *Stack) nfHook(hook int, skb *kernelmodel.SKB, in, out *kernelmodel.NetDevice, rt *Route) int {
	if len(s.nf.hooks[hook]) == 0 {
		return 1
	}
	return s.nfHookSlow(NFHookState{Hook: hook, In: in, Out: out}, skb, rt, 0)
}

// nfHookSlow is nf_hook_slow() with nf_iterate's NF_REPEAT: the hooks from
// index i on, in priority order.
func (s *Stack) nfHookSlow(st NFHookState, skb *kernelmodel.SKB, rt *Route, i int) int {
	k := s.K
	hs := s.nf.hooks[st.Hook]
	for ; i < len(hs); i++ {
		v := hs[i].Hook(skb, st)
		for v == NF_REPEAT {
			v = hs[i].Hook(skb, st)
		}
		switch v {
		case NF_ACCEPT:
			continue
		case NF_DROP:
			s.nf.Stats.Drops[st.Hook]++
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NETFILTER_DROP)
			return -EPERM
		case NF_QUEUE:
			s.nf.Stats.Queued[st.Hook]++
			if s.nf.queue == nil {
				k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NETFILTER_DROP)
				return -EPERM
			}
			s.nf.queue(&NFQueueEntry{SKB: skb, State: st, ops: hs[i], rt: rt})
			return 0
		default: // NF_STOLEN and anything unconventional
			s.nf.Stats.Stolen[st.Hook]++
			return 0
		}
	}
	return 1
}

// NFReinject is nf_reinject(): the queue handler's verdict on e. NF_ACCEPT
// goes on with the next hook and then the hook point's okfn; NF_REPEAT runs
// the queueing hook again; NF_DROP frees the skb; NF_STOLEN leaves it with
// the caller. If the queueing hook was unregistered meanwhile the skb is
// dropped, as nf_queue_nf_hook_drop drops the entries of a hook that goes.
func (s *Stack) NFReinject(e *NFQueueEntry, v NFVerdict) {
	k := s.K
	skb := e.SKB
	i := -1
	for j, o := range s.nf.hooks[e.State.Hook] {
		if o == e.ops {
			i = j
		}
	}
	if i < 0 && v != NF_STOLEN {
		v = NF_DROP
	}
	var rc int
	switch v {
	case NF_ACCEPT:
		rc = s.nfHookSlow(e.State, skb, e.rt, i+1)
	case NF_REPEAT:
		rc = s.nfHookSlow(e.State, skb, e.rt, i)
	case NF_DROP, NF_QUEUE:
		s.nf.Stats.Drops[e.State.Hook]++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NETFILTER_DROP)
		return
	default:
		return
	}
	if rc == 1 {
		s.nfOkfn(e.State, skb, e.rt)
	}
}

// nfOkfn runs the okfn of a hook point, for a reinjected skb.
func (s *Stack) nfOkfn(st NFHookState, skb *kernelmodel.SKB, rt *Route) {
	switch st.Hook {
	case NF_INET_PRE_ROUTING:
		s.ipRcvFinish(skb)
	case NF_INET_LOCAL_IN:
		s.ipLocalDeliverFinish(skb)
	case NF_INET_FORWARD:
		s.ipForwardFinish(skb, rt)
	case NF_INET_LOCAL_OUT:
		s.dstOutput(skb, rt)
	case NF_INET_POST_ROUTING:
		s.ipFinishOutput(skb, rt)
	}
}

// EPERM is the errno of a packet a netfilter hook dropped on output.
const EPERM = 1
