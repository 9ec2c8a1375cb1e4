package model

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
)

// The tests play the driver: they write registers through BAR0 and the
// MSI-X table through BAR3, and record the messages the device sends.

var testMAC = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

// msg is one MSI/MSI-X message as the sink saw it.
type msg struct {
	at     time.Duration
	vector int // data & 0xFF minus msgBase
}

const msgBase = 0x40 // the data of vector v's table entry is msgBase + v

type sink struct {
	clk  *kernelmodel.Clock
	msgs []msg
}

func (s *sink) WriteMSI(addr uint64, data uint32) {
	s.msgs = append(s.msgs, msg{at: s.clk.Now(), vector: int(data&0xFF) - msgBase})
}

// count is the number of messages for vector v.
func (s *sink) count(v int) int {
	n := 0
	for _, m := range s.msgs {
		if m.vector == v {
			n++
		}
	}
	return n
}

type testLine struct{ level bool }

func (l *testLine) SetLevel(v bool) { l.level = v }

type rig struct {
	t     testing.TB
	clk   *kernelmodel.Clock
	dev   *Device
	bar   pci.BAR
	bar3  pci.BAR
	sink  *sink
	line  *testLine
	arena *dma.Arena

	profile Profile
}

// autoneg is how long the rig's profile takes to bring the link up.
func (r *rig) autoneg() time.Duration {
	if r.profile == ProfileQEMU {
		return QEMUAutonegDelay
	}
	return DefaultAutonegDelay
}

func newRig(t testing.TB) *rig { return newRigMem(t, 64<<10) }

// newRigMem is newRig with mem bytes of DMA memory.
func newRigMem(t testing.TB, mem int) *rig { return newRigCfg(t, mem, ProfileDatasheet, nil) }

// profiles are the model's two behaviours, for tests that run both.
var profiles = []Profile{ProfileDatasheet, ProfileQEMU}

// newRigCfg is newRigMem on profile p, with cfg (if not nil) editing the
// Config first.
func newRigCfg(t testing.TB, mem int, p Profile, cfg func(*Config)) *rig {
	t.Helper()
	clk := kernelmodel.NewVirtualClock()
	r := &rig{t: t, clk: clk, sink: &sink{clk: clk}, line: &testLine{}, arena: dma.NewArena(mem), profile: p}
	c := Config{MAC: testMAC, Clock: clk, Mem: r.arena, MSI: r.sink, INTx: r.line, Profile: p}
	if cfg != nil {
		cfg(&c)
	}
	r.dev = New(c)
	r.dev.ConfigWrite(pci.Command, 2, pci.CommandMemory|pci.CommandBusMaster)
	r.bar = r.dev.BAR(0)
	r.bar3 = r.dev.BAR(3)
	return r
}

func (r *rig) rd(off uint32) uint32    { return r.bar.Read32(off) }
func (r *rig) wr(off uint32, v uint32) { r.bar.Write32(off, v) }

// msixOn enables MSI-X in configuration space, programs every table entry
// (address 0xFEE00000, data msgBase + v), unmasks the given vectors, and
// sets GPIE to MSI-X mode with gpie's other bits.
func (r *rig) msixOn(gpie uint32, unmask ...int) {
	off := r.dev.MSIX().Offset()
	r.dev.ConfigWrite(off+2, 2, pci.MSIXEnable)
	for v := range igb.MSIXVectors {
		r.bar3.Write32(uint32(16*v), 0xFEE00000)
		r.bar3.Write32(uint32(16*v+4), 0)
		r.bar3.Write32(uint32(16*v+8), uint32(msgBase+v))
	}
	for _, v := range unmask {
		r.setMasked(v, false)
	}
	r.wr(igb.GPIE, igb.GPIE_MSIX_MODE|gpie)
}

// setMasked sets or clears vector v's Mask Bit in the MSI-X table.
func (r *rig) setMasked(v int, masked bool) {
	ctl := uint32(0)
	if masked {
		ctl = pci.MSIXVectorMask
	}
	r.bar3.Write32(uint32(16*v+12), ctl)
}

// pba reads the PBA's first QWORD's low half.
func (r *rig) pba() uint32 { return r.bar3.Read32(igb.MSIXPBAOffset) }

// eitr is an EITR value with the interval in µs and CNT_IGNR set, as
// Linux's igb_write_itr writes it on the 82576.
func eitr(us uint32) uint32 { return us<<igb.EITR_INTERVAL_SHIFT | igb.EITR_CNT_IGNR }
