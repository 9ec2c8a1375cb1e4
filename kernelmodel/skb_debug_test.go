//go:build nicbed_debug

package kernelmodel

import (
	"errors"
	"testing"
)

// Built with nicbed_debug, an skb lifetime error panics at the faulty call
// with an *SKBError.
func TestSKBDebugPanics(t *testing.T) {
	for _, tc := range []struct {
		name, op, kind string
		bad            func(k *Kernel, s *SKB)
	}{
		{"double kfree_skb", "kfree_skb", "double free", func(k *Kernel, s *SKB) { k.KfreeSKB(s, SKB_DROP_REASON_NOT_SPECIFIED) }},
		{"double consume_skb", "consume_skb", "double free", func(k *Kernel, s *SKB) { k.ConsumeSKB(s) }},
		{"xmit after free", "dev_queue_xmit", "use after free", func(k *Kernel, s *SKB) { k.DevQueueXmit(s) }},
		{"receive after free", "netif_receive_skb", "use after free", func(k *Kernel, s *SKB) { k.NetifReceiveSKB(s) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(Config{CPUs: 1})
			s := k.AllocSKB(60)
			id := s.ID
			k.ConsumeSKB(s)
			defer func() {
				r := recover()
				e, ok := r.(error)
				var se *SKBError
				if !ok || !errors.As(e, &se) || se.Op != tc.op || se.Kind != tc.kind || se.ID != id {
					t.Fatalf("recovered %v, want an *SKBError %s in %s for skb %d", r, tc.kind, tc.op, id)
				}
			}()
			tc.bad(k, s)
			t.Fatal("no panic")
		})
	}
}
