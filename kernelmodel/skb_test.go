//go:build !nicbed_debug

package kernelmodel

import (
	"strings"
	"testing"
)

// A second kfree_skb/consume_skb of an skb is counted and ignored: the skb
// is on the free list once, so the pool hands out distinct skbs after it.
func TestSKBDoubleFreeCounted(t *testing.T) {
	for _, tc := range []struct {
		name string
		free func(k *Kernel, s *SKB)
	}{
		{"kfree_skb", func(k *Kernel, s *SKB) { k.KfreeSKB(s, SKB_DROP_REASON_NOT_SPECIFIED) }},
		{"consume_skb", func(k *Kernel, s *SKB) { k.ConsumeSKB(s) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(Config{CPUs: 1})
			s := k.AllocSKB(100)
			id := s.ID
			k.ConsumeSKB(s)
			if err := k.SKBAudit(); err != nil {
				t.Fatalf("audit after one free: %v", err)
			}
			tc.free(k, s)
			if k.Drops.SKB.DoubleFree != 1 || k.Drops.SKB.LastID != id || k.Drops.SKB.LastOp != tc.name {
				t.Errorf("double free not recorded: %+v", k.Drops.SKB)
			}
			if n := k.SKBsInUse(); n != 0 {
				t.Errorf("skbs in use %d after a double free, want 0", n)
			}
			if k.Drops.Reason[SKB_DROP_REASON_NOT_SPECIFIED] != 0 {
				t.Errorf("the double free counted a drop")
			}
			a, b := k.AllocSKB(100), k.AllocSKB(100)
			if a == b {
				t.Fatal("the pool handed one skb out twice")
			}
			if !a.Live() || !b.Live() {
				t.Error("allocated skb not live")
			}
			err := k.SKBAudit()
			if err == nil || !strings.Contains(err.Error(), "2 live") || !strings.Contains(err.Error(), "1 double free") {
				t.Errorf("audit: %v", err)
			}
		})
	}
}

// A freed skb handed to an entry point is a use after free: counted, not
// delivered, not sent. Freeing clears its references.
func TestSKBUseAfterFree(t *testing.T) {
	k := New(Config{CPUs: 1})
	d := newTestDev(t, k, 0)
	sent := 0
	d.dev.Ops = &xmitOps{k: k, rc: NETDEV_TX_OK, sent: &sent}
	got := 0
	k.DevAddPack(&PacketType{Type: 0x88b5, Func: func(s *SKB) { got++; k.ConsumeSKB(s) }})
	s := k.AllocSKB(60)
	s.Put(60)
	s.Protocol = 0x88b5
	s.Dev = d.dev
	s.Next = k.AllocSKB(60)
	k.ConsumeSKB(s.Next)
	k.ConsumeSKB(s)
	if s.Dev != nil || s.Next != nil || s.Data != nil || s.Live() {
		t.Errorf("freed skb keeps references: dev %v next %v data %d live %v", s.Dev, s.Next, len(s.Data), s.Live())
	}
	if rc := k.DevQueueXmit(s); rc != NET_XMIT_DROP || sent != 0 {
		t.Errorf("dev_queue_xmit of a freed skb: rc %d, driver called %d times", rc, sent)
	}
	k.NetifReceiveSKB(s)
	if got != 0 {
		t.Error("a freed skb was delivered")
	}
	if k.Drops.SKB.UseAfterFree != 2 || k.Drops.SKB.LastOp != "netif_receive_skb" {
		t.Errorf("use after free: %+v", k.Drops.SKB)
	}
	if err := k.SKBAudit(); err == nil || !strings.Contains(err.Error(), "2 use after free") {
		t.Errorf("audit: %v", err)
	}
}
