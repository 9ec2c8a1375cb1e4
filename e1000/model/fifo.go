package model

// frameQueue is a bounded FIFO of frames in preallocated storage: the
// receive share of the packet buffer (datasheet 3.2.x, PBA.RXA) in the
// datasheet profile, and the net layer's queue of frames QEMU holds back in
// the QEMU profile. Frame bytes live in a byte ring, their metadata in an
// entry ring; nothing is allocated once the queue exists.
type frameQueue struct {
	data       []byte
	head, used int // byte ring: first byte, bytes in use
	ents       []queued
	eh, en     int // entry ring: first entry, entries in use
	cost       int // capacity units in use (see push)
}

// queued is one frame in a frameQueue and what the receive filter decided.
type queued struct {
	n       int // bytes in data
	cost    int
	tagged  bool
	tci     uint16
	pif     bool
	wireLen int
}

func newFrameQueue(bytes, frames int) frameQueue {
	return frameQueue{data: make([]byte, bytes), ents: make([]queued, frames)}
}

func (q *frameQueue) empty() bool { return q.en == 0 }

// fits reports whether a frame of n bytes costing cost units fits in a
// queue of capacity units.
func (q *frameQueue) fits(n, cost, capacity int) bool {
	return q.en < len(q.ents) && q.used+n <= len(q.data) && q.cost+cost <= capacity
}

// push appends frame; the caller checked fits.
func (q *frameQueue) push(frame []byte, e queued) {
	e.n = len(frame)
	tail := (q.head + q.used) % len(q.data)
	c := copy(q.data[tail:], frame)
	copy(q.data, frame[c:])
	q.used += e.n
	q.cost += e.cost
	q.ents[(q.eh+q.en)%len(q.ents)] = e
	q.en++
}

// peek copies the first frame into out and returns it with its entry.
func (q *frameQueue) peek(out []byte) ([]byte, queued) {
	e := q.ents[q.eh]
	f := out[:e.n]
	c := copy(f, q.data[q.head:])
	copy(f[c:], q.data)
	return f, e
}

// pop drops the first frame.
func (q *frameQueue) pop() {
	e := q.ents[q.eh]
	q.head = (q.head + e.n) % len(q.data)
	q.used -= e.n
	q.cost -= e.cost
	q.eh = (q.eh + 1) % len(q.ents)
	q.en--
	if q.en == 0 {
		q.head, q.used, q.cost = 0, 0, 0
	}
}

// clear empties the queue and reports how many frames it held.
func (q *frameQueue) clear() int {
	n := q.en
	q.head, q.used, q.eh, q.en, q.cost = 0, 0, 0, 0, 0
	return n
}
