package driver

import "github.com/nicbed/nicbed/kernelmodel"

// poll is igb_poll, a q_vector's NAPI poll: clean its transmit ring (at
// most the work limit), then its receive ring up to budget. With work left
// it returns the budget and stays scheduled; otherwise it completes NAPI
// and, only if napi_complete_done says it may, adapts the interval and
// unmasks the vector (igb_ring_irq_enable).
func (q *qVector) poll(n *kernelmodel.NAPI, budget int) int {
	a := q.a
	q.polls++
	if c := a.k.CurrentCPU(); c != nil && c.ID < 64 {
		q.pollCPUs |= 1 << c.ID
	}
	complete := true
	if q.tx != nil {
		complete = a.cleanTxIRQ(q)
	}
	work := 0
	if q.rx != nil {
		cleaned := a.cleanRxIRQ(q, budget)
		work += cleaned
		if cleaned >= budget {
			complete = false
		}
	}
	if !complete {
		return budget
	}
	// Exit polling mode, but do not re-enable interrupts if the stack
	// might poll us (napi_complete_done false).
	if n.NAPICompleteDone(work) {
		q.ringIRQEnable()
	}
	return work
}
