package stacktest

import (
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// Loopback is a minimal loopback net_device for the stack's tests
// (drivers/net/loopback.c's shape until the kernel model has its own): type
// ARPHRD_LOOPBACK, IFF_LOOPBACK, MTU 65536, address 00:00:00:00:00:00;
// ndo_start_xmit is loopback_xmit — the skb itself goes back up through
// eth_type_trans and netif_rx, its skb->cb (and so the IPv4 layer's note of
// the output route) kept.
type Loopback struct {
	K *kernelmodel.Kernel
	D *kernelmodel.NetDevice
}

// Open is ndo_open.
func (l *Loopback) Open(*kernelmodel.Task) error {
	l.D.NetifStartQueue()
	l.D.NetifCarrierOn()
	return nil
}

// Stop is ndo_stop.
func (l *Loopback) Stop(*kernelmodel.Task) error { return nil }

// StartXmit is loopback_xmit().
func (l *Loopback) StartXmit(skb *kernelmodel.SKB) kernelmodel.NetdevTx {
	if skb.Destructor != nil { // skb_orphan
		skb.Destructor(skb)
		skb.Destructor = nil
	}
	skb.Sk = nil
	n := uint64(skb.Len())
	l.K.EthTypeTrans(skb, l.D)
	if l.K.NetifRx(skb) == kernelmodel.NET_RX_SUCCESS {
		l.D.Stats.TxPackets++
		l.D.Stats.TxBytes += n
		l.D.Stats.RxPackets++
		l.D.Stats.RxBytes += n
	}
	return kernelmodel.NETDEV_TX_OK
}

// NewLoopback registers lo on k and brings it up.
func NewLoopback(k *kernelmodel.Kernel) (*Loopback, error) {
	d := k.AllocEtherdev("lo", 1, 1)
	d.Type = kernelmodel.ARPHRD_LOOPBACK
	d.Flags = kernelmodel.IFF_LOOPBACK
	d.MTU = 65536
	l := &Loopback{K: k, D: d}
	d.Ops = l
	if err := k.RegisterNetdev(d); err != nil {
		return nil, err
	}
	var err error
	k.Spawn(0, "ip-link-up-lo", func(t *kernelmodel.Task) { err = d.DevOpen(t) })
	k.Clock().RunFor(time.Millisecond)
	return l, err
}
