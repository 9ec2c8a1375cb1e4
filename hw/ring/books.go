package ring

import "fmt"

// TxBuffer is what a driver keeps of one transmit slot (struct
// e1000_tx_buffer, struct igb_tx_buffer), for packets of type P (an skb).
// A frame occupies the slots from its first (which may hold a context
// descriptor) to its last; the first names the last, and the last holds the
// packet until the device reports the frame sent.
type TxBuffer[P comparable] struct {
	// Pkt is set on the last slot of a frame and freed when the frame is
	// cleaned.
	Pkt P
	// NextToWatch is set on the first slot of a frame: the slot of its
	// last descriptor, whose write-back says the frame is done; -1
	// otherwise.
	NextToWatch int32
	TimeStamp   uint64 // jiffies when queued; 0 when free
	Length      uint32 // bytes in this slot's buffer
	Segs        uint32 // on the last slot: segments (TSO) the frame became
	Bytecount   uint32 // on the last slot: bytes on the wire, headers of every segment included
	Used        bool   // part of a queued frame
}

// Free resets a slot to the driver's: no frame, no packet.
func (b *TxBuffer[P]) Free() {
	*b = TxBuffer[P]{NextToWatch: -1}
}

// NewTxBuffers makes the books of a ring of count slots, every slot free.
func NewTxBuffers[P comparable](count int) []TxBuffer[P] {
	b := make([]TxBuffer[P], count)
	for i := range b {
		b[i].NextToWatch = -1
	}
	return b
}

// CheckPosted checks a receive ring's books: exactly the slots
// next_to_clean .. next_to_use-1 are posted to the device (posted(i)
// reports slot i), the others are the driver's, and at least one is. It
// walks the ring once from next_to_clean.
func CheckPosted(r *Ring, posted func(i int) bool) error {
	if err := r.CheckIndices(); err != nil {
		return err
	}
	n := r.Count() - 1 - r.Unused()
	for k, i := 0, r.NTC; k < r.Count(); k++ {
		if want := k < n; posted(i) != want {
			return fmt.Errorf("slot %d posted=%v, but ntc %d ntu %d say %v", i, posted(i), r.NTC, r.NTU, want)
		}
		i = r.Next(i)
	}
	return nil
}

// CheckTx checks a transmit ring's books: the slots in use are exactly
// next_to_clean .. next_to_use-1; each queued frame starts where the
// previous one ended, names its last slot, and that slot, and only that
// slot, holds its packet; no packet is held twice and none by a free slot.
// seen is scratch space (cleared here), id names a packet in errors.
func CheckTx[P comparable](r *Ring, bufs []TxBuffer[P], seen map[P]struct{}, id func(P) uint64) error {
	if r.Count() == 0 {
		return nil
	}
	if err := r.CheckIndices(); err != nil {
		return err
	}
	if len(bufs) != r.Count() {
		return fmt.Errorf("ring of %d with %d buffers", r.Count(), len(bufs))
	}
	var none P
	used := r.Count() - 1 - r.Unused()
	for k, i := 0, r.NTC; k < len(bufs); k++ {
		b := &bufs[i]
		if b.Used != (k < used) {
			return fmt.Errorf("slot %d used=%v, ntc %d ntu %d", i, b.Used, r.NTC, r.NTU)
		}
		if !b.Used && (b.Pkt != none || b.NextToWatch >= 0 || b.TimeStamp != 0) {
			return fmt.Errorf("free slot %d still holds a frame", i)
		}
		i = r.Next(i)
	}
	clear(seen)
	for i := r.NTC; i != r.NTU; {
		eop := int(bufs[i].NextToWatch)
		if eop < 0 || eop >= r.Count() || !r.InFlight(eop) {
			return fmt.Errorf("frame at slot %d names last slot %d", i, eop)
		}
		for j := i; ; {
			if j == r.NTU {
				return fmt.Errorf("frame at slot %d runs past next_to_use %d", i, r.NTU)
			}
			b := &bufs[j]
			if j != i && b.NextToWatch >= 0 {
				return fmt.Errorf("slot %d inside a frame marked as a frame start", j)
			}
			if j == eop {
				if b.Pkt == none {
					return fmt.Errorf("last slot %d of a frame has no skb", j)
				}
				if _, dup := seen[b.Pkt]; dup {
					return fmt.Errorf("skb %d held twice", id(b.Pkt))
				}
				seen[b.Pkt] = struct{}{}
				break
			}
			if b.Pkt != none {
				return fmt.Errorf("slot %d inside a frame holds an skb", j)
			}
			j = r.Next(j)
		}
		i = r.Next(eop)
	}
	return nil
}
