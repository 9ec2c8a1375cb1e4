package wire

import (
	"math/rand/v2"
	"time"

	"github.com/nicbed/nicbed/hw"
)

// Defaults for a CableConfig's zero fields.
const (
	DefaultQueueLen = 4096
	DefaultMaxFrame = 16384 + 18 // a 16 KiB jumbo payload, header and VLAN tag
)

// firstBuf is the capacity a queue slot's buffer gets when it is first used:
// enough for any standard frame, so that it is never reallocated unless a
// jumbo frame comes along.
const firstBuf = 2048

// CableConfig describes a Cable. The zero value is an ideal cable: infinitely
// fast, no delay, no impairments.
type CableConfig struct {
	// SpeedBPS is the line rate in bits per second, the same in each
	// direction (full duplex). A frame of n bytes takes WireTime(n,
	// SpeedBPS) to serialize, and frames in one direction serialize one
	// after the other. 0 means no serialization delay.
	SpeedBPS uint64
	// Delay is the propagation delay, added after serialization.
	Delay time.Duration
	// QueueLen bounds the frames in flight in each direction, serializing
	// or propagating; Transmit drops beyond it. 0 means DefaultQueueLen.
	QueueLen int
	// MaxFrame is the largest frame Transmit accepts. 0 means
	// DefaultMaxFrame.
	MaxFrame int

	// Seed seeds the impairments: the same seed and the same traffic
	// give the same losses, duplicates and reorders.
	Seed uint64
	// Loss is the probability that a sent frame is lost on the wire: it
	// takes its time on the wire, Transmit reports it sent, and it never
	// arrives.
	Loss float64
	// Duplicate is the probability that a frame is delivered twice, the
	// copy right after the original.
	Duplicate float64
	// Reorder is the probability that a frame overtakes the frame sent
	// just before it, if that one is still in flight: the two swap places
	// and keep the delivery times of the places.
	Reorder float64
}

// Stats counts what happened in one direction of a Cable.
type Stats struct {
	Sent         uint64 // frames Transmit accepted (ok), lost ones included
	Delivered    uint64 // frames delivered with Receive, duplicates included
	Bytes        uint64 // bytes delivered
	DroppedQueue uint64 // frames Transmit dropped with QueueLen frames in flight
	DroppedDown  uint64 // frames Transmit dropped with the link down, and frames in flight when it went down
	DroppedSize  uint64 // frames Transmit dropped as empty or larger than MaxFrame
	Lost         uint64 // frames sent and lost on the wire (Loss)
	Duplicated   uint64 // extra copies delivered (Duplicate)
	Reordered    uint64 // frames that overtook the frame before them (Reorder)
}

// Cable is an in-memory full-duplex cable between two NIC ports, A and B,
// timed by a hw.Clock. Each direction is a FIFO of frames in flight with its
// delivery time (the end of serialization plus Delay), served by one timer
// that calls the receiving Endpoint on the loop. With a virtual clock a run
// replays exactly, impairments included.
//
// Nothing is allocated per frame once the cable is warm: each direction keeps
// a ring of QueueLen slots whose buffers are allocated the first time a slot
// is used and reused after, and the ring starts over at its first slot
// whenever it drains, so only as many buffers exist as frames were ever in
// flight at once.
//
// A new cable is up. A Cable must be used from the clock's loop.
type Cable struct {
	clk  hw.Clock
	cfg  CableConfig
	up   bool
	a, b Endpoint
	dirs [2]direction // A to B, B to A
	pcap *PcapWriter
}

// direction is one direction of a cable and the Link of the port that
// transmits into it.
type direction struct {
	c     *Cable
	to    Endpoint
	slots []slot
	head  int // oldest frame in flight
	n     int // frames in flight
	free  time.Duration
	timer hw.Timer
	rng   *rand.Rand
	stats Stats

	// delivering is set while the head frame is inside Receive: it keeps
	// its slot until Receive returns, whatever the endpoint does meanwhile.
	delivering bool
}

// slot is one frame in flight.
type slot struct {
	at  time.Duration // delivery time
	buf []byte
}

// NewCable makes a cable timed by clk. Attach its ends before use.
func NewCable(clk hw.Clock, cfg CableConfig) *Cable {
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	cfg.Delay = max(cfg.Delay, 0)
	c := &Cable{clk: clk, cfg: cfg, up: true}
	for i := range c.dirs {
		d := &c.dirs[i]
		d.c = c
		d.slots = make([]slot, cfg.QueueLen)
		d.timer = clk.NewTimer(d.deliver)
		d.rng = rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
	}
	return c
}

// Attach plugs endpoint a into end A and b into end B, and returns the links
// port A and port B transmit into: what A transmits, b receives, and the other
// way round. Attach does not call LinkChange; a port reads Link.Up when it
// gets its link. Attach panics on a nil endpoint.
func (c *Cable) Attach(a, b Endpoint) (Link, Link) {
	if a == nil || b == nil {
		panic("wire: Attach with a nil endpoint")
	}
	c.a, c.b = a, b
	c.dirs[0].to, c.dirs[1].to = b, a
	return &c.dirs[0], &c.dirs[1]
}

// Up reports whether the cable is up.
func (c *Cable) Up() bool { return c.up }

// SetUp plugs the cable in (true) or pulls it (false). When it goes down,
// every frame in flight is dropped and counted in DroppedDown. On a change,
// both attached endpoints get LinkChange, A first.
func (c *Cable) SetUp(up bool) {
	if up == c.up {
		return
	}
	c.up = up
	if !up {
		c.dirs[0].flush()
		c.dirs[1].flush()
	}
	if c.a != nil {
		c.a.LinkChange(up)
		c.b.LinkChange(up)
	}
}

// Stats returns the counters of each direction: A to B, and B to A.
func (c *Cable) Stats() (ab, ba Stats) { return c.dirs[0].stats, c.dirs[1].stats }

// SetPcap makes the cable record every frame it delivers, in both
// directions, with the clock time of delivery; nil stops it. Write errors
// stop the recording and are kept in w (see PcapWriter.Err).
func (c *Cable) SetPcap(w *PcapWriter) { c.pcap = w }

// Up implements Link.
func (d *direction) Up() bool { return d.c.up }

// Transmit implements Link.
func (d *direction) Transmit(frame []byte) (time.Duration, bool) {
	c := d.c
	now := c.clk.Now()
	switch {
	case !c.up:
		d.stats.DroppedDown++
		return now, false
	case len(frame) == 0 || len(frame) > c.cfg.MaxFrame:
		d.stats.DroppedSize++
		return now, false
	case d.n == len(d.slots):
		d.stats.DroppedQueue++
		return now, false
	}
	done := max(now, d.free) + WireTime(len(frame), c.cfg.SpeedBPS)
	d.free = done
	d.stats.Sent++
	if d.chance(c.cfg.Loss) {
		d.stats.Lost++
		return done, true
	}
	at := done + c.cfg.Delay
	d.push(at, frame)
	// The frame before this one may swap with it unless it is being
	// delivered right now.
	if d.chance(c.cfg.Reorder) && (d.n > 2 || d.n == 2 && !d.delivering) {
		last := d.index(d.n - 1)
		prev := d.index(d.n - 2)
		d.slots[last].buf, d.slots[prev].buf = d.slots[prev].buf, d.slots[last].buf
		d.stats.Reordered++
	}
	if d.n < len(d.slots) && d.chance(c.cfg.Duplicate) {
		d.push(at, frame)
		d.stats.Duplicated++
	}
	if !d.timer.Pending() {
		d.timer.ResetAt(d.slots[d.head].at)
	}
	return done, true
}

// chance draws from the direction's generator only when p is not zero, so
// that enabling one impairment does not change the draws of another.
func (d *direction) chance(p float64) bool {
	return p > 0 && d.rng.Float64() < p
}

func (d *direction) index(i int) int { return (d.head + i) % len(d.slots) }

// push copies frame into the next free slot.
func (d *direction) push(at time.Duration, frame []byte) {
	s := &d.slots[d.index(d.n)]
	if cap(s.buf) < len(frame) {
		s.buf = make([]byte, 0, max(len(frame), min(firstBuf, d.c.cfg.MaxFrame)))
	}
	s.buf = append(s.buf[:0], frame...)
	s.at = at
	d.n++
}

// deliver is the timer callback: it delivers, in order, every frame whose
// time has come, and rearms the timer for the next one.
func (d *direction) deliver() {
	c := d.c
	now := c.clk.Now()
	for d.n > 0 && d.slots[d.head].at <= now {
		s := &d.slots[d.head]
		d.stats.Delivered++
		d.stats.Bytes += uint64(len(s.buf))
		if c.pcap != nil {
			c.pcap.WritePacket(now, s.buf)
		}
		d.delivering = true
		d.to.Receive(s.buf)
		d.delivering = false
		d.head = d.index(1)
		d.n--
		if d.n == 0 {
			d.head = 0
		}
	}
	if d.n > 0 && !d.timer.Pending() {
		d.timer.ResetAt(d.slots[d.head].at)
	}
}

// flush drops every frame in flight, except one inside Receive, and leaves
// the wire idle.
func (d *direction) flush() {
	keep := 0
	if d.delivering {
		keep = 1
	}
	d.stats.DroppedDown += uint64(d.n - keep)
	d.n = keep
	if keep == 0 {
		d.head = 0
	}
	d.timer.Stop()
	d.free = d.c.clk.Now()
}
