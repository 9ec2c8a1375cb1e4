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
// caller is told; it never panics and never wraps around.
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

// Allocator hands out DMA-able memory. It is what a driver needs
// (dma_alloc_coherent, dma_map_single).
type Allocator interface {
	Alloc(size, align int) (Region, error)
	Free(r Region)
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
}

func (f Fault) String() string {
	dir := "read"
	if f.Write {
		dir = "write"
	}
	return fmt.Sprintf("DMA fault: %s of %d bytes at %#x outside allocated memory", dir, f.Len, uint64(f.Addr))
}

// DefaultBase is where an Arena's address space starts: far from zero, so that
// a device handed a zeroed descriptor faults instead of scribbling on memory.
const DefaultBase Addr = 0x1_0000_0000

// maxFaultLog bounds the faults an Arena remembers; the count is exact.
const maxFaultLog = 64

// Arena is in-process DMA memory: one backing slice addressed from Base, with
// allocations bumped upward and checked on every device access.
//
// Allocation and freeing are safe for concurrent use; device accesses (View,
// Read, Write) are not synchronized with them: in nicbed the driver and the
// device model both run on the clock's loop, one event at a time, and the hot
// path pays for no lock.
type Arena struct {
	mu      sync.Mutex
	base    Addr
	mem     []byte
	next    int
	regions []span // sorted by start, live allocations only
	last    [2]int // indices of the regions hit last (fast path: ring, buffer)

	faults    uint64
	faultLog  []Fault
	allocated int
}

type span struct{ start, end int } // offsets into mem, [start, end)

// ErrNoMemory is returned when an Arena has no room for an allocation.
var ErrNoMemory = errors.New("dma: arena exhausted")

// NewArena makes an arena of size bytes at DefaultBase. The backing memory is
// committed lazily by the Go runtime and the OS, so a large arena costs only
// what is touched.
func NewArena(size int) *Arena {
	return &Arena{base: DefaultBase, mem: make([]byte, size)}
}

// Base is the arena's lowest physical address.
func (a *Arena) Base() Addr { return a.base }

// Alloc allocates size bytes aligned to align (a power of two; 0 means 64,
// a cache line). The memory is zeroed.
func (a *Arena) Alloc(size, align int) (Region, error) {
	if size <= 0 {
		return Region{}, fmt.Errorf("dma: bad allocation size %d", size)
	}
	if align == 0 {
		align = 64
	}
	if align < 0 || align&(align-1) != 0 {
		return Region{}, fmt.Errorf("dma: alignment %d is not a power of two", align)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	start := (a.next + align - 1) &^ (align - 1)
	if start+size > len(a.mem) || start+size < start {
		return Region{}, fmt.Errorf("%w: %d bytes wanted, %d left", ErrNoMemory, size, len(a.mem)-start)
	}
	a.next = start + size
	clear(a.mem[start : start+size])
	a.regions = append(a.regions, span{start, start + size})
	a.allocated += size
	return Region{Addr: a.base + Addr(start), Bytes: a.mem[start : start+size : start+size]}, nil
}

// Free releases r. The address space is not reused, so a device that still
// holds r's address faults on it rather than reaching somebody else's memory.
func (a *Arena) Free(r Region) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := a.find(int(r.Addr-a.base), 1)
	if i < 0 {
		return
	}
	a.allocated -= a.regions[i].end - a.regions[i].start
	a.regions = append(a.regions[:i], a.regions[i+1:]...)
	a.last = [2]int{}
}

// Allocated is the number of bytes currently allocated.
func (a *Arena) Allocated() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.allocated
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
	a.faults++
	if len(a.faultLog) < maxFaultLog {
		a.faultLog = append(a.faultLog, Fault{Addr: addr, Len: n, Write: write})
	}
	return 0, false
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

// FaultLog returns the first faults recorded (at most 64).
func (a *Arena) FaultLog() []Fault { return append([]Fault(nil), a.faultLog...) }
