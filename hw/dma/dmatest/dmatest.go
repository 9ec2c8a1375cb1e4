// Package dmatest checks an implementation of dma.Allocator against the
// contract written on that interface: zeroed memory, alignment, size and
// alignment limits, exhaustion as an error, and bad frees counted.
package dmatest

import (
	"errors"
	"math"
	"testing"

	"github.com/nicbed/nicbed/hw/dma"
)

// Run checks the allocators newAlloc makes (a fresh one per subtest).
// capacity is how many bytes one can hold at once: a request above it must
// fail with dma.ErrNoMemory.
func Run(t *testing.T, newAlloc func() dma.Allocator, capacity int) {
	t.Run("zeroed", func(t *testing.T) { zeroed(t, newAlloc()) })
	t.Run("alignment", func(t *testing.T) { alignment(t, newAlloc()) })
	t.Run("bad request", func(t *testing.T) { badRequest(t, newAlloc()) })
	t.Run("no memory", func(t *testing.T) { noMemory(t, newAlloc(), capacity) })
	t.Run("bad free", func(t *testing.T) { badFree(t, newAlloc()) })
}

// zeroed: every allocation reads as zeros, also where freed memory that was
// written is handed out again.
func zeroed(t *testing.T, a dma.Allocator) {
	for round := range 20 {
		size := 1 + round*509
		r, err := a.Alloc(size, 0)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i, b := range r.Bytes {
			if b != 0 {
				t.Fatalf("round %d: byte %d of %d is %#x, not zero", round, i, size, b)
			}
		}
		for i := range r.Bytes {
			r.Bytes[i] = 0xA5
		}
		a.Free(r)
	}
}

// alignment: the bus address is a multiple of the alignment asked for (64
// for 0), Bytes is exactly size long with no spare capacity, and no two
// live regions overlap.
func alignment(t *testing.T, a dma.Allocator) {
	var live []dma.Region
	for _, align := range []int{0, 1, 2, 8, 64, 128, 1024, 4096, 8192, 1 << 16, 1 << 20} {
		for _, size := range []int{1, 3, 100, 4096, 5000} {
			r, err := a.Alloc(size, align)
			if err != nil {
				t.Fatalf("Alloc(%d, %d): %v", size, align, err)
			}
			want := align
			if want == 0 {
				want = 64
			}
			if uint64(r.Addr)%uint64(want) != 0 {
				t.Errorf("Alloc(%d, %d) at %#x: not %d-aligned", size, align, uint64(r.Addr), want)
			}
			if len(r.Bytes) != size || cap(r.Bytes) != size || r.Len() != size {
				t.Errorf("Alloc(%d, %d): len %d cap %d", size, align, len(r.Bytes), cap(r.Bytes))
			}
			for _, o := range live {
				if r.Addr < o.Addr+dma.Addr(o.Len()) && o.Addr < r.Addr+dma.Addr(size) {
					t.Errorf("Alloc(%d, %d) at %#x overlaps the live region at %#x (%d bytes)", size, align, uint64(r.Addr), uint64(o.Addr), o.Len())
				}
			}
			live = append(live, r)
		}
		// Free every other one, so that later allocations meet holes.
		for i := 0; i < len(live); i++ {
			if i%2 == 1 {
				a.Free(live[i])
				live = append(live[:i], live[i+1:]...)
			}
		}
	}
	for _, r := range live {
		a.Free(r)
	}
	if n := a.BadFrees(); n != 0 {
		t.Errorf("%d bad frees counted for good frees", n)
	}
}

// badRequest: a size below 1 or an alignment that is not 0 or a power of
// two up to dma.MaxAlign is ErrBadRequest.
func badRequest(t *testing.T, a dma.Allocator) {
	for _, c := range [][2]int{{0, 0}, {-1, 0}, {math.MinInt, 64}, {10, 3}, {10, -8}, {10, 4097}, {10, dma.MaxAlign * 2}, {10, math.MinInt}} {
		if r, err := a.Alloc(c[0], c[1]); !errors.Is(err, dma.ErrBadRequest) {
			t.Errorf("Alloc(%d, %d) = %#x, %v; want ErrBadRequest", c[0], c[1], uint64(r.Addr), err)
		}
	}
	if _, err := a.Alloc(64, dma.MaxAlign); err != nil && !errors.Is(err, dma.ErrNoMemory) {
		t.Errorf("Alloc(64, MaxAlign): %v", err)
	}
}

// noMemory: requests beyond the capacity fail with ErrNoMemory (never a
// panic), filling the memory ends in ErrNoMemory, and freeing makes room
// again.
func noMemory(t *testing.T, a dma.Allocator, capacity int) {
	for _, c := range [][2]int{{capacity + 1, 0}, {math.MaxInt, 0}, {math.MaxInt, 4096}, {math.MaxInt - 4095, 1 << 20}} {
		if _, err := a.Alloc(c[0], c[1]); !errors.Is(err, dma.ErrNoMemory) {
			t.Errorf("Alloc(%d, %d): %v; want ErrNoMemory", c[0], c[1], err)
		}
	}
	chunk := max(capacity/8, 1)
	var live []dma.Region
	var err error
	for len(live) <= 8 {
		var r dma.Region
		if r, err = a.Alloc(chunk, 4096); err != nil {
			break
		}
		live = append(live, r)
	}
	if !errors.Is(err, dma.ErrNoMemory) || len(live) == 0 || len(live) > 8 {
		t.Fatalf("after %d allocations of %d bytes (capacity %d): %v; want ErrNoMemory", len(live), chunk, capacity, err)
	}
	for _, r := range live {
		a.Free(r)
	}
	// Freed memory is available again (an allocator may keep some in
	// quarantine for a while, but not all of it for ever).
	for i := range 2 * len(live) {
		r, err := a.Alloc(chunk, 4096)
		if err != nil {
			t.Fatalf("allocation %d of %d bytes after freeing everything: %v", i, chunk, err)
		}
		a.Free(r)
	}
}

// badFree: freeing a region never allocated, one already freed, or part of
// one is counted and changes nothing; the zero Region is a no-op.
func badFree(t *testing.T, a dma.Allocator) {
	r, err := a.Alloc(4096, 4096)
	if err != nil {
		t.Fatal(err)
	}
	keep, err := a.Alloc(256, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := a.BadFrees()
	if want != 0 {
		t.Fatalf("BadFrees %d before any free", want)
	}
	a.Free(dma.Region{})
	if n := a.BadFrees(); n != 0 {
		t.Errorf("freeing the zero Region counted %d bad frees", n)
	}
	for _, bad := range []struct {
		name string
		r    dma.Region
	}{
		{"never allocated", dma.Region{Addr: r.Addr + 1<<30, Bytes: make([]byte, 64)}},
		{"inside a region", dma.Region{Addr: r.Addr + 64, Bytes: r.Bytes[64:128]}},
		{"part of a region", dma.Region{Addr: r.Addr, Bytes: r.Bytes[:2048]}},
		{"null address", dma.Region{Addr: 0, Bytes: make([]byte, 64)}},
	} {
		a.Free(bad.r)
		want++
		if n := a.BadFrees(); n != want {
			t.Errorf("%s: BadFrees %d, want %d", bad.name, n, want)
		}
	}
	// r is still live: freeing it properly is no bad free; a second time is.
	a.Free(r)
	if n := a.BadFrees(); n != want {
		t.Errorf("good free after bad ones: BadFrees %d, want %d", n, want)
	}
	a.Free(r)
	want++
	if n := a.BadFrees(); n != want {
		t.Errorf("double free: BadFrees %d, want %d", n, want)
	}
	a.Free(keep)
	if n := a.BadFrees(); n != want {
		t.Errorf("BadFrees %d after a good free, want %d", n, want)
	}
}
