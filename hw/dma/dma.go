// Package dma is the physical address space devices reach by DMA.
//
// The driver allocates descriptor rings and packet buffers from an Allocator
// and gets back a physical (bus) address to program into the device and a byte
// view to read and write the memory itself. The device reaches the same memory
// only through Memory, by physical address.
//
// Arena is the in-process implementation. Every access the device makes is
// checked against what was allocated: an access that is not wholly inside one
// live allocation is a DMA fault. A fault is counted and recorded (as an IOMMU
// would report it), the access does nothing (reads return zeros), and the
// caller is told; it never panics and never wraps around. Freed address space
// is reused, but only after a quarantine, so that a device still holding a
// freed address faults (a use after free the fault log names) instead of
// reaching memory handed to somebody else.
package dma

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Addr is a physical (bus) address: an IOVA when an IOMMU is in the path.
type Addr uint64

// Region is one allocation: its bus address and the driver's view of it.
type Region struct {
	Addr  Addr
	Bytes []byte
}

// Len is the region's size in bytes.
func (r Region) Len() int { return len(r.Bytes) }

// Allocator hands out DMA-able memory: dma_alloc_coherent and
// dma_free_coherent. Every implementation keeps this contract (dmatest.Run
// checks it, point by point):
//
//   - Alloc(size, align) returns a Region of exactly size bytes (length and
//     capacity of Bytes), zeroed, whose bus address is a multiple of align.
//   - align 0 means 64 (a cache line). Otherwise align is a power of two from
//     1 to MaxAlign: 4096 for a page (descriptor rings), larger for a larger
//     boundary. Any other align, or a size below 1, is an error wrapping
//     ErrBadRequest.
//   - A request the memory cannot satisfy (larger than the allocator can ever
//     hold, or no free range is large enough now) is an error wrapping
//     ErrNoMemory; it never panics, whatever the size.
//   - Free(r) takes back exactly a region Alloc returned, once. Freeing
//     anything else (a region never allocated, one already freed, part of
//     one) changes nothing and is counted in BadFrees: it is never a silent
//     no-op. Freeing the zero Region does nothing, as kfree(NULL).
//   - After Free the device must not reach the region and the driver must not
//     use its Bytes. The allocator may hand the space out again (an Arena
//     does, after a quarantine).
//
// An Allocator need not be safe for concurrent use unless it says so (an
// Arena is): a driver allocates from its kernel model's loop.
type Allocator interface {
	Alloc(size, align int) (Region, error)
	Free(r Region)
	// BadFrees is the number of Free calls that named no live region.
	BadFrees() uint64
}

// MaxAlign is the largest alignment an Allocator must honour (1 GiB).
const MaxAlign = 1 << 30

// Errors of an Allocator.
var (
	// ErrNoMemory is returned when an allocation does not fit.
	ErrNoMemory = errors.New("dma: out of DMA memory")
	// ErrBadRequest is returned for a size below 1 or an alignment that is
	// not 0 or a power of two up to MaxAlign.
	ErrBadRequest = errors.New("dma: bad allocation request")
)

// CheckRequest checks size and align against the Allocator contract and
// returns the alignment to use (64 for 0).
func CheckRequest(size, align int) (int, error) {
	if size <= 0 {
		return 0, fmt.Errorf("%w: size %d", ErrBadRequest, size)
	}
	if align == 0 {
		return 64, nil
	}
	if align < 0 || align > MaxAlign || align&(align-1) != 0 {
		return 0, fmt.Errorf("%w: alignment %d is not a power of two up to %d", ErrBadRequest, align, MaxAlign)
	}
	return align, nil
}

// Memory is the device's side: reads and writes by physical address. An
// access outside allocated memory is a fault: it returns false and does
// nothing else.
type Memory interface {
	// Read copies len(p) bytes at addr into p.
	Read(addr Addr, p []byte) bool
	// Write copies p to addr.
	Write(addr Addr, p []byte) bool
	// View returns the n bytes at addr for the device to read or write in
	// place (the zero-copy path of a model), or false on a fault.
	View(addr Addr, n int, write bool) ([]byte, bool)
}

// Fault is one access outside allocated memory.
type Fault struct {
	Addr  Addr
	Len   int
	Write bool
	// UseAfterFree is set when Addr lies in a region that was freed and is
	// still in quarantine: the device used an address the driver gave back.
	UseAfterFree bool
}

func (f Fault) String() string {
	dir := "read"
	if f.Write {
		dir = "write"
	}
	where := "outside allocated memory"
	if f.UseAfterFree {
		where = "in freed memory (use after free)"
	}
	return fmt.Sprintf("DMA fault: %s of %d bytes at %#x %s", dir, f.Len, uint64(f.Addr), where)
}

// BadFree is one Free that named no live region.
type BadFree struct {
	Addr Addr
	Len  int
	// DoubleFree is set when the region had been freed already (it is in
	// quarantine or free); otherwise the region was never allocated, or
	// its address or length differ from what Alloc returned.
	DoubleFree bool
}

func (b BadFree) String() string {
	what := "unknown region"
	if b.DoubleFree {
		what = "region already freed (double free)"
	}
	return fmt.Sprintf("DMA bad free: %d bytes at %#x: %s", b.Len, uint64(b.Addr), what)
}

// DefaultBase is where an Arena's address space starts: far from zero, so that
// a device handed a zeroed descriptor faults instead of scribbling on memory.
const DefaultBase Addr = 0x1_0000_0000

// maxFaultLog bounds the faults (and bad frees) an Arena remembers; the
// counts are exact.
const maxFaultLog = 64

// Defaults of an ArenaConfig's quarantine.
const (
	// DefaultQuarantineCount is how many later frees a freed region waits
	// for before its space is reused.
	DefaultQuarantineCount = 64
	// DefaultQuarantineDiv: a freed region also leaves quarantine once
	// Size/DefaultQuarantineDiv bytes were freed after it.
	DefaultQuarantineDiv = 4
)

// PoisonFree is the byte freed memory is filled with (Linux's POISON_FREE),
// so that a driver reading a freed region through a stale slice sees it.
const PoisonFree = 0x6b

// ArenaConfig describes an Arena.
type ArenaConfig struct {
	// Size is the arena's size in bytes.
	Size int
	// QuarantineBytes and QuarantineCount bound the quarantine: a freed
	// region's space is reused only after QuarantineBytes bytes or
	// QuarantineCount regions were freed after it (whichever comes first),
	// or when an allocation cannot be satisfied otherwise (oldest first).
	// Zero means the default (Size/4 bytes, 64 regions); a negative value
	// turns that bound off; both negative turn the quarantine off.
	QuarantineBytes int
	QuarantineCount int
	// Mem, if not nil, is the arena's backing memory instead of a fresh
	// Go slice: memory mapped outside the Go heap and mapped for a device
	// (a VFIO DMA mapping), say. Size must then be 0 or len(Mem). The
	// arena writes it only to zero an allocation and to poison a freed
	// one, and never keeps a reference past the arena's life that its
	// owner does not know of: the owner unmaps it after it is done with
	// the arena and every region it handed out.
	Mem []byte
	// Base is the bus address of the arena's first byte (Mem[0]): the
	// IOVA a VFIO DMA mapping put it at. Zero means DefaultBase.
	// Alignments are of bus addresses, so a Base that is a multiple of
	// the page size keeps bus and virtual alignment the same up to a page.
	Base Addr
}

// Arena is in-process DMA memory: one backing slice addressed from Base,
// allocated first-fit from an address-ordered free list whose neighbours
// coalesce, with a FIFO quarantine between Free and reuse, and checked on
// every device access.
//
// Allocation and freeing are safe for concurrent use; device accesses (View,
// Read, Write) are not synchronized with them: in nicbed the driver and the
// device model both run on the clock's loop, one event at a time, and the hot
// path pays for no lock.
type Arena struct {
	mu      sync.Mutex
	base    Addr
	mem     []byte
	regions []span // sorted by start, live allocations only
	last    [2]int // indices of the regions hit last (fast path: ring, buffer)

	free      []span // sorted by start, coalesced: no two touch
	quar      []span // quarantine, oldest first
	quarBytes int
	qMaxBytes int // <0: no bound by bytes
	qMaxCount int // <0: no bound by count

	faults       uint64
	useAfterFree uint64
	faultLog     []Fault
	badFrees     uint64
	badFreeLog   []BadFree
	allocated    int
	highWater    int
	allocs       uint64
	frees        uint64
	reused       uint64
	qFlushed     uint64
}

type span struct{ start, end int } // offsets into mem, [start, end)

func (s span) len() int { return s.end - s.start }

// NewArena makes an arena of size bytes at DefaultBase with the default
// quarantine. The backing memory is committed lazily by the Go runtime and
// the OS, so a large arena costs only what is touched.
func NewArena(size int) *Arena { return NewArenaConfig(ArenaConfig{Size: size}) }

// NewArenaConfig makes an arena as cfg says. It panics if cfg.Mem is given
// and cfg.Size is neither 0 nor len(cfg.Mem), or if the arena would reach
// past the top of the 64-bit bus address space.
func NewArenaConfig(cfg ArenaConfig) *Arena {
	size := max(cfg.Size, 0)
	mem := cfg.Mem
	switch {
	case mem == nil:
		mem = make([]byte, size)
	case cfg.Size != 0 && cfg.Size != len(mem):
		panic(fmt.Sprintf("dma: ArenaConfig.Size %d but len(Mem) %d", cfg.Size, len(mem)))
	default:
		size = len(mem)
		mem = mem[:size:size]
	}
	base := cfg.Base
	if base == 0 {
		base = DefaultBase
	}
	if uint64(base)+uint64(size) < uint64(base) {
		panic(fmt.Sprintf("dma: arena of %d bytes at %#x wraps the bus address space", size, uint64(base)))
	}
	a := &Arena{base: base, mem: mem, qMaxBytes: cfg.QuarantineBytes, qMaxCount: cfg.QuarantineCount}
	if a.qMaxBytes == 0 {
		a.qMaxBytes = size / DefaultQuarantineDiv
	}
	if a.qMaxCount == 0 {
		a.qMaxCount = DefaultQuarantineCount
	}
	if size > 0 {
		a.free = []span{{0, size}}
	}
	return a
}

// Base is the arena's lowest physical address.
func (a *Arena) Base() Addr { return a.base }

// Size is the arena's size in bytes.
func (a *Arena) Size() int { return len(a.mem) }

// Alloc implements Allocator: size bytes aligned to align, zeroed, at the
// lowest address where they fit. When nothing fits, quarantined regions are
// released early, oldest first, until the request fits or the quarantine is
// empty.
func (a *Arena) Alloc(size, align int) (Region, error) {
	align, err := CheckRequest(size, align)
	if err != nil {
		return Region{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if size > len(a.mem) {
		return Region{}, fmt.Errorf("%w: %d bytes wanted, the arena has %d", ErrNoMemory, size, len(a.mem))
	}
	for {
		if start, ok := a.fit(size, align); ok {
			return a.take(start, size), nil
		}
		if len(a.quar) == 0 {
			break
		}
		a.release()
		a.qFlushed++
	}
	st := a.statsLocked()
	return Region{}, fmt.Errorf("%w: %d bytes (align %d) wanted; %d free in %d ranges, the largest %d; %d allocated",
		ErrNoMemory, size, align, st.FreeBytes, st.FreeRanges, st.LargestFree, st.Allocated)
}

// fit carves size bytes aligned to align out of the first free range that
// holds them and returns their offset.
func (a *Arena) fit(size, align int) (int, bool) {
	for i, f := range a.free {
		abs := uint64(a.base) + uint64(f.start)
		abs = (abs + uint64(align) - 1) &^ (uint64(align) - 1)
		start := int(abs - uint64(a.base))
		if start < f.start || start > f.end || f.end-start < size {
			continue
		}
		var rest [2]span
		n := 0
		if start > f.start {
			rest[n] = span{f.start, start}
			n++
		}
		if start+size < f.end {
			rest[n] = span{start + size, f.end}
			n++
		}
		switch n {
		case 0:
			a.free = append(a.free[:i], a.free[i+1:]...)
		case 1:
			a.free[i] = rest[0]
		case 2:
			a.free[i] = rest[0]
			a.free = append(a.free, span{})
			copy(a.free[i+2:], a.free[i+1:])
			a.free[i+1] = rest[1]
		}
		return start, true
	}
	return 0, false
}

// take records [start, start+size) as a live region, zeroed.
func (a *Arena) take(start, size int) Region {
	end := start + size
	clear(a.mem[start:end])
	i := sort.Search(len(a.regions), func(i int) bool { return a.regions[i].start >= start })
	a.regions = append(a.regions, span{})
	copy(a.regions[i+1:], a.regions[i:])
	a.regions[i] = span{start, end}
	a.last = [2]int{}
	a.allocated += size
	a.allocs++
	if start < a.highWater {
		a.reused++
	}
	a.highWater = max(a.highWater, end)
	return Region{Addr: a.base + Addr(start), Bytes: a.mem[start:end:end]}
}

// Free implements Allocator. The region's memory is poisoned (PoisonFree)
// and its space quarantined: until enough other frees have passed (see
// ArenaConfig), a device access to it faults as a use after free.
func (a *Arena) Free(r Region) {
	if r.Addr == 0 && r.Bytes == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	off := int(r.Addr - a.base)
	i := -1
	if r.Addr >= a.base && uint64(r.Addr-a.base) < uint64(len(a.mem)) {
		j := sort.Search(len(a.regions), func(j int) bool { return a.regions[j].start >= off })
		if j < len(a.regions) && a.regions[j].start == off && a.regions[j].len() == len(r.Bytes) {
			i = j
		}
	}
	if i < 0 {
		a.badFrees++
		if len(a.badFreeLog) < maxFaultLog {
			a.badFreeLog = append(a.badFreeLog, BadFree{Addr: r.Addr, Len: len(r.Bytes), DoubleFree: a.freed(r.Addr)})
		}
		return
	}
	s := a.regions[i]
	a.regions = append(a.regions[:i], a.regions[i+1:]...)
	a.last = [2]int{}
	a.allocated -= s.len()
	a.frees++
	poison(a.mem[s.start:s.end])
	if a.qMaxBytes < 0 && a.qMaxCount < 0 {
		a.insertFree(s)
		return
	}
	a.quar = append(a.quar, s)
	a.quarBytes += s.len()
	// The oldest region leaves once enough was freed after it.
	for len(a.quar) > 1 {
		after := a.quarBytes - a.quar[0].len()
		if (a.qMaxBytes >= 0 && after >= a.qMaxBytes) || (a.qMaxCount >= 0 && len(a.quar)-1 >= a.qMaxCount) {
			a.release()
			continue
		}
		break
	}
}

// poison fills p with PoisonFree at memmove speed.
func poison(p []byte) {
	if len(p) == 0 {
		return
	}
	p[0] = PoisonFree
	for k := 1; k < len(p); k *= 2 {
		copy(p[k:], p[:k])
	}
}

// release moves the oldest quarantined region to the free list.
func (a *Arena) release() {
	s := a.quar[0]
	a.quar[0] = span{}
	a.quar = a.quar[1:]
	a.quarBytes -= s.len()
	a.insertFree(s)
}

// insertFree puts s into the free list, merged with the free ranges it
// touches.
func (a *Arena) insertFree(s span) {
	i := sort.Search(len(a.free), func(i int) bool { return a.free[i].start >= s.end })
	// a.free[i] is the first range at or after s's end; a.free[i-1] ends at
	// or before s's start (ranges do not overlap live or quarantined space).
	left := i > 0 && a.free[i-1].end == s.start
	right := i < len(a.free) && a.free[i].start == s.end
	switch {
	case left && right:
		a.free[i-1].end = a.free[i].end
		a.free = append(a.free[:i], a.free[i+1:]...)
	case left:
		a.free[i-1].end = s.end
	case right:
		a.free[i].start = s.start
	default:
		a.free = append(a.free, span{})
		copy(a.free[i+1:], a.free[i:])
		a.free[i] = s
	}
}

// DrainQuarantine releases every quarantined region for reuse at once.
func (a *Arena) DrainQuarantine() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.quar) > 0 {
		a.release()
	}
}

// freed reports whether addr lies in quarantined or free space.
func (a *Arena) freed(addr Addr) bool {
	if a.quarantined(addr) {
		return true
	}
	off := int(addr - a.base)
	if addr < a.base || off >= a.highWater {
		return false
	}
	i := sort.Search(len(a.free), func(i int) bool { return a.free[i].end > off })
	return i < len(a.free) && off >= a.free[i].start
}

// Quarantined reports whether addr lies in a region that was freed and is
// still in quarantine (a device access there is a use after free).
func (a *Arena) Quarantined(addr Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.quarantined(addr)
}

// quarantined reports whether addr lies in a quarantined region.
func (a *Arena) quarantined(addr Addr) bool {
	if addr < a.base || uint64(addr-a.base) >= uint64(len(a.mem)) {
		return false
	}
	off := int(addr - a.base)
	for _, s := range a.quar {
		if off >= s.start && off < s.end {
			return true
		}
	}
	return false
}

// Allocated is the number of bytes currently allocated.
func (a *Arena) Allocated() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.allocated
}

// BadFrees implements Allocator.
func (a *Arena) BadFrees() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.badFrees
}

// BadFreeLog returns the first bad frees recorded (at most 64).
func (a *Arena) BadFreeLog() []BadFree {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]BadFree(nil), a.badFreeLog...)
}

// ArenaStats describe an Arena's address space and its history.
type ArenaStats struct {
	Size        int // bytes in the arena
	Allocated   int // bytes in live regions
	Regions     int // live regions
	Quarantined int // bytes freed and not yet reusable
	QuarRegions int // regions in quarantine
	FreeBytes   int // bytes free for allocation (quarantine not counted)
	FreeRanges  int // free ranges (none touches another)
	LargestFree int // bytes in the largest free range
	HighWater   int // the highest end offset ever allocated

	Allocs, Frees uint64
	Reused        uint64 // allocations placed below the high water mark, in freed space
	QuarFlushed   uint64 // regions released from quarantine early for an allocation
	BadFrees      uint64
	Faults        uint64
	UseAfterFree  uint64 // faults on quarantined regions
}

// Stats returns the arena's statistics.
func (a *Arena) Stats() ArenaStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.statsLocked()
}

func (a *Arena) statsLocked() ArenaStats {
	st := ArenaStats{
		Size: len(a.mem), Allocated: a.allocated, Regions: len(a.regions),
		Quarantined: a.quarBytes, QuarRegions: len(a.quar), FreeRanges: len(a.free), HighWater: a.highWater,
		Allocs: a.allocs, Frees: a.frees, Reused: a.reused, QuarFlushed: a.qFlushed,
		BadFrees: a.badFrees, Faults: a.faults, UseAfterFree: a.useAfterFree,
	}
	for _, f := range a.free {
		st.FreeBytes += f.len()
		st.LargestFree = max(st.LargestFree, f.len())
	}
	return st
}

// find returns the index of the live region that wholly holds [off, off+n), or -1.
func (a *Arena) find(off, n int) int {
	if off < 0 || n < 0 || off+n < off {
		return -1
	}
	for _, i := range a.last {
		if i < len(a.regions) {
			if s := a.regions[i]; off >= s.start && off+n <= s.end {
				return i
			}
		}
	}
	i := sort.Search(len(a.regions), func(i int) bool { return a.regions[i].end > off })
	if i < len(a.regions) && off >= a.regions[i].start && off+n <= a.regions[i].end {
		a.last[1] = a.last[0]
		a.last[0] = i
		return i
	}
	return -1
}

func (a *Arena) check(addr Addr, n int, write bool) (int, bool) {
	if addr >= a.base && uint64(addr-a.base) <= uint64(len(a.mem)) && n >= 0 {
		off := int(addr - a.base)
		if a.find(off, n) >= 0 {
			return off, true
		}
	}
	a.fault(addr, n, write)
	return 0, false
}

// fault counts and records a faulting access.
func (a *Arena) fault(addr Addr, n int, write bool) {
	a.faults++
	uaf := a.quarantined(addr)
	if uaf {
		a.useAfterFree++
	}
	if len(a.faultLog) < maxFaultLog {
		a.faultLog = append(a.faultLog, Fault{Addr: addr, Len: n, Write: write, UseAfterFree: uaf})
	}
}

// View implements Memory.
func (a *Arena) View(addr Addr, n int, write bool) ([]byte, bool) {
	off, ok := a.check(addr, n, write)
	if !ok {
		return nil, false
	}
	return a.mem[off : off+n : off+n], true
}

// Read implements Memory. On a fault p is zeroed.
func (a *Arena) Read(addr Addr, p []byte) bool {
	v, ok := a.View(addr, len(p), false)
	if !ok {
		clear(p)
		return false
	}
	copy(p, v)
	return true
}

// Write implements Memory.
func (a *Arena) Write(addr Addr, p []byte) bool {
	v, ok := a.View(addr, len(p), true)
	if !ok {
		return false
	}
	copy(v, p)
	return true
}

// Faults is the number of DMA faults so far.
func (a *Arena) Faults() uint64 { return a.faults }

// UseAfterFree is the number of DMA faults on quarantined (freed) regions.
func (a *Arena) UseAfterFree() uint64 { return a.useAfterFree }

// FaultLog returns the first faults recorded (at most 64).
func (a *Arena) FaultLog() []Fault { return append([]Fault(nil), a.faultLog...) }
