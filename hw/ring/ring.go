// Package ring is what NIC drivers share about a descriptor ring: the index
// arithmetic of next_to_use and next_to_clean, who owns which slot, and the
// DMA memory of the ring with one recycled buffer per slot.
//
// A ring of Count slots has two indices (struct e1000_ring, igb_ring):
// next_to_use (NTU), the next slot the driver fills, and next_to_clean (NTC),
// the next slot it takes back. The slots NTC .. NTU-1 (modulo Count) are
// in flight: given to the device (receive buffers posted, transmit
// descriptors queued). The others are the driver's, and at least one always
// is, so that NTC == NTU means empty, never full (E1000_DESC_UNUSED keeps one
// slot back).
//
// The memory is one allocation for the descriptors (4 KiB aligned, the size
// rounded up to 4 KiB as Linux's ALIGN(size, 4096)) and one for the buffers,
// Count × BufSize bytes, slot i's buffer at i × BufSize for good: a receive
// buffer goes back to the device once its frame is copied out, a transmit
// buffer is filled again, and nothing is allocated per packet.
package ring

import (
	"errors"
	"fmt"

	"github.com/nicbed/nicbed/hw/dma"
)

// DescAlign is the alignment and size granularity of descriptor memory.
const DescAlign = 4096

// Unused is E1000_DESC_UNUSED / IGB_DESC_UNUSED: the slots the driver may
// still fill in a ring of count slots, keeping one empty so that a full ring
// is told from an empty one.
func Unused(ntc, ntu, count int) int {
	n := ntc - ntu - 1
	if ntc <= ntu {
		n += count
	}
	return n
}

// InFlight reports whether slot i lies in ntc .. ntu-1 modulo the ring: the
// device's (posted, queued), not the driver's.
func InFlight(i, ntc, ntu int) bool {
	if ntc <= ntu {
		return i >= ntc && i < ntu
	}
	return i >= ntc || i < ntu
}

// Next is the slot after i in a ring of count slots.
func Next(i, count int) int {
	if i++; i == count {
		return 0
	}
	return i
}

// Ring is a descriptor ring with its indices and, if it has buffers, one
// buffer per slot, all in DMA memory. The zero Ring has no slots.
type Ring struct {
	// NTC and NTU are next_to_clean and next_to_use.
	NTC, NTU int

	count    int
	descSize int
	bufSize  int
	desc     dma.Region
	bufs     dma.Region
}

// Alloc allocates a ring of count descriptors of descSize bytes and, if
// bufSize > 0, a buffer of bufSize bytes per slot (4 KiB aligned). The
// memory is zeroed and the indices 0.
func Alloc(mem dma.Allocator, count, descSize, bufSize int) (Ring, error) {
	if count < 2 || descSize <= 0 || bufSize < 0 {
		return Ring{}, fmt.Errorf("ring: %d descriptors of %d bytes, buffers of %d", count, descSize, bufSize)
	}
	r := Ring{count: count, descSize: descSize, bufSize: bufSize}
	dlen := (count*descSize + DescAlign - 1) &^ (DescAlign - 1)
	var err error
	if r.desc, err = mem.Alloc(dlen, DescAlign); err != nil {
		return Ring{}, err
	}
	if bufSize > 0 {
		if r.bufs, err = mem.Alloc(count*bufSize, DescAlign); err != nil {
			mem.Free(r.desc)
			return Ring{}, err
		}
	}
	// dma.Allocator's contract: the memory comes zeroed.
	return r, nil
}

// Free gives the ring's memory back and leaves r with no slots.
func (r *Ring) Free(mem dma.Allocator) {
	if r.count == 0 {
		return
	}
	mem.Free(r.desc)
	if r.bufSize > 0 {
		mem.Free(r.bufs)
	}
	*r = Ring{}
}

// Count is the number of slots (0 for a ring not allocated).
func (r *Ring) Count() int { return r.count }

// DescAddr is the bus address of the descriptors (RDBAL/RDBAH, TDBAL/TDBAH).
func (r *Ring) DescAddr() dma.Addr { return r.desc.Addr }

// DescLen is the descriptors' length in bytes (RDLEN, TDLEN): count ×
// descriptor size.
func (r *Ring) DescLen() int { return r.count * r.descSize }

// Desc is descriptor i: exactly its bytes, capacity too.
func (r *Ring) Desc(i int) []byte {
	o := i * r.descSize
	return r.desc.Bytes[o : o+r.descSize : o+r.descSize]
}

// BufSize is the size of each slot's buffer.
func (r *Ring) BufSize() int { return r.bufSize }

// Buf is slot i's buffer: exactly BufSize bytes, capacity too, so nothing
// reads or writes past it.
func (r *Ring) Buf(i int) []byte {
	o := i * r.bufSize
	return r.bufs.Bytes[o : o+r.bufSize : o+r.bufSize]
}

// BufAddr is the bus address of slot i's buffer.
func (r *Ring) BufAddr(i int) dma.Addr { return r.bufs.Addr + dma.Addr(i*r.bufSize) }

// Unused is the slots the driver may fill (Unused of the ring's indices).
func (r *Ring) Unused() int { return Unused(r.NTC, r.NTU, r.count) }

// InFlight reports whether slot i is the device's (see InFlight).
func (r *Ring) InFlight(i int) bool { return InFlight(i, r.NTC, r.NTU) }

// Next is the slot after i.
func (r *Ring) Next(i int) int { return Next(i, r.count) }

// Reset empties the ring: descriptors zeroed, both indices 0 (what
// e1000_clean_rx_ring and e1000_clean_tx_ring leave). Buffers keep their
// bytes.
func (r *Ring) Reset() {
	clear(r.desc.Bytes)
	r.NTC, r.NTU = 0, 0
}

// ErrIndex is wrapped by CheckIndices' errors.
var ErrIndex = errors.New("ring: index out of range")

// CheckIndices checks the ownership invariant's arithmetic: both indices
// inside the ring, so that at least one slot is the driver's.
func (r *Ring) CheckIndices() error {
	if r.count == 0 {
		if r.NTC != 0 || r.NTU != 0 {
			return fmt.Errorf("%w: ntc %d, ntu %d in a ring with no slots", ErrIndex, r.NTC, r.NTU)
		}
		return nil
	}
	if r.NTC < 0 || r.NTC >= r.count || r.NTU < 0 || r.NTU >= r.count {
		return fmt.Errorf("%w: ntc %d, ntu %d in a ring of %d", ErrIndex, r.NTC, r.NTU, r.count)
	}
	return nil
}
