package model

import (
	"encoding/binary"
	"math/bits"
)

// sum adds b to a ones' complement accumulator as a sequence of big-endian
// 16-bit words (RFC 1071), an odd last byte padded with zero. It works on
// 64-bit words with end-around carry; fold reduces the result to 16 bits. b
// must start at an even offset of the data being summed.
func sum(b []byte, acc uint64) uint64 {
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

// fold reduces a ones' complement accumulator to 16 bits.
func fold(acc uint64) uint16 {
	acc = acc>>32 + acc&0xFFFFFFFF
	acc = acc>>32 + acc&0xFFFFFFFF
	acc = acc>>16 + acc&0xFFFF
	acc = acc>>16 + acc&0xFFFF
	return uint16(acc>>16 + acc&0xFFFF)
}

// checksum is the Internet checksum of b: the complement of its folded sum.
func checksum(b []byte, acc uint64) uint16 { return ^fold(sum(b, acc)) }
