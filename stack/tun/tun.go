// Package tun is a tun device (drivers/net/tun.c opened with
// IFF_TUN|IFF_NO_PI): a raw IP link with no link-layer header, whose far
// end is the caller instead of a wire, so that a test can script a peer
// packet by packet in virtual time.
//
// The net_device is ARPHRD_NONE with IFF_POINTOPOINT|IFF_NOARP|
// IFF_MULTICAST and no hardware address, as tun_net_init makes it: the
// neighbour layer sends straight to it (neigh_direct_output), never ARPs.
// What the stack transmits (tun_net_xmit) goes to the caller — to Out,
// called with each IP packet at the moment it is sent, or, without Out,
// to a read queue of TUN_READQ_SIZE (500) packets that Read empties (a
// full queue drops: tx_dropped, FULL_RING). Write is tun_get_user: the
// packet's protocol comes from its version nibble (4: ETH_P_IP, 6:
// ETH_P_IPV6, else EINVAL and rx_dropped) and it is received through
// netif_rx (the backlog, then NET_RX in softirq). Linux 6.1's tun without
// IFF_NAPI calls netif_receive_skb with bottom halves off from the
// writer's context; netif_rx, which kernels with 4K stacks use, defers the
// same receive to the softirq, which is what the model's clock can order.
package tun

import (
	"syscall"

	"github.com/nicbed/nicbed/kernelmodel"
)

// TUN_READQ_SIZE is the read queue's length (tx_queue_len of a tun).
const TUN_READQ_SIZE = 500

// Device is a struct tun_struct with one queue (tun_file).
type Device struct {
	K *kernelmodel.Kernel
	D *kernelmodel.NetDevice
	// Out, if set, gets each IP packet the device transmits, valid only
	// during the call (the skb is freed after it). It runs in the
	// transmitting context and must not call Write there: a scripted peer
	// answers through the clock (Clock().AfterFunc).
	Out func(pkt []byte)

	queue kernelmodel.SKBHead // tfile->tx_ring without Out
}

// New is a TUNSETIFF that creates the device name on k (registered, down;
// bring it up with DevOpen in a task or Up).
func New(k *kernelmodel.Kernel, name string) (*Device, error) {
	d := k.AllocEtherdev(name, 1, 1)
	d.Type = kernelmodel.ARPHRD_NONE
	d.Flags = kernelmodel.IFF_POINTOPOINT | kernelmodel.IFF_NOARP | kernelmodel.IFF_MULTICAST
	d.Addr = [6]byte{}
	d.MTU = 1500
	t := &Device{K: k, D: d}
	d.Ops = t
	if err := k.RegisterNetdev(d); err != nil {
		return nil, err
	}
	return t, nil
}

// Open is ndo_open (tun_net_open): start the queue; the carrier is on
// while a file is attached, which it always is here.
func (t *Device) Open(*kernelmodel.Task) error {
	t.D.NetifStartQueue()
	t.D.NetifCarrierOn()
	return nil
}

// Stop is ndo_stop (tun_net_close).
func (t *Device) Stop(*kernelmodel.Task) error { return nil }

// StartXmit is tun_net_xmit(): the packet (Data at the IP header) goes to
// Out or the read queue.
func (t *Device) StartXmit(skb *kernelmodel.SKB) kernelmodel.NetdevTx {
	k := t.K
	if t.Out == nil && t.queue.Len() >= TUN_READQ_SIZE {
		t.D.Stats.TxDropped++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_FULL_RING)
		return kernelmodel.NETDEV_TX_OK
	}
	t.D.Stats.TxPackets++
	t.D.Stats.TxBytes += uint64(skb.Len())
	if skb.Destructor != nil { // skb_orphan: the ring holds it, not the socket
		skb.Destructor(skb)
		skb.Destructor = nil
	}
	skb.Sk = nil
	if t.Out != nil {
		t.Out(skb.Data)
		k.ConsumeSKB(skb)
		return kernelmodel.NETDEV_TX_OK
	}
	t.queue.QueueTail(skb)
	return kernelmodel.NETDEV_TX_OK
}

// Read is tun_do_read() without blocking: the oldest queued packet,
// copied into p (truncated to len(p), as a short read of a tun is), and
// its length; EAGAIN when the queue is empty.
func (t *Device) Read(p []byte) (int, error) {
	skb := t.queue.Dequeue()
	if skb == nil {
		return 0, syscall.EAGAIN
	}
	n := copy(p, skb.Data)
	t.K.ConsumeSKB(skb)
	return n, nil
}

// Queued is the number of packets waiting to be read.
func (t *Device) Queued() int { return t.queue.Len() }

// Write is tun_get_user(): pkt is received as if it came in on the
// device. EIO while the device is down, EINVAL for an empty packet or one
// of neither IP version (rx_dropped).
func (t *Device) Write(pkt []byte) error {
	k := t.K
	if !t.D.IsUp() {
		return syscall.EIO
	}
	if len(pkt) == 0 || len(pkt) > 65535 {
		return syscall.EINVAL
	}
	var proto uint16
	switch pkt[0] >> 4 {
	case 4:
		proto = kernelmodel.ETH_P_IP
	case 6:
		proto = kernelmodel.ETH_P_IPV6
	default:
		t.D.Stats.RxDropped++
		return syscall.EINVAL
	}
	skb := k.AllocSKB(len(pkt))
	b := skb.Put(len(pkt))
	if b == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOMEM)
		t.D.Stats.RxDropped++
		return syscall.ENOMEM
	}
	copy(b, pkt)
	skb.Dev = t.D
	skb.Protocol = proto
	skb.PktType = kernelmodel.PACKET_HOST
	skb.MACHeader = skb.BufOffset() // skb_reset_mac_header: no link header
	skb.NetHeader = skb.BufOffset()
	t.D.Stats.RxPackets++
	t.D.Stats.RxBytes += uint64(len(pkt))
	k.NetifRx(skb)
	return nil
}

// Close is closing the tun file: the unread packets are freed.
func (t *Device) Close() {
	for skb := t.queue.Dequeue(); skb != nil; skb = t.queue.Dequeue() {
		t.K.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
	}
}
