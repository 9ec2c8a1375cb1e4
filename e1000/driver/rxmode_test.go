package driver_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/kernelmodel"
)

// TestSetRxMode: e1000_set_rx_mode as the kernel's address lists and flags
// drive it — a secondary unicast address and joined multicast groups pass
// the exact filters (RAR 1-14), groups beyond them the MTA hash; leaving
// a group filters it again; IFF_ALLMULTI takes every group, IFF_PROMISC
// everything.
func TestSetRxMode(t *testing.T) {
	tb := upE1000(t, driver.Options{})
	h := tb.B
	nd := h.Dev
	uc := [6]byte{0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF}
	group := func(i int) [6]byte { return [6]byte{0x01, 0x00, 0x5E, 0x00, byte(i >> 8), byte(i)} }
	const nGroups = 20 // 14 exact filters, then the hash
	seen := map[[6]byte]int{}
	h.Kernel.DevAddPack(&kernelmodel.PacketType{Type: 0x88B5, Func: func(skb *kernelmodel.SKB) {
		seen[[6]byte(skb.MAC())]++
		h.Kernel.ConsumeSKB(skb)
	}})
	dsts := [][6]byte{uc, {0x52, 0x54, 0x00, 0x11, 0x11, 0x11}}
	for i := 0; i < nGroups+1; i++ {
		dsts = append(dsts, group(i))
	}
	// recv sends one frame to each destination and reports which arrived.
	recv := func() map[[6]byte]bool {
		clear(seen)
		for _, d := range dsts {
			p := make([]byte, 60)
			copy(p, d[:])
			copy(p[6:], tb.A.Dev.Addr[:])
			binary.BigEndian.PutUint16(p[12:], 0x88B5)
			nicModel(h).Receive(p)
			tb.Clock.RunFor(20 * time.Microsecond)
		}
		tb.Clock.RunFor(2 * time.Millisecond)
		got := map[[6]byte]bool{}
		for d, n := range seen {
			got[d] = n > 0
		}
		return got
	}
	joined := func(n int) map[[6]byte]bool {
		m := map[[6]byte]bool{}
		for i := 0; i < n; i++ {
			m[group(i)] = true
		}
		return m
	}
	with := func(m map[[6]byte]bool, more ...[6]byte) map[[6]byte]bool {
		for _, a := range more {
			m[a] = true
		}
		return m
	}
	all := with(joined(nGroups+1), dsts...)
	steps := []struct {
		name string
		do   func() error
		want map[[6]byte]bool
	}{
		{"default", func() error { return nil }, map[[6]byte]bool{}},
		{"dev_uc_add", func() error { nd.DevUcAdd(uc); return nil }, with(map[[6]byte]bool{}, uc)},
		{"dev_mc_add 20 groups", func() error {
			for i := 0; i < nGroups; i++ {
				if err := nd.DevMcAdd(group(i)); err != nil {
					return err
				}
			}
			return nil
		}, with(joined(nGroups), uc)},
		{"dev_mc_del a hashed group", func() error { return nd.DevMcDel(group(nGroups - 1)) }, with(joined(nGroups-1), uc)},
		{"allmulti", func() error { return nd.DevSetAllmulti(1) }, with(joined(nGroups+1), uc)},
		{"allmulti off, promisc", func() error {
			if err := nd.DevSetAllmulti(-1); err != nil {
				return err
			}
			return nd.DevSetPromiscuity(1)
		}, all},
		{"promisc off, uc del", func() error {
			if err := nd.DevSetPromiscuity(-1); err != nil {
				return err
			}
			return nd.DevUcDel(uc)
		}, joined(nGroups - 1)},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := recv()
		for _, d := range dsts {
			if got[d] != st.want[d] {
				t.Errorf("%s: frame to %x received %v, want %v (RCTL %#x)", st.name, d, got[d], st.want[d], nicModel(h).BAR(0).Read32(e1000.RCTL))
			}
		}
	}
	settle(t, tb)
}
