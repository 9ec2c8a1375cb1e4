package model

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/kernelmodel"
)

// FuzzE1000Model drives one device on a small arena with a sequence of
// operations decoded from the input: register reads and writes, descriptor
// and packet memory writes by the "driver", frames from the wire, clock
// advances, PCI command writes and cable plugs. After every operation it
// checks that
//
//   - nothing panicked;
//   - the work was bounded: an operation other than a frame arrival fetched at
//     most one ring's worth of transmit descriptors per transmit activation,
//     a frame touched at most the descriptors one frame can need, and no
//     operation ran away (event and DMA access caps);
//   - DMA did not escape: guard regions around every allocation (freed, so
//     the arena faults any access to them) still hold their pattern.
func FuzzE1000Model(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s.prog)
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		runFuzzProgram(t, prog, ProfileDatasheet)
		runFuzzProgram(t, prog, ProfileQEMU)
	})
}

// Fuzz layout: guard | RX ring | guard | TX ring | guard | buffers | guard.
const (
	fzRingN   = 16
	fzBufLen  = 32 << 10
	fzGuard   = 4 << 10
	fzArena   = 128 << 10
	fzMaxView = 1 << 20 // DMA accesses one operation may make
	fzMaxStep = 200000  // clock events one operation may run
)

// Operations.
const (
	opWriteReg = iota
	opReadReg
	opRxDesc
	opTxDesc
	opMem
	opFrame
	opClock
	opConfig
	opLink
	opDoorbell
	numOps
)

// fuzzRegs are the registers a one-byte selector picks; other selector
// values take a raw offset.
var fuzzRegs = []uint32{
	e1000.CTRL, e1000.STATUS, e1000.EECD, e1000.EERD, e1000.CTRL_EXT, e1000.MDIC,
	e1000.ICR, e1000.ITR, e1000.ICS, e1000.IMS, e1000.IMC, e1000.RCTL, e1000.TCTL, e1000.PBA, e1000.VET,
	e1000.RDBAL, e1000.RDBAH, e1000.RDLEN, e1000.RDH, e1000.RDT, e1000.RDTR, e1000.RADV, e1000.RSRPD, e1000.RXCSUM,
	e1000.TDBAL, e1000.TDBAH, e1000.TDLEN, e1000.TDH, e1000.TDT, e1000.TIDV, e1000.TADV, e1000.TXDCTL,
	e1000.RAL0, e1000.RAH0, e1000.RAH(1), e1000.MTA, e1000.MTA + 4*64, e1000.VFTA, e1000.GORCL, e1000.GORCH, e1000.MPC,
}

// countingMem is the arena as the device sees it, counting accesses.
type countingMem struct {
	m        dma.Memory
	views    int
	descLike int // 16-byte writable views: descriptor fetches
}

func (c *countingMem) View(a dma.Addr, n int, w bool) ([]byte, bool) {
	c.views++
	if w && n == 16 {
		c.descLike++
	}
	return c.m.View(a, n, w)
}

func (c *countingMem) Read(a dma.Addr, p []byte) bool  { c.views++; return c.m.Read(a, p) }
func (c *countingMem) Write(a dma.Addr, p []byte) bool { c.views++; return c.m.Write(a, p) }

type fuzzRig struct {
	clk    *kernelmodel.Clock
	arena  *dma.Arena
	mem    *countingMem
	dev    *Device
	link   *testLink
	bar    pci.BAR
	guards [][]byte
	rxRing dma.Region
	txRing dma.Region
	bufs   dma.Region
}

// guardPattern fills the guard regions.
var guardPattern = func() []byte {
	b := make([]byte, fzGuard)
	for i := range b {
		b[i] = byte(0xA5 ^ i*13)
	}
	return b
}()

func newFuzzRig(tb testing.TB, profile Profile) *fuzzRig {
	clk := kernelmodel.NewVirtualClock()
	r := &fuzzRig{clk: clk, arena: dma.NewArena(fzArena)}
	guard := func() {
		g, err := r.arena.Alloc(fzGuard, 128)
		if err != nil {
			tb.Fatal(err)
		}
		r.arena.Free(g)             // any device access to it now faults (quarantined)
		copy(g.Bytes, guardPattern) // after Free, which poisons
		r.guards = append(r.guards, g.Bytes)
	}
	alloc := func(n int) dma.Region {
		reg, err := r.arena.Alloc(n, 128)
		if err != nil {
			tb.Fatal(err)
		}
		return reg
	}
	guard()
	r.rxRing = alloc(fzRingN * 16)
	guard()
	r.txRing = alloc(fzRingN * 16)
	guard()
	r.bufs = alloc(fzBufLen)
	guard()
	r.mem = &countingMem{m: r.arena}
	r.link = &testLink{clk: clk, up: true, speed: 1_000_000_000}
	r.dev = New(Config{MAC: testMAC, Clock: clk, Mem: r.mem, INTx: &testLine{clk: clk}, Profile: profile})
	r.dev.ConfigWrite(pci.Command, 2, pci.CommandMemory|pci.CommandBusMaster)
	r.bar = r.dev.BAR(0)
	r.dev.Connect(r.link)
	clk.RunFor(DefaultAutonegDelay)
	// A driver's usual setup: rings with 2 KiB buffers, RX and TX enabled.
	for i := range fzRingN {
		e1000.RxDesc(r.rxRing.Bytes[16*i:]).SetAddr(uint64(r.bufs.Addr) + uint64(i%16)*2048)
	}
	w := r.bar.Write32
	w(e1000.RDBAL, uint32(r.rxRing.Addr))
	w(e1000.RDBAH, uint32(r.rxRing.Addr>>32))
	w(e1000.RDLEN, fzRingN*16)
	w(e1000.RDT, fzRingN-1)
	w(e1000.RCTL, e1000.RCTL_EN|e1000.RCTL_BAM)
	w(e1000.TDBAL, uint32(r.txRing.Addr))
	w(e1000.TDBAH, uint32(r.txRing.Addr>>32))
	w(e1000.TDLEN, fzRingN*16)
	w(e1000.TCTL, e1000.TCTL_EN|e1000.TCTL_PSP)
	w(e1000.IMS, e1000.ICR_VALID)
	if profile == ProfileQEMU {
		clk.RunFor(QEMURxHold) // past the hold of the RCTL write, as a driver's first frames are
	}
	return r
}

// fuzzInput reads an operation program; past the end it reads zeros.
type fuzzInput struct {
	b []byte
	i int
}

func (in *fuzzInput) more() bool { return in.i < len(in.b) }

func (in *fuzzInput) u8() uint8 {
	if in.i >= len(in.b) {
		return 0
	}
	in.i++
	return in.b[in.i-1]
}

func (in *fuzzInput) u16() uint16 { return uint16(in.u8()) | uint16(in.u8())<<8 }
func (in *fuzzInput) u32() uint32 { return uint32(in.u16()) | uint32(in.u16())<<16 }

func (in *fuzzInput) bytes(n int) []byte {
	n = min(n, len(in.b)-in.i)
	p := in.b[in.i : in.i+n]
	in.i += n
	return p
}

func runFuzzProgram(t *testing.T, prog []byte, profile Profile) *fuzzRig {
	r := newFuzzRig(t, profile)
	in := &fuzzInput{b: prog}
	maxRing := uint32(fzRingN)
	for step := 0; in.more() && step < 4096; step++ {
		op := in.u8() % numOps
		before := r.dev.Counters()
		r.mem.views, r.mem.descLike = 0, 0
		r.apply(t, op, in)
		after := r.dev.Counters()
		maxRing = max(maxRing, r.dev.regs[e1000.TDLEN/4]/16, r.dev.regs[e1000.RDLEN/4]/16)

		// Bounded work.
		if r.mem.views > fzMaxView {
			t.Fatalf("op %d (%d): %d DMA accesses", step, op, r.mem.views)
		}
		if op == opFrame {
			if r.mem.descLike > 2+maxRxFrame/256+2 {
				t.Fatalf("op %d: one frame made %d descriptor-sized accesses", step, r.mem.descLike)
			}
		} else {
			runs := after.TxRuns - before.TxRuns
			if limit := int(maxRing) * int(1+runs); r.mem.descLike > limit {
				t.Fatalf("op %d (%d): %d descriptor fetches in %d activations of a ring of at most %d", step, op, r.mem.descLike, runs, maxRing)
			}
		}
		if after.TxMaxRun > uint64(maxRing) {
			t.Fatalf("op %d: an activation processed %d descriptors, ring at most %d", step, after.TxMaxRun, maxRing)
		}
		// No DMA escape.
		for gi, g := range r.guards {
			if !bytes.Equal(g, guardPattern) {
				t.Fatalf("op %d (%d): guard %d overwritten", step, op, gi)
			}
		}
	}
	return r
}

// TestFuzzSeedsReachTheirCases: each seed exercises what it is named after.
func TestFuzzSeedsReachTheirCases(t *testing.T) {
	for _, s := range fuzzSeeds() {
		c := runFuzzProgram(t, s.prog, ProfileDatasheet).dev.Counters()
		var ok bool
		switch s.name {
		case "traffic":
			ok = c.TxFrames == 2 && c.RxFrames == 3
		case "tso":
			ok = c.TxTSOSegments == 5 && c.TxTSOPackets == 1
		case "cve-2016-1981":
			ok = c.TxBadRing >= 2 && c.RxBadRing == 2 && c.TxDescriptors == 0
		case "cve-2021-20257":
			ok = c.TxTSOInvalid == 3 && c.TxTSOSegments == 0
		case "chain-without-eop":
			ok = c.TxOversize == 1 && c.TxFrames == 0 && c.BadRingLength == 1
		case "hostile-rx":
			ok = c.RxFrames == 1 && c.RxMaxDescs == 5 && c.RxDescFaults == 2 && c.RxLinkDown == 1
		case "rx-backpressure":
			q := runFuzzProgram(t, s.prog, ProfileQEMU).dev.Counters()
			ok = c.RxFIFOQueued > 0 && c.RxFIFODrained > 0 && c.RxFIFOOverflow > 0 &&
				q.RxHeld > 0 && q.RxHeldDelivered > 0 && q.RxHeldDropped == 0
		}
		if !ok {
			t.Errorf("seed %s: counters %+v", s.name, c)
		}
	}
}

// run advances the clock by d with a cap on the events it may take.
func (r *fuzzRig) run(t *testing.T, d time.Duration) {
	deadline := r.clk.Now() + d
	steps := 0
	if !r.clk.RunWhile(func() bool { steps++; return steps <= fzMaxStep }, deadline) && steps > fzMaxStep {
		t.Fatalf("more than %d events in %v of model time", fzMaxStep, d)
	}
	r.clk.RunUntil(deadline)
}

func (r *fuzzRig) bufAddr(off uint16) uint64 { return uint64(r.bufs.Addr) + uint64(off)%fzBufLen }

func (r *fuzzRig) apply(t *testing.T, op uint8, in *fuzzInput) {
	switch op {
	case opWriteReg, opReadReg:
		sel := int(in.u8())
		var off uint32
		if sel < len(fuzzRegs) {
			off = fuzzRegs[sel]
		} else {
			off = uint32(in.u16()) << 1 & (e1000.BAR0Size - 4) &^ 3
		}
		if op == opReadReg {
			r.bar.Read32(off)
			return
		}
		r.bar.Write32(off, in.u32())
	case opRxDesc, opTxDesc:
		ring := r.rxRing
		if op == opTxDesc {
			ring = r.txRing
		}
		i := int(in.u8() % fzRingN)
		d := ring.Bytes[16*i : 16*i+16]
		switch in.u8() % 4 {
		case 0: // raw
			copy(d, in.bytes(16))
		case 1: // legacy (TX) / buffer (RX) in the buffer area
			binary.LittleEndian.PutUint64(d, r.bufAddr(in.u16()))
			binary.LittleEndian.PutUint16(d[8:], in.u16()%4096)
			d[10], d[11], d[12], d[13] = in.u8(), in.u8()&^e1000.TXD_CMD_DEXT, 0, in.u8()
		case 2: // context
			copy(d, in.bytes(8))
			e1000.TxContextDesc(d).SetTypeLen(uint32(in.u32()), in.u8())
			d[12], d[13] = 0, in.u8()
			binary.LittleEndian.PutUint16(d[14:], in.u16())
		case 3: // data
			binary.LittleEndian.PutUint64(d, r.bufAddr(in.u16()))
			e1000.TxDataDesc(d).SetTypeLen(uint32(in.u16())<<uint(in.u8()%5), in.u8())
			d[12], d[13] = 0, in.u8()
		}
	case opMem:
		off := int(in.u16()) % fzBufLen
		p := in.bytes(int(in.u8()))
		copy(r.bufs.Bytes[off:], p)
	case opFrame:
		n := int(in.u16()) % 9100
		f := make([]byte, n)
		for i := range f {
			f[i] = byte(i)
		}
		switch in.u8() % 4 {
		case 0:
			copy(f, testMAC[:])
		case 1:
			copy(f, bcastMAC[:])
		case 2:
			copy(f, []byte{0x01, 0x00, 0x5E, 0, 0, 1})
		}
		if len(f) > 12 {
			copy(f[12:], in.bytes(int(in.u8())))
		}
		r.dev.Receive(f)
	case opClock:
		b := time.Duration(in.u8())
		r.run(t, b*b*100*time.Nanosecond)
	case opConfig:
		b := in.u8()
		cmd := uint32(pci.CommandMemory)
		if b&1 != 0 {
			cmd |= pci.CommandBusMaster
		}
		if b&2 != 0 {
			cmd |= pci.CommandINTxDisable
		}
		r.dev.ConfigWrite(pci.Command, 2, cmd)
	case opLink:
		up := in.u8()&1 != 0
		r.link.up = up
		r.dev.LinkChange(up)
	case opDoorbell:
		r.bar.Write32(e1000.TDT, uint32(in.u8()%(fzRingN+4)))
	}
}

// progBuilder writes operation programs for seeds.
type progBuilder struct{ b []byte }

func (p *progBuilder) u8(v uint8)   { p.b = append(p.b, v) }
func (p *progBuilder) u16(v uint16) { p.b = binary.LittleEndian.AppendUint16(p.b, v) }
func (p *progBuilder) u32(v uint32) { p.b = binary.LittleEndian.AppendUint32(p.b, v) }

func regSel(off uint32) uint8 {
	for i, o := range fuzzRegs {
		if o == off {
			return uint8(i)
		}
	}
	panic(fmt.Sprintf("register %#x not in fuzzRegs", off))
}

func (p *progBuilder) wreg(off, v uint32) { p.u8(opWriteReg); p.u8(regSel(off)); p.u32(v) }
func (p *progBuilder) rreg(off uint32)    { p.u8(opReadReg); p.u8(regSel(off)) }
func (p *progBuilder) clock(b uint8)      { p.u8(opClock); p.u8(b) }

// legacy writes a legacy TX descriptor at i: buffer at bufOff, length.
func (p *progBuilder) legacy(i uint8, bufOff, length uint16, cmd uint8) {
	p.u8(opTxDesc)
	p.u8(i)
	p.u8(1)
	p.u16(bufOff)
	p.u16(length)
	p.u8(0)
	p.u8(cmd)
	p.u8(0)
}

func (p *progBuilder) context(i uint8, ipcss, ipcso uint8, ipcse uint16, tucss, tucso uint8, tucse uint16, paylen uint32, tucmd, hdrlen uint8, mss uint16) {
	p.u8(opTxDesc)
	p.u8(i)
	p.u8(2)
	p.u8(ipcss)
	p.u8(ipcso)
	p.u16(ipcse)
	p.u8(tucss)
	p.u8(tucso)
	p.u16(tucse)
	p.u32(paylen)
	p.u8(tucmd)
	p.u8(hdrlen)
	p.u16(mss)
}

func (p *progBuilder) data(i uint8, bufOff, length uint16, shift, dcmd, popts uint8) {
	p.u8(opTxDesc)
	p.u8(i)
	p.u8(3)
	p.u16(bufOff)
	p.u16(length)
	p.u8(shift)
	p.u8(dcmd)
	p.u8(popts)
}

func (p *progBuilder) mem(off uint16, data []byte) {
	for len(data) > 0 {
		n := min(len(data), 255)
		p.u8(opMem)
		p.u16(off)
		p.u8(uint8(n))
		p.b = append(p.b, data[:n]...)
		data, off = data[n:], off+uint16(n)
	}
}

func (p *progBuilder) frame(n uint16, dst uint8, over []byte) {
	p.u8(opFrame)
	p.u16(n)
	p.u8(dst)
	p.u8(uint8(len(over)))
	p.b = append(p.b, over...)
}

func (p *progBuilder) doorbell(tdt uint8) { p.u8(opDoorbell); p.u8(tdt) }

type fuzzSeed struct {
	name string
	prog []byte
}

// fuzzSeeds are the committed seed corpus: ordinary traffic, and the QEMU CVE
// reproducers as regression seeds.
func fuzzSeeds() []fuzzSeed {
	var seeds []fuzzSeed
	add := func(name string, build func(p *progBuilder)) {
		p := &progBuilder{}
		build(p)
		seeds = append(seeds, fuzzSeed{name, p.b})
	}
	frame := ethFrame(peerMAC, testMAC, 0x88B5, pattern(200, 1))
	tsoTCP := uint8(e1000.TXD_TUCMD_TCP | e1000.TXD_TUCMD_IP | e1000.TXD_TUCMD_TSE | e1000.TXD_TUCMD_DEXT)

	add("traffic", func(p *progBuilder) {
		p.mem(0, frame)
		p.legacy(0, 0, uint16(len(frame)), e1000.TXD_CMD_EOP|e1000.TXD_CMD_RS)
		p.legacy(1, 0, uint16(len(frame)), e1000.TXD_CMD_EOP|e1000.TXD_CMD_RS|e1000.TXD_CMD_IDE)
		p.doorbell(2)
		p.frame(300, 0, nil)
		p.frame(60, 1, []byte{0x08, 0x06})
		p.clock(50)
		p.rreg(e1000.ICR)
		p.wreg(e1000.RDT, 1)
		p.frame(1514, 0, nil)
		p.rreg(e1000.GORCL)
		p.rreg(e1000.GORCH)
	})
	add("tso", func(p *progBuilder) {
		hdr := tsoHeader(0x19)
		p.mem(0, hdr)
		p.context(0, 14, 24, 33, 34, 50, 0, 6000, tsoTCP, uint8(len(hdr)), 1448)
		p.data(1, 0, uint16(len(hdr)+3000), 0, e1000.TXD_CMD_TSE, e1000.TXD_POPTS_IXSM|e1000.TXD_POPTS_TXSM)
		p.data(2, 8192, 3000, 0, e1000.TXD_CMD_TSE|e1000.TXD_CMD_EOP|e1000.TXD_CMD_RS, 0)
		p.doorbell(3)
		p.clock(100)
	})
	// CVE-2016-1981: head beyond the ring length. QEMU looped forever
	// walking from TDH towards a TDT it could never reach (and likewise on
	// RX from RDH).
	add("cve-2016-1981", func(p *progBuilder) {
		p.mem(0, frame)
		p.legacy(0, 0, uint16(len(frame)), e1000.TXD_CMD_EOP|e1000.TXD_CMD_RS)
		p.wreg(e1000.TDH, 100)
		p.doorbell(1)
		p.wreg(e1000.TDH, 0xFFFF)
		p.wreg(e1000.TDT, 0xFFFE)
		p.wreg(e1000.RDH, 200)
		p.frame(100, 0, nil)
		p.wreg(e1000.RDLEN, 0)
		p.frame(100, 0, nil)
		p.clock(255)
	})
	// CVE-2021-20257: a TSO context whose header length and MSS make the
	// segment length computation underflow (QEMU looped forever splitting a
	// data descriptor into zero-byte pieces). MSS 0, then a header length
	// longer than the data, then HDRLEN + MSS smaller than the header
	// offsets.
	add("cve-2021-20257", func(p *progBuilder) {
		hdr := tsoHeader(0x18)
		p.mem(0, hdr)
		p.context(0, 14, 24, 33, 34, 50, 0, 1000, tsoTCP, uint8(len(hdr)), 0)
		p.data(1, 0, 1066, 0, e1000.TXD_CMD_TSE|e1000.TXD_CMD_EOP|e1000.TXD_CMD_RS, e1000.TXD_POPTS_TXSM)
		p.doorbell(2)
		p.context(2, 14, 24, 33, 34, 50, 0, 0xFFFFF, tsoTCP, 255, 1)
		p.data(3, 0, 10, 0, e1000.TXD_CMD_TSE|e1000.TXD_CMD_EOP, e1000.TXD_POPTS_TXSM|e1000.TXD_POPTS_IXSM)
		p.doorbell(4)
		p.context(4, 40, 24, 33, 30, 50, 0, 100, tsoTCP, 10, 2)
		p.data(5, 0, 0xFFFF, 4, e1000.TXD_CMD_TSE|e1000.TXD_CMD_EOP, e1000.TXD_POPTS_TXSM)
		p.doorbell(6)
		p.clock(255)
	})
	add("chain-without-eop", func(p *progBuilder) {
		for i := range uint8(15) {
			p.legacy(i, 0, 4000, e1000.TXD_CMD_RS)
		}
		p.doorbell(15)
		p.wreg(e1000.TDLEN, 100)
		p.doorbell(3)
		p.clock(10)
	})
	add("hostile-rx", func(p *progBuilder) {
		p.wreg(e1000.RCTL, e1000.RCTL_EN|e1000.RCTL_UPE|e1000.RCTL_LPE|e1000.RCTL_BSIZE_2048)
		p.frame(9000, 3, nil)
		p.wreg(e1000.RDBAH, 5)
		p.frame(100, 0, nil)
		p.wreg(e1000.RDLEN, 0xFFFFF)
		p.frame(100, 0, nil)
		p.u8(opRxDesc)
		p.u8(3)
		p.u8(0)
		p.b = append(p.b, bytes.Repeat([]byte{0xFF}, 16)...)
		p.u8(opLink)
		p.u8(0)
		p.frame(64, 1, nil)
	})
	// The receive FIFO (datasheet) and QEMU's held frames: a stalled ring
	// overflows the FIFO with jumbo-sized frames, then descriptors come.
	add("rx-backpressure", func(p *progBuilder) {
		p.wreg(e1000.PBA, 16) // a 16 KB receive FIFO: ten of these frames
		p.wreg(e1000.RCTL, e1000.RCTL_EN|e1000.RCTL_BAM|e1000.RCTL_LPE|e1000.RCTL_BSIZE_2048)
		for range 162 { // 6.5 ms each: past QEMU's hold
			p.clock(255)
		}
		for range 40 {
			p.frame(1500, 0, nil)
		}
		p.wreg(e1000.RDT, 4)
		p.wreg(e1000.RDT, 10)
	})
	return seeds
}

// TestFuzzSeedCorpus checks that the committed seed corpus holds exactly the
// seeds fuzzSeeds builds (NICBED_UPDATE_SEEDS=1 rewrites them). go test runs
// FuzzE1000Model on every file in the corpus, crashers the fuzzer found
// included.
func TestFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzE1000Model")
	for _, s := range fuzzSeeds() {
		path := filepath.Join(dir, s.name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s.prog)
		if os.Getenv("NICBED_UPDATE_SEEDS") != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("seed %s missing (NICBED_UPDATE_SEEDS=1 writes it): %v", s.name, err)
		}
		if string(got) != want {
			t.Fatalf("seed %s is stale (NICBED_UPDATE_SEEDS=1 rewrites it)", s.name)
		}
	}
	cves := 0
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "cve-") {
			cves++
		}
	}
	if cves != 2 {
		t.Fatalf("%d CVE regression seeds, want 2", cves)
	}
}
