package kernelmodel

import "time"

// NAPI state bits (enum NAPI_STATE_*).
const (
	NAPI_STATE_SCHED   = 1 << 0 // poll is scheduled
	NAPI_STATE_MISSED  = 1 << 1 // reschedule a napi
	NAPI_STATE_DISABLE = 1 << 2 // disable pending
	NAPI_STATE_NPSVC   = 1 << 3 // netpoll: don't dequeue from poll_list
	NAPI_STATE_LISTED  = 1 << 4 // added to system lists
)

// PollFunc is a NAPI poll function: do at most budget units of RX work and
// return how many were done. A driver that does less than budget must have
// called NAPICompleteDone.
type PollFunc func(n *NAPI, budget int) int

// NAPI is a struct napi_struct.
type NAPI struct {
	Name   string
	Weight int
	Poll   PollFunc
	Dev    *NetDevice

	k     *Kernel
	span  string // trace span name
	state uint32
	cpu   *CPU // whose poll list it is on

	prev, next *NAPI // poll_list linkage
	onList     bool

	rxList  SKBHead // gro_normal list (napi->rx_list)
	rxCount int

	// GRO is where napi_gro_receive hands packets; nil means straight to
	// gro_normal_one (no aggregation). The stack's GRO (SetGRO) is
	// installed here on the instance's first napi_gro_receive.
	GRO GROHandler

	// Counters.
	Polls       uint64 // napi->poll calls
	Completes   uint64 // napi_complete_done that returned true
	Missed      uint64 // napi_complete_done that found MISSED
	WeightUsed  uint64 // polls that used the whole weight
	ScheduleCnt uint64 // napi_schedule that scheduled
	OverBudget  uint64 // polls that returned more than the weight
}

// GROHandler is the GRO engine a NAPI instance feeds (dev_gro_receive and
// napi_gro_flush).
type GROHandler interface {
	// Receive takes ownership of skb: merge it, hold it, or pass it on
	// with n.GRONormalOne.
	Receive(n *NAPI, skb *SKB)
	// Flush passes on what is held; old reports flush of packets older than
	// a jiffy only (napi_gro_flush(n, flush_old)).
	Flush(n *NAPI, old bool)
}

// NetifNAPIAdd is netif_napi_add_weight(): register poll for dev. Weight 0
// means NAPI_POLL_WEIGHT (64). The instance starts disabled, as in Linux:
// NAPIEnable it in ndo_open.
func (k *Kernel) NetifNAPIAdd(dev *NetDevice, n *NAPI, poll PollFunc, weight int) {
	if weight <= 0 {
		weight = NAPIPollWeight
	}
	n.k, n.Dev, n.Poll, n.Weight = k, dev, poll, weight
	n.state = NAPI_STATE_SCHED | NAPI_STATE_NPSVC | NAPI_STATE_LISTED
	if n.Name == "" && dev != nil {
		n.Name = dev.Name
	}
	n.span = "napi_poll " + n.Name
}

// State returns the state bits.
func (n *NAPI) State() uint32 { return n.state }

// NAPISchedulePrep is napi_schedule_prep(): claim the instance. It fails if
// the instance is disabled or already scheduled; in the latter case it sets
// MISSED so the running poll will go round once more.
func (n *NAPI) NAPISchedulePrep() bool {
	val := n.state
	if val&NAPI_STATE_DISABLE != 0 {
		return false
	}
	nw := val | NAPI_STATE_SCHED
	if val&NAPI_STATE_SCHED != 0 {
		nw |= NAPI_STATE_MISSED
	}
	n.state = nw
	return val&NAPI_STATE_SCHED == 0
}

// NAPISchedule is napi_schedule(): from an interrupt handler, put the
// instance on this CPU's poll list and raise NET_RX. It reports whether it
// scheduled.
func (n *NAPI) NAPISchedule() bool {
	if !n.NAPISchedulePrep() {
		return false
	}
	n.napiSchedule(n.k.cur)
	return true
}

// napiSchedule is ____napi_schedule().
func (n *NAPI) napiSchedule(c *CPU) {
	if c == nil {
		c = n.k.cpus[0]
	}
	n.ScheduleCnt++
	c.Softnet.pollAdd(n)
	n.k.tracePoint(c, "napi_schedule", 0, 0)
	c.raiseSoftirqIrqoff(NET_RX_SOFTIRQ)
	if !c.InInterrupt() {
		c.wakeupSoftirqd()
	}
}

// NAPICompleteDone is napi_complete_done(): the driver did workDone < weight
// and is finished. It flushes GRO and the gro_normal list, takes the instance
// off the poll list and clears SCHED — unless a schedule was missed
// meanwhile, in which case the instance stays scheduled and it returns false:
// the driver must then not re-enable its interrupt.
func (n *NAPI) NAPICompleteDone(workDone int) bool {
	if n.state&NAPI_STATE_NPSVC != 0 {
		return false
	}
	if n.GRO != nil {
		n.GRO.Flush(n, false)
	}
	n.groNormalList()
	if n.onList {
		n.cpu.Softnet.pollDel(n)
	}
	val := n.state
	nw := val &^ (NAPI_STATE_MISSED | NAPI_STATE_SCHED)
	if val&NAPI_STATE_MISSED != 0 {
		nw |= NAPI_STATE_SCHED
	}
	n.state = nw
	if val&NAPI_STATE_MISSED != 0 {
		n.Missed++
		n.k.tracePoint(n.k.cur, "napi_complete_done missed", 0, int64(workDone))
		n.napiSchedule(n.k.cur)
		return false
	}
	n.Completes++
	n.k.tracePoint(n.k.cur, "napi_complete_done", 0, int64(workDone))
	return true
}

// NAPIComplete is napi_complete().
func (n *NAPI) NAPIComplete() bool { return n.NAPICompleteDone(0) }

// NAPIDisable is napi_disable() of Linux 6.1: stop new schedules and wait
// (usleep_range(20, 200) in t, modelled as 200 µs) while the instance is
// scheduled or owned by netpoll; the instance is then owned by the caller.
func (n *NAPI) NAPIDisable(t *Task) {
	n.state |= NAPI_STATE_DISABLE
	for n.state&(NAPI_STATE_SCHED|NAPI_STATE_NPSVC) != 0 {
		t.Sleep(200 * time.Microsecond)
	}
	n.state |= NAPI_STATE_SCHED | NAPI_STATE_NPSVC
	n.state &^= NAPI_STATE_DISABLE
}

// NAPIEnable is napi_enable().
func (n *NAPI) NAPIEnable() {
	n.state &^= NAPI_STATE_SCHED | NAPI_STATE_NPSVC
}

// NAPIGROReceive is napi_gro_receive(): hand a received packet to GRO.
func (n *NAPI) NAPIGROReceive(skb *SKB) {
	n.k.tracePointQ(n.k.cur, "napi_gro_receive_entry", skb.ID, int64(len(skb.Data)), RxQueueName(int(skb.QueueMapping)))
	if g := n.groHandler(); g != nil {
		g.Receive(n, skb)
		return
	}
	n.GRONormalOne(skb, 1)
}

// GRONormalOne is gro_normal_one(): queue a finished packet on the
// instance's rx_list and pass the list up once it holds gro_normal_batch.
func (n *NAPI) GRONormalOne(skb *SKB, segs int) {
	n.rxList.QueueTail(skb)
	n.rxCount += segs
	if n.rxCount >= n.k.Sysctl.GRONormalBatch {
		n.groNormalList()
	}
}

// groNormalList is gro_normal_list(): pass the batch to
// netif_receive_skb_list_internal.
func (n *NAPI) groNormalList() {
	if n.rxCount == 0 && n.rxList.Len() == 0 {
		return
	}
	n.k.netifReceiveSKBListInternal(&n.rxList)
	n.rxCount = 0
}

// napiPoll is __napi_poll() of Linux 6.1 with napi_poll()'s list handling.
// It reports the work done (what the driver returned, even above the weight:
// Linux only warns) and whether the instance used its whole weight and goes
// on the repoll list: not when a disable is pending (it is completed) and not
// when the driver scheduled it again before exhausting its budget (it is on
// the poll list already).
func (n *NAPI) napiPoll(c *CPU) (work int, repoll bool) {
	k := n.k
	weight := n.Weight
	if n.state&NAPI_STATE_SCHED != 0 {
		n.Polls++
		k.Charge(k.Cost.NAPIPoll)
		k.traceBegin(c, n.span)
		work = n.Poll(n, weight)
		k.traceEnd(c, n.span)
		k.tracePointQ(c, "napi_poll", 0, int64(work), n.Name)
	}
	if work > weight {
		n.OverBudget++ // netdev_err_once: the driver overran its weight
	}
	if work < weight {
		return work, false
	}
	n.WeightUsed++
	// Drivers must not change the NAPI state when they used the whole weight.
	if n.state&NAPI_STATE_DISABLE != 0 {
		n.NAPIComplete()
		return work, false
	}
	if n.GRO != nil {
		n.GRO.Flush(n, HZ >= 1000)
	}
	n.groNormalList()
	if n.onList {
		return work, false // "Budget exhausted after napi rescheduled"
	}
	return work, true
}

// netRxAction is net_rx_action() of Linux 6.1: poll the instances that were
// on this CPU's poll list when it started, moving an instance that used its
// whole weight to a repoll list, until the list is empty or netdev_budget
// packets or netdev_budget_usecs have gone. The time limit is in jiffies, as
// in Linux: usecs_to_jiffies(netdev_budget_usecs) from the jiffy it started
// in (2 jiffies by default, so 1 to 2 ms). Running out counts a time_squeeze.
// Then the instances scheduled meanwhile, and after them those to repoll, go
// back on the poll list and NET_RX is raised again if it is not empty.
func (c *CPU) netRxAction(t *thread) {
	k := c.k
	sd := &c.Softnet
	timeLimit := k.Jiffies() + usecsToJiffies(k.Sysctl.NetdevBudgetUsecs)
	budget := k.Sysctl.NetdevBudget
	var list, repoll napiList
	list.spliceInit(&sd.pollList)
	for {
		if list.empty() {
			if repoll.empty() && sd.rpsIPIWaiting == nil {
				return
			}
			break
		}
		n := list.first()
		list.del(n)
		n.cpu = nil
		work, again := n.napiPoll(c)
		if again {
			repoll.addTail(n, c)
		}
		budget -= work
		t.preemptionPoint()
		if budget <= 0 || k.Jiffies() >= timeLimit {
			sd.TimeSqueeze++
			k.tracePoint(c, "time_squeeze", 0, int64(budget))
			break
		}
	}
	// Leftovers, then instances scheduled meanwhile, then those to repoll.
	list.spliceTailInit(&sd.pollList)
	list.spliceTailInit(&repoll)
	sd.pollList.spliceInit(&list)
	if !sd.pollList.empty() {
		c.raiseSoftirqIrqoff(NET_RX_SOFTIRQ)
	}
	c.netRPSAction()
}

// usecsToJiffies is usecs_to_jiffies(): rounded up.
func usecsToJiffies(us int) uint64 {
	const usPerJiffy = 1000000 / HZ
	return uint64((us + usPerJiffy - 1) / usPerJiffy)
}

// napiList is the intrusive list of NAPI instances (sd->poll_list).
type napiList struct{ head, tail *NAPI }

func (l *napiList) empty() bool  { return l.head == nil }
func (l *napiList) first() *NAPI { return l.head }

func (l *napiList) addTail(n *NAPI, c *CPU) {
	n.prev, n.next = l.tail, nil
	if l.tail == nil {
		l.head = n
	} else {
		l.tail.next = n
	}
	l.tail = n
	n.onList = true
	n.cpu = c
}

func (l *napiList) del(n *NAPI) {
	if n.prev == nil {
		l.head = n.next
	} else {
		n.prev.next = n.next
	}
	if n.next == nil {
		l.tail = n.prev
	} else {
		n.next.prev = n.prev
	}
	n.prev, n.next = nil, nil
	n.onList = false
}

// spliceInit moves all of from to the front of l... l is empty in every use.
func (l *napiList) spliceInit(from *napiList) {
	if from.head == nil {
		return
	}
	if l.head == nil {
		*l = *from
	} else {
		from.tail.next = l.head
		l.head.prev = from.tail
		l.head = from.head
	}
	*from = napiList{}
}

func (l *napiList) spliceTailInit(from *napiList) {
	if from.head == nil {
		return
	}
	if l.tail == nil {
		*l = *from
	} else {
		l.tail.next = from.head
		from.head.prev = l.tail
		l.tail = from.tail
	}
	*from = napiList{}
}
