// Package fifo is a bounded first-in first-out queue of frames for device
// models: a NIC's receive packet buffer (e1000's PBA.RXA share, the 82576's
// RXPBS) and the queue of frames QEMU's net layer holds back while a device
// cannot receive (net/queue.c). Frame bytes live in one byte ring and the
// per-frame metadata of type M in an entry ring; both start small and double
// up to fixed bounds, so a mostly empty queue costs little and a full one
// allocates nothing more. Push, Peek and Pop allocate nothing once the
// storage has grown to what the traffic needs.
//
// Capacity is counted in the caller's units (bytes on the wire with FCS for a
// packet buffer, frames for QEMU's queue): each frame carries a cost, and
// Fits checks the sum of costs against the capacity the caller passes, so a
// register that resizes the buffer (RXPBS) takes effect at once.
package fifo

// Frames is a bounded FIFO of frames, each with metadata M.
type Frames[M any] struct {
	data       []byte
	head, used int // byte ring: first byte, bytes in use
	ents       []entry[M]
	eh, en     int // entry ring: first entry, entries in use
	cost       int // capacity units in use

	maxBytes, maxEnts int
}

type entry[M any] struct {
	n    int // bytes in data
	cost int
	meta M
}

// New makes a queue with initial storage for bytes and frames, growing up to
// maxBytes and maxFrames.
func New[M any](bytes, frames, maxBytes, maxFrames int) Frames[M] {
	return Frames[M]{data: make([]byte, max(bytes, 1)), ents: make([]entry[M], max(frames, 1)), maxBytes: maxBytes, maxEnts: maxFrames}
}

// Empty reports whether the queue holds no frame.
func (q *Frames[M]) Empty() bool { return q.en == 0 }

// Len is the number of frames held.
func (q *Frames[M]) Len() int { return q.en }

// Cost is the sum of the held frames' costs.
func (q *Frames[M]) Cost() int { return q.cost }

// Bytes is the number of frame bytes held.
func (q *Frames[M]) Bytes() int { return q.used }

// Fits reports whether a frame of n bytes costing cost units fits in a queue
// of capacity units (and within the storage bounds).
func (q *Frames[M]) Fits(n, cost, capacity int) bool {
	return q.en < q.maxEnts && q.used+n <= q.maxBytes && q.cost+cost <= capacity
}

// grow makes room for one more frame of n bytes, doubling the storage.
func (q *Frames[M]) grow(n int) {
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
		ents := make([]entry[M], min(2*len(q.ents), q.maxEnts))
		c := copy(ents, q.ents[q.eh:])
		copy(ents[c:q.en], q.ents)
		q.ents, q.eh = ents, 0
	}
}

// Push appends a copy of frame with its cost and metadata; the caller
// checked Fits.
func (q *Frames[M]) Push(frame []byte, cost int, meta M) {
	q.grow(len(frame))
	tail := (q.head + q.used) % len(q.data)
	c := copy(q.data[tail:], frame)
	copy(q.data, frame[c:])
	q.used += len(frame)
	q.cost += cost
	q.ents[(q.eh+q.en)%len(q.ents)] = entry[M]{n: len(frame), cost: cost, meta: meta}
	q.en++
}

// Peek copies the first frame into out (which must be large enough) and
// returns it with its metadata. The queue must not be empty.
func (q *Frames[M]) Peek(out []byte) ([]byte, M) {
	e := q.ents[q.eh]
	f := out[:e.n]
	c := copy(f, q.data[q.head:])
	copy(f[c:], q.data)
	return f, e.meta
}

// Pop drops the first frame. The queue must not be empty.
func (q *Frames[M]) Pop() {
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

// Clear empties the queue and reports how many frames it held.
func (q *Frames[M]) Clear() int {
	n := q.en
	q.head, q.used, q.eh, q.en, q.cost = 0, 0, 0, 0, 0
	return n
}
