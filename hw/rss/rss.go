// Package rss is receive-side scaling's Toeplitz hash, as Microsoft's
// "Verifying the RSS Hash Calculation" defines it and NICs (82576, 82574,
// X540 ...) compute it: for every set bit of the input, MSB first, the 32
// key bits starting at that bit's position are XORed into the result.
//
// A Hasher precomputes, for its key, the contribution of every byte value at
// every input position, so hashing an n-byte input is n table lookups and no
// allocation; Toeplitz is the bitwise definition the table is checked
// against.
package rss

import "encoding/binary"

const (
	// KeySize is the size of the key NICs hold (RSSRK: 10 × 32 bits).
	KeySize = 40
	// MaxInput is the longest input a 40-byte key can hash: 36 bytes, an
	// IPv6 address pair with two ports.
	MaxInput = KeySize - 4
)

// MicrosoftKey is the key of Microsoft's RSS verification suite (and the
// default of many drivers), whose published hashes the tests check.
var MicrosoftKey = [KeySize]byte{
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
}

// Toeplitz hashes input with key bit by bit (the definition). Input bits
// beyond len(key)*8 - 32 see zero key bits.
func Toeplitz(key, input []byte) uint32 {
	var result uint32
	for i, b := range input {
		for j := range 8 {
			if b&(0x80>>j) != 0 {
				result ^= window(key, 8*i+j)
			}
		}
	}
	return result
}

// window is the 32 key bits starting at bit position p (MSB of key[0] is
// bit 0); bits past the key's end are zero.
func window(key []byte, p int) uint32 {
	var w uint64
	for k := range 5 {
		w <<= 8
		if i := p/8 + k; i < len(key) {
			w |= uint64(key[i])
		}
	}
	return uint32(w << (p % 8) >> 8)
}

// Hasher hashes with one key through precomputed tables.
type Hasher struct {
	key [KeySize]byte
	tab [MaxInput][256]uint32
}

// New makes a Hasher for key (at most KeySize bytes; a shorter key is
// padded with zeros).
func New(key []byte) *Hasher {
	h := new(Hasher)
	h.SetKey(key)
	return h
}

// SetKey changes the key and recomputes the tables.
func (h *Hasher) SetKey(key []byte) {
	h.key = [KeySize]byte{}
	copy(h.key[:], key)
	for i := range MaxInput {
		var bit [8]uint32
		for j := range 8 {
			bit[j] = window(h.key[:], 8*i+j)
		}
		for v := range 256 {
			var c uint32
			for j := range 8 {
				if v&(0x80>>j) != 0 {
					c ^= bit[j]
				}
			}
			h.tab[i][v] = c
		}
	}
}

// Key is the hasher's key.
func (h *Hasher) Key() [KeySize]byte { return h.key }

// Hash hashes input (at most MaxInput bytes; bytes beyond are ignored).
func (h *Hasher) Hash(input []byte) uint32 {
	var r uint32
	for i, b := range input[:min(len(input), MaxInput)] {
		r ^= h.tab[i][b]
	}
	return r
}

// IPv4 is the hash of an IPv4 2-tuple: source address, destination address.
func (h *Hasher) IPv4(src, dst [4]byte) uint32 {
	var in [8]byte
	copy(in[0:], src[:])
	copy(in[4:], dst[:])
	return h.Hash(in[:])
}

// IPv4Ports is the hash of an IPv4 4-tuple: source address, destination
// address, source port, destination port (ports big-endian, as on the wire).
func (h *Hasher) IPv4Ports(src, dst [4]byte, sport, dport uint16) uint32 {
	var in [12]byte
	copy(in[0:], src[:])
	copy(in[4:], dst[:])
	binary.BigEndian.PutUint16(in[8:], sport)
	binary.BigEndian.PutUint16(in[10:], dport)
	return h.Hash(in[:])
}

// IPv6 is the hash of an IPv6 2-tuple: source address, destination address.
func (h *Hasher) IPv6(src, dst *[16]byte) uint32 {
	var in [32]byte
	copy(in[0:], src[:])
	copy(in[16:], dst[:])
	return h.Hash(in[:])
}

// IPv6Ports is the hash of an IPv6 4-tuple: source address, destination
// address, source port, destination port.
func (h *Hasher) IPv6Ports(src, dst *[16]byte, sport, dport uint16) uint32 {
	var in [36]byte
	copy(in[0:], src[:])
	copy(in[16:], dst[:])
	binary.BigEndian.PutUint16(in[32:], sport)
	binary.BigEndian.PutUint16(in[34:], dport)
	return h.Hash(in[:])
}
