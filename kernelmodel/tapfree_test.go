//go:build !nicbed_debug

package kernelmodel

import (
	"strings"
	"testing"
)

// A tap that drops its reference twice is caught by SKBAudit: with a
// handler after it, the handler's delivery finds the skb freed (use after
// free, deliver_skb); as the last taker, its second free is a double free.
func TestTapOverFreeCaught(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler bool
		want    string
	}{
		{"before a handler", true, "use after free"},
		{"last taker", false, "double free"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(Config{CPUs: 1})
			d := k.AllocEtherdev("t0", 1, 1)
			k.DevAddPack(&PacketType{Type: ETH_P_ALL, Func: func(s *SKB) {
				k.ConsumeSKB(s)
				k.ConsumeSKB(s)
			}})
			if tc.handler {
				k.DevAddPack(&PacketType{Type: 0x88b5, Func: func(s *SKB) { k.ConsumeSKB(s) }})
			}
			s := frame60(k, d, d.Addr, 0)
			k.EthTypeTrans(s, d)
			k.NetifReceiveSKB(s)
			err := k.SKBAudit()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("audit %v, want %q", err, tc.want)
			}
		})
	}
}
