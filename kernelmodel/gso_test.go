package kernelmodel

import (
	"bytes"
	"testing"
)

// TestSKBCopyExpand: skb_copy_expand gives a new skb with the data, the
// MAC header before it, the metadata and the header offsets moved with the
// data, the room asked for, and leaves the original alone; both free
// cleanly.
func TestSKBCopyExpand(t *testing.T) {
	k := New(Config{CPUs: 1})
	d := k.AllocEtherdev("eth0", 1, 1)
	s := k.AllocSKB(200)
	frame := make([]byte, 100)
	for i := range frame {
		frame[i] = byte(i)
	}
	frame[12], frame[13] = 0x08, 0x00
	copy(s.Put(len(frame)), frame)
	k.EthTypeTrans(s, d)
	s.TransHeader = s.NetHeader + 20
	s.Hash, s.Mark, s.IPSummed, s.GSOSize, s.CB[3] = 7, 9, CHECKSUM_UNNECESSARY, 1448, 42
	for _, tc := range []struct{ head, tail int }{{s.Headroom(), 65000}, {14, 10}, {4, 0}} {
		c := k.SKBCopyExpand(s, tc.head, tc.tail)
		if c == nil || c == s || c.ID == s.ID {
			t.Fatalf("copy %+v: %v", tc, c)
		}
		if !bytes.Equal(c.Data, s.Data) || c.Headroom() != tc.head || c.Tailroom() < tc.tail {
			t.Errorf("copy %+v: %d bytes, headroom %d, tailroom %d", tc, c.Len(), c.Headroom(), c.Tailroom())
		}
		if tc.head >= 14 {
			if !bytes.Equal(c.MAC(), frame[:14]) || c.NetHeader != c.BufOffset() || c.TransHeader != c.NetHeader+20 {
				t.Errorf("copy %+v: MAC %x, net %d trans %d at %d", tc, c.MAC(), c.NetHeader, c.TransHeader, c.BufOffset())
			}
		} else if c.MACHeader != -1 {
			t.Errorf("copy %+v: MAC header %d in headroom not copied", tc, c.MACHeader)
		}
		if c.Dev != d || c.Protocol != ETH_P_IP || c.Hash != 7 || c.Mark != 9 || c.IPSummed != CHECKSUM_UNNECESSARY || c.GSOSize != 1448 || c.CB[3] != 42 || c.Cloned() || s.Cloned() {
			t.Errorf("copy %+v: metadata %+v", tc, c)
		}
		c.Data[0] ^= 0xff
		if s.Data[0] != frame[14] {
			t.Error("the copy shares the original's data")
		}
		k.ConsumeSKB(c)
	}
	k.ConsumeSKB(s)
	if err := k.SKBAudit(); err != nil {
		t.Fatal(err)
	}
	if skbDebugPanic {
		return // a use after free panics (TestSKBDebugPanics)
	}
	if k.SKBCopyExpand(s, 0, 0) != nil || k.Drops.SKB.UseAfterFree != 1 {
		t.Error("copy of a freed skb")
	}
}
