package dma

import (
	"encoding/binary"
	"testing"
)

func TestAcquireReleaseLittleEndian(t *testing.T) {
	a := NewArena(1 << 16)
	r, err := a.Alloc(64, 64)
	if err != nil {
		t.Fatal(err)
	}
	StoreRelease32(r.Bytes[12:], 0x01020304)
	if got := binary.LittleEndian.Uint32(r.Bytes[12:]); got != 0x01020304 {
		t.Fatalf("StoreRelease32 wrote %#x, want little-endian 0x01020304", got)
	}
	binary.LittleEndian.PutUint32(r.Bytes[8:], 0xA0B0C0D0)
	if got := LoadAcquire32(r.Bytes[8:]); got != 0xA0B0C0D0 {
		t.Fatalf("LoadAcquire32 = %#x, want 0xa0b0c0d0", got)
	}
	// An unaligned word still reads and writes correctly.
	StoreRelease32(r.Bytes[1:], 0xDEADBEEF)
	if got := LoadAcquire32(r.Bytes[1:]); got != 0xDEADBEEF {
		t.Fatalf("unaligned LoadAcquire32 = %#x", got)
	}
}
