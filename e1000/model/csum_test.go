package model

import (
	"math/rand/v2"
	"testing"
)

// rfc1071 is the checksum sum done the plain way, 16 bits at a time.
func rfc1071(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s>>16 + s&0xFFFF
	}
	return uint16(s)
}

func TestSumMatchesRFC1071(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if n%7 == 0 {
			for i := range b {
				b[i] = 0xFF
			}
		}
		if got, want := fold(sum(b, 0)), rfc1071(b); got != want {
			t.Fatalf("len %d: sum %#04x, want %#04x", n, got, want)
		}
	}
}
