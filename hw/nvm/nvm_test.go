package nvm

import "testing"

// TestChecksum: FixChecksum makes words 0x00–0x3F sum to 0xBABA whatever
// the other words hold; words past 0x3F do not count.
func TestChecksum(t *testing.T) {
	w := make([]uint16, 80)
	for i := range w {
		w[i] = uint16(i * 7919)
	}
	FixChecksum(w)
	if ImageSum(w) != Sum {
		t.Fatalf("sum %#x", ImageSum(w))
	}
	w[70] ^= 0xFFFF
	if ImageSum(w) != Sum {
		t.Fatalf("a word past 0x3F changed the sum")
	}
	w[3]++
	if ImageSum(w) == Sum {
		t.Fatalf("a changed word kept the sum")
	}
}

// TestEERD: the 82540EM layout (DONE bit 4, address 15:8) and the 82576's
// (DONE bit 1, address 15:2) read the same word; no START keeps only the
// address; addresses wrap at the image size.
func TestEERD(t *testing.T) {
	img := make([]uint16, 64)
	for i := range img {
		img[i] = 0xA000 + uint16(i)
	}
	for _, e := range []EERD{
		{Start: 1, Done: 1 << 4, AddrShift: 8, AddrMask: 0xFF << 8, DataShift: 16},
		{Start: 1, Done: 1 << 1, AddrShift: 2, AddrMask: 0x3FFF << 2, DataShift: 16},
	} {
		for _, c := range []struct{ addr, word uint32 }{{5, 0xA005}, {63, 0xA03F}, {64 + 9, 0xA009}} {
			reg, read := e.Write(c.addr<<e.AddrShift|e.Start, img)
			if !read || reg&e.Done == 0 || reg>>e.DataShift != c.word || reg&e.AddrMask != c.addr<<e.AddrShift {
				t.Errorf("layout %+v addr %d: reg %#x read %v", e, c.addr, reg, read)
			}
		}
		if reg, read := e.Write(7<<e.AddrShift|e.Done, img); read || reg != 7<<e.AddrShift {
			t.Errorf("write without START: %#x %v", reg, read)
		}
	}
}

func TestMACAddr(t *testing.T) {
	w := make([]uint16, 64)
	w[0], w[1], w[2] = 0x5452, 0x1200, 0x5634 // 52:54:00:12:34:56
	if got, want := MACAddr(w), [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}; got != want {
		t.Errorf("MACAddr = %x, want %x", got, want)
	}
	v := make([]uint16, 64)
	PutMACAddr(v, [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56})
	if v[0] != w[0] || v[1] != w[1] || v[2] != w[2] || v[3] != 0 {
		t.Errorf("PutMACAddr wrote %04x", v[:4])
	}
}
