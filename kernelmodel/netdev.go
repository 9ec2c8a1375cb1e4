package kernelmodel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// NetdevTx is netdev_tx_t, what ndo_start_xmit returns.
type NetdevTx int

// Values of NetdevTx.
const (
	NETDEV_TX_OK   NetdevTx = 0
	NETDEV_TX_BUSY NetdevTx = 0x10
)

// NetDeviceOps is struct net_device_ops: what a driver implements.
type NetDeviceOps interface {
	// Open is ndo_open: allocate rings, request the irq, enable NAPI and
	// interrupts, start the queue. It runs in a task.
	Open(t *Task) error
	// Stop is ndo_stop: the reverse. It runs in a task.
	Stop(t *Task) error
	// StartXmit is ndo_start_xmit. On NETDEV_TX_OK the driver owns skb; on
	// NETDEV_TX_BUSY the caller keeps it. (A driver may also return
	// NET_XMIT_DROP or NET_XMIT_CN, converted: it consumed skb.)
	StartXmit(skb *SKB) NetdevTx
}

// NetDeviceStats is struct rtnl_link_stats64 (ip -s link).
type NetDeviceStats struct {
	RxPackets, TxPackets uint64
	RxBytes, TxBytes     uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
	Multicast            uint64
	RxLengthErrors       uint64
	RxOverErrors         uint64
	RxCRCErrors          uint64
	RxFIFOErrors         uint64
	RxMissedErrors       uint64
	TxAbortedErrors      uint64
	TxCarrierErrors      uint64
	TxFIFOErrors         uint64
	RxNoHandler          uint64
}

// NetDevice is a struct net_device.
type NetDevice struct {
	Name    string
	Ifindex int
	Addr    [6]byte
	MTU     int
	Ops     NetDeviceOps
	Stats   NetDeviceStats
	// Features are NETIF_F_* bits the driver offers.
	Features uint64
	// Flags are dev->flags' IFF_* bits the stack reads (IFF_LOOPBACK,
	// IFF_NOARP, IFF_POINTOPOINT, ...; up is IsUp); Type is dev->type
	// (ARPHRD_*): AllocEtherdev makes ARPHRD_ETHER with IFF_BROADCAST |
	// IFF_MULTICAST, as ether_setup does.
	Flags uint32
	Type  uint16

	k       *Kernel
	up      bool
	carrier bool
	rx      []RxQueue
	tx      []TxQueue
}

// Feature bits (NETIF_F_*).
const (
	NETIF_F_SG      = 1 << 0
	NETIF_F_IP_CSUM = 1 << 1
	NETIF_F_RXCSUM  = 1 << 2
	NETIF_F_TSO     = 1 << 3
	NETIF_F_HW_VLAN = 1 << 4
	NETIF_F_RXHASH  = 1 << 5
	NETIF_F_GRO     = 1 << 6
)

// RxQueue is a struct netdev_rx_queue: where RPS is configured.
type RxQueue struct {
	rpsMap []int // CPUs from rps_cpus, ascending
}

// TxQueue is a struct netdev_queue.
type TxQueue struct {
	stopped  bool
	dev      *NetDevice
	wq       WaitQueueHead // woken by netif_tx_wake_queue (for pktgen and dev_queue_xmit)
	Restarts uint64
	Stops    uint64
}

// AllocEtherdev is alloc_etherdev_mqs(): a net_device with n TX and RX
// queues.
func (k *Kernel) AllocEtherdev(name string, txqs, rxqs int) *NetDevice {
	if txqs < 1 {
		txqs = 1
	}
	if rxqs < 1 {
		rxqs = 1
	}
	d := &NetDevice{Name: name, MTU: 1500, k: k, rx: make([]RxQueue, rxqs), tx: make([]TxQueue, txqs),
		Type: ARPHRD_ETHER, Flags: IFF_BROADCAST | IFF_MULTICAST}
	for i := range d.tx {
		d.tx[i].dev = d
		d.tx[i].stopped = true
	}
	return d
}

// RegisterNetdev is register_netdev().
func (k *Kernel) RegisterNetdev(d *NetDevice) error {
	if d.Ops == nil {
		return errors.New("register_netdev: no net_device_ops")
	}
	for _, o := range k.devs {
		if o.Name == d.Name {
			return fmt.Errorf("register_netdev: %s exists", d.Name)
		}
	}
	k.devs = append(k.devs, d)
	d.Ifindex = len(k.devs)
	d.Features |= NETIF_F_SOFT_FEATURES // GSO and GRO (register_netdevice)
	return nil
}

// DevGetByName is dev_get_by_name().
func (k *Kernel) DevGetByName(name string) *NetDevice {
	for _, d := range k.devs {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Kernel is the device's kernel.
func (d *NetDevice) Kernel() *Kernel { return d.k }

// DevOpen is dev_open() (ip link set up): calls ndo_open from a task.
func (d *NetDevice) DevOpen(t *Task) error {
	if d.up {
		return nil
	}
	if err := d.Ops.Open(t); err != nil {
		return fmt.Errorf("%s: open: %w", d.Name, err)
	}
	d.up = true
	d.k.callNetdevNotifiers(NETDEV_UP, d)
	return nil
}

// DevClose is dev_close(): calls ndo_stop from a task.
func (d *NetDevice) DevClose(t *Task) error {
	if !d.up {
		return nil
	}
	d.up = false
	err := d.Ops.Stop(t)
	d.k.callNetdevNotifiers(NETDEV_DOWN, d)
	return err
}

// Netdev notifier events (NETDEV_*, include/linux/netdevice.h).
const (
	NETDEV_UP     = 0x1
	NETDEV_DOWN   = 0x2
	NETDEV_CHANGE = 0x4 // carrier (operstate) changed, as linkwatch reports it
)

// RegisterNetdevNotifier is register_netdevice_notifier(): fn is called
// after a device goes up (NETDEV_UP) or down (NETDEV_DOWN) and when its
// carrier changes (NETDEV_CHANGE, which Linux's linkwatch sends). fn runs in
// the context of the change (a task, the driver's watchdog): it must not
// transmit there, but may spawn a task that does.
func (k *Kernel) RegisterNetdevNotifier(fn func(event int, d *NetDevice)) {
	k.netdevNotifiers = append(k.netdevNotifiers, fn)
}

func (k *Kernel) callNetdevNotifiers(event int, d *NetDevice) {
	for _, fn := range k.netdevNotifiers {
		fn(event, d)
	}
}

// IsUp is netif_running().
func (d *NetDevice) IsUp() bool { return d.up }

// NetifCarrierOn is netif_carrier_on(); a change is reported to the netdev
// notifiers (NETDEV_CHANGE).
func (d *NetDevice) NetifCarrierOn() {
	if !d.carrier {
		d.carrier = true
		d.k.callNetdevNotifiers(NETDEV_CHANGE, d)
	}
}

// NetifCarrierOff is netif_carrier_off().
func (d *NetDevice) NetifCarrierOff() {
	if d.carrier {
		d.carrier = false
		d.k.callNetdevNotifiers(NETDEV_CHANGE, d)
	}
}

// NetifCarrierOK is netif_carrier_ok().
func (d *NetDevice) NetifCarrierOK() bool { return d.carrier }

// NumRxQueues is the number of RX queues.
func (d *NetDevice) NumRxQueues() int { return len(d.rx) }

// SetRPSCPUs sets /sys/class/net/<dev>/queues/rx-<q>/rps_cpus: a CPU mask.
func (d *NetDevice) SetRPSCPUs(q int, mask uint64) error {
	if q < 0 || q >= len(d.rx) {
		return fmt.Errorf("%s: no rx queue %d", d.Name, q)
	}
	var m []int
	for c := 0; c < 64; c++ {
		if mask&(1<<c) != 0 {
			if c >= len(d.k.cpus) {
				return fmt.Errorf("%s: rps_cpus %#x names CPU %d of %d", d.Name, mask, c, len(d.k.cpus))
			}
			m = append(m, c)
		}
	}
	d.rx[q].rpsMap = m
	return nil
}

// TxQueue returns TX queue i (netdev_get_tx_queue).
func (d *NetDevice) TxQueue(i int) *TxQueue { return &d.tx[i] }

// NetifStopQueue is netif_stop_queue() on queue 0.
func (d *NetDevice) NetifStopQueue() { d.tx[0].Stop() }

// NetifWakeQueue is netif_wake_queue() on queue 0.
func (d *NetDevice) NetifWakeQueue() { d.tx[0].Wake() }

// NetifStartQueue is netif_start_queue() on queue 0.
func (d *NetDevice) NetifStartQueue() { d.tx[0].stopped = false }

// NetifQueueStopped is netif_queue_stopped() on queue 0.
func (d *NetDevice) NetifQueueStopped() bool { return d.tx[0].stopped }

// Stop is netif_tx_stop_queue().
func (q *TxQueue) Stop() {
	if !q.stopped {
		q.Stops++
		q.stopped = true
	}
}

// Stopped is netif_xmit_stopped().
func (q *TxQueue) Stopped() bool { return q.stopped }

// Wake is netif_tx_wake_queue(): restart a stopped queue and let whoever
// waits to transmit (the qdisc via NET_TX, pktgen) go on.
func (q *TxQueue) Wake() {
	if !q.stopped {
		return
	}
	q.stopped = false
	q.Restarts++
	q.dev.k.tracePoint(q.dev.k.cur, "netif_tx_wake_queue", 0, 0)
	q.wq.WakeUp()
}

// WaitQueue is the wait queue woken when the queue restarts.
func (q *TxQueue) WaitQueue() *WaitQueueHead { return &q.wq }

// Return codes of dev_queue_xmit and of a qdisc's enqueue (NET_XMIT_*,
// include/linux/netdevice.h). dev_queue_xmit returns one of them or a
// negative errno (-ENETDOWN).
const (
	NET_XMIT_SUCCESS = 0x00
	NET_XMIT_DROP    = 0x01 // the packet was dropped
	NET_XMIT_CN      = 0x02 // congestion notification: queued, but slow down
	NET_XMIT_MASK    = 0x0f // the NET_XMIT_* part of a return code
)

// Errno values returned negated, as the kernel does.
const (
	ENETDOWN = 100
	EINVAL   = 22
	ENOSPC   = 28
)

// DevXmitComplete is dev_xmit_complete(): whether a transmit return code
// means the skb was consumed (sent, queued or dropped) — everything but
// NETDEV_TX_BUSY, which leaves it with the caller.
func DevXmitComplete(rc int) bool { return rc < NET_XMIT_MASK }

// DevQueueXmit is dev_queue_xmit() (__dev_queue_xmit) for a device without
// a qdisc (noqueue): it always consumes skb. If the device is up and the
// queue not stopped the driver gets skb (ndo_start_xmit, through
// dev_hard_start_xmit) and its code is returned: NET_XMIT_SUCCESS
// (NETDEV_TX_OK), or NET_XMIT_DROP/NET_XMIT_CN from a driver that dropped or
// queued it. Otherwise — device down, queue stopped, driver busy — the skb is
// freed (SKB_DROP_REASON_DEV_READY), tx_dropped counted, and -ENETDOWN
// returned, as Linux does for a noqueue device. A freed skb is a use after
// free: counted, not touched, NET_XMIT_DROP. The qdisc of the stack sits here
// later (its enqueue returns NET_XMIT_* the same way).
func (k *Kernel) DevQueueXmit(skb *SKB) int {
	if !k.skbCheck(skb, "dev_queue_xmit") {
		return NET_XMIT_DROP
	}
	d := skb.Dev
	if d == nil {
		k.KfreeSKB(skb, SKB_DROP_REASON_DEV_READY)
		return -ENETDOWN
	}
	q := &d.tx[int(skb.QueueMapping)%len(d.tx)]
	if d.up {
		if skb = k.ValidateXmitSKB(skb, d); skb == nil { // GSO, checksum (gso.go)
			return -ENOMEM
		}
		if !q.stopped {
			rc, rest := k.devHardStartXmitList(skb, d, q)
			if DevXmitComplete(rc) {
				return rc
			}
			skb = rest
		}
	}
	d.Stats.TxDropped++ // dev_core_stats_tx_dropped_inc
	k.KfreeSKBList(skb, SKB_DROP_REASON_DEV_READY)
	return -ENETDOWN
}

// devHardStartXmit is dev_hard_start_xmit()/xmit_one(): hand skb to the
// driver. On NETDEV_TX_BUSY the caller still owns skb.
func (k *Kernel) devHardStartXmit(skb *SKB, d *NetDevice) int {
	id := skb.ID
	q := TxQueueName(int(skb.QueueMapping))
	k.tracePointQ(k.cur, "net_dev_start_xmit", id, int64(len(skb.Data)), q)
	rc := int(d.Ops.StartXmit(skb))
	k.tracePointQ(k.cur, "net_dev_xmit", id, int64(rc), q)
	return rc
}

// DevKfreeSKBIRQ is dev_kfree_skb_irq(): free a dropped skb from hardirq
// context (or with interrupts off), where kfree_skb may not run: it goes on
// this CPU's completion queue and NET_TX frees it (net_tx_action).
func (k *Kernel) DevKfreeSKBIRQ(skb *SKB) { k.devFreeSKBIRQ(skb, skbIRQDropped) }

// DevConsumeSKBIRQ is dev_consume_skb_irq(): as DevKfreeSKBIRQ for an skb
// that was used as intended (traced as consume_skb).
func (k *Kernel) DevConsumeSKBIRQ(skb *SKB) { k.devFreeSKBIRQ(skb, skbIRQConsumed) }

// DevKfreeSKBAny is dev_kfree_skb_any(): DevKfreeSKBIRQ in hardirq
// context, KfreeSKB elsewhere.
func (k *Kernel) DevKfreeSKBAny(skb *SKB) {
	if c := k.cur; c != nil && c.inHardirq {
		k.DevKfreeSKBIRQ(skb)
		return
	}
	k.KfreeSKB(skb, SKB_DROP_REASON_NOT_SPECIFIED)
}

// DevConsumeSKBAny is dev_consume_skb_any().
func (k *Kernel) DevConsumeSKBAny(skb *SKB) {
	if c := k.cur; c != nil && c.inHardirq {
		k.DevConsumeSKBIRQ(skb)
		return
	}
	k.ConsumeSKB(skb)
}

// Reasons of __dev_kfree_skb_irq (enum skb_free_reason).
const (
	skbIRQConsumed = 1 // SKB_REASON_CONSUMED
	skbIRQDropped  = 2 // SKB_REASON_DROPPED
)

func (k *Kernel) devFreeSKBIRQ(skb *SKB, reason uint8) {
	if skb == nil {
		return
	}
	if !skb.Live() {
		k.skbFault(skb, "dev_kfree_skb_irq", true)
		return
	}
	c := k.cur
	if c == nil {
		c = k.cpus[0]
	}
	skb.irqFree = reason
	c.Softnet.completionQueue.QueueTail(skb)
	c.RaiseSoftirq(NET_TX_SOFTIRQ)
}

// netTxAction is net_tx_action(): free the skbs on this CPU's completion
// queue (dev_kfree_skb_irq), then run the qdiscs (the model has none yet:
// the NET_TX hook of OpenSoftirq runs here).
func (c *CPU) netTxAction() {
	k := c.k
	q := &c.Softnet.completionQueue
	for skb := q.Dequeue(); skb != nil; skb = q.Dequeue() {
		if skb.irqFree == skbIRQConsumed {
			k.ConsumeSKB(skb)
		} else {
			k.KfreeSKB(skb, SKB_DROP_REASON_NOT_SPECIFIED)
		}
	}
	if h := k.softirqHooks[NET_TX_SOFTIRQ]; h != nil {
		h(c)
	}
}

// EtherType values.
const (
	ETH_P_IP    = 0x0800
	ETH_P_ARP   = 0x0806
	ETH_P_8021Q = 0x8100
	ETH_P_IPV6  = 0x86DD
	ETH_P_ALL   = 0x0003
	ETH_HLEN    = 14
)

// EthTypeTrans is eth_type_trans(): set skb->protocol, pkt_type and dev,
// note the MAC header and pull it.
func (k *Kernel) EthTypeTrans(skb *SKB, d *NetDevice) uint16 {
	skb.Dev = d
	if len(skb.Data) < ETH_HLEN {
		return 0
	}
	skb.MACHeader = skb.head
	dst := skb.Data[0:6]
	switch {
	case dst[0]&1 != 0:
		if dst[0] == 0xff && dst[1] == 0xff && dst[2] == 0xff && dst[3] == 0xff && dst[4] == 0xff && dst[5] == 0xff {
			skb.PktType = PACKET_BROADCAST
		} else {
			skb.PktType = PACKET_MULTICAST
		}
	case [6]byte(dst) != d.Addr:
		skb.PktType = PACKET_OTHERHOST
	default:
		skb.PktType = PACKET_HOST
	}
	skb.Protocol = binary.BigEndian.Uint16(skb.Data[12:14])
	skb.Pull(ETH_HLEN)
	skb.NetHeader = skb.head
	return skb.Protocol
}

// PacketType is a struct packet_type: a protocol handler (dev_add_pack).
// Type ETH_P_ALL sees every packet (taps) and gets a reference it must not
// free; other handlers own the skb they are given.
type PacketType struct {
	Type uint16
	Dev  *NetDevice // nil: any device
	Func func(skb *SKB)
	// ListFunc is packet_type.list_func (ip_list_rcv): on the list path
	// (gro_normal_list → netif_receive_skb_list) consecutive skbs for this
	// handler come to it as one list, which it empties and whose skbs it
	// owns. Nil: Func is called for each.
	ListFunc func(list *SKBHead)
}

// DevAddPack is dev_add_pack().
func (k *Kernel) DevAddPack(pt *PacketType) {
	if pt.Type == ETH_P_ALL {
		k.ptypeAll = append(k.ptypeAll, pt)
		return
	}
	k.ptype = append(k.ptype, pt)
}

// NetifReceiveSKB is netif_receive_skb(): steer by RPS or deliver now. A
// freed skb is a use after free: counted and not touched.
func (k *Kernel) NetifReceiveSKB(skb *SKB) {
	if !k.skbCheck(skb, "netif_receive_skb") {
		return
	}
	c := k.cur
	if c == nil {
		c = k.cpus[0]
	}
	if cpu := k.getRPSCPU(skb); cpu >= 0 {
		k.enqueueToBacklog(skb, k.cpus[cpu])
		return
	}
	k.netifReceiveSKBCore(c, skb)
}

// netifReceiveSKBCore is __netif_receive_skb_core(): taps, then the
// protocol handler.
func (k *Kernel) netifReceiveSKBCore(c *CPU, skb *SKB) {
	if pt := k.receiveSKBCoreLookup(c, skb); pt != nil {
		k.Charge(k.Cost.Deliver)
		pt.Func(skb)
	}
}

// receiveSKBCoreLookup is __netif_receive_skb_core() up to the delivery:
// count, run the taps and find the protocol handler. An skb no handler
// takes is freed (UNHANDLED_PROTO) and nil returned.
func (k *Kernel) receiveSKBCoreLookup(c *CPU, skb *SKB) *PacketType {
	c.Softnet.Processed++
	k.Charge(k.Cost.ReceiveSKB)
	k.tracePoint(c, "__netif_receive_skb_core", skb.ID, int64(skb.Protocol))
	d := skb.Dev // the driver counted rx_packets/rx_bytes (as in Linux)
	for _, pt := range k.ptypeAll {
		if pt.Dev == nil || pt.Dev == d {
			pt.Func(skb)
		}
	}
	for _, pt := range k.ptype {
		if pt.Type == skb.Protocol && (pt.Dev == nil || pt.Dev == d) {
			return pt
		}
	}
	if d != nil {
		d.Stats.RxNoHandler++
	}
	k.KfreeSKB(skb, SKB_DROP_REASON_UNHANDLED_PROTO)
	return nil
}

// netifReceiveSKBListInternal is netif_receive_skb_list_internal() and
// __netif_receive_skb_list_core(): each skb steered by RPS or taken through
// the core (taps, handler lookup); runs of consecutive skbs for one
// handler are delivered together (__netif_receive_skb_list_ptype), to its
// ListFunc if it has one.
func (k *Kernel) netifReceiveSKBListInternal(list *SKBHead) {
	c := k.cur
	if c == nil {
		c = k.cpus[0]
	}
	sub := &c.Softnet.sublist
	var cur *PacketType
	for s := list.Dequeue(); s != nil; s = list.Dequeue() {
		if !k.skbCheck(s, "netif_receive_skb") {
			continue
		}
		if cpu := k.getRPSCPU(s); cpu >= 0 {
			k.enqueueToBacklog(s, k.cpus[cpu])
			continue
		}
		pt := k.receiveSKBCoreLookup(c, s)
		if pt == nil {
			continue
		}
		if pt != cur {
			k.receiveListPtype(cur, sub)
			cur = pt
		}
		sub.QueueTail(s)
	}
	k.receiveListPtype(cur, sub)
}

// receiveListPtype is __netif_receive_skb_list_ptype().
func (k *Kernel) receiveListPtype(pt *PacketType, sub *SKBHead) {
	if pt == nil || sub.Len() == 0 {
		return
	}
	k.Charge(k.Cost.Deliver * time.Duration(sub.Len()))
	if pt.ListFunc != nil {
		pt.ListFunc(sub)
		*sub = SKBHead{}
		return
	}
	for s := sub.Dequeue(); s != nil; s = sub.Dequeue() {
		pt.Func(s)
	}
}
