package model

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
)

// The tests play the driver: they write registers through BAR0 and
// descriptors into DMA memory, and look at what the device wrote back, what
// it put on the wire and when it raised INTA#.

var (
	testMAC  = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	peerMAC  = [6]byte{0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF}
	bcastMAC = [6]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
)

// testLine records INTA#.
type testLine struct {
	clk    *kernelmodel.Clock
	level  bool
	rises  []time.Duration
	onRise func()
}

func (l *testLine) SetLevel(v bool) {
	rise := v && !l.level
	l.level = v // before onRise, which may lower the line again
	if rise {
		l.rises = append(l.rises, l.clk.Now())
		if l.onRise != nil {
			l.onRise()
		}
	}
}

// testLink is the device's wire: it records frames and serializes them at
// speed (0: infinitely fast).
type testLink struct {
	clk        *kernelmodel.Clock
	up         bool
	speed      uint64
	free       time.Duration
	frames     [][]byte
	times      []time.Duration
	maxBacklog time.Duration // the most the wire was ever behind, before this frame
	keep       bool          // keep copies of frames
	count      int
}

func (l *testLink) Up() bool { return l.up }

func (l *testLink) Transmit(f []byte) (time.Duration, bool) {
	now := l.clk.Now()
	if !l.up {
		return now, false
	}
	l.maxBacklog = max(l.maxBacklog, l.free-now)
	done := max(now, l.free) + wire.WireTime(len(f), l.speed)
	l.free = done
	l.count++
	if l.keep {
		l.frames = append(l.frames, append([]byte(nil), f...))
		l.times = append(l.times, now)
	}
	return done, true
}

// rig is one device on a small arena with rings set up by the test.
type rig struct {
	t     testing.TB
	clk   *kernelmodel.Clock
	arena *dma.Arena
	dev   *Device
	bar   pci.BAR
	line  *testLine
	link  *testLink

	rxRing  dma.Region
	rxBufs  []dma.Region
	rxN     int
	rxNext  int // next descriptor the "driver" looks at
	txRing  dma.Region
	txBufs  []dma.Region
	txN     int
	txTail  int
	bufSize int
	profile Profile
}

type rigOpt struct {
	speed     uint64 // link speed; 0 = infinitely fast
	noLink    bool   // do not wait for link up
	eeprom    *[e1000.EEPROMWords]uint16
	fifo      int
	discard   bool               // do not keep transmitted frames
	arena     int                // arena size; 0: 4 MiB
	clk       *kernelmodel.Clock // shared clock; nil: a new one
	unplugged bool               // do not connect the test link
	profile   Profile
}

func newRig(t testing.TB, o rigOpt) *rig {
	t.Helper()
	clk := o.clk
	if clk == nil {
		clk = kernelmodel.NewVirtualClock()
	}
	if o.arena == 0 {
		o.arena = 4 << 20
	}
	r := &rig{t: t, clk: clk, arena: dma.NewArena(o.arena), profile: o.profile}
	r.line = &testLine{clk: clk}
	r.link = &testLink{clk: clk, up: true, speed: o.speed, keep: !o.discard}
	r.dev = New(Config{MAC: testMAC, Clock: clk, Mem: r.arena, INTx: r.line, EEPROM: o.eeprom, TxFIFO: o.fifo, Profile: o.profile})
	r.dev.ConfigWrite(pci.Command, 2, pci.CommandMemory|pci.CommandBusMaster)
	r.bar = r.dev.BAR(0)
	if o.unplugged {
		return r
	}
	r.dev.Connect(r.link)
	if !o.noLink {
		r.clk.RunFor(DefaultAutonegDelay)
		if r.rd(e1000.STATUS)&e1000.STATUS_LU == 0 {
			t.Fatalf("no link after autonegotiation")
		}
		r.rd(e1000.ICR)
	}
	return r
}

func (r *rig) rd(off uint32) uint32    { return r.bar.Read32(off) }
func (r *rig) wr(off uint32, v uint32) { r.bar.Write32(off, v) }

func (r *rig) alloc(size int) dma.Region {
	reg, err := r.arena.Alloc(size, 128)
	if err != nil {
		r.t.Fatal(err)
	}
	return reg
}

// setupRx makes a ring of n descriptors with buffers of bufSize and gives the
// device n-1 of them (RDT = n-1), with rctl (EN added).
func (r *rig) setupRx(n, bufSize int, rctl uint32) {
	r.rxRing = r.alloc(n * e1000.DescSize)
	r.rxN, r.bufSize, r.rxNext = n, bufSize, 0
	r.rxBufs = make([]dma.Region, n)
	for i := range n {
		r.rxBufs[i] = r.alloc(bufSize)
		e1000.RxDesc(r.rxDesc(i)).SetAddr(uint64(r.rxBufs[i].Addr))
	}
	r.wr(e1000.RDBAL, uint32(r.rxRing.Addr))
	r.wr(e1000.RDBAH, uint32(r.rxRing.Addr>>32))
	r.wr(e1000.RDLEN, uint32(n*e1000.DescSize))
	r.wr(e1000.RDH, 0)
	r.wr(e1000.RDT, uint32(n-1))
	r.wr(e1000.RCTL, rctl|e1000.RCTL_EN)
	if r.profile == ProfileQEMU {
		r.clk.RunFor(QEMURxHold) // QEMU holds receive after an RCTL write
	}
}

func (r *rig) rxDesc(i int) e1000.RxDesc {
	return e1000.RxDesc(r.rxRing.Bytes[i*e1000.DescSize : (i+1)*e1000.DescSize])
}

// rxPop returns the frame in the next completed descriptors (following EOP)
// and gives them back to the device, or nil if the next one is not done.
func (r *rig) rxPop() ([]byte, []e1000.RxDesc) {
	var frame []byte
	var descs []e1000.RxDesc
	for {
		d := r.rxDesc(r.rxNext)
		if d.Status()&e1000.RXD_STAT_DD == 0 {
			if len(descs) != 0 {
				r.t.Fatalf("frame without EOP")
			}
			return nil, nil
		}
		cp := append(e1000.RxDesc(nil), d...)
		descs = append(descs, cp)
		frame = append(frame, r.rxBufs[r.rxNext].Bytes[:d.Length()]...)
		d.SetStatus(0)
		r.wr(e1000.RDT, uint32(r.rxNext))
		r.rxNext = (r.rxNext + 1) % r.rxN
		if cp.Status()&e1000.RXD_STAT_EOP != 0 {
			return frame, descs
		}
	}
}

// setupTx makes a ring of n descriptors with 16 KiB buffers.
func (r *rig) setupTx(n int, tctl uint32) {
	r.txRing = r.alloc(n * e1000.DescSize)
	r.txN, r.txTail = n, 0
	r.txBufs = make([]dma.Region, n)
	for i := range n {
		r.txBufs[i] = r.alloc(16384)
	}
	r.wr(e1000.TDBAL, uint32(r.txRing.Addr))
	r.wr(e1000.TDBAH, uint32(r.txRing.Addr>>32))
	r.wr(e1000.TDLEN, uint32(n*e1000.DescSize))
	r.wr(e1000.TDH, 0)
	r.wr(e1000.TDT, 0)
	r.wr(e1000.TCTL, tctl|e1000.TCTL_EN)
}

func (r *rig) txDesc(i int) []byte {
	return r.txRing.Bytes[i*e1000.DescSize : (i+1)*e1000.DescSize]
}

// txLegacy writes a legacy descriptor at the tail with data (copied into
// that slot's buffer) and returns its index; it does not ring the doorbell.
func (r *rig) txLegacy(data []byte, cmd uint8) int {
	i := r.txTail
	copy(r.txBufs[i].Bytes, data)
	d := e1000.TxDesc(r.txDesc(i))
	clear(d)
	d.SetAddr(uint64(r.txBufs[i].Addr))
	d.SetLength(uint16(len(data)))
	d.SetCmd(cmd)
	r.txTail = (r.txTail + 1) % r.txN
	return i
}

// txRaw writes 16 raw descriptor bytes at the tail.
func (r *rig) txRaw(desc []byte) int {
	i := r.txTail
	copy(r.txDesc(i), desc)
	r.txTail = (r.txTail + 1) % r.txN
	return i
}

func (r *rig) doorbell() { r.wr(e1000.TDT, uint32(r.txTail)) }

// ethFrame builds an Ethernet frame dst, src, type with payload.
func ethFrame(dst, src [6]byte, etype uint16, payload []byte) []byte {
	f := make([]byte, 14, 14+len(payload))
	copy(f, dst[:])
	copy(f[6:], src[:])
	binary.BigEndian.PutUint16(f[12:], etype)
	return append(f, payload...)
}

// pattern is n bytes of a recognizable pattern.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}
