package neigh

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

type env struct {
	k   *kernelmodel.Kernel
	dev *stacktest.Dev
	tbl *Table
}

func newEnv(t *testing.T) *env {
	t.Helper()
	f, err := stacktest.New(stacktest.MACA)
	if err != nil {
		t.Fatal(err)
	}
	k := f.K
	tbl := NewTable(k, 1)
	tbl.AddrType = func(_ *kernelmodel.NetDevice, ip [4]byte) int {
		if ip == stacktest.IPA {
			return RTN_LOCAL
		}
		return RTN_UNICAST
	}
	tbl.SelectAddr = func(*kernelmodel.NetDevice, [4]byte) ([4]byte, bool) { return stacktest.IPA, true }
	return &env{k: k, dev: f, tbl: tbl}
}

// ipPacket is an IPv4 packet from A to B of n bytes (Data at the IP header).
func (e *env) ipPacket(n int) *kernelmodel.SKB {
	skb := e.k.AllocSKB(n)
	h := header.IPv4(skb.Put(n))
	h.SetVersionIHL(20)
	h.SetTotalLength(uint16(n))
	h.SetTTL(64)
	h.SetSource(stacktest.IPA)
	h.SetDestination(stacktest.IPB)
	skb.Protocol = kernelmodel.ETH_P_IP
	return skb
}

// arpFrame is an ARP frame from B.
func arpFrame(op uint16, ethDst [6]byte, sip, tip [4]byte, tha [6]byte) []byte {
	b := make([]byte, header.EthernetMinSize+header.ARPSize)
	e := header.Ethernet(b)
	e.SetDestination(ethDst)
	e.SetSource(stacktest.MACB)
	e.SetType(header.EtherTypeARP)
	a := header.ARP(b[header.EthernetMinSize:])
	a.SetIPv4OverEthernet(op)
	a.SetSender(stacktest.MACB, sip)
	a.SetTarget(tha, tip)
	return b
}

func (e *env) receive(frame []byte) { e.dev.Receive(frame) }

func (e *env) runTo(t time.Duration) { e.k.Clock().RunUntil(t) }

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// checkRequest checks that f is an ARP request from A for B to ethDst.
func checkRequest(t *testing.T, f stacktest.Sent, ethDst [6]byte) {
	t.Helper()
	want := make([]byte, header.EthernetMinSize+header.ARPSize)
	e := header.Ethernet(want)
	e.SetDestination(ethDst)
	e.SetSource(stacktest.MACA)
	e.SetType(header.EtherTypeARP)
	a := header.ARP(want[header.EthernetMinSize:])
	a.SetIPv4OverEthernet(header.ARPOpRequest)
	a.SetSender(stacktest.MACA, stacktest.IPA)
	a.SetTarget([6]byte{}, stacktest.IPB)
	if !bytes.Equal(f.Frame, want) {
		t.Fatalf("request at %v:\n got %x\nwant %x", f.At, f.Frame, want)
	}
}

func (e *env) audit(t *testing.T) {
	t.Helper()
	if err := e.k.SKBAudit(); err != nil {
		t.Fatal(err)
	}
}

// TestNeighResolve: output to an unknown neighbour goes INCOMPLETE with a
// broadcast request at once; a unicast reply makes it REACHABLE, sends the
// queued packet with B's address, and later packets use the cached header.
func TestNeighResolve(t *testing.T) {
	e := newEnv(t)
	t0 := e.k.Clock().Now()
	e.tbl.Output(e.dev.D, stacktest.IPB, e.ipPacket(100))
	n := e.tbl.Lookup(e.dev.D, stacktest.IPB)
	if n == nil || n.State != NUD_INCOMPLETE {
		t.Fatalf("entry %+v, want INCOMPLETE", n)
	}
	if p, exp := n.Timer(); !p || exp != e.k.Jiffies()+1000 {
		t.Fatalf("timer pending %v expires %d, want %d", p, exp, e.k.Jiffies()+1000)
	}
	if len(e.dev.Sent) != 1 {
		t.Fatalf("%d frames sent, want the request", len(e.dev.Sent))
	}
	checkRequest(t, e.dev.Sent[0], stacktest.Bcast)
	e.runTo(t0 + ms(500))
	e.receive(arpFrame(header.ARPOpReply, stacktest.MACA, stacktest.IPB, stacktest.IPA, stacktest.MACA))
	if n.State != NUD_REACHABLE || n.HA != stacktest.MACB {
		t.Fatalf("after reply: %s %x", StateName(n.State), n.HA)
	}
	if p, exp := n.Timer(); !p || exp != e.k.Jiffies()+e.tbl.ReachableTime() {
		t.Fatalf("reachable timer %v %d, want %d", p, exp, e.k.Jiffies()+e.tbl.ReachableTime())
	}
	if len(e.dev.Sent) != 2 {
		t.Fatalf("%d frames, want the queued packet sent", len(e.dev.Sent))
	}
	pkt := e.dev.Sent[1].Frame
	eth := header.Ethernet(pkt)
	if eth.Destination() != stacktest.MACB || eth.Source() != stacktest.MACA || eth.Type() != header.EtherTypeIPv4 || len(pkt) != 114 {
		t.Fatalf("queued packet sent as %x", pkt[:14])
	}
	if n.HH() == nil || !bytes.Equal(n.HH(), pkt[:14]) {
		t.Fatalf("hh cache %x, want %x", n.HH(), pkt[:14])
	}
	other := [4]byte{10, 0, 0, 3}
	e.tbl.Output(e.dev.D, other, e.ipPacket(60))
	var sb strings.Builder
	if err := e.tbl.WriteNeigh(&sb); err != nil {
		t.Fatal(err)
	}
	if want := "10.0.0.2 dev eth0 lladdr 52:54:00:12:34:57 REACHABLE\n10.0.0.3 dev eth0 INCOMPLETE\n"; sb.String() != want {
		t.Fatalf("ip neigh:\n%s\nwant\n%s", sb.String(), want)
	}
	e.dev.Sent = e.dev.Sent[:2]
	e.tbl.Output(e.dev.D, stacktest.IPB, e.ipPacket(60))
	if len(e.dev.Sent) != 3 || !bytes.Equal(e.dev.Sent[2].Frame[:14], pkt[:14]) {
		t.Fatal("second packet not sent through the cached header")
	}
	if q, _ := n.QueueLen(); q != 0 {
		t.Fatalf("queue %d", q)
	}
	e.k.Clock().RunFor(4 * time.Second)
	e.audit(t)
}

// TestNeighFailed: without an answer INCOMPLETE sends mcast_solicit (3)
// broadcast requests retrans_time apart and fails after the third
// retrans_time; the queued packets are dropped with NEIGH_FAILED. A new
// packet restarts resolution.
func TestNeighFailed(t *testing.T) {
	e := newEnv(t)
	t0 := e.k.Clock().Now()
	for i := 0; i < 4; i++ {
		e.tbl.Output(e.dev.D, stacktest.IPB, e.ipPacket(100))
	}
	n := e.tbl.Lookup(e.dev.D, stacktest.IPB)
	e.runTo(t0 + ms(2999))
	if n.State != NUD_INCOMPLETE || len(e.dev.Sent) != 3 {
		t.Fatalf("at 2.999 s: %s, %d requests", StateName(n.State), len(e.dev.Sent))
	}
	for i, f := range e.dev.Sent {
		checkRequest(t, f, stacktest.Bcast)
		if want := t0 + ms(int64(1000*i)); f.At/time.Millisecond != want/time.Millisecond {
			t.Fatalf("request %d at %v, want %v", i, f.At, want)
		}
	}
	e.runTo(t0 + ms(3001))
	if n.State != NUD_FAILED {
		t.Fatalf("at 3 s: %s", StateName(n.State))
	}
	if got := e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_NEIGH_FAILED]; got != 4 {
		t.Fatalf("NEIGH_FAILED drops %d, want 4", got)
	}
	if e.tbl.Stats.ResFailed != 1 || len(e.dev.Sent) != 3 {
		t.Fatalf("res_failed %d, %d frames", e.tbl.Stats.ResFailed, len(e.dev.Sent))
	}
	e.audit(t)
	e.tbl.Output(e.dev.D, stacktest.IPB, e.ipPacket(100))
	if n.State != NUD_INCOMPLETE || len(e.dev.Sent) != 4 {
		t.Fatalf("after FAILED, output: %s, %d frames", StateName(n.State), len(e.dev.Sent))
	}
}

// TestNeighLifecycle walks REACHABLE → STALE → DELAY → PROBE → FAILED with
// exact times: the reachable timer fires at confirmed+reachable_time, finds
// the entry still in time (time_before_eq) and re-arms HZ/100 later, which is
// when it goes STALE; a packet in STALE goes out at once and starts DELAY
// for delay_first_probe_time; then ucast_solicit unicast probes
// retrans_time apart and FAILED.
func TestNeighLifecycle(t *testing.T) {
	e := newEnv(t)
	e.tbl.Output(e.dev.D, stacktest.IPB, e.ipPacket(100))
	e.receive(arpFrame(header.ARPOpReply, stacktest.MACA, stacktest.IPB, stacktest.IPA, stacktest.MACA))
	n := e.tbl.Lookup(e.dev.D, stacktest.IPB)
	conf := n.Confirmed
	rt := e.tbl.ReachableTime()
	if rt < 15000 || rt >= 45000 {
		t.Fatalf("reachable_time %d outside [15000, 45000)", rt)
	}
	e.runTo(kernelmodel.JiffiesToDuration(conf+rt) + ms(9))
	if n.State != NUD_REACHABLE {
		t.Fatalf("at confirmed+reachable_time+9ms: %s", StateName(n.State))
	}
	e.runTo(kernelmodel.JiffiesToDuration(conf+rt) + ms(11))
	if n.State != NUD_STALE || n.timer.TimerPending() {
		t.Fatalf("at +10ms: %s, want STALE without timer", StateName(n.State))
	}
	frames := len(e.dev.Sent)
	ts := e.k.Clock().Now()
	e.tbl.Output(e.dev.D, stacktest.IPB, e.ipPacket(100))
	if n.State != NUD_DELAY || len(e.dev.Sent) != frames+1 {
		t.Fatalf("output in STALE: %s, sent %d", StateName(n.State), len(e.dev.Sent)-frames)
	}
	if header.Ethernet(e.dev.Sent[frames].Frame).Destination() != stacktest.MACB {
		t.Fatal("packet in DELAY not sent to the cached address")
	}
	e.runTo(ts + ms(4999))
	if n.State != NUD_DELAY {
		t.Fatalf("before delay_first_probe_time: %s", StateName(n.State))
	}
	e.runTo(ts + ms(5001))
	if n.State != NUD_PROBE || len(e.dev.Sent) != frames+2 {
		t.Fatalf("after delay_first_probe_time: %s, %d frames", StateName(n.State), len(e.dev.Sent)-frames)
	}
	e.runTo(ts + ms(7001))
	if len(e.dev.Sent) != frames+4 {
		t.Fatalf("%d probes, want 3", len(e.dev.Sent)-frames-1)
	}
	for _, f := range e.dev.Sent[frames+1:] {
		checkRequest(t, f, stacktest.MACB) // unicast probes
	}
	e.runTo(ts + ms(7999))
	if n.State != NUD_PROBE {
		t.Fatalf("before the third retrans_time: %s", StateName(n.State))
	}
	e.runTo(ts + ms(8001))
	if n.State != NUD_FAILED || len(e.dev.Sent) != frames+4 {
		t.Fatalf("after 3 probes: %s, %d frames", StateName(n.State), len(e.dev.Sent)-frames)
	}
	e.audit(t)
}

// TestNeighDelayConfirmed: a reply during DELAY makes the entry REACHABLE
// again without a probe.
func TestNeighDelayConfirmed(t *testing.T) {
	e := newEnv(t)
	e.tbl.Output(e.dev.D, stacktest.IPB, e.ipPacket(100))
	e.receive(arpFrame(header.ARPOpReply, stacktest.MACA, stacktest.IPB, stacktest.IPA, stacktest.MACA))
	n := e.tbl.Lookup(e.dev.D, stacktest.IPB)
	e.runTo(kernelmodel.JiffiesToDuration(n.Confirmed+e.tbl.ReachableTime()) + ms(11))
	e.tbl.Output(e.dev.D, stacktest.IPB, e.ipPacket(100))
	ts := e.k.Clock().Now()
	e.runTo(ts + ms(2000))
	e.receive(arpFrame(header.ARPOpReply, stacktest.MACA, stacktest.IPB, stacktest.IPA, stacktest.MACA))
	if n.State != NUD_REACHABLE {
		t.Fatalf("reply in DELAY: %s", StateName(n.State))
	}
	frames := len(e.dev.Sent)
	e.runTo(ts + ms(6000))
	if n.State != NUD_REACHABLE || len(e.dev.Sent) != frames {
		t.Fatalf("%s, %d probes", StateName(n.State), len(e.dev.Sent)-frames)
	}
	e.audit(t)
}

// TestNeighQueueBytes: while INCOMPLETE the queue keeps the newest packets
// within unres_qlen_bytes (by truesize); older ones are dropped with
// NEIGH_QUEUEFULL and counted as unresolved_discards; the reply sends the
// rest in order.
func TestNeighQueueBytes(t *testing.T) {
	e := newEnv(t)
	const sends = 200
	var ids []uint64
	for i := 0; i < sends; i++ {
		skb := e.ipPacket(100)
		header.IPv4(skb.Data).SetID(uint16(i))
		ids = append(ids, skb.ID)
		e.tbl.Output(e.dev.D, stacktest.IPB, skb)
	}
	n := e.tbl.Lookup(e.dev.D, stacktest.IPB)
	truesize := e.ipPacket(100)
	ts := truesize.Truesize()
	e.k.ConsumeSKB(truesize)
	keep := 212992 / ts
	pkts, b := n.QueueLen()
	if pkts != keep || b != keep*ts {
		t.Fatalf("queue %d pkts %d bytes, want %d of truesize %d", pkts, b, keep, ts)
	}
	if got := e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_NEIGH_QUEUEFULL]; got != uint64(sends-keep) || e.tbl.Stats.UnresolvedDiscards != got {
		t.Fatalf("NEIGH_QUEUEFULL %d, unresolved_discards %d, want %d", got, e.tbl.Stats.UnresolvedDiscards, sends-keep)
	}
	e.receive(arpFrame(header.ARPOpReply, stacktest.MACA, stacktest.IPB, stacktest.IPA, stacktest.MACA))
	out := e.dev.Sent[1:]
	if len(out) != keep {
		t.Fatalf("%d sent after the reply, want %d", len(out), keep)
	}
	for i, f := range out {
		if id := header.IPv4(f.Frame[14:]).ID(); int(id) != sends-keep+i {
			t.Fatalf("packet %d has id %d, want %d", i, id, sends-keep+i)
		}
	}
	e.audit(t)
}

// TestARPRequestReply: a broadcast request for our address is answered
// (unicast, RFC 826 fields) and the sender entered as STALE; a request for
// another address is not answered and creates nothing; a gratuitous ARP
// creates no entry (arp_accept 0).
func TestARPRequestReply(t *testing.T) {
	e := newEnv(t)
	e.receive(arpFrame(header.ARPOpRequest, stacktest.Bcast, stacktest.IPB, stacktest.IPA, [6]byte{}))
	if len(e.dev.Sent) != 1 {
		t.Fatalf("%d frames, want a reply", len(e.dev.Sent))
	}
	want := make([]byte, 42)
	eth := header.Ethernet(want)
	eth.SetDestination(stacktest.MACB)
	eth.SetSource(stacktest.MACA)
	eth.SetType(header.EtherTypeARP)
	a := header.ARP(want[14:])
	a.SetIPv4OverEthernet(header.ARPOpReply)
	a.SetSender(stacktest.MACA, stacktest.IPA)
	a.SetTarget(stacktest.MACB, stacktest.IPB)
	if !bytes.Equal(e.dev.Sent[0].Frame, want) {
		t.Fatalf("reply\n got %x\nwant %x", e.dev.Sent[0].Frame, want)
	}
	n := e.tbl.Lookup(e.dev.D, stacktest.IPB)
	if n == nil || n.State != NUD_STALE || n.HA != stacktest.MACB || e.tbl.Stats.RcvProbesMcast != 1 {
		t.Fatalf("entry %+v, rcv_probes_mcast %d", n, e.tbl.Stats.RcvProbesMcast)
	}
	e.receive(arpFrame(header.ARPOpRequest, stacktest.Bcast, stacktest.IPB, [4]byte{10, 0, 0, 9}, [6]byte{}))
	g := [4]byte{10, 0, 0, 7}
	garp := arpFrame(header.ARPOpRequest, stacktest.Bcast, g, g, [6]byte{})
	e.receive(garp)
	if len(e.dev.Sent) != 1 || e.tbl.Lookup(e.dev.D, g) != nil {
		t.Fatal("answered a request for another address or created an entry from a gratuitous ARP")
	}
	for _, bad := range [][]byte{garp[:20], append(append([]byte(nil), garp[:18]...), 9, 9)} {
		e.receive(bad)
	}
	if got := e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED]; got != 2 {
		t.Fatalf("malformed ARP drops %d, want 2", got)
	}
	e.audit(t)
}

// TestReachableTimeRandomized: reachable_time is drawn in [base/2, 3base/2)
// at creation and again at the periodic run (every 15 s) more than 300 s
// later, the same for the same seed.
func TestReachableTimeRandomized(t *testing.T) {
	draws := func(seed uint64) []uint64 {
		k := kernelmodel.New(kernelmodel.Config{CPUs: 1})
		tbl := NewTable(k, seed)
		var v []uint64
		for _, at := range []int64{0, 314_999, 315_000, 629_999, 630_000} {
			k.Clock().RunUntil(ms(at))
			v = append(v, tbl.ReachableTime())
		}
		return v
	}
	a, b, c := draws(1), draws(1), draws(2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 1 differs: %v %v", a, b)
		}
		if a[i] < 15000 || a[i] >= 45000 {
			t.Fatalf("draw %d = %d", i, a[i])
		}
	}
	if a[0] != a[1] || a[1] == a[2] || a[2] != a[3] || a[3] == a[4] {
		t.Fatalf("draws %v: want a change at 315 s and 630 s only", a)
	}
	if a[0] == c[0] && a[2] == c[2] {
		t.Fatal("seeds 1 and 2 draw the same")
	}
}

// TestNeighBroadcastReplyStale: a reply that arrives broadcast makes an
// INCOMPLETE entry STALE (not REACHABLE) and unconfirmed — confirmed is set
// 2·base_reachable_time in the past, before the clock's start — so the
// queued packet goes out, DELAY follows and, with no confirmation, PROBE
// after delay_first_probe_time. (FuzzARP found the jiffies comparison
// wrapping here: the entry went REACHABLE and its timer spun.)
func TestNeighBroadcastReplyStale(t *testing.T) {
	e := newEnv(t)
	e.tbl.Output(e.dev.D, stacktest.IPB, e.ipPacket(100))
	e.receive(arpFrame(header.ARPOpReply, stacktest.Bcast, stacktest.IPB, stacktest.IPA, stacktest.MACA))
	n := e.tbl.Lookup(e.dev.D, stacktest.IPB)
	if n.State != NUD_DELAY || len(e.dev.Sent) != 2 {
		t.Fatalf("after a broadcast reply: %s, %d frames", StateName(n.State), len(e.dev.Sent))
	}
	ts := e.k.Clock().Now()
	e.runTo(ts + ms(5001))
	if n.State != NUD_PROBE || len(e.dev.Sent) != 3 {
		t.Fatalf("after delay_first_probe_time: %s, %d frames", StateName(n.State), len(e.dev.Sent))
	}
	e.runTo(ts + ms(8001))
	if n.State != NUD_FAILED || len(e.dev.Sent) != 5 {
		t.Fatalf("%s, %d frames", StateName(n.State), len(e.dev.Sent))
	}
	e.audit(t)
}
