package dma

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// Ordering of descriptor memory shared with a device.
//
// A device writes a descriptor's data (length, checksum, buffer) and then its
// status (DD); a driver that sees DD must not read the rest from before that
// write. The driver writes a descriptor and then rings the tail doorbell; the
// device must not fetch the descriptor before it is written. Linux says this
// with dma_rmb() after reading the status and wmb() before the doorbell. The
// accessors here say the same: LoadAcquire32 reads the status dword, and
// everything read after it is at least as new; StoreRelease32 and Wmb order
// the writes before them ahead of the writes after them (the MMIO doorbell).
//
// In process, where the device model runs on the same goroutine, they cost an
// atomic operation and nothing more; on memory mapped for a real or emulated
// device (VFIO), they are the fences the hardware needs. Descriptor fields are
// little-endian, as on the wire of PCI; the atomic accessors assume a
// little-endian host (x86-64, arm64), as nicbed's VFIO path does.

var fence atomic.Uint32

// Rmb is dma_rmb(): reads after it are not satisfied before reads before it.
func Rmb() { fence.Load() }

// Wmb is wmb()/dma_wmb(): writes before it reach memory before writes after
// it (the descriptor before the tail doorbell).
func Wmb() { fence.Add(1) }

// WmbCount is how many write barriers were taken so far (Wmb, and
// StoreRelease32 on unaligned memory): tests check with it that a doorbell
// write follows a barrier.
func WmbCount() uint32 { return fence.Load() }

// LoadAcquire32 reads the little-endian 32-bit word at b[0:4] with acquire
// ordering. b must be 4-byte aligned in memory (descriptor status words are).
// It panics if b is shorter than 4 bytes.
func LoadAcquire32(b []byte) uint32 {
	_ = b[3]
	p := unsafe.Pointer(unsafe.SliceData(b))
	if uintptr(p)&3 != 0 {
		Rmb()
		return binary.LittleEndian.Uint32(b)
	}
	return atomic.LoadUint32((*uint32)(p))
}

// StoreRelease32 writes v as the little-endian 32-bit word at b[0:4] with
// release ordering: every write before it is visible first. b must be 4-byte
// aligned (see LoadAcquire32).
func StoreRelease32(b []byte, v uint32) {
	_ = b[3]
	p := unsafe.Pointer(unsafe.SliceData(b))
	if uintptr(p)&3 != 0 {
		Wmb()
		binary.LittleEndian.PutUint32(b, v)
		return
	}
	atomic.StoreUint32((*uint32)(p), v)
}
