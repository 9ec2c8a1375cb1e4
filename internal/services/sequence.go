package services

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
)

// The /bytes sequence: byte i is byte i%8 (little-endian) of the
// SplitMix64 output number i/8, from the seed SequenceSeed. SplitMix64
// (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", 2014) makes output k from the state seed+(k+1)*gamma, so
// any offset is reached at once; the sequence is the same on every run
// and on every machine, and a client computes what it should get without
// the server.
const (
	SequenceSeed  uint64 = 0x6e696362656400 // "nicbed"
	splitmixGamma uint64 = 0x9e3779b97f4a7c15
)

// splitmix64 is SplitMix64's output for state x.
func splitmix64(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// SequenceAt fills p with the sequence's bytes from offset off.
func SequenceAt(p []byte, off int64) {
	k := uint64(off) / 8
	var w [8]byte
	if r := int(off % 8); r != 0 {
		binary.LittleEndian.PutUint64(w[:], splitmix64(SequenceSeed+(k+1)*splitmixGamma))
		n := copy(p, w[r:])
		p = p[n:]
		k++
	}
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, splitmix64(SequenceSeed+(k+1)*splitmixGamma))
		p = p[8:]
		k++
	}
	if len(p) > 0 {
		binary.LittleEndian.PutUint64(w[:], splitmix64(SequenceSeed+(k+1)*splitmixGamma))
		copy(p, w[:])
	}
}

// SequenceReader reads the first N bytes of the sequence, then io.EOF.
type SequenceReader struct {
	Off, N int64 // the next offset, the end
}

// NewSequence is a reader of the sequence's first n bytes.
func NewSequence(n int64) *SequenceReader { return &SequenceReader{N: n} }

func (r *SequenceReader) Read(p []byte) (int, error) {
	if r.Off >= r.N {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.N-r.Off)]
	SequenceAt(p, r.Off)
	r.Off += int64(len(p))
	return len(p), nil
}

// SequenceSHA256 is the SHA-256 of the sequence's first n bytes: what
// GET /bytes/n's body hashes to.
func SequenceSHA256(n int64) [32]byte {
	h := sha256.New()
	io.CopyBuffer(h, NewSequence(n), make([]byte, 64<<10))
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}
