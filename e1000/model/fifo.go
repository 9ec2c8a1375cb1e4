package model

// frameQueue is a bounded FIFO of frames: the receive share of the packet
// buffer (PBA.RXA) in the datasheet profile, and the net layer's queue of
// frames QEMU holds back in the QEMU profile. Frame bytes live in a byte
// ring, their metadata in an entry ring. The storage starts at its initial
// size and doubles when needed up to its bounds (maxBytes, maxEnts), so a
// queue that is mostly empty costs little and a full one allocates nothing
// more.
type frameQueue struct {
	data       []byte
	head, used int // byte ring: first byte, bytes in use
	ents       []queued
	eh, en     int // entry ring: first entry, entries in use
	cost       int // capacity units in use (see push)

	maxBytes, maxEnts int
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

// newFrameQueue makes a queue with initial storage for bytes and frames,
// growing up to maxBytes and maxFrames.
func newFrameQueue(bytes, frames, maxBytes, maxFrames int) frameQueue {
	return frameQueue{data: make([]byte, bytes), ents: make([]queued, frames), maxBytes: maxBytes, maxEnts: maxFrames}
}

func (q *frameQueue) empty() bool { return q.en == 0 }

// fits reports whether a frame of n bytes costing cost units fits in a
// queue of capacity units.
func (q *frameQueue) fits(n, cost, capacity int) bool {
	return q.en < q.maxEnts && q.used+n <= q.maxBytes && q.cost+cost <= capacity
}

// grow makes room for one more frame of n bytes, doubling the storage.
func (q *frameQueue) grow(n int) {
	if q.used+n > len(q.data) {
		size := len(q.data)
		for size < q.used+n {
			size *= 2
		}
		data := make([]byte, min(size, q.maxBytes))
		c := copy(data, q.data[q.head:min(q.head+q.used, len(q.data))])
		copy(data[c:q.used], q.data)
		q.data, q.head = data, 0
	}
	if q.en == len(q.ents) {
		ents := make([]queued, min(2*len(q.ents), q.maxEnts))
		c := copy(ents, q.ents[q.eh:])
		copy(ents[c:q.en], q.ents)
		q.ents, q.eh = ents, 0
	}
}

// push appends frame; the caller checked fits.
func (q *frameQueue) push(frame []byte, e queued) {
	q.grow(len(frame))
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
