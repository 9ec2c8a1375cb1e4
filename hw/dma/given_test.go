package dma

import (
	"strings"
	"testing"
)

// TestArenaOverGivenMemory: an arena over memory it is given hands out
// slices of that memory (no copy), at bus addresses counted from Base, and
// the device side reaches the same bytes by those addresses.
func TestArenaOverGivenMemory(t *testing.T) {
	mem := make([]byte, 1<<20)
	const base Addr = 0x4000_0000
	a := NewArenaConfig(ArenaConfig{Mem: mem, Base: base})
	if a.Base() != base || a.Size() != len(mem) {
		t.Fatalf("base %#x size %d, want %#x %d", a.Base(), a.Size(), base, len(mem))
	}
	r := mustAlloc(t, a, 100, 4096)
	if r.Addr != base {
		t.Fatalf("first page-aligned region at %#x, want the base %#x", r.Addr, base)
	}
	r.Bytes[7] = 0x5a
	if mem[7] != 0x5a {
		t.Fatal("a write through the region did not reach the given memory")
	}
	r2 := mustAlloc(t, a, 64, 0)
	mem[int(r2.Addr-base)+3] = 0xc3 // the device writes by bus address
	var got [1]byte
	if !a.Read(r2.Addr+3, got[:]) || got[0] != 0xc3 || r2.Bytes[3] != 0xc3 {
		t.Fatalf("device write at %#x not seen: Read %#x, Bytes %#x", r2.Addr+3, got[0], r2.Bytes[3])
	}
	// Below the base and past the end are faults, not wraps.
	if a.Read(base-1, got[:]) || a.Read(base+Addr(len(mem)), got[:]) {
		t.Fatal("an access outside the given memory did not fault")
	}
	if a.Faults() != 2 {
		t.Fatalf("%d faults, want 2", a.Faults())
	}
	// Freed memory is poisoned in place, and handed out zeroed again.
	a.Free(r)
	if mem[7] != PoisonFree {
		t.Fatalf("freed byte %#x, want poison %#x", mem[7], PoisonFree)
	}
	a.DrainQuarantine()
	r3 := mustAlloc(t, a, 100, 4096)
	if r3.Addr != base || mem[7] != 0 {
		t.Fatalf("reallocated at %#x with byte %#x, want %#x zeroed", r3.Addr, mem[7], base)
	}
	checkArena(t, a)
}

// TestArenaGivenBaseAlignment: alignment is of the bus address, whatever
// the base: with a base 32 bytes past a page, a page-aligned region starts
// 4064 bytes into the memory.
func TestArenaGivenBaseAlignment(t *testing.T) {
	const base Addr = 0x10_0020
	a := NewArenaConfig(ArenaConfig{Mem: make([]byte, 64<<10), Base: base})
	r := mustAlloc(t, a, 10, 4096)
	if r.Addr != 0x10_1000 {
		t.Fatalf("page-aligned region at %#x, want 0x101000", r.Addr)
	}
	r = mustAlloc(t, a, 10, 64)
	if r.Addr%64 != 0 || r.Addr < base {
		t.Fatalf("64-aligned region at %#x", r.Addr)
	}
	checkArena(t, a)
}

// TestArenaGivenMemoryConfig: Size must agree with Mem (or be 0); the
// capacity of the given slice beyond its length is never used; a zero Base
// is DefaultBase; an arena that would wrap the address space is refused.
func TestArenaGivenMemoryConfig(t *testing.T) {
	backing := make([]byte, 8192)
	a := NewArenaConfig(ArenaConfig{Mem: backing[:4096], Size: 4096})
	if a.Base() != DefaultBase || a.Size() != 4096 {
		t.Fatalf("base %#x size %d", a.Base(), a.Size())
	}
	if _, err := a.Alloc(4097, 1); err == nil {
		t.Fatal("an allocation past len(Mem) succeeded")
	}
	r := mustAlloc(t, a, 4096, 1)
	if cap(r.Bytes) != 4096 {
		t.Fatalf("region capacity %d", cap(r.Bytes))
	}
	for _, tc := range []struct {
		name string
		cfg  ArenaConfig
		want string
	}{
		{"size mismatch", ArenaConfig{Mem: backing, Size: 4096}, "len(Mem)"},
		{"wraps", ArenaConfig{Mem: backing, Base: ^Addr(0) - 100}, "wraps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %q, want one naming %q", msg, tc.want)
				}
			}()
			NewArenaConfig(tc.cfg)
		})
	}
}
