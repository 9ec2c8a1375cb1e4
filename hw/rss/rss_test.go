package rss

import (
	"math/rand/v2"
	"testing"
)

// TestVerificationSuite checks both the table-driven Hasher and the bitwise
// definition against every published IPv4 and IPv4/TCP row.
func TestVerificationSuite(t *testing.T) {
	h := New(MicrosoftKey[:])
	for _, v := range Verification {
		var in [12]byte
		copy(in[0:], v.Src[:])
		copy(in[4:], v.Dst[:])
		in[8], in[9], in[10], in[11] = byte(v.SrcPort>>8), byte(v.SrcPort), byte(v.DstPort>>8), byte(v.DstPort)
		if got := h.IPv4(v.Src, v.Dst); got != v.IPv4 {
			t.Errorf("%v -> %v IPv4: %#08x, want %#08x", v.Src, v.Dst, got, v.IPv4)
		}
		if got := h.IPv4Ports(v.Src, v.Dst, v.SrcPort, v.DstPort); got != v.IPv4TCP {
			t.Errorf("%v:%d -> %v:%d TCP: %#08x, want %#08x", v.Src, v.SrcPort, v.Dst, v.DstPort, got, v.IPv4TCP)
		}
		if got := Toeplitz(MicrosoftKey[:], in[:8]); got != v.IPv4 {
			t.Errorf("Toeplitz IPv4 %#08x, want %#08x", got, v.IPv4)
		}
		if got := Toeplitz(MicrosoftKey[:], in[:]); got != v.IPv4TCP {
			t.Errorf("Toeplitz TCP %#08x, want %#08x", got, v.IPv4TCP)
		}
	}
}

// TestVerificationSuiteIPv6 checks every published IPv6 row (2-tuple and
// TCP 4-tuple), through the Hasher and the definition.
func TestVerificationSuiteIPv6(t *testing.T) {
	h := New(MicrosoftKey[:])
	for _, v := range VerificationIPv6 {
		if got := h.IPv6(&v.Src, &v.Dst); got != v.IPv6 {
			t.Errorf("%x -> %x IPv6: %#08x, want %#08x", v.Src, v.Dst, got, v.IPv6)
		}
		if got := h.IPv6Ports(&v.Src, &v.Dst, v.SrcPort, v.DstPort); got != v.IPv6TCP {
			t.Errorf("%x -> %x TCP: %#08x, want %#08x", v.Src, v.Dst, got, v.IPv6TCP)
		}
		in := append(append(append([]byte{}, v.Src[:]...), v.Dst[:]...), byte(v.SrcPort>>8), byte(v.SrcPort), byte(v.DstPort>>8), byte(v.DstPort))
		if Toeplitz(MicrosoftKey[:], in[:32]) != v.IPv6 || Toeplitz(MicrosoftKey[:], in) != v.IPv6TCP {
			t.Errorf("definition disagrees for %x", v.Dst)
		}
	}
}

// TestTableMatchesDefinition holds the tables against the bitwise
// definition for random keys and inputs of every length up to MaxInput.
func TestTableMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var key [KeySize]byte
	for range 20 {
		for i := range key {
			key[i] = byte(r.Uint32())
		}
		h := New(key[:])
		for n := 0; n <= MaxInput; n++ {
			in := make([]byte, n)
			for i := range in {
				in[i] = byte(r.Uint32())
			}
			if got, want := h.Hash(in), Toeplitz(key[:], in); got != want {
				t.Fatalf("key % x input % x: table %#08x, definition %#08x", key, in, got, want)
			}
		}
	}
	// A short key is zero-padded: the same as passing the zeros.
	short := New(MicrosoftKey[:16])
	var padded [KeySize]byte
	copy(padded[:], MicrosoftKey[:16])
	in := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if short.Hash(in) != Toeplitz(padded[:], in) || short.Key() != padded {
		t.Fatalf("short key not zero-padded")
	}
	// Input past MaxInput is ignored, not read out of the tables.
	long := make([]byte, MaxInput+8)
	long[MaxInput+1] = 0xFF
	if New(MicrosoftKey[:]).Hash(long) != 0 {
		t.Fatalf("bytes past MaxInput contributed")
	}
}

func BenchmarkHashIPv4TCP(b *testing.B) {
	h := New(MicrosoftKey[:])
	v := Verification[0]
	b.ReportAllocs()
	var sink uint32
	for i := 0; b.Loop(); i++ {
		sink ^= h.IPv4Ports(v.Src, v.Dst, v.SrcPort+uint16(i), v.DstPort)
	}
	_ = sink
}
