// Package stacktest is what the stack's tests share: a net_device whose
// ndo_start_xmit records each frame and frees the skb, on a kernel model of
// its own, and frame injection through eth_type_trans and
// netif_receive_skb.
package stacktest

import (
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// Sent is a frame the device transmitted, and when (loop time).
type Sent struct {
	At    time.Duration
	Frame []byte
}

// Dev is a net_device that records what it transmits (Record) or only
// counts it.
type Dev struct {
	K      *kernelmodel.Kernel
	D      *kernelmodel.NetDevice
	Sent   []Sent
	Record bool
	Count  int
}

// Open is ndo_open: start the queue.
func (f *Dev) Open(*kernelmodel.Task) error { f.D.NetifStartQueue(); return nil }

// Stop is ndo_stop.
func (f *Dev) Stop(*kernelmodel.Task) error { return nil }

// StartXmit is ndo_start_xmit: record and consume.
func (f *Dev) StartXmit(skb *kernelmodel.SKB) kernelmodel.NetdevTx {
	f.Count++
	if f.Record {
		f.Sent = append(f.Sent, Sent{f.K.Clock().Now(), append([]byte(nil), skb.Data...)})
	}
	f.K.ConsumeSKB(skb)
	return kernelmodel.NETDEV_TX_OK
}

// New makes a one-CPU kernel with an up device eth0 of address mac that
// records its frames.
func New(mac [6]byte) (*Dev, error) {
	k := kernelmodel.New(kernelmodel.Config{Name: "host", CPUs: 1})
	d := k.AllocEtherdev("eth0", 1, 1)
	d.Addr = mac
	f := &Dev{K: k, D: d, Record: true}
	d.Ops = f
	if err := k.RegisterNetdev(d); err != nil {
		return nil, err
	}
	var err error
	k.Spawn(0, "up", func(t *kernelmodel.Task) { err = d.DevOpen(t) })
	k.Clock().RunFor(time.Millisecond)
	return f, err
}

// Receive injects an Ethernet frame as the driver would hand it up.
func (f *Dev) Receive(frame []byte) {
	skb := f.K.AllocSKB(len(frame))
	copy(skb.Put(len(frame)), frame)
	f.K.EthTypeTrans(skb, f.D)
	f.K.NetifReceiveSKB(skb)
}

// Addresses of the two hosts the stack's tests model (A is the host under
// test, B its peer).
var (
	MACA  = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	MACB  = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x57}
	IPA   = [4]byte{10, 0, 0, 1}
	IPB   = [4]byte{10, 0, 0, 2}
	Bcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)
