package driver_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/internal/fuzzmin"
	"github.com/nicbed/nicbed/kernelmodel"
)

// The fuzz input is a configuration byte and a program of device actions.
// Configuration: bit 0 selects MTU 9000 (frames over several buffers), bit 1
// rings of 80 descriptors instead of 256. Each action is an opcode byte and
// its arguments.
const (
	opRxWriteBack = iota // slot u16, length u16, status, errors: bytes 8–15 of any receive descriptor
	opRxFrame            // length u16, status, errors: the next descriptor in device order, with data
	opTxSetDD            // slot u16: DD on any transmit descriptor
	opTxComplete         // the device sends what it was given: DD on every RS descriptor up to TDT
	opRaise              // causes u8 (shifted into ICR's low bits, RXT0 = 0x80)
	opXmit               // length u16, flags: the stack hands the driver a frame
	opRun                // units u8: run the clock units × 10 µs
	opLink               // flip the link, with LSC
	opRxRaw              // slot u16, 16 bytes: a whole receive descriptor, address included
	opTxRaw              // slot u16, 16 bytes: a whole transmit descriptor
	numOps
)

const maxHostileOps = 3000

// framePattern is what opRxFrame writes into a buffer: byte i is i mod 256.
var framePattern = func() (p [driver.RxBufferSize]byte) {
	for i := range p {
		p[i] = byte(i)
	}
	return p
}()

type reader struct {
	b []byte
}

func (r *reader) u8() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 { return uint16(r.u8()) | uint16(r.u8())<<8 }

func (r *reader) bytes16() []byte {
	var p [16]byte
	for i := range p {
		p[i] = r.u8()
	}
	return p[:]
}

// touchesDriver reports whether op may run driver code: it runs the clock,
// raises the interrupt line or calls the driver. The others only write
// memory the driver reads when it next runs.
func touchesDriver(op byte) bool {
	switch op {
	case opRaise, opXmit, opRun, opLink:
		return true
	}
	return false
}

// runHostile plays data against a driver on the fake device and checks after
// every action that may run driver code that the driver's books hold and
// that no skb was freed twice or used after its free, and at the end that closing the
// device frees every skb exactly once and that no frame longer than the MTU
// allows was delivered. A panic (an over-read included: every buffer is a
// slice of exactly its own size) fails the caller.
func runHostile(t testing.TB, data []byte) (driver.DriverCounters, error) {
	c, _, err := runHostileCost(t, data)
	return c, err
}

// hostileCost is what one input cost: actions played, invariant checks
// made, register accesses by the driver, model time from boot to the end
// of close, and how much of it the harness ran the clock for (opRun and
// the fixed 2 ms before and 10 ms after the actions).
type hostileCost struct {
	Actions, Checks     int
	RegReads, RegWrites uint64
	ModelTime, RunTime  time.Duration
}

// runHostileCost is runHostile, and what the input cost.
func runHostileCost(t testing.TB, data []byte) (c driver.DriverCounters, cost hostileCost, err error) {
	r := &reader{b: data}
	cfg := r.u8()
	opts := driver.Options{}
	if cfg&1 != 0 {
		opts.MTU = 9000
	}
	if cfg&2 != 0 {
		opts.RxDescriptors, opts.TxDescriptors = 80, 80
	}
	h := newHostileHost(t, opts)
	d := h.dev
	clk := h.k.Clock()
	defer func() {
		cost.RegReads, cost.RegWrites = d.reads, d.writes
		cost.ModelTime = clk.Now()
	}()
	run := func(dur time.Duration) {
		cost.RunTime += dur
		clk.RunFor(dur)
	}
	run(2 * time.Millisecond)
	rxHead, txHead := 0, 0
	for n := 0; len(r.b) > 0 && n < maxHostileOps; n++ {
		cost.Actions++
		op := r.u8() % numOps
		rxRing := d.ring(h.mem, e1000.RDBAL, e1000.RDLEN)
		txRing := d.ring(h.mem, e1000.TDBAL, e1000.TDLEN)
		switch op {
		case opRxWriteBack:
			s, l, st, er := int(r.u16()), r.u16(), r.u8(), r.u8()
			if len(rxRing) > 0 {
				s %= len(rxRing) / 16
				e1000.RxDesc(rxRing[s*16:s*16+16]).WriteBack(l, 0, st, er, 0)
			}
		case opRxFrame:
			l, st, er := r.u16(), r.u8(), r.u8()
			if len(rxRing) > 0 {
				s := rxHead % (len(rxRing) / 16)
				desc := e1000.RxDesc(rxRing[s*16 : s*16+16])
				if buf, ok := h.mem.View(dma.Addr(desc.Addr()), min(int(l), driver.RxBufferSize)); ok {
					copy(buf, framePattern[:])
					if len(buf) >= 14 {
						copy(buf, h.nd.Addr[:])
					}
				}
				desc.WriteBack(l, 0, st, er, 0)
				rxHead = s + 1
				d.regs[e1000.RDH] = uint32(rxHead % (len(rxRing) / 16))
			}
		case opTxSetDD:
			s := int(r.u16())
			if len(txRing) > 0 {
				s %= len(txRing) / 16
				txRing[s*16+e1000.TxDescStatus] |= e1000.TXD_STAT_DD
			}
		case opTxComplete:
			if len(txRing) > 0 {
				cnt := len(txRing) / 16
				tail := int(d.regs[e1000.TDT]) % cnt
				for i := 0; txHead%cnt != tail && i < cnt; i++ {
					s := txHead % cnt
					if txRing[s*16+e1000.TxDescCmd]&e1000.TXD_CMD_RS != 0 {
						txRing[s*16+e1000.TxDescStatus] |= e1000.TXD_STAT_DD
					}
					txHead = s + 1
				}
			}
		case opRaise:
			d.raise(uint32(r.u8()) & e1000.ICR_VALID)
		case opXmit:
			l, fl := int(r.u16())%10000+1, r.u8()
			if !h.nd.NetifQueueStopped() {
				h.xmit(l, fl&1 != 0)
			}
		case opRun:
			run(time.Duration(r.u8()) * 10 * time.Microsecond)
		case opLink:
			d.linkUp = !d.linkUp
			d.raise(e1000.ICR_LSC)
		case opRxRaw:
			s, p := int(r.u16()), r.bytes16()
			if len(rxRing) > 0 {
				s %= len(rxRing) / 16
				copy(rxRing[s*16:s*16+16], p)
			}
		case opTxRaw:
			s, p := int(r.u16()), r.bytes16()
			if len(txRing) > 0 {
				s %= len(txRing) / 16
				copy(txRing[s*16:s*16+16], p)
			}
		}
		// The device's writes into descriptor memory change none of the
		// driver's books: they are checked after each action that may
		// run driver code (the clock, an interrupt, a transmit).
		if touchesDriver(op) {
			cost.Checks++
			if err := h.a.CheckInvariants(); err != nil {
				return h.a.Counters(), cost, fmt.Errorf("after action %d (op %d): %w", n, op, err)
			}
		}
		if e := h.k.Drops.SKB; e.DoubleFree != 0 || e.UseAfterFree != 0 {
			return h.a.Counters(), cost, fmt.Errorf("after action %d (op %d): %v", n, op, h.k.SKBAudit())
		}
	}
	run(10 * time.Millisecond)
	cost.Checks++
	if err := h.a.CheckInvariants(); err != nil {
		return h.a.Counters(), cost, err
	}
	c = h.a.Counters()
	h.task(t, "ip-link-down", func(task *kernelmodel.Task) error { return h.nd.DevClose(task) })
	if err := h.k.SKBAudit(); err != nil {
		return c, cost, fmt.Errorf("after close: %w", err)
	}
	if h.mem.live != 0 || h.mem.badFrees != 0 {
		return c, cost, fmt.Errorf("after close: %d bytes of DMA memory still allocated, %d bad frees", h.mem.live, h.mem.badFrees)
	}
	if h.tooLong != 0 {
		return c, cost, fmt.Errorf("%d frames longer than %d bytes delivered", h.tooLong, h.maxFrame)
	}
	return c, cost, nil
}

// fuzzMinimizeRuns bounds the runs a fuzz worker spends minimizing one new
// input (see internal/fuzzmin): an input here costs a kernel, a probe, an
// open and a close, some 0.3 ms, and with Go's default of 60 s inputs of a
// few hundred bytes kept both workers minimizing for 10–60 s at a time.
const fuzzMinimizeRuns = 1000

// TestMain applies fuzzMinimizeRuns unless the command line gave a bound.
func TestMain(m *testing.M) { fuzzmin.Main(m, fuzzMinimizeRuns) }

// TestFuzzMinimizeBound: without -fuzzminimizetime, minimization is bounded
// by a count of runs, not Go's 60 s.
func TestFuzzMinimizeBound(t *testing.T) { fuzzmin.Check(t, fuzzMinimizeRuns) }

// FuzzE1000Driver: arbitrary write-backs from a hostile device against the
// driver. No panic, no read past a buffer, the buffer books hold after every
// action, every transmitted skb is freed exactly once.
func FuzzE1000Driver(f *testing.F) {
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := runHostile(t, data); err != nil {
			t.Fatal(err)
		}
	})
}

// prog builds a fuzz input.
type prog []byte

func (p prog) op(op byte, args ...any) prog {
	p = append(p, op)
	for _, a := range args {
		switch v := a.(type) {
		case int:
			p = binary.LittleEndian.AppendUint16(p, uint16(v))
		case byte:
			p = append(p, v)
		case []byte:
			p = append(p, v...)
		}
	}
	return p
}

const (
	dd   = byte(e1000.RXD_STAT_DD)
	ddeo = byte(e1000.RXD_STAT_DD | e1000.RXD_STAT_EOP)
	rxt0 = byte(e1000.ICR_RXT0)
	txdw = byte(e1000.ICR_TXDW)
)

// seedUnposted: a good frame in slot 0, and DD on the slot the driver keeps
// back (the last), which it sees when it posts that slot again.
func seedUnposted() []byte {
	return prog{0}.op(opRun, byte(10)).
		op(opRxWriteBack, 255, 0, ddeo, byte(0)).
		op(opRxFrame, 60, ddeo, byte(0)).
		op(opRaise, rxt0).op(opRun, byte(10))
}

func seedLongLength() []byte {
	return prog{0}.op(opRxFrame, 3000, ddeo, byte(0)).op(opRaise, rxt0).op(opRun, byte(10)).
		op(opRxFrame, 65535, ddeo, byte(0)).op(opRxFrame, 0, ddeo, byte(0)).op(opRaise, rxt0).op(opRun, byte(10))
}

func seedBadStatus() []byte {
	return prog{0}.op(opRxFrame, 60, ddeo|0x10, byte(0)).
		op(opRxFrame, 60, ddeo, byte(e1000.RXD_ERR_TCPE)).
		op(opRxFrame, 60, ddeo, byte(0x08)).
		op(opRxFrame, 60, ddeo, byte(e1000.RXD_ERR_CE)).
		op(opRaise, rxt0).op(opRun, byte(10))
}

// seedNoEOP: descriptors without EOP, on and on; with jumbo frames, groups
// of six 2048-byte pieces (longer than any 9000-MTU frame) ended by an EOP.
func seedNoEOP(cfg byte) []byte {
	p := prog{cfg}
	for round := 0; round < 15; round++ {
		for i := 0; i < 6; i++ {
			p = p.op(opRxFrame, 2048, dd, byte(0))
		}
		if cfg&1 != 0 {
			p = p.op(opRxFrame, 100, ddeo, byte(0))
		} else {
			for i := 0; i < 20; i++ {
				p = p.op(opRxFrame, 2048, dd, byte(0))
			}
		}
		p = p.op(opRaise, rxt0).op(opRun, byte(5))
	}
	return p
}

// seedTxUnposted: one frame sent and cleaned, then DD on the next, unposted,
// slot.
func seedTxUnposted() []byte {
	return prog{0}.op(opRun, byte(100)).op(opXmit, 100, byte(0)).op(opTxComplete).op(opRaise, txdw).op(opRun, byte(10)).
		op(opTxSetDD, 2).op(opRaise, txdw).op(opRun, byte(10))
}

// seedTraffic: frames both ways as a well-behaved device would do them,
// TSO included, with the link flapping.
func seedTraffic(cfg byte) []byte {
	p := prog{cfg}.op(opRun, byte(100))
	for i := 0; i < 40; i++ {
		p = p.op(opXmit, 60+i*37, byte(i&1)).op(opRxFrame, 60+i*50, ddeo, byte(0))
		if i%5 == 4 {
			p = p.op(opTxComplete).op(opRaise, rxt0|txdw).op(opRun, byte(3))
		}
		if i == 20 {
			p = p.op(opLink).op(opRun, byte(200)).op(opLink).op(opRun, byte(200))
		}
	}
	return p
}

// seedRaw: whole descriptors of garbage, addresses included.
func seedRaw() []byte {
	p := prog{2}.op(opRun, byte(100)).op(opXmit, 1000, byte(1))
	for i := 0; i < 20; i++ {
		b := make([]byte, 16)
		for j := range b {
			b[j] = byte(i*31 + j*7)
		}
		if i%2 == 0 {
			b[e1000.RxDescStatus] |= e1000.RXD_STAT_DD
		}
		p = p.op(opRxRaw, i*3, b).op(opTxRaw, i*5, b).op(opRaise, rxt0|txdw).op(opRun, byte(2))
	}
	return p
}

// seedTxRingFull: a device that sends nothing. The stack keeps handing the
// driver frames while the clock runs, the ring fills, the queue stops and
// the watchdog finds the hang; hundreds of actions are then played with
// some 120 frames held. (Each check of the driver's books used to allocate
// a map of every frame held: this input spent most of its time in the
// garbage collector.)
func seedTxRingFull() []byte {
	p := prog{0}.op(opRun, byte(100))
	for i := 0; i < 300; i++ {
		p = p.op(opXmit, 1000, byte(0)).op(opRun, byte(255))
	}
	return p
}

func hostileSeeds() [][]byte {
	return [][]byte{
		seedUnposted(), seedLongLength(), seedBadStatus(), seedNoEOP(0), seedNoEOP(1), seedNoEOP(3),
		seedTxUnposted(), seedTraffic(0), seedTraffic(1), seedTraffic(2), seedRaw(), seedTxRingFull(),
	}
}
