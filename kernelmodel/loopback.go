package kernelmodel

// Loopback MTU (LOOPBACK_MTU? loopback_setup: 64 * 1024).
const LoopbackMTU = 64 * 1024

// loopback is drivers/net/loopback.c: a device whose transmit is its
// receive.
type loopback struct {
	k *Kernel
	d *NetDevice
}

// LoopbackInit is loopback_net_init() and the boot's ip link set lo up:
// it registers "lo" (IFF_LOOPBACK, MTU 65536, address 00:00:00:00:00:00,
// IFF_NO_QUEUE so its qdisc is noqueue, checksums not needed) and opens it.
// Everything sent on lo comes back in through netif_rx on the sending CPU's
// backlog (loopback_xmit).
func (k *Kernel) LoopbackInit() (*NetDevice, error) {
	d := k.AllocEtherdev("lo", 1, 1)
	l := &loopback{k: k, d: d}
	d.Ops = l
	d.MTU = LoopbackMTU
	d.MinMTU, d.MaxMTU = 0, 0
	d.Flags = IFF_LOOPBACK
	d.Type = ARPHRD_LOOPBACK
	d.PrivFlags |= IFF_NO_QUEUE
	d.Features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_IP_CSUM | NETIF_F_RXCSUM | NETIF_F_TSO | NETIF_F_TSO6 |
		NETIF_F_LLTX | NETIF_F_LOOPBACK
	if err := k.RegisterNetdev(d); err != nil {
		return nil, err
	}
	// lo has no ndo_open: dev_open needs no task for it.
	if err := d.DevOpen(nil); err != nil {
		return nil, err
	}
	d.NetifCarrierOn()
	return d, nil
}

// Open starts the queue (loopback has no ndo_open; its queue never stops).
func (l *loopback) Open(*Task) error { l.d.NetifStartQueue(); return nil }

// Stop does nothing.
func (l *loopback) Stop(*Task) error { return nil }

// StartXmit is loopback_xmit(): the skb leaves its socket (skb_orphan: the
// destructor runs now), a CHECKSUM_PARTIAL skb needs no checksum on the way
// back in (CHECKSUM_UNNECESSARY: what skb_csum_unnecessary grants it in
// Linux), eth_type_trans makes it a received frame of lo, and netif_rx
// queues it on this CPU's backlog; what the backlog took is counted (lo's
// RX and TX counters are the same, dev_lstats_add).
func (l *loopback) StartXmit(skb *SKB) NetdevTx {
	k := l.k
	skb.Tstamp = 0 // skb_clear_tstamp
	if d := skb.Destructor; d != nil {
		skb.Destructor = nil
		d(skb)
	}
	skb.Sk = nil
	if skb.IPSummed == CHECKSUM_PARTIAL {
		skb.IPSummed = CHECKSUM_UNNECESSARY
	}
	skb.XmitMore = false
	k.EthTypeTrans(skb, l.d)
	n := uint64(skb.Len()) // after eth_type_trans, as loopback_xmit counts
	k.tracePoint(k.cur, "loopback_xmit", skb.ID, int64(n))
	if k.NetifRx(skb) == NET_RX_SUCCESS {
		s := &l.d.Stats
		s.TxPackets++
		s.RxPackets++
		s.TxBytes += n
		s.RxBytes += n
	}
	return NETDEV_TX_OK
}
