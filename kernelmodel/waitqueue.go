package kernelmodel

// WaitQueueHead is a wait_queue_head_t: tasks waiting for something (a
// socket to become readable, a connection to accept, a TX queue to restart).
type WaitQueueHead struct {
	head, tail *WaitQueueEntry
}

// WaitQueueEntry is a wait_queue_entry (DEFINE_WAIT): one waiter. Func, if
// set, is called on wake-up instead of waking Task (a custom wake function);
// it returns whether it counts as a woken waiter.
type WaitQueueEntry struct {
	Task      *Task
	Exclusive bool
	Func      func(e *WaitQueueEntry) bool

	prev, next *WaitQueueEntry
	queued     bool
}

func (q *WaitQueueHead) addHead(e *WaitQueueEntry) {
	e.prev, e.next = nil, q.head
	if q.head == nil {
		q.tail = e
	} else {
		q.head.prev = e
	}
	q.head = e
	e.queued = true
}

func (q *WaitQueueHead) addTail(e *WaitQueueEntry) {
	e.prev, e.next = q.tail, nil
	if q.tail == nil {
		q.head = e
	} else {
		q.tail.next = e
	}
	q.tail = e
	e.queued = true
}

func (q *WaitQueueHead) remove(e *WaitQueueEntry) {
	if !e.queued {
		return
	}
	if e.prev == nil {
		q.head = e.next
	} else {
		e.prev.next = e.next
	}
	if e.next == nil {
		q.tail = e.prev
	} else {
		e.next.prev = e.prev
	}
	e.prev, e.next, e.queued = nil, nil, false
}

// AddWaitQueue is add_wait_queue(): a non-exclusive waiter, at the head.
func (q *WaitQueueHead) AddWaitQueue(e *WaitQueueEntry) {
	e.Exclusive = false
	if !e.queued {
		q.addHead(e)
	}
}

// AddWaitQueueExclusive is add_wait_queue_exclusive(): at the tail.
func (q *WaitQueueHead) AddWaitQueueExclusive(e *WaitQueueEntry) {
	e.Exclusive = true
	if !e.queued {
		q.addTail(e)
	}
}

// RemoveWaitQueue is remove_wait_queue().
func (q *WaitQueueHead) RemoveWaitQueue(e *WaitQueueEntry) { q.remove(e) }

// PrepareToWait is prepare_to_wait(): queue e (non-exclusive) if it is not
// queued and mark its task TASK_INTERRUPTIBLE.
func (q *WaitQueueHead) PrepareToWait(e *WaitQueueEntry) {
	e.Exclusive = false
	if !e.queued {
		q.addHead(e)
	}
	e.Task.SetInterruptible()
}

// PrepareToWaitExclusive is prepare_to_wait_exclusive(): queue e as an
// exclusive waiter at the tail and mark its task TASK_INTERRUPTIBLE.
func (q *WaitQueueHead) PrepareToWaitExclusive(e *WaitQueueEntry) {
	e.Exclusive = true
	if !e.queued {
		q.addTail(e)
	}
	e.Task.SetInterruptible()
}

// FinishWait is finish_wait(): TASK_RUNNING, and off the queue.
func (q *WaitQueueHead) FinishWait(e *WaitQueueEntry) {
	e.Task.SetRunning()
	q.remove(e)
}

// Active is waitqueue_active().
func (q *WaitQueueHead) Active() bool { return q.head != nil }

// WakeUp is wake_up(): wake every non-exclusive waiter and one exclusive
// one (nr_exclusive = 1). Woken entries leave the queue
// (autoremove_wake_function). It returns the number woken.
func (q *WaitQueueHead) WakeUp() int { return q.wakeUpNr(1) }

// WakeUpAll is wake_up_all().
func (q *WaitQueueHead) WakeUpAll() int { return q.wakeUpNr(0) }

func (q *WaitQueueHead) wakeUpNr(nrExclusive int) int {
	woken := 0
	for e := q.head; e != nil; {
		next := e.next
		var ok bool
		if e.Func != nil {
			ok = e.Func(e)
		} else {
			q.remove(e)
			e.Task.t.wake()
			ok = true
		}
		if ok {
			woken++
			if e.Exclusive {
				nrExclusive--
				if nrExclusive == 0 {
					break
				}
			}
		}
		e = next
	}
	return woken
}
