package ring

import (
	"errors"
	"testing"

	"github.com/nicbed/nicbed/hw/dma"
)

func TestUnused(t *testing.T) {
	tests := []struct {
		ntc, ntu, count, want int
	}{
		{0, 0, 8, 7}, // empty: all but one
		{0, 7, 8, 0}, // full: the one kept back
		{3, 3, 8, 7}, // empty elsewhere
		{3, 2, 8, 0}, // full, wrapped
		{5, 1, 8, 3}, // 1..4 free
		{1, 5, 8, 3}, // 5,6,7,0 free
		{0, 1, 256, 254},
		{0, 255, 256, 0},
		{10, 9, 256, 0},
		{9, 10, 256, 254},
		{100, 50, 256, 49},
	}
	for _, tc := range tests {
		if got := Unused(tc.ntc, tc.ntu, tc.count); got != tc.want {
			t.Errorf("Unused(ntc %d, ntu %d, count %d) = %d, want %d", tc.ntc, tc.ntu, tc.count, got, tc.want)
		}
	}
}

func TestInFlightNext(t *testing.T) {
	tests := []struct {
		ntc, ntu int
		in       []int // of 0..7
	}{
		{0, 0, nil},
		{2, 5, []int{2, 3, 4}},
		{6, 2, []int{6, 7, 0, 1}},
		{7, 6, []int{7, 0, 1, 2, 3, 4, 5}},
	}
	for _, tc := range tests {
		want := map[int]bool{}
		for _, i := range tc.in {
			want[i] = true
		}
		n := 0
		for i := 0; i < 8; i++ {
			if InFlight(i, tc.ntc, tc.ntu) != want[i] {
				t.Errorf("InFlight(%d, ntc %d, ntu %d) = %v", i, tc.ntc, tc.ntu, !want[i])
			}
			if want[i] {
				n++
			}
		}
		// The slots in flight and the unused ones are all but one.
		if n+Unused(tc.ntc, tc.ntu, 8) != 7 {
			t.Errorf("ntc %d ntu %d: %d in flight + %d unused != 7", tc.ntc, tc.ntu, n, Unused(tc.ntc, tc.ntu, 8))
		}
	}
	if Next(6, 8) != 7 || Next(7, 8) != 0 || Next(0, 1) != 0 {
		t.Error("Next does not wrap at the ring's end")
	}
}

// TestRingMemory: the ring's descriptors are 4 KiB aligned and rounded up,
// each slot's buffer is its own (exact length and capacity, at its bus
// address, disjoint from the others), and Free gives everything back.
func TestRingMemory(t *testing.T) {
	a := dma.NewArena(8 << 20)
	r, err := Alloc(a, 80, 16, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if r.Count() != 80 || r.DescLen() != 1280 || r.BufSize() != 2048 {
		t.Errorf("count %d, desc len %d, buf size %d", r.Count(), r.DescLen(), r.BufSize())
	}
	if r.DescAddr()%DescAlign != 0 {
		t.Errorf("descriptors at %#x, not 4 KiB aligned", r.DescAddr())
	}
	if got := a.Allocated(); got != 4096+80*2048 {
		t.Errorf("%d bytes allocated, want %d", got, 4096+80*2048)
	}
	for i := 0; i < r.Count(); i++ {
		d, b := r.Desc(i), r.Buf(i)
		if len(d) != 16 || cap(d) != 16 || len(b) != 2048 || cap(b) != 2048 {
			t.Fatalf("slot %d: desc %d/%d, buf %d/%d bytes", i, len(d), cap(d), len(b), cap(b))
		}
		// The device, by address, sees the buffer the driver writes.
		b[0], b[2047] = byte(i), byte(i+1)
		v, ok := a.View(r.BufAddr(i), 2048, false)
		if !ok || v[0] != byte(i) || v[2047] != byte(i+1) {
			t.Fatalf("slot %d: buffer at %#x is not the driver's bytes", i, r.BufAddr(i))
		}
	}
	for i := 0; i < r.Count(); i++ {
		if b := r.Buf(i); b[0] != byte(i) || b[2047] != byte(i+1) {
			t.Fatalf("slot %d's buffer overwritten by a neighbour", i)
		}
	}
	r.Desc(3)[0] = 0xFF
	r.NTC, r.NTU = 5, 9
	r.Reset()
	if r.NTC != 0 || r.NTU != 0 || r.Desc(3)[0] != 0 {
		t.Error("Reset left indices or descriptors")
	}
	r.Free(a)
	if a.Allocated() != 0 || r.Count() != 0 {
		t.Errorf("after Free: %d bytes allocated, %d slots", a.Allocated(), r.Count())
	}
	r.Free(a) // twice is harmless
}

// TestRingWithoutBuffers: a ring of descriptors only (bufSize 0).
func TestRingWithoutBuffers(t *testing.T) {
	a := dma.NewArena(1 << 20)
	r, err := Alloc(a, 300, 16, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Allocated() != 8192 {
		t.Errorf("%d bytes allocated, want 8192 (4800 rounded up)", a.Allocated())
	}
	r.Free(a)
	if a.Allocated() != 0 {
		t.Errorf("%d bytes left", a.Allocated())
	}
}

func TestAllocErrors(t *testing.T) {
	a := dma.NewArena(64 << 10)
	for _, c := range []struct{ count, desc, buf int }{{1, 16, 0}, {8, 0, 0}, {8, 16, -1}} {
		if _, err := Alloc(a, c.count, c.desc, c.buf); err == nil {
			t.Errorf("Alloc(%d, %d, %d) succeeded", c.count, c.desc, c.buf)
		}
	}
	// Buffers that do not fit: the descriptors are given back.
	if _, err := Alloc(a, 64, 16, 4096); err == nil {
		t.Error("Alloc beyond the arena succeeded")
	}
	if a.Allocated() != 0 {
		t.Errorf("failed Alloc left %d bytes allocated", a.Allocated())
	}
}

func TestCheckIndices(t *testing.T) {
	a := dma.NewArena(1 << 20)
	r, err := Alloc(a, 8, 16, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ntc, ntu int
		ok       bool
	}{{0, 0, true}, {7, 3, true}, {8, 0, false}, {0, -1, false}} {
		r.NTC, r.NTU = c.ntc, c.ntu
		if err := r.CheckIndices(); (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrIndex)) {
			t.Errorf("ntc %d ntu %d: %v", c.ntc, c.ntu, err)
		}
	}
	var z Ring
	if err := z.CheckIndices(); err != nil {
		t.Error(err)
	}
	z.NTU = 1
	if z.CheckIndices() == nil {
		t.Error("indices in a ring with no slots accepted")
	}
}
