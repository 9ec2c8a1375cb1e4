package kernelmodel

import "testing"

// Push and Put beyond the buffer (skb_under_panic/skb_over_panic) are
// reported, leave the skb unchanged and fail the audit; within the bounds
// they work to the last byte of headroom and tailroom.
func TestSKBBoundsReported(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   func(s *SKB) []byte
		ok   bool
	}{
		{"push headroom", func(s *SKB) []byte { return s.Push(s.Headroom()) }, true},
		{"push beyond", func(s *SKB) []byte { return s.Push(s.Headroom() + 1) }, false},
		{"push negative", func(s *SKB) []byte { return s.Push(-1) }, false},
		{"put tailroom", func(s *SKB) []byte { return s.Put(s.Tailroom()) }, true},
		{"put beyond", func(s *SKB) []byte { return s.Put(s.Tailroom() + 1) }, false},
		{"put negative", func(s *SKB) []byte { return s.Put(-5) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(Config{CPUs: 1})
			s := k.AllocSKB(100)
			s.Put(10)
			hr, l := s.Headroom(), s.Len()
			b := tc.op(s)
			if (b != nil) != tc.ok {
				t.Fatalf("returned %d bytes, want ok=%v", len(b), tc.ok)
			}
			if !tc.ok && (s.Headroom() != hr || s.Len() != l) {
				t.Fatalf("a refused op changed the skb: headroom %d len %d", s.Headroom(), s.Len())
			}
			k.ConsumeSKB(s)
			err := k.SKBAudit()
			if tc.ok != (err == nil) || k.Drops.SKB.Overflow != map[bool]uint64{true: 0, false: 1}[tc.ok] {
				t.Fatalf("audit %v, overflow %d", err, k.Drops.SKB.Overflow)
			}
		})
	}
}

// The destructor (skb->destructor) runs once when the skb is freed, with
// the skb still intact; cb, sk and the destructor are cleared for the next
// user of the pooled skb; truesize is the buffer plus SKBOverhead.
func TestSKBDestructorCBTruesize(t *testing.T) {
	k := New(Config{CPUs: 1})
	s := k.AllocSKB(100)
	owner := new(int)
	s.Sk = owner
	s.CB[0] = 7
	calls := 0
	s.Destructor = func(x *SKB) {
		calls++
		if x.Sk != owner || !x.Live() {
			t.Error("destructor ran on a cleared skb")
		}
	}
	if s.Truesize() != NET_SKB_PAD+NET_IP_ALIGN+2048+SKBOverhead {
		t.Fatalf("truesize %d", s.Truesize())
	}
	k.KfreeSKB(s, SKB_DROP_REASON_NOT_SPECIFIED)
	if calls != 1 {
		t.Fatalf("destructor ran %d times", calls)
	}
	for i := 0; i < 16; i++ { // the pool is FIFO: drain until s comes back
		r := k.AllocSKB(100)
		if r == s && (r.Sk != nil || r.Destructor != nil || r.CB != [48]byte{}) {
			t.Fatal("reused skb kept sk, destructor or cb")
		}
	}
}

// Netdev notifiers see NETDEV_UP, NETDEV_CHANGE (carrier, only on a change)
// and NETDEV_DOWN in order.
func TestNetdevNotifier(t *testing.T) {
	k := New(Config{CPUs: 1})
	d := k.AllocEtherdev("eth0", 1, 1)
	d.Ops = nopOps{}
	if err := k.RegisterNetdev(d); err != nil {
		t.Fatal(err)
	}
	var evs []int
	k.RegisterNetdevNotifier(func(ev int, nd *NetDevice) {
		if nd != d {
			t.Error("wrong device")
		}
		evs = append(evs, ev)
	})
	k.Spawn(0, "up", func(tk *Task) {
		d.DevOpen(tk)
		d.NetifCarrierOn()
		d.NetifCarrierOn()
		d.NetifCarrierOff()
		d.DevClose(tk)
	})
	k.Clock().RunFor(1e6)
	want := []int{NETDEV_UP, NETDEV_CHANGE, NETDEV_CHANGE, NETDEV_DOWN}
	if len(evs) != len(want) {
		t.Fatalf("events %v, want %v", evs, want)
	}
	for i := range want {
		if evs[i] != want[i] {
			t.Fatalf("events %v, want %v", evs, want)
		}
	}
}

type nopOps struct{}

func (nopOps) Open(*Task) error          { return nil }
func (nopOps) Stop(*Task) error          { return nil }
func (nopOps) StartXmit(s *SKB) NetdevTx { s.k.ConsumeSKB(s); return NETDEV_TX_OK }

// skb_clone shares the data (dataref 2, both Cloned) and copies the
// header; the buffer stays off the free list until the last user is freed,
// whichever is freed first; SKBCowHead gives a clone its own copy, header
// offsets kept, so writes no longer reach the other.
func TestSKBCloneDataref(t *testing.T) {
	for _, origFirst := range []bool{true, false} {
		k := New(Config{CPUs: 1})
		s := k.AllocSKB(100)
		copy(s.Put(20), "0123456789abcdefghij")
		s.NetHeader = s.BufOffset()
		s.CB[3] = 9
		s.Sk = new(int)
		c := k.SKBClone(s)
		if c == s || c.ID == s.ID || !s.Cloned() || !c.Cloned() || c.CB[3] != 9 || c.Sk != nil || c.NetHeader != s.NetHeader {
			t.Fatalf("clone %+v of %+v", c, s)
		}
		c.Data[0] = 'X'
		if s.Data[0] != 'X' {
			t.Fatal("clone does not share the data")
		}
		first, second := s, c
		if !origFirst {
			first, second = c, s
		}
		k.ConsumeSKB(first)
		if second.Cloned() || string(second.Data[1:]) != "123456789abcdefghij" {
			t.Fatalf("after freeing one: cloned %v data %q", second.Cloned(), second.Data)
		}
		// The shared buffer is not handed out while second holds it.
		var got []*SKB
		for i := 0; i < 40; i++ {
			n := k.AllocSKB(100)
			if &n.Buf()[0] == &second.Buf()[0] {
				t.Fatal("a buffer in use was handed out again")
			}
			got = append(got, n)
		}
		for _, n := range got {
			k.ConsumeSKB(n)
		}
		k.ConsumeSKB(second)
		if err := k.SKBAudit(); err != nil {
			t.Fatal(err)
		}
	}
	k := New(Config{CPUs: 1})
	s := k.AllocSKB(100)
	copy(s.Put(8), "abcdefgh")
	s.NetHeader = s.BufOffset() + 2
	c := k.SKBClone(s)
	if !k.SKBCowHead(c, 200) {
		t.Fatal("cow failed")
	}
	if c.Cloned() || s.Cloned() || c.Headroom() < 200 || string(c.Data) != "abcdefgh" || c.NetHeader != c.BufOffset()+2 {
		t.Fatalf("after cow: cloned %v/%v headroom %d data %q nh %d", c.Cloned(), s.Cloned(), c.Headroom(), c.Data, c.NetHeader-c.BufOffset())
	}
	copy(c.Push(4), "HDR:")
	c.Data[4] = 'A'
	if string(s.Data) != "abcdefgh" || string(c.Data) != "HDR:Abcdefgh" {
		t.Fatalf("cow did not separate: %q %q", s.Data, c.Data)
	}
	k.ConsumeSKB(s)
	k.ConsumeSKB(c)
	if err := k.SKBAudit(); err != nil {
		t.Fatal(err)
	}
}

// The list path (netif_receive_skb_list) runs every skb through the taps
// and hands runs of consecutive skbs for one handler to its list_func
// together, in order; a handler without one gets each skb.
func TestReceiveListPtype(t *testing.T) {
	k := New(Config{CPUs: 1})
	var tapped []uint16
	var lists [][]uint64
	var arps []uint64
	tap := &PacketType{Type: ETH_P_ALL, Func: func(s *SKB) { tapped = append(tapped, s.Protocol); k.ConsumeSKB(s) }}
	k.DevAddPack(tap)
	k.DevAddPack(&PacketType{Type: ETH_P_IP, Func: func(s *SKB) { t.Error("Func called on the list path") }, ListFunc: func(l *SKBHead) {
		var ids []uint64
		for s := l.Dequeue(); s != nil; s = l.Dequeue() {
			ids = append(ids, s.ID)
			k.ConsumeSKB(s)
		}
		lists = append(lists, ids)
	}})
	k.DevAddPack(&PacketType{Type: ETH_P_ARP, Func: func(s *SKB) { arps = append(arps, s.ID); k.ConsumeSKB(s) }})
	var list SKBHead
	var ids []uint64
	for _, p := range []uint16{ETH_P_IP, ETH_P_IP, ETH_P_ARP, ETH_P_IP, ETH_P_IP, ETH_P_IP, 0x1234} {
		s := k.AllocSKB(60)
		s.Protocol = p
		ids = append(ids, s.ID)
		list.QueueTail(s)
	}
	k.netifReceiveSKBListInternal(&list)
	if len(tapped) != 7 || len(lists) != 2 || len(lists[0]) != 2 || len(lists[1]) != 3 || len(arps) != 1 {
		t.Fatalf("taps %v, lists %v, arp %v", tapped, lists, arps)
	}
	if lists[0][0] != ids[0] || lists[0][1] != ids[1] || arps[0] != ids[2] || lists[1][0] != ids[3] || lists[1][2] != ids[5] {
		t.Fatalf("order: lists %v arp %v ids %v", lists, arps, ids)
	}
	// With a tap, an skb of no handler's protocol is the tap's (its
	// pt_prev), not dropped; without one it is dropped.
	if k.Drops.Reason[SKB_DROP_REASON_UNHANDLED_PROTO] != 0 || list.Len() != 0 {
		t.Fatal("a tapped skb of an unknown protocol was dropped")
	}
	k.DevRemovePack(tap)
	s := k.AllocSKB(60)
	s.Protocol = 0x1234
	list.QueueTail(s)
	k.netifReceiveSKBListInternal(&list)
	if k.Drops.Reason[SKB_DROP_REASON_UNHANDLED_PROTO] != 1 || len(tapped) != 7 {
		t.Fatalf("untapped unknown protocol: %d UNHANDLED_PROTO drops, %d tapped", k.Drops.Reason[SKB_DROP_REASON_UNHANDLED_PROTO], len(tapped))
	}
	if err := k.SKBAudit(); err != nil {
		t.Fatal(err)
	}
}
