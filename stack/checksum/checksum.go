// Package checksum is the Internet checksum of RFC 1071 (used by IPv4, ICMP,
// TCP and UDP), in one fast implementation shared by the device models, the
// drivers' tests and the stack.
//
// The functions return the 16-bit ones' complement sum, not complemented:
// the value to store in a checksum field is ^Checksum(...), and data that
// carries a correct checksum sums to 0xFFFF. Sums of pieces combine (RFC 1071
// section 2 (B), associativity) as long as every piece but the last has an
// even length: Checksum(b, Checksum(a, 0)) == Checksum(append(a, b...), 0)
// for even len(a).
//
// Checksum adds the data as big-endian 64-bit words with end-around carry
// (RFC 1071 section 2 (C), "deferred carries" on a wider word), four words per
// loop turn, and folds the 64-bit sum to 16 bits at the end (RFC 1071
// section 4.1 shows the 16-bit version).
package checksum

import (
	"encoding/binary"
	"math/bits"
)

// Checksum returns the ones' complement sum of b, taken as big-endian 16-bit
// words (an odd last byte padded with a zero byte), added to initial.
func Checksum(b []byte, initial uint16) uint16 {
	return Fold(Sum64(b, uint64(initial)))
}

// Sum64 adds b to a 64-bit ones' complement accumulator acc and returns the
// new accumulator; Fold reduces it to 16 bits. Callers that sum several even
// length pieces may carry the accumulator between them.
func Sum64(b []byte, acc uint64) uint64 {
	var c uint64
	for len(b) >= 32 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[8:]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[16:]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	if len(b) >= 4 {
		acc, c = bits.Add64(acc, uint64(binary.BigEndian.Uint32(b)), c)
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, c = bits.Add64(acc, uint64(binary.BigEndian.Uint16(b)), c)
		b = b[2:]
	}
	if len(b) == 1 {
		acc, c = bits.Add64(acc, uint64(b[0])<<8, c)
	}
	acc, c = bits.Add64(acc, c, 0)
	return acc + c
}

// Fold reduces a 64-bit ones' complement accumulator to 16 bits.
func Fold(acc uint64) uint16 {
	acc = acc>>32 + acc&0xFFFFFFFF
	acc = acc>>32 + acc&0xFFFFFFFF
	acc = acc>>16 + acc&0xFFFF
	acc = acc>>16 + acc&0xFFFF
	return uint16(acc>>16 + acc&0xFFFF)
}

// Combine adds two ones' complement sums.
func Combine(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s + s>>16)
}

// PseudoHeaderIPv4 is the sum of the IPv4 pseudo-header that TCP (RFC 9293
// section 3.1) and UDP (RFC 768) put under their checksum: source and
// destination address, zero, protocol and the TCP/UDP length (header and
// data). src and dst must be 4 bytes long.
func PseudoHeaderIPv4(src, dst []byte, proto uint8, length uint16) uint16 {
	s := uint64(binary.BigEndian.Uint32(src[:4])) + uint64(binary.BigEndian.Uint32(dst[:4])) +
		uint64(proto) + uint64(length)
	return Fold(s)
}
