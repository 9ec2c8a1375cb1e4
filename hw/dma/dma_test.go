package dma

import (
	"errors"
	"testing"
)

func TestArenaAllocAlign(t *testing.T) {
	a := NewArena(1 << 20)
	for _, tc := range []struct{ size, align int }{{100, 0}, {16, 16}, {4096, 4096}, {3, 1}, {2048, 128}} {
		r, err := a.Alloc(tc.size, tc.align)
		if err != nil {
			t.Fatal(err)
		}
		al := tc.align
		if al == 0 {
			al = 64
		}
		if uint64(r.Addr)%uint64(al) != 0 || r.Len() != tc.size || r.Addr < a.Base() {
			t.Errorf("Alloc(%d,%d) = %#x len %d", tc.size, tc.align, r.Addr, r.Len())
		}
	}
	if _, err := a.Alloc(2<<20, 0); !errors.Is(err, ErrNoMemory) {
		t.Errorf("oversized alloc: %v", err)
	}
	for _, bad := range [][2]int{{0, 0}, {-1, 0}, {10, 3}, {10, -8}} {
		if _, err := a.Alloc(bad[0], bad[1]); err == nil {
			t.Errorf("Alloc(%d,%d) succeeded", bad[0], bad[1])
		}
	}
}

// A device access outside allocated memory is a counted fault: it does
// nothing, reads return zeros, and nothing panics.
func TestArenaFaults(t *testing.T) {
	a := NewArena(1 << 16)
	r1, _ := a.Alloc(256, 256)
	r2, _ := a.Alloc(256, 256)
	copy(r1.Bytes, []byte("hello"))
	buf := make([]byte, 8)
	if !a.Read(r1.Addr, buf[:5]) || string(buf[:5]) != "hello" {
		t.Fatal("in-bounds read failed")
	}
	for i, tc := range []struct {
		addr  Addr
		n     int
		write bool
	}{
		{0, 4, false},                  // null
		{r1.Addr + 250, 16, true},      // runs off the end into r2
		{r2.Addr + 256, 1, false},      // just past the last allocation
		{a.Base() + 1<<16, 4, false},   // past the arena
		{^Addr(0) - 2, 8, true},        // wraps around
		{r1.Addr, -1, false},           // negative length
		{a.Base() - 4, 8, false},       // below the arena
		{r2.Addr + 200, 1 << 30, true}, // huge
	} {
		before := a.Faults()
		p := make([]byte, max(tc.n, 0)%4096)
		for j := range p {
			p[j] = 0xAA
		}
		var ok bool
		if tc.n < 0 {
			_, ok = a.View(tc.addr, tc.n, tc.write)
		} else if tc.n > 4096 {
			_, ok = a.View(tc.addr, tc.n, tc.write)
		} else if tc.write {
			ok = a.Write(tc.addr, p)
		} else {
			ok = a.Read(tc.addr, p)
			for _, b := range p {
				if b != 0 {
					t.Errorf("case %d: faulting read left data", i)
					break
				}
			}
		}
		if ok || a.Faults() != before+1 {
			t.Errorf("case %d (%#x,%d): ok=%v faults %d->%d", i, tc.addr, tc.n, ok, before, a.Faults())
		}
	}
	if r2.Bytes[0] != 0 {
		t.Error("a faulting write reached the neighbouring allocation")
	}
	log := a.FaultLog()
	if len(log) != 8 || !log[1].Write || log[1].Addr != r1.Addr+250 || log[1].String() == "" {
		t.Errorf("fault log %v", log)
	}
	// Freed memory faults too.
	a.Free(r1)
	if a.Read(r1.Addr, buf) {
		t.Error("read of freed memory succeeded")
	}
	if a.Allocated() != 256 {
		t.Errorf("allocated %d after free", a.Allocated())
	}
}

func BenchmarkArenaView(b *testing.B) {
	a := NewArena(1 << 20)
	var regions []Region
	for i := 0; i < 300; i++ {
		r, _ := a.Alloc(2048, 0)
		regions = append(regions, r)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := regions[i%len(regions)]
		if _, ok := a.View(r.Addr+16, 64, true); !ok {
			b.Fatal("fault")
		}
	}
}
