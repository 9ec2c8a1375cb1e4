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
	// MinMTU and MaxMTU bound dev_set_mtu (ether_setup: 68 and 1500; a
	// MaxMTU of 0 has no bound).
	MinMTU, MaxMTU int
	// UC and MC are dev->uc and dev->mc: secondary unicast addresses and
	// multicast groups (DevUcAdd, DevMcAdd), which ndo_set_rx_mode programs.
	UC, MC HWAddrList
	Ops    NetDeviceOps
	Stats  NetDeviceStats
	// Features are NETIF_F_* bits the driver offers.
	Features uint64
	// Flags are dev->flags' IFF_* bits (IFF_UP set by dev_open, IFF_LOWER_UP
	// by the carrier, IFF_PROMISC and IFF_ALLMULTI by DevSetPromiscuity and
	// DevSetAllmulti; IFF_LOOPBACK, IFF_NOARP, IFF_POINTOPOINT, ...); Type is dev->type
	// (ARPHRD_*): AllocEtherdev makes ARPHRD_ETHER with IFF_BROADCAST |
	// IFF_MULTICAST, as ether_setup does.
	Flags uint32
	Type  uint16
	// PrivFlags are IFF_* private flags (IFF_NO_QUEUE).
	PrivFlags uint32
	// TxQueueLen is tx_queue_len (ip link set txqueuelen; 1000,
	// DEFAULT_TX_QUEUE_LEN): the default qdisc's limit per band, read when
	// the qdisc is made (the first dev_open).
	TxQueueLen int
	// WatchdogTimeo is dev->watchdog_timeo, in jiffies: how long a stopped
	// TX queue may go without transmitting before dev_watchdog calls
	// ndo_tx_timeout (NetDeviceTxTimeout); 0 is 5 * HZ.
	WatchdogTimeo int
	// Driver is the name of the driver (netdev_drivername: the parent
	// device's driver), for the watchdog's message.
	Driver string

	k       *Kernel
	up      bool
	carrier bool
	rx      []RxQueue
	tx      []TxQueue
	qdisc   Qdisc // dev->qdisc: the root qdisc, nil until the first dev_open
	// realNumTx is real_num_tx_queues (0: all of tx).
	realNumTx int

	promiscuity, allmulti int
	ucPromisc             bool
	registered            bool

	watchdogTimer  TimerList // dev->watchdog_timer: dev_watchdog
	watchdogWarned bool      // the NETDEV WATCHDOG message was given
}

// Private flags (IFF_*, enum netdev_priv_flags).
const (
	IFF_NO_QUEUE = 1 << 21 // the device needs no qdisc: noqueue
)

// DEFAULT_TX_QUEUE_LEN is the tx_queue_len of a new device.
const DEFAULT_TX_QUEUE_LEN = 1000

// Feature bits (NETIF_F_*).
const (
	NETIF_F_SG      = 1 << 0
	NETIF_F_IP_CSUM = 1 << 1
	NETIF_F_RXCSUM  = 1 << 2
	NETIF_F_TSO     = 1 << 3
	NETIF_F_HW_VLAN = NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_CTAG_RX
	NETIF_F_RXHASH  = 1 << 5
	NETIF_F_GRO     = 1 << 6
	NETIF_F_HW_CSUM = 1 << 7 // checksum of any protocol (loopback)
)

// RxQueue is a struct netdev_rx_queue: where RPS is configured.
type RxQueue struct {
	rpsMap []int // CPUs from rps_cpus, ascending
}

// TxQueue is a struct netdev_queue.
type TxQueue struct {
	stopped   bool // __QUEUE_STATE_DRV_XOFF: the driver stopped the queue
	stackXoff bool // __QUEUE_STATE_STACK_XOFF: BQL's limit is reached
	dev       *NetDevice
	index     int
	wq        WaitQueueHead // woken by netif_tx_wake_queue (for pktgen)
	// qdisc is txq->qdisc (the active one, noop while the device is down),
	// qdiscSleeping txq->qdisc_sleeping (the queue's own), noop this
	// queue's noop_qdisc.
	qdisc, qdiscSleeping, noop Qdisc
	// DQL is the queue's byte queue limit (dev_queue->dql).
	DQL DQL
	// TransStart is txq->trans_start: the jiffies of the queue's last
	// transmit (netdev_start_xmit, netif_trans_update); TransTimeout is
	// txq->trans_timeout, the times dev_watchdog found it timed out.
	TransStart   uint64
	TransTimeout uint64
	Restarts     uint64
	Stops        uint64
	BQLErrors    uint64 // completions of more bytes than were queued (Linux BUG()s)
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
	d := &NetDevice{Name: name, MTU: 1500, MinMTU: 68, MaxMTU: 1500, TxQueueLen: DEFAULT_TX_QUEUE_LEN, k: k, rx: make([]RxQueue, rxqs), tx: make([]TxQueue, txqs),
		Type: ARPHRD_ETHER, Flags: IFF_BROADCAST | IFF_MULTICAST}
	for i := range d.tx {
		q := &d.tx[i]
		q.dev, q.index = d, i
		q.stopped = true
		q.DQL.dqlInit(k.Jiffies())
	}
	return d
}

// RegisterNetdev is register_netdev(): the device gets the next ifindex
// and the netdev notifiers NETDEV_REGISTER.
func (k *Kernel) RegisterNetdev(d *NetDevice) error {
	if d.Ops == nil {
		return errors.New("register_netdev: no net_device_ops")
	}
	if d.registered {
		return fmt.Errorf("register_netdev: %s is registered", d.Name)
	}
	for _, o := range k.devs {
		if o.Name == d.Name {
			return fmt.Errorf("register_netdev: %s exists", d.Name)
		}
	}
	k.devs = append(k.devs, d)
	k.ifindex++
	d.Ifindex = k.ifindex
	d.registered = true
	d.Features |= NETIF_F_SOFT_FEATURES // GSO and GRO (register_netdevice)
	k.callNetdevNotifiers(NETDEV_REGISTER, d)
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

// DevOpen is dev_open() (ip link set up): ndo_open from a task, IFF_UP,
// the receive mode (ndo_set_rx_mode), the qdiscs (dev_activate), then
// NETDEV_UP.
func (d *NetDevice) DevOpen(t *Task) error {
	if d.up {
		return nil
	}
	if err := d.Ops.Open(t); err != nil {
		return fmt.Errorf("%s: open: %w", d.Name, err)
	}
	d.up = true
	d.Flags |= IFF_UP
	d.devSetRxMode()
	d.k.devActivate(d)
	d.k.callNetdevNotifiers(NETDEV_UP, d)
	return nil
}

// DevClose is dev_close(): the qdiscs go to noop (dev_deactivate), ndo_stop
// from a task, IFF_UP cleared, NETDEV_DOWN.
func (d *NetDevice) DevClose(t *Task) error {
	if !d.up {
		return nil
	}
	d.k.devDeactivate(d)
	d.up = false
	d.Flags &^= IFF_UP
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
// notifiers (NETDEV_CHANGE). On a running device the transmit watchdog
// starts again with fresh trans_start stamps (linkwatch's dev_activate and
// __netdev_watchdog_up; the model's qdiscs stay active without carrier).
func (d *NetDevice) NetifCarrierOn() {
	if !d.carrier {
		d.carrier = true
		d.Flags |= IFF_LOWER_UP
		if d.up {
			d.k.devWatchdogActivate(d)
		}
		d.k.callNetdevNotifiers(NETDEV_CHANGE, d)
	}
}

// NetifCarrierOff is netif_carrier_off().
func (d *NetDevice) NetifCarrierOff() {
	if d.carrier {
		d.carrier = false
		d.Flags &^= IFF_LOWER_UP
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

// NetifSetRealNumTxQueues is netif_set_real_num_tx_queues(): of the TX
// queues allocated, the first n are in use; dev_queue_xmit picks among
// them.
func (d *NetDevice) NetifSetRealNumTxQueues(n int) error {
	if n < 1 || n > len(d.tx) {
		return fmt.Errorf("%s: %d TX queues of %d (-EINVAL)", d.Name, n, len(d.tx))
	}
	d.realNumTx = n
	return nil
}

// RealNumTxQueues is dev->real_num_tx_queues.
func (d *NetDevice) RealNumTxQueues() int {
	if d.realNumTx == 0 {
		return len(d.tx)
	}
	return d.realNumTx
}

// NetifTxStartAllQueues is netif_tx_start_all_queues().
func (d *NetDevice) NetifTxStartAllQueues() {
	for i := range d.tx {
		d.tx[i].Start()
	}
}

// NetifTxWakeAllQueues is netif_tx_wake_all_queues().
func (d *NetDevice) NetifTxWakeAllQueues() {
	for i := range d.tx {
		d.tx[i].Wake()
	}
}

// NetifTxStopAllQueues is netif_tx_stop_all_queues().
func (d *NetDevice) NetifTxStopAllQueues() {
	for i := range d.tx {
		d.tx[i].Stop()
	}
}

// NetifQueueStopped is netif_queue_stopped() on queue 0.
func (d *NetDevice) NetifQueueStopped() bool { return d.tx[0].stopped }

// Stop is netif_tx_stop_queue().
func (q *TxQueue) Stop() {
	if !q.stopped {
		q.Stops++
		q.stopped = true
	}
}

// Stopped is netif_tx_queue_stopped(): the driver stopped the queue
// (pktgen's netif_xmit_frozen_or_drv_stopped).
func (q *TxQueue) Stopped() bool { return q.stopped }

// XmitStopped is netif_xmit_stopped(): the driver stopped the queue or BQL
// did (netif_xmit_frozen_or_stopped; queues are never frozen here).
func (q *TxQueue) XmitStopped() bool { return q.stopped || q.stackXoff }

func (q *TxQueue) frozenOrStopped() bool { return q.stopped || q.stackXoff }

// Wake is netif_tx_wake_queue(): restart a stopped queue, schedule its
// qdisc (__netif_schedule: NET_TX sends what waited) and let pktgen go on.
func (q *TxQueue) Wake() {
	if !q.stopped {
		return
	}
	q.stopped = false
	q.Restarts++
	k := q.dev.k
	k.tracePoint(k.cur, "netif_tx_wake_queue", 0, 0)
	if q.qdisc != nil {
		k.netifSchedule(k.curOr0(), q.qdisc)
	}
	q.wq.WakeUp()
}

// curOr0 is the running CPU, or CPU 0 for code that runs outside any CPU
// (a test, a device model's event).
func (k *Kernel) curOr0() *CPU {
	if c := k.cur; c != nil {
		return c
	}
	return k.cpus[0]
}

// NetdevTxSentQueue is netdev_tx_sent_queue(): the driver queued bytes on
// the ring; past BQL's limit the queue is stopped for the stack
// (__QUEUE_STATE_STACK_XOFF).
func (q *TxQueue) NetdevTxSentQueue(bytes int) {
	q.DQL.dqlQueued(uint32(bytes))
	if q.DQL.Avail() >= 0 {
		return
	}
	q.stackXoff = true
}

// NetdevTxCompletedQueue is netdev_tx_completed_queue(): the device
// finished pkts packets of bytes; BQL adapts its limit and, with room
// again, restarts a queue it stopped (netif_schedule_queue).
func (q *TxQueue) NetdevTxCompletedQueue(pkts, bytes int) {
	if bytes == 0 {
		return
	}
	d := &q.DQL
	if uint32(bytes) > d.NumQueued-d.NumCompleted {
		q.BQLErrors++
	}
	k := q.dev.k
	d.dqlCompleted(uint32(bytes), k.Jiffies())
	if d.Avail() < 0 {
		return
	}
	if q.stackXoff {
		q.stackXoff = false
		if !q.frozenOrStopped() && q.qdisc != nil {
			k.netifSchedule(k.curOr0(), q.qdisc)
		}
	}
}

// NetdevTxResetQueue is netdev_tx_reset_queue(): the ring was emptied
// (BQL starts over).
func (q *TxQueue) NetdevTxResetQueue() {
	q.stackXoff = false
	q.DQL.dqlReset(q.dev.k.Jiffies())
}

// NetdevSentQueue is netdev_sent_queue() on queue 0.
func (d *NetDevice) NetdevSentQueue(bytes int) { d.tx[0].NetdevTxSentQueue(bytes) }

// NetdevCompletedQueue is netdev_completed_queue() on queue 0.
func (d *NetDevice) NetdevCompletedQueue(pkts, bytes int) {
	d.tx[0].NetdevTxCompletedQueue(pkts, bytes)
}

// NetdevResetQueue is netdev_reset_queue() on queue 0.
func (d *NetDevice) NetdevResetQueue() { d.tx[0].NetdevTxResetQueue() }

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

// NetDeviceSelectQueue is ndo_select_queue, which a multi-queue driver may
// implement to pick the TX queue of skb itself.
type NetDeviceSelectQueue interface {
	SelectQueue(skb *SKB) uint16
}

// DevQueueXmit is dev_queue_xmit() (__dev_queue_xmit): it always consumes
// skb. The MAC header is where Data starts; the TX queue is picked
// (netdev_core_pick_tx) and skb handed to the queue's qdisc
// (__dev_xmit_skb: pfifo_fast enqueues, or sends at once when empty, and
// runs the queue; what it cannot send now NET_TX sends later), which
// returns NET_XMIT_SUCCESS, NET_XMIT_DROP (the qdisc was full) or
// NET_XMIT_CN (noop: the device is down). A device without a queue
// (noqueue: loopback) hands skb to the driver (ndo_start_xmit, through
// dev_hard_start_xmit) and returns its code — NET_XMIT_SUCCESS
// (NETDEV_TX_OK), NET_XMIT_DROP/NET_XMIT_CN from a driver that dropped or
// queued it; device down, queue stopped or driver busy free the skb
// (SKB_DROP_REASON_DEV_READY), count tx_dropped and return -ENETDOWN, as
// Linux does for a noqueue device. A device never opened has no qdisc and
// is treated as noqueue. A freed skb is a use after free: counted, not
// touched, NET_XMIT_DROP. From a task, bottom halves are off meanwhile
// (rcu_read_lock_bh) and a NET_TX raised here runs at the end.
func (k *Kernel) DevQueueXmit(skb *SKB) int {
	if !k.skbCheck(skb, "dev_queue_xmit") {
		return NET_XMIT_DROP
	}
	d := skb.Dev
	if d == nil {
		k.KfreeSKB(skb, SKB_DROP_REASON_DEV_READY)
		return -ENETDOWN
	}
	cur := k.cur
	c := k.curOr0()
	bh := cur != nil && !cur.inHardirq
	if bh {
		c.LocalBHDisable()
	}
	skb.MACHeader = skb.head // skb_reset_mac_header
	qdiscPktLenInit(skb)
	txq := k.netdevCorePickTx(d, skb)
	k.tracePointQ(cur, "net_dev_queue", skb.ID, int64(len(skb.Data)), TxQueueName(txq.index))
	var rc int
	if q := txq.qdisc; q != nil && !q.Common().noEnqueue {
		rc = k.devXmitSKB(c, skb, q, d, txq)
	} else {
		rc = k.noqueueXmit(skb, d, txq)
	}
	if bh {
		c.LocalBHEnable()
	}
	return rc
}

// noqueueXmit is __dev_queue_xmit() for a device without enqueue.
func (k *Kernel) noqueueXmit(skb *SKB, d *NetDevice, txq *TxQueue) int {
	if d.up {
		if skb = k.ValidateXmitSKB(skb, d); skb == nil { // GSO, checksum (gso.go)
			return -ENOMEM
		}
		if !txq.frozenOrStopped() {
			rest, rc := k.devHardStartXmit(skb, d, txq)
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

// netdevCorePickTx is netdev_core_pick_tx(): the driver's ndo_select_queue
// if it has one; else, on a multi-queue device, skb_tx_hash — the queue
// skb already names (QueueMapping, a forwarded skb's RX queue; Linux
// records it plus one, the model as it is, so queue 0 is not "recorded")
// or the flow hash scaled to the queues. The choice is stored in
// QueueMapping.
func (k *Kernel) netdevCorePickTx(d *NetDevice, skb *SKB) *TxQueue {
	n := d.RealNumTxQueues()
	qi := 0
	if sel, ok := d.Ops.(NetDeviceSelectQueue); ok {
		qi = int(sel.SelectQueue(skb))
	} else if n > 1 {
		if skb.QueueMapping != 0 {
			qi = int(skb.QueueMapping) % n
		} else {
			qi = int(reciprocalScale(skbTxFlowHash(skb), uint32(n)))
		}
	}
	if qi < 0 || qi >= n {
		qi = 0 // netdev_cap_txqueue
	}
	skb.QueueMapping = uint16(qi)
	return &d.tx[qi]
}

// validateXmitSKBList is validate_xmit_skb_list(): ValidateXmitSKB on each
// skb of a chain (linked through Next), the survivors chained again.
func (k *Kernel) validateXmitSKBList(skb *SKB, d *NetDevice) *SKB {
	var head, tail *SKB
	for skb != nil {
		next := skb.Next
		skb.Next = nil
		if s := k.ValidateXmitSKB(skb, d); s != nil {
			if head == nil {
				head = s
			} else {
				tail.Next = s
			}
			for tail = s; tail.Next != nil; tail = tail.Next {
			}
		}
		skb = next
	}
	return head
}

// devHardStartXmit is dev_hard_start_xmit(): hand the chain skb (linked
// through Next) to the driver one by one (xmit_one), each told whether more
// follow (XmitMore). It stops at an skb the driver did not take
// (NETDEV_TX_BUSY) or when the queue stopped with skbs left, and returns
// those with the code.
func (k *Kernel) devHardStartXmit(skb *SKB, d *NetDevice, txq *TxQueue) (*SKB, int) {
	rc := int(NETDEV_TX_OK)
	for skb != nil {
		next := skb.Next
		skb.Next = nil
		rc = k.xmitOne(skb, d, txq, next != nil)
		if !DevXmitComplete(rc) {
			skb.Next = next
			return skb, rc
		}
		skb = next
		if txq.stopped && skb != nil {
			return skb, int(NETDEV_TX_BUSY)
		}
	}
	return nil, rc
}

// xmitOne is xmit_one(): the taps get a copy (dev_queue_xmit_nit), then
// the driver gets skb (netdev_start_xmit with xmit_more). On NETDEV_TX_BUSY
// the caller still owns skb.
func (k *Kernel) xmitOne(skb *SKB, d *NetDevice, txq *TxQueue, more bool) int {
	if k.devNitActive(d) {
		k.devQueueXmitNit(skb, d)
	}
	id := skb.ID
	q := TxQueueName(int(skb.QueueMapping))
	k.tracePointQ(k.cur, "net_dev_start_xmit", id, int64(len(skb.Data)), q)
	rc := int(d.NetdevStartXmit(skb, txq, more))
	k.tracePointQ(k.cur, "net_dev_xmit", id, int64(rc), q)
	return rc
}

// NetdevStartXmit is netdev_start_xmit(): ndo_start_xmit with xmit_more
// (skb.XmitMore), and on NETDEV_TX_OK the queue's trans_start
// (txq_trans_update), which dev_watchdog reads. pktgen calls it directly.
func (d *NetDevice) NetdevStartXmit(skb *SKB, txq *TxQueue, more bool) NetdevTx {
	skb.XmitMore = more
	rc := d.Ops.StartXmit(skb)
	if rc == NETDEV_TX_OK {
		txq.txqTransUpdate()
	}
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
	if !skb.skbUnref() {
		return // another holder frees it
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
// queue (dev_kfree_skb_irq), then run the qdiscs on its output_queue
// (__netif_schedule). A NET_TX hook set with OpenSoftirq (tests) runs
// last.
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
	c.runOutputQueue()
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
// Type ETH_P_ALL is a tap (ptype_all): it sees every packet received and,
// through dev_queue_xmit_nit, a clone of every packet sent (PACKET_OUTGOING).
// Every handler, tap or not, is given a reference of its own to the skb
// (deliver_skb: skb_get), which it must drop with KfreeSKB or ConsumeSKB
// once done, and may keep until then; an skb others also hold (Shared) must
// not be changed (SKBShareCheck gives a private copy).
type PacketType struct {
	Type uint16
	Dev  *NetDevice // nil: any device
	Func func(skb *SKB)
	// ListFunc is packet_type.list_func (ip_list_rcv): on the list path
	// (gro_normal_list → netif_receive_skb_list) consecutive skbs for this
	// handler come to it as one list, which it empties and whose skbs it
	// owns. Nil: Func is called for each.
	ListFunc func(list *SKBHead)
	// IgnoreOutgoing is ptype->ignore_outgoing (PACKET_IGNORE_OUTGOING):
	// a tap that does not see what is sent.
	IgnoreOutgoing bool
}

// DevAddPack is dev_add_pack().
func (k *Kernel) DevAddPack(pt *PacketType) {
	if pt.Type == ETH_P_ALL {
		k.ptypeAll = append(k.ptypeAll, pt)
		return
	}
	k.ptype = append(k.ptype, pt)
}

// DevRemovePack is dev_remove_pack().
func (k *Kernel) DevRemovePack(pt *PacketType) {
	l := &k.ptype
	if pt.Type == ETH_P_ALL {
		l = &k.ptypeAll
	}
	for i, p := range *l {
		if p == pt {
			*l = append((*l)[:i:i], (*l)[i+1:]...)
			return
		}
	}
}

// deliverSKB is deliver_skb(): a reference for pt (skb_get) and pt's Func.
func (k *Kernel) deliverSKB(skb *SKB, pt *PacketType) {
	skb.users++
	pt.Func(skb)
}

// devNitActive is dev_nit_active(): a tap listens on d.
func (k *Kernel) devNitActive(d *NetDevice) bool {
	for _, pt := range k.ptypeAll {
		if pt.Dev == nil || pt.Dev == d {
			return true
		}
	}
	return false
}

// devQueueXmitNit is dev_queue_xmit_nit(): the taps on d (the global ones,
// then d's) get one clone of skb between them (PACKET_OUTGOING, MAC header
// at Data, network header checked), each its own reference.
func (k *Kernel) devQueueXmitNit(skb *SKB, d *NetDevice) {
	var prev *PacketType
	var skb2 *SKB
	for pass := 0; pass < 2; pass++ {
		for _, pt := range k.ptypeAll {
			if (pass == 0) != (pt.Dev == nil) || (pass == 1 && pt.Dev != d) || pt.IgnoreOutgoing {
				continue
			}
			if prev != nil {
				k.deliverSKB(skb2, prev)
				prev = pt
				continue
			}
			skb2 = k.SKBClone(skb)
			skb2.Tstamp = k.Now()
			skb2.MACHeader = skb2.head
			if skb2.NetHeader < skb2.head || skb2.NetHeader > skb2.head+len(skb2.Data) {
				skb2.NetHeader = skb2.head
			}
			skb2.TransHeader = skb2.NetHeader
			skb2.PktType = PACKET_OUTGOING
			prev = pt
		}
	}
	if prev != nil {
		prev.Func(skb2)
	}
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
// count, then walk the taps (ptype_all: the global ones, then the
// device's) and the handlers of skb's protocol (ptype_base, then the
// device's), each but the last given its own reference at once
// (deliver_skb); the last one (pt_prev) is returned, to be given the skb
// itself. An skb no handler and no tap takes is freed (UNHANDLED_PROTO,
// rx_nohandler) and nil returned.
func (k *Kernel) receiveSKBCoreLookup(c *CPU, skb *SKB) *PacketType {
	c.Softnet.Processed++
	k.Charge(k.Cost.ReceiveSKB)
	k.tracePoint(c, "__netif_receive_skb_core", skb.ID, int64(skb.Protocol))
	d := skb.Dev // the driver counted rx_packets/rx_bytes (as in Linux)
	var prev *PacketType
	for _, l := range [2][]*PacketType{k.ptypeAll, k.ptype} {
		for pass := 0; pass < 2; pass++ {
			for _, pt := range l {
				if (pass == 0) != (pt.Dev == nil) || (pass == 1 && pt.Dev != d) {
					continue
				}
				if pt.Type != ETH_P_ALL && pt.Type != skb.Protocol {
					continue
				}
				if prev != nil {
					if !k.skbCheck(skb, "deliver_skb") {
						return nil
					}
					k.deliverSKB(skb, prev)
				}
				prev = pt
			}
		}
	}
	if prev != nil {
		if !k.skbCheck(skb, "deliver_skb") {
			return nil
		}
		return prev
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
