package kernelmodel

// DQL is struct dql (lib/dynamic_queue_limits.c), the byte queue limit
// (BQL) of a TX queue: how many bytes may sit in the driver's ring
// unfinished. A driver reports what it queued (NetdevTxSentQueue) and what
// the device completed (NetdevTxCompletedQueue); the limit starts at 0 and
// grows when the queue ran dry while over the limit (starved), and shrinks
// by the slack the queue kept through a whole hold time (slack_hold_time,
// HZ). Above the limit the stack stops feeding the queue
// (__QUEUE_STATE_STACK_XOFF), and the qdisc's bulk dequeue takes as many
// packets at once as the limit has room for (qdisc_avail_bulklimit).
type DQL struct {
	NumQueued      uint32 // total bytes queued
	AdjLimit       uint32 // limit + num_completed
	LastObjCnt     uint32 // bytes of the last dql_queued
	Limit          uint32 // current limit
	NumCompleted   uint32 // total bytes completed
	PrevOvlimit    uint32
	PrevNumQueued  uint32
	PrevLastObjCnt uint32
	LowestSlack    uint32
	SlackStartTime uint64 // jiffies
	MaxLimit       uint32 // limit_max (DQL_MAX_LIMIT)
	MinLimit       uint32 // limit_min (0)
	SlackHoldTime  uint64 // jiffies (HZ)
}

// DQL bounds (include/linux/dynamic_queue_limits.h).
const (
	DQL_MAX_OBJECT = ^uint32(0) / 16
	DQL_MAX_LIMIT  = ^uint32(0)/2 - DQL_MAX_OBJECT
)

// dqlInit is dql_init(dql, HZ).
func (d *DQL) dqlInit(jiffies uint64) {
	d.MaxLimit = DQL_MAX_LIMIT
	d.MinLimit = 0
	d.SlackHoldTime = HZ
	d.dqlReset(jiffies)
}

// dqlReset is dql_reset(): every dynamic value back to its start.
func (d *DQL) dqlReset(jiffies uint64) {
	d.Limit = d.MinLimit
	d.NumQueued = 0
	d.NumCompleted = 0
	d.LastObjCnt = 0
	d.PrevNumQueued = 0
	d.PrevLastObjCnt = 0
	d.PrevOvlimit = 0
	d.LowestSlack = ^uint32(0)
	d.SlackStartTime = jiffies
}

// dqlQueued is dql_queued().
func (d *DQL) dqlQueued(count uint32) {
	d.LastObjCnt = count
	d.NumQueued += count
}

// Avail is dql_avail(): bytes that may still be queued (negative: over the
// limit).
func (d *DQL) Avail() int { return int(int32(d.AdjLimit - d.NumQueued)) }

// posdiff is POSDIFF(a, b): a - b when a is after b (in wrapping
// arithmetic), else 0.
func posdiff(a, b uint32) uint32 {
	if int32(a-b) > 0 {
		return a - b
	}
	return 0
}

// dqlCompleted is dql_completed(): count bytes finished and adapt the
// limit.
func (d *DQL) dqlCompleted(count uint32, jiffies uint64) {
	numQueued := d.NumQueued
	if count > numQueued-d.NumCompleted {
		// Linux BUG()s; the model clamps (a driver that completes more
		// than it queued is counted by the queue's BQLErrors).
		count = numQueued - d.NumCompleted
	}
	completed := d.NumCompleted + count
	limit := d.Limit
	ovlimit := posdiff(numQueued-d.NumCompleted, limit)
	inprogress := numQueued - completed
	prevInprogress := d.PrevNumQueued - d.NumCompleted
	allPrevCompleted := int32(completed-d.PrevNumQueued) >= 0

	if (ovlimit != 0 && inprogress == 0) || (d.PrevOvlimit != 0 && allPrevCompleted) {
		// Starved: over the limit in the last interval and now empty
		// (or possibly empty since). Grow by what was both sent and
		// completed in the interval, plus the previous over-limit.
		limit += posdiff(completed, d.PrevNumQueued) + d.PrevOvlimit
		d.SlackStartTime = jiffies
		d.LowestSlack = ^uint32(0)
	} else if inprogress != 0 && prevInprogress != 0 && !allPrevCompleted {
		// Busy the whole interval: the slack (what was queued beyond
		// what kept the device busy) over several completions may be
		// given back.
		slack := posdiff(limit+d.PrevOvlimit, 2*(completed-d.NumCompleted))
		var slackLastObjs uint32
		if d.PrevOvlimit != 0 {
			slackLastObjs = posdiff(d.PrevLastObjCnt, d.PrevOvlimit)
		}
		slack = max(slack, slackLastObjs)
		if slack < d.LowestSlack {
			d.LowestSlack = slack
		}
		if jiffies > d.SlackStartTime+d.SlackHoldTime {
			limit = posdiff(limit, d.LowestSlack)
			d.SlackStartTime = jiffies
			d.LowestSlack = ^uint32(0)
		}
	}
	limit = min(max(limit, d.MinLimit), d.MaxLimit)
	if limit != d.Limit {
		d.Limit = limit
		ovlimit = 0
	}
	d.AdjLimit = limit + completed
	d.PrevOvlimit = ovlimit
	d.PrevLastObjCnt = d.LastObjCnt
	d.NumCompleted = completed
	d.PrevNumQueued = numQueued
}
