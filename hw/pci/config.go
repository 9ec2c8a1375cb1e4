package pci

import (
	"fmt"

	"github.com/nicbed/nicbed/hw/irq"
)

// ConfigSize is the size of a PCI Express function's configuration space: the
// 256-byte PCI-compatible region and the extended region up to 4 KiB.
const ConfigSize = 4096

// LatencyTimer is the header's Latency Timer byte (PCI Local Bus
// Specification 3.0, 6.1).
const LatencyTimer = 0x0D

// NumBARs is the number of Base Address Registers in a type 0 header.
const NumBARs = 6

// Capabilities go after the type 0 header and below the extended space (6.7).
const (
	capStart = 0x40
	capEnd   = 0x100
)

// Status register bits that software clears by writing 1 (6.2.3).
const (
	StatusMasterDataParity    = 1 << 8
	StatusSignaledTargetAbort = 1 << 11
	StatusReceivedTargetAbort = 1 << 12
	StatusReceivedMasterAbort = 1 << 13
	StatusSignaledSystemError = 1 << 14
	StatusDetectedParityError = 1 << 15

	statusW1C = StatusMasterDataParity | StatusSignaledTargetAbort | StatusReceivedTargetAbort |
		StatusReceivedMasterAbort | StatusSignaledSystemError | StatusDetectedParityError
)

// The Command bits software may write (6.2.2): those in pci.go, Parity Error
// Response and SERR# Enable. The rest are hardwired to 0 on a PCI Express
// function.
const (
	commandParityErrorResponse = 1 << 6
	commandSERR                = 1 << 8
	commandWritable            = CommandIO | CommandMemory | CommandBusMaster | commandParityErrorResponse | commandSERR | CommandINTxDisable
)

// barTypeBits are the read-only low bits of a memory BAR: bit 0 memory space
// (0), bits 2:1 type (00, 32-bit), bit 3 prefetchable (0) (6.2.5.1).
const barTypeBits = 0xF

// ID is what identifies a function in its configuration header (6.2.1).
type ID struct {
	Vendor, Device       uint16
	SubVendor, SubSystem uint16
	Revision             uint8
	Class                uint32 // base class, sub-class, programming interface: 0x020000 is an Ethernet controller
	InterruptPin         uint8  // 1..4 for INTA#..INTD#, 0 for none
}

// Config is the configuration space of a PCI function, as the device side of a
// model keeps it: 4096 bytes, and for each byte a mask of the bits software may
// write and a mask of the bits it clears by writing 1 (RW1C). Every other bit is
// read-only to software, so a driver that writes an ID, the class code or a
// reserved bit changes nothing, as on hardware. The device itself sets any bit
// with Set.
//
// Config holds a type 0 header (6.1) with up to six 32-bit non-prefetchable
// memory BARs, and a capability list (6.7) to which AddCapability, AddMSI and
// AddMSIX append. It is not safe for concurrent use: a device model calls it
// from the clock's loop.
type Config struct {
	b     [ConfigSize]byte
	wmask [ConfigSize]byte // bits software writes
	w1c   [ConfigSize]byte // bits software clears by writing 1

	barSize [NumBARs]uint32
	lastCap int // offset of the last capability in the list, 0 if none
	nextCap int // where the next capability goes

	watch []watcher
}

// watcher calls fn after a software write touches [off, off+n).
type watcher struct {
	off, n int
	fn     func()
}

// NewConfig makes the configuration space of a function with the given
// identity, no BARs and no capabilities. The Command register starts at 0:
// I/O, memory and bus mastering disabled, as after reset (6.2.2).
func NewConfig(id ID) *Config {
	c := &Config{nextCap: capStart}
	c.Set(VendorID, 2, uint32(id.Vendor))
	c.Set(DeviceID, 2, uint32(id.Device))
	c.Set(RevisionID, 1, uint32(id.Revision))
	c.Set(ClassProg, 1, id.Class&0xFF)
	c.Set(ClassProg+1, 2, (id.Class>>8)&0xFFFF)
	c.Set(SubVendorID, 2, uint32(id.SubVendor))
	c.Set(SubSystemID, 2, uint32(id.SubSystem))
	c.Set(InterruptPin, 1, uint32(id.InterruptPin))
	c.SetMask(Command, 2, commandWritable, 0)
	c.SetMask(Status, 2, 0, statusW1C)
	c.SetMask(CacheLineSize, 1, 0xFF, 0)
	c.SetMask(LatencyTimer, 1, 0xFF, 0)
	c.SetMask(InterruptLine, 1, 0xFF, 0)
	return c
}

// valid reports whether an access of size bytes at off is one a configuration
// cycle can make: size 1, 2 or 4, naturally aligned, inside the space.
func valid(off, size int) bool {
	return (size == 1 || size == 2 || size == 4) && off >= 0 && off <= ConfigSize-size && off%size == 0
}

// Read returns size (1, 2 or 4) bytes at off, little-endian. An access that is
// out of range, misaligned or of another size reads as all ones, as a failed
// configuration read does.
func (c *Config) Read(off, size int) uint32 {
	if !valid(off, size) {
		return 0xFFFFFFFF
	}
	var v uint32
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint32(c.b[off+i])
	}
	return v
}

// Write is a software write of size (1, 2 or 4) bytes at off. Only writable
// bits take the new value; RW1C bits written as 1 are cleared; everything
// else is unchanged. An invalid access (see Read) is ignored.
func (c *Config) Write(off, size int, val uint32) {
	if !valid(off, size) {
		return
	}
	for i := range size {
		o, v := off+i, byte(val>>(8*i))
		c.b[o] = (c.b[o] &^ c.wmask[o]) | (v & c.wmask[o])
		c.b[o] &^= v & c.w1c[o]
	}
	for _, w := range c.watch {
		if off < w.off+w.n && w.off < off+size {
			w.fn()
		}
	}
}

// Set is the device's own store: it writes size bytes at off regardless of
// the masks. It is how a model fills in read-only fields and sets status
// bits. Invalid accesses are ignored.
func (c *Config) Set(off, size int, val uint32) {
	if !valid(off, size) {
		return
	}
	for i := range size {
		c.b[off+i] = byte(val >> (8 * i))
	}
}

// SetMask sets which bits of the size bytes at off software may write
// (writable) and which it clears by writing 1 (w1c). A bit in both is RW1C.
func (c *Config) SetMask(off, size int, writable, w1c uint32) {
	if !valid(off, size) {
		return
	}
	for i := range size {
		c.w1c[off+i] = byte(w1c >> (8 * i))
		c.wmask[off+i] = byte(writable>>(8*i)) &^ c.w1c[off+i]
	}
}

// onWrite makes Write call fn after any software write that touches
// [off, off+n).
func (c *Config) onWrite(off, n int, fn func()) {
	c.watch = append(c.watch, watcher{off, n, fn})
}

func (c *Config) command() uint32 { return c.Read(Command, 2) }

// MemoryEnabled reports Command.Memory Space: whether the function answers
// accesses to its memory BARs (6.2.2).
func (c *Config) MemoryEnabled() bool { return c.command()&CommandMemory != 0 }

// BusMaster reports Command.Bus Master: whether the function may make memory
// accesses of its own, DMA and MSI/MSI-X messages alike (6.2.2).
func (c *Config) BusMaster() bool { return c.command()&CommandBusMaster != 0 }

// INTxDisabled reports Command.Interrupt Disable: the function must not assert
// its INTx# pin (6.2.2).
func (c *Config) INTxDisabled() bool { return c.command()&CommandINTxDisable != 0 }

// SetINTxStatus sets Status.Interrupt Status, which reflects the function's
// INTx# level whether or not Interrupt Disable masks the pin (6.2.3).
func (c *Config) SetINTxStatus(pending bool) {
	s := c.Read(Status, 2) &^ StatusINTx
	if pending {
		s |= StatusINTx
	}
	c.Set(Status, 2, s)
}

// SetBAR makes BAR i a 32-bit non-prefetchable memory BAR of size bytes, a
// power of two of at least 16, or removes it when size is 0. Software then
// sizes it the usual way (6.2.5.1): it writes all ones and reads back the size
// mask, because only the address bits above the size are writable. SetBAR
// panics on an index or size a device model must not use.
func (c *Config) SetBAR(i int, size uint32) {
	if i < 0 || i >= NumBARs {
		panic(fmt.Sprintf("pci: BAR index %d out of range", i))
	}
	if size != 0 && (size < 16 || size&(size-1) != 0) {
		panic(fmt.Sprintf("pci: BAR size %#x is not a power of two >= 16", size))
	}
	off := BAR0 + 4*i
	c.barSize[i] = size
	c.Set(off, 4, 0)
	if size == 0 {
		c.SetMask(off, 4, 0, 0)
		return
	}
	c.SetMask(off, 4, ^(size-1)&^barTypeBits, 0)
}

// BARSize is the size of BAR i, 0 if it is not implemented.
func (c *Config) BARSize(i int) uint32 {
	if i < 0 || i >= NumBARs {
		return 0
	}
	return c.barSize[i]
}

// BARAddr is the bus address software has programmed into BAR i, 0 if it is
// not implemented.
func (c *Config) BARAddr(i int) uint32 {
	if i < 0 || i >= NumBARs {
		return 0
	}
	return c.Read(BAR0+4*i, 4) &^ barTypeBits
}

// AddCapability appends a capability with the given ID and length in bytes
// (including its 2-byte header) to the list: Capabilities Pointer, or the
// previous capability's next pointer, points at it, and Status.Capabilities
// List is set (6.7). It returns the capability's offset, DWORD aligned. Its
// body reads as zero and is read-only until the caller Sets and SetMasks it.
// AddCapability panics if the capability does not fit below offset 0x100.
func (c *Config) AddCapability(id uint8, length int) int {
	off := c.nextCap
	if length < 2 || off+length > capEnd {
		panic(fmt.Sprintf("pci: capability %#x of %d bytes does not fit at %#x", id, length, off))
	}
	c.Set(off, 1, uint32(id))
	c.Set(off+1, 1, 0)
	if c.lastCap == 0 {
		c.Set(CapPtr, 1, uint32(off))
	} else {
		c.Set(c.lastCap+1, 1, uint32(off))
	}
	c.Set(Status, 2, c.Read(Status, 2)|StatusCapList)
	c.lastCap = off
	c.nextCap = (off + length + 3) &^ 3
	return off
}

// MSI capability layout, 64-bit address without per-vector masking
// (6.8.1).
const (
	msiControl = 2  // Message Control, 16 bits
	msiAddrLo  = 4  // Message Address, bits 1:0 reserved
	msiAddrHi  = 8  // Message Upper Address
	msiData    = 12 // Message Data, 16 bits
	msiLen     = 14

	MSIEnable    = 1 << 0 // Message Control: MSI Enable
	msiMMCShift  = 1      // Multiple Message Capable, bits 3:1, read-only
	msiMMEShift  = 4      // Multiple Message Enable, bits 6:4
	MSI64BitAddr = 1 << 7 // 64 bit address capable
)

// MSI is a function's MSI capability (6.8.1): one address and one data value
// programmed by software, and the device's way to send them.
type MSI struct {
	cfg     *Config
	off     int
	vectors int
	sink    irq.MessageSink
}

// AddMSI adds a 64-bit MSI capability that can request vectors messages (1,
// 2, 4, 8, 16 or 32: Multiple Message Capable) and sends them to sink.
// Software may write MSI Enable, Multiple Message Enable, the address (bits
// 1:0 stay 0), the upper address and the 16-bit data; the rest is read-only.
func (c *Config) AddMSI(vectors int, sink irq.MessageSink) *MSI {
	mmc := 0
	for 1<<mmc < vectors {
		mmc++
	}
	if vectors < 1 || 1<<mmc != vectors || mmc > 5 {
		panic(fmt.Sprintf("pci: MSI vector count %d is not a power of two from 1 to 32", vectors))
	}
	off := c.AddCapability(CapMSI, msiLen)
	c.Set(off+msiControl, 2, uint32(mmc)<<msiMMCShift|MSI64BitAddr)
	c.SetMask(off+msiControl, 2, MSIEnable|7<<msiMMEShift, 0)
	c.SetMask(off+msiAddrLo, 4, 0xFFFFFFFC, 0)
	c.SetMask(off+msiAddrHi, 4, 0xFFFFFFFF, 0)
	c.SetMask(off+msiData, 2, 0xFFFF, 0)
	return &MSI{cfg: c, off: off, vectors: vectors, sink: sink}
}

// Offset is the capability's offset in configuration space.
func (m *MSI) Offset() int { return m.off }

// Enabled reports Message Control.MSI Enable.
func (m *MSI) Enabled() bool { return m.cfg.Read(m.off+msiControl, 2)&MSIEnable != 0 }

// Allocated is the number of vectors software granted: 2^Multiple Message
// Enable, never more than the function asked for.
func (m *MSI) Allocated() int {
	ctl := m.cfg.Read(m.off+msiControl, 2)
	mme := min(ctl>>msiMMEShift&7, ctl>>msiMMCShift&7)
	return 1 << mme
}

// Fire sends the message for vector (0 <= vector < the count given to AddMSI)
// and reports whether it was sent. With MSI disabled the function must use
// INTx instead, and with Bus Master clear it cannot write at all; either way
// nothing is sent. The data sent is Message Data with its low bits replaced by
// the vector number, as many bits as software allocated vectors (6.8.1.6); a
// vector beyond the allocation aliases onto one that is.
func (m *MSI) Fire(vector int) bool {
	if vector < 0 || vector >= m.vectors || !m.Enabled() || !m.cfg.BusMaster() {
		return false
	}
	n := uint32(m.Allocated())
	data := m.cfg.Read(m.off+msiData, 2)
	data = data&^(n-1) | uint32(vector)&(n-1)
	addr := uint64(m.cfg.Read(m.off+msiAddrHi, 4))<<32 | uint64(m.cfg.Read(m.off+msiAddrLo, 4))
	m.sink.WriteMSI(addr, data)
	return true
}

// MSI-X capability layout (6.8.2).
const (
	msixControl = 2 // Message Control, 16 bits
	msixTable   = 4 // Table Offset (31:3) | Table BIR (2:0)
	msixPBA     = 8 // PBA Offset (31:3) | PBA BIR (2:0)
	msixLen     = 12

	msixTableSizeMask = 0x7FF   // Message Control: Table Size, N-1, read-only
	MSIXFunctionMask  = 1 << 14 // Message Control: Function Mask
	MSIXEnable        = 1 << 15 // Message Control: MSI-X Enable

	// MSIXEntrySize is the size of an MSI-X table entry: Message Address,
	// Message Upper Address, Message Data, Vector Control (6.8.2.6-9).
	MSIXEntrySize = 16
	// MSIXVectorMask is the Mask Bit of Vector Control.
	MSIXVectorMask = 1 << 0

	msixMaxVectors = 2048
)

// MSIXLayout is where a function's MSI-X table and Pending Bit Array live:
// each in one of its memory BARs at a QWORD-aligned offset (6.8.2.4-5).
type MSIXLayout struct {
	Vectors     int    // table entries, 1..2048
	TableBAR    int    // BIR
	TableOffset uint32 // within TableBAR
	PBABAR      int    // BIR
	PBAOffset   uint32 // within PBABAR
}

// MSIX is a function's MSI-X capability together with its table and PBA, the
// memory the device places in a BAR (6.8.2). Each table entry is 16 bytes:
// Message Address (bits 1:0 read as 0), Message Upper Address, Message Data and
// Vector Control, whose bit 0 masks the vector and whose other bits are
// reserved. Entries come out of reset masked. The PBA holds one read-only
// pending bit per vector, 64 to a QWORD.
//
// A vector is masked while MSI-X is disabled, the Function Mask is set or its
// entry's Mask Bit is set. Firing a masked vector sets its pending bit instead
// of sending. When a vector with its pending bit set becomes unmasked (by a
// table write or a Message Control write) the message is sent, with the
// address and data in the table at that moment, and the bit cleared
// (6.8.2.9, 6.8.2.10). Treating "disabled" as masked is what QEMU does too; the spec
// leaves the function free to use INTx then.
type MSIX struct {
	cfg    *Config
	off    int
	layout MSIXLayout
	table  []uint32 // 4 DWORDs per entry
	pba    []uint64
	sink   irq.MessageSink
}

// AddMSIX adds an MSI-X capability with the given layout whose messages go
// to sink. The BARs named in the layout must already be set and hold the
// table (16 bytes per vector) and the PBA (8 bytes per 64 vectors) without
// overlap; AddMSIX panics otherwise. The device forwards accesses to those
// BARs to the MSIX's Read32 and Write32.
func (c *Config) AddMSIX(l MSIXLayout, sink irq.MessageSink) *MSIX {
	tableLen := uint32(l.Vectors) * MSIXEntrySize
	pbaLen := uint32((l.Vectors+63)/64) * 8
	fits := func(bar int, off, n uint32) bool {
		size := c.BARSize(bar)
		return off%8 == 0 && off <= size && n <= size-off
	}
	overlap := l.TableBAR == l.PBABAR && l.TableOffset < l.PBAOffset+pbaLen && l.PBAOffset < l.TableOffset+tableLen
	if l.Vectors < 1 || l.Vectors > msixMaxVectors || !fits(l.TableBAR, l.TableOffset, tableLen) || !fits(l.PBABAR, l.PBAOffset, pbaLen) || overlap {
		panic(fmt.Sprintf("pci: bad MSI-X layout %+v", l))
	}
	off := c.AddCapability(CapMSIX, msixLen)
	c.Set(off+msixControl, 2, uint32(l.Vectors-1))
	c.SetMask(off+msixControl, 2, MSIXFunctionMask|MSIXEnable, 0)
	c.Set(off+msixTable, 4, l.TableOffset|uint32(l.TableBAR))
	c.Set(off+msixPBA, 4, l.PBAOffset|uint32(l.PBABAR))
	m := &MSIX{
		cfg:    c,
		off:    off,
		layout: l,
		table:  make([]uint32, 4*l.Vectors),
		pba:    make([]uint64, (l.Vectors+63)/64),
		sink:   sink,
	}
	for v := range l.Vectors {
		m.table[4*v+3] = MSIXVectorMask
	}
	c.onWrite(off+msixControl, 2, m.deliverPending)
	return m
}

// Offset is the capability's offset in configuration space.
func (m *MSIX) Offset() int { return m.off }

// Vectors is the number of table entries.
func (m *MSIX) Vectors() int { return m.layout.Vectors }

func (m *MSIX) control() uint32 { return m.cfg.Read(m.off+msixControl, 2) }

// Enabled reports Message Control.MSI-X Enable.
func (m *MSIX) Enabled() bool { return m.control()&MSIXEnable != 0 }

// FunctionMasked reports Message Control.Function Mask.
func (m *MSIX) FunctionMasked() bool { return m.control()&MSIXFunctionMask != 0 }

// Masked reports whether vector may not send now: MSI-X disabled, function
// masked, or its entry masked.
func (m *MSIX) Masked(vector int) bool {
	if vector < 0 || vector >= m.layout.Vectors {
		return true
	}
	return m.control()&(MSIXEnable|MSIXFunctionMask) != MSIXEnable || m.table[4*vector+3]&MSIXVectorMask != 0
}

// Pending reports vector's bit in the PBA.
func (m *MSIX) Pending(vector int) bool {
	if vector < 0 || vector >= m.layout.Vectors {
		return false
	}
	return m.pba[vector/64]&(1<<(vector%64)) != 0
}

// ClearPending clears vector's pending bit. A function does this when the
// events behind a masked vector no longer need service, so that unmasking it
// later sends no spurious message (6.8.2.9).
func (m *MSIX) ClearPending(vector int) {
	if vector >= 0 && vector < m.layout.Vectors {
		m.pba[vector/64] &^= 1 << (vector % 64)
	}
}

// Fire raises vector: if it is unmasked the message in its table entry is
// sent and Fire reports true; if it is masked its pending bit is set. With
// Bus Master clear an unmasked message cannot be written and is lost, as in
// QEMU. An out-of-range vector does nothing.
func (m *MSIX) Fire(vector int) bool {
	if vector < 0 || vector >= m.layout.Vectors {
		return false
	}
	if m.Masked(vector) {
		m.pba[vector/64] |= 1 << (vector % 64)
		return false
	}
	return m.send(vector)
}

func (m *MSIX) send(vector int) bool {
	if !m.cfg.BusMaster() {
		return false
	}
	e := m.table[4*vector : 4*vector+4]
	m.sink.WriteMSI(uint64(e[1])<<32|uint64(e[0]), e[2])
	return true
}

// deliverPending sends, in vector order, the message of every vector that is
// pending and no longer masked, and clears its pending bit.
func (m *MSIX) deliverPending() {
	for w, bits := range m.pba {
		for bits != 0 {
			b := 0
			for bits&(1<<b) == 0 {
				b++
			}
			bits &^= 1 << b
			if v := 64*w + b; !m.Masked(v) {
				m.pba[w] &^= 1 << b
				m.send(v)
			}
		}
	}
}

// region finds which of the table and PBA holds the DWORD at off of BAR bar:
// it returns the DWORD index into that array and whether it is the table.
func (m *MSIX) region(bar int, off uint32) (idx int, table, ok bool) {
	l := &m.layout
	if bar == l.TableBAR && off >= l.TableOffset && off-l.TableOffset < uint32(len(m.table))*4 {
		return int(off-l.TableOffset) / 4, true, true
	}
	if bar == l.PBABAR && off >= l.PBAOffset && off-l.PBAOffset < uint32(len(m.pba))*8 {
		return int(off-l.PBAOffset) / 4, false, true
	}
	return 0, false, false
}

// Read32 reads the DWORD at byte offset off of BAR bar if it lies in the
// table or the PBA; ok is false if it lies in neither and the device must
// answer the access itself. A misaligned offset in either reads all ones.
func (m *MSIX) Read32(bar int, off uint32) (val uint32, ok bool) {
	i, table, ok := m.region(bar, off)
	switch {
	case !ok:
		return 0, false
	case off%4 != 0:
		return 0xFFFFFFFF, true
	case table:
		return m.table[i], true
	default:
		return uint32(m.pba[i/2] >> (32 * (i % 2))), true
	}
}

// Write32 writes the DWORD at byte offset off of BAR bar if it lies in the
// table or the PBA, and reports whether it did. The PBA is read-only and
// misaligned writes are ignored. Clearing an entry's Mask Bit sends its
// pending message, if any.
func (m *MSIX) Write32(bar int, off uint32, val uint32) bool {
	i, table, ok := m.region(bar, off)
	if !ok || !table || off%4 != 0 {
		return ok
	}
	switch i % 4 {
	case 0:
		val &^= 3 // Message Address is DWORD aligned
	case 3:
		val &= MSIXVectorMask // other Vector Control bits are reserved
	}
	m.table[i] = val
	if i%4 == 3 && m.Pending(i/4) && !m.Masked(i/4) {
		m.ClearPending(i / 4)
		m.send(i / 4)
	}
	return true
}

// NewFunction makes a Function of a configuration space and the memory BARs
// a device model implements (nil where there is none). The BARs it hands out
// answer only as real ones do: an access with Command.Memory Space clear, past
// the size set with SetBAR, or not 4-byte aligned reads all ones and is not
// passed to the model, so a model sees only aligned in-range accesses.
func NewFunction(cfg *Config, bars [NumBARs]BAR) Function {
	f := &function{cfg: cfg}
	for i, b := range bars {
		if b != nil {
			f.bars[i] = &gatedBAR{cfg: cfg, i: i, bar: b}
		}
	}
	return f
}

type function struct {
	cfg  *Config
	bars [NumBARs]*gatedBAR
}

func (f *function) ConfigRead(off, size int) uint32       { return f.cfg.Read(off, size) }
func (f *function) ConfigWrite(off, size int, val uint32) { f.cfg.Write(off, size, val) }

func (f *function) BAR(i int) BAR {
	if i < 0 || i >= NumBARs || f.bars[i] == nil {
		return nil
	}
	return f.bars[i]
}

type gatedBAR struct {
	cfg *Config
	i   int
	bar BAR
}

func (g *gatedBAR) ok(off uint32) bool {
	return off%4 == 0 && off < g.cfg.BARSize(g.i) && g.cfg.MemoryEnabled()
}

func (g *gatedBAR) Read32(off uint32) uint32 {
	if !g.ok(off) {
		return 0xFFFFFFFF
	}
	return g.bar.Read32(off)
}

func (g *gatedBAR) Write32(off uint32, val uint32) {
	if g.ok(off) {
		g.bar.Write32(off, val)
	}
}
