// Package xmittest holds what the e1000 and igb drivers' transmit tests
// share on a two-host testbed.
package xmittest

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// EtherType is the local experimental EtherType (IEEE 802 88B5) the
// sequenced frames carry.
const EtherType = 0x88B5

// SendSequenced sends n 200-byte frames from A to B through
// dev_queue_xmit in a task of A, each carrying its index after the
// Ethernet header, and fails t unless B receives every one, in order,
// within a second of virtual time.
func SendSequenced(t testing.TB, tb *testbed.Testbed, n int) {
	t.Helper()
	var got []uint16
	tb.B.Kernel.DevAddPack(&kernelmodel.PacketType{Type: EtherType, Func: func(skb *kernelmodel.SKB) {
		got = append(got, binary.BigEndian.Uint16(skb.Data))
		tb.B.Kernel.ConsumeSKB(skb)
	}})
	err := tb.RunTask(tb.A, "send", time.Second, func(task *kernelmodel.Task) error {
		k := tb.A.Kernel
		for i := 0; i < n; i++ {
			skb := k.AllocSKB(200)
			p := skb.Put(200)
			copy(p, tb.B.Dev.Addr[:])
			copy(p[6:], tb.A.Dev.Addr[:])
			binary.BigEndian.PutUint16(p[12:], EtherType)
			binary.BigEndian.PutUint16(p[14:], uint16(i))
			skb.Dev = tb.A.Dev
			if rc := k.DevQueueXmit(skb); rc != kernelmodel.NET_XMIT_SUCCESS {
				t.Errorf("frame %d: dev_queue_xmit %d", i, rc)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tb.Clock.RunWhile(func() bool { return len(got) < n }, tb.Clock.Now()+time.Second)
	if len(got) != n {
		t.Fatalf("B received %d of %d", len(got), n)
	}
	for i, seq := range got {
		if seq != uint16(i) {
			t.Fatalf("frame %d carries %d: reordered", i, seq)
		}
	}
}
