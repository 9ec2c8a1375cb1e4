package socket

import (
	"syscall"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// QueueRcvSKB is sock_queue_rcv_skb() (__sock_queue_rcv_skb): refuse skb
// when sk_rmem_alloc has reached sk_rcvbuf (sk_drops counted, ENOMEM),
// else charge it (skb_set_owner_r), queue it and call sk_data_ready. The
// caller frees a refused skb.
func (sk *Sock) QueueRcvSKB(skb *kernelmodel.SKB) error {
	if sk.RmemAlloc >= sk.Rcvbuf {
		sk.Drops++
		return syscall.ENOMEM
	}
	sk.SetOwnerR(skb)
	sk.ReceiveQueue.QueueTail(skb)
	if !sk.Dead {
		sk.DataReady(sk)
	}
	return nil
}

// entry returns a wait queue entry for t: the socket's own if it is free
// (no allocation on the usual path of one waiter), else a new one.
func entry(own *kernelmodel.WaitQueueEntry, t *kernelmodel.Task) *kernelmodel.WaitQueueEntry {
	if own.Task == nil {
		own.Task = t
		return own
	}
	return &kernelmodel.WaitQueueEntry{Task: t}
}

func release(own, e *kernelmodel.WaitQueueEntry) {
	if own == e {
		own.Task = nil
	}
}

// sleep is one wait of __skb_wait_for_more_packets / sk_wait_event: t
// sleeps on the wait queue until a wake-up or the timeout (0: none, else
// the time left, updated). It reports false when the timeout ran out.
func (sk *Sock) sleep(t *kernelmodel.Task, e *kernelmodel.WaitQueueEntry, timeo *time.Duration) bool {
	sk.Wq.PrepareToWaitExclusive(e)
	if *timeo == 0 {
		t.Schedule()
		sk.Wq.FinishWait(e)
		return true
	}
	start := sk.K.Now()
	expired := t.ScheduleTimeout(*timeo)
	sk.Wq.FinishWait(e)
	*timeo -= sk.K.Now() - start
	return !expired && *timeo > 0
}

// RecvDatagram is __skb_recv_datagram() (as __skb_recv_udp does it): a
// pending error first (sock_error), then the first queued skb — left on
// the queue with MSG_PEEK, dequeued otherwise —, then, with the receive
// side shut down, nil and no error (end of file), then EAGAIN without a
// task t, else t sleeps until data, an error or the SO_RCVTIMEO timeout
// (EAGAIN). A socket closed under a sleeper gives EBADF.
func (sk *Sock) RecvDatagram(t *kernelmodel.Task, flags int) (*kernelmodel.SKB, error) {
	timeo := sk.RcvTimeo
	var e *kernelmodel.WaitQueueEntry
	defer func() {
		if e != nil {
			release(&sk.rxWait, e)
		}
	}()
	for {
		if err := sk.SockError(); err != nil {
			return nil, err
		}
		if skb := sk.ReceiveQueue.Peek(); skb != nil {
			if flags&MSG_PEEK == 0 {
				sk.ReceiveQueue.Dequeue()
			}
			return skb, nil
		}
		if sk.Dead {
			return nil, syscall.EBADF
		}
		if sk.Shutdown&RCV_SHUTDOWN != 0 {
			return nil, nil
		}
		if t == nil {
			return nil, syscall.EAGAIN
		}
		if e == nil {
			e = entry(&sk.rxWait, t)
		}
		if !sk.sleep(t, e, &timeo) {
			if sk.ReceiveQueue.Len() == 0 && sk.Err == 0 {
				return nil, syscall.EAGAIN
			}
		}
	}
}

// AllocSendSKB is sock_alloc_send_skb(): an skb of size bytes of data
// room (after headroom bytes reserved) charged to the send buffer
// (skb_set_owner_w). A pending error is returned first (sock_error), a
// send side shut down is EPIPE; while sk_wmem_alloc is at or above
// sk_sndbuf the sender sleeps (SOCK_NOSPACE set) until sock_wfree makes
// room or SO_SNDTIMEO ends the wait (EAGAIN), or gets EAGAIN at once
// without a task.
func (sk *Sock) AllocSendSKB(t *kernelmodel.Task, headroom, size int) (*kernelmodel.SKB, error) {
	timeo := sk.SndTimeo
	var e *kernelmodel.WaitQueueEntry
	defer func() {
		if e != nil {
			release(&sk.txWait, e)
		}
	}()
	for {
		if err := sk.SockError(); err != nil {
			return nil, err
		}
		if sk.Shutdown&SEND_SHUTDOWN != 0 || sk.Dead {
			return nil, syscall.EPIPE
		}
		if sk.WmemAlloc < sk.Sndbuf {
			skb := sk.K.AllocSKB(headroom + size)
			skb.Reserve(headroom)
			sk.SetOwnerW(skb)
			return skb, nil
		}
		sk.Nospace = true
		if t == nil {
			return nil, syscall.EAGAIN
		}
		if e == nil {
			e = entry(&sk.txWait, t)
		}
		if !sk.sleep(t, e, &timeo) && sk.WmemAlloc >= sk.Sndbuf {
			return nil, syscall.EAGAIN
		}
	}
}

// Queue is a socket's sk_buff_head (sk_receive_queue): a FIFO of skbs
// linked through Next, with skb_peek.
type Queue struct {
	head, tail *kernelmodel.SKB
	qlen       int
}

// Len is skb_queue_len().
func (q *Queue) Len() int { return q.qlen }

// Peek is skb_peek(): the first skb, left queued.
func (q *Queue) Peek() *kernelmodel.SKB { return q.head }

// QueueTail is __skb_queue_tail().
func (q *Queue) QueueTail(skb *kernelmodel.SKB) {
	skb.Next = nil
	if q.tail == nil {
		q.head = skb
	} else {
		q.tail.Next = skb
	}
	q.tail = skb
	q.qlen++
}

// Tail is skb_peek_tail().
func (q *Queue) Tail() *kernelmodel.SKB { return q.tail }

// InsertAfter is __skb_queue_after(): skb after prev, or at the head
// when prev is nil.
func (q *Queue) InsertAfter(prev, skb *kernelmodel.SKB) {
	if prev == nil {
		skb.Next = q.head
		q.head = skb
	} else {
		skb.Next = prev.Next
		prev.Next = skb
	}
	if skb.Next == nil {
		q.tail = skb
	}
	q.qlen++
}

// Dequeue is __skb_dequeue().
func (q *Queue) Dequeue() *kernelmodel.SKB {
	skb := q.head
	if skb == nil {
		return nil
	}
	q.head = skb.Next
	if q.head == nil {
		q.tail = nil
	}
	skb.Next = nil
	q.qlen--
	return skb
}
