package checksum

import (
	"math/rand/v2"
	"testing"
)

// reference is RFC 1071 done bit by bit: each 16-bit word is added one bit
// at a time into a 16-bit register with end-around carry. It shares nothing
// with Checksum but the definition.
func reference(b []byte, initial uint16) uint16 {
	s := initial
	add := func(w uint16) {
		for bit := 15; bit >= 0; bit-- {
			if w&(1<<bit) == 0 {
				continue
			}
			// Add 1<<bit with end-around carry.
			v := uint32(s) + 1<<bit
			s = uint16(v) + uint16(v>>16)
		}
	}
	for i := 0; i < len(b); i += 2 {
		w := uint16(b[i]) << 8
		if i+1 < len(b) {
			w |= uint16(b[i+1])
		}
		add(w)
	}
	return s
}

// naive is the textbook 16-bit-word loop (RFC 1071 section 4.1), the speed
// Checksum is measured against.
func naive(b []byte, initial uint16) uint16 {
	s := uint32(initial)
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s>>16 + s&0xFFFF
	}
	return uint16(s)
}

// sameSum compares sums exactly: an end-around-carry adder gives 0x0000
// only when everything added was zero, so the two zeros of ones' complement
// never stand for each other (UDP's "no checksum" depends on it).
func sameSum(a, b uint16) bool { return a == b }

func TestChecksumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 600 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		switch n % 5 {
		case 0:
			for i := range b {
				b[i] = 0xFF // every carry path
			}
		case 1:
			clear(b)
		}
		for _, init := range []uint16{0, 1, 0xFFFF, uint16(r.Uint32())} {
			got, want := Checksum(b, init), reference(b, init)
			if !sameSum(got, want) {
				t.Fatalf("len %d initial %#04x: Checksum %#04x, reference %#04x", n, init, got, want)
			}
		}
	}
}

func TestKnownValues(t *testing.T) {
	// RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
	if got := Checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, 0); got != 0xddf2 {
		t.Fatalf("RFC 1071 example: %#04x, want 0xddf2", got)
	}
	// An IPv4 header with its checksum (0xb861) sums to 0xFFFF.
	ip := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61,
		0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	if got := Checksum(ip, 0); got != 0xFFFF {
		t.Fatalf("IPv4 header with checksum sums to %#04x", got)
	}
	ip[10], ip[11] = 0, 0
	if got := ^Checksum(ip, 0); got != 0xb861 {
		t.Fatalf("IPv4 header checksum %#04x, want 0xb861", got)
	}
	// Odd length: the last byte is the high half of a word.
	if got := Checksum([]byte{0x12}, 0); got != 0x1200 {
		t.Fatalf("odd byte: %#04x", got)
	}
}

func TestCombineAndPseudoHeader(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		a := make([]byte, 2*r.IntN(40))
		b := make([]byte, r.IntN(81))
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		whole := Checksum(append(append([]byte(nil), a...), b...), 0)
		if got := Combine(Checksum(a, 0), Checksum(b, 0)); !sameSum(got, whole) {
			t.Fatalf("Combine %#04x, whole %#04x", got, whole)
		}
		if got := Checksum(b, Checksum(a, 0)); !sameSum(got, whole) {
			t.Fatalf("chained %#04x, whole %#04x", got, whole)
		}
	}
	src, dst := []byte{10, 0, 0, 1}, []byte{192, 168, 1, 200}
	ph := []byte{10, 0, 0, 1, 192, 168, 1, 200, 0, 6, 0x05, 0xDC}
	if got, want := PseudoHeaderIPv4(src, dst, 6, 1500), reference(ph, 0); got != want {
		t.Fatalf("pseudo-header %#04x, want %#04x", got, want)
	}
}

func FuzzChecksum(f *testing.F) {
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{0xFF}, uint16(0xFFFF))
	f.Add([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, initial uint16) {
		got, want := Checksum(b, initial), reference(b, initial)
		if !sameSum(got, want) {
			t.Fatalf("len %d initial %#04x: Checksum %#04x, reference %#04x", len(b), initial, got, want)
		}
		if n := naive(b, initial); !sameSum(got, n) {
			t.Fatalf("naive %#04x, Checksum %#04x", n, got)
		}
	})
}

var sink uint16

// BenchmarkChecksum compares Checksum with the textbook 16-bit loop on a
// full-size Ethernet payload.
func BenchmarkChecksum(b *testing.B) {
	buf := make([]byte, 1500)
	for i := range buf {
		buf[i] = byte(i * 31)
	}
	for _, c := range []struct {
		name string
		f    func([]byte, uint16) uint16
	}{{"fast", Checksum}, {"naive", naive}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				sink = c.f(buf, 0)
			}
		})
	}
}
