package driver

import (
	"fmt"

	"github.com/nicbed/nicbed/kernelmodel"
)

// CheckInvariants checks the driver's books against what must hold between
// two events, whatever the device did:
//
//   - every receive slot's buffer is either posted to the device — exactly
//     the slots next_to_clean .. next_to_use-1 — or the driver's, and at
//     least one slot is the driver's;
//   - (every receive buffer is its slot's own 2048 bytes of the ring's DMA
//     memory by construction: hw/ring hands out slot i's buffer only);
//   - the transmit slots in use are exactly next_to_clean .. next_to_use-1;
//     each queued frame starts where the previous one ended, names its last
//     slot, and that slot, and only that slot, holds its skb; no skb is held
//     twice and none is held by a free slot.
//
// It returns the first violation found.
func (a *Adapter) CheckInvariants() error {
	if err := a.checkRx(); err != nil {
		return err
	}
	return a.checkTx()
}

func (a *Adapter) checkRx() error {
	r := &a.rx
	if r.Count() == 0 {
		if r.partial != nil {
			return fmt.Errorf("rx: no ring but a partial frame")
		}
		return nil
	}
	if err := r.CheckIndices(); err != nil {
		return fmt.Errorf("rx: %w", err)
	}
	if len(r.buf) != r.Count() {
		return fmt.Errorf("rx: ring of %d with %d buffers", r.Count(), len(r.buf))
	}
	// The slots from next_to_clean on: first the posted ones, then the
	// driver's (a walk, not an InFlight test per slot: this runs after
	// every fuzz action).
	posted := r.Count() - 1 - r.Unused()
	for k, i := 0, r.NTC; k < len(r.buf); k++ {
		b := &r.buf[i]
		if want := k < posted; b.posted != want {
			return fmt.Errorf("rx: slot %d posted=%v, but ntc %d ntu %d say %v", i, b.posted, r.NTC, r.NTU, want)
		}
		i = r.Next(i)
	}
	if r.partial != nil && a.netdev.MTU <= ethDataLen {
		return fmt.Errorf("rx: partial frame without long frames")
	}
	return nil
}

func (a *Adapter) checkTx() error {
	r := &a.tx
	if r.Count() == 0 {
		return nil
	}
	if err := r.CheckIndices(); err != nil {
		return fmt.Errorf("tx: %w", err)
	}
	if len(r.buf) != r.Count() {
		return fmt.Errorf("tx: ring of %d with %d buffers", r.Count(), len(r.buf))
	}
	used := r.Count() - 1 - r.Unused()
	for k, i := 0, r.NTC; k < len(r.buf); k++ {
		b := &r.buf[i]
		if b.used != (k < used) {
			return fmt.Errorf("tx: slot %d used=%v, ntc %d ntu %d", i, b.used, r.NTC, r.NTU)
		}
		if !b.used && (b.skb != nil || b.nextToWatch >= 0 || b.timeStamp != 0) {
			return fmt.Errorf("tx: free slot %d still holds a frame", i)
		}
		i = r.Next(i)
	}
	// Walk the frames.
	if a.invSeen == nil {
		a.invSeen = make(map[*kernelmodel.SKB]struct{})
	}
	seen := a.invSeen
	clear(seen)
	i := r.NTC
	for i != r.NTU {
		eop := int(r.buf[i].nextToWatch)
		if eop < 0 || eop >= r.Count() || !r.InFlight(eop) {
			return fmt.Errorf("tx: frame at slot %d names last slot %d", i, eop)
		}
		for j := i; ; {
			if j == r.NTU {
				return fmt.Errorf("tx: frame at slot %d runs past next_to_use %d", i, r.NTU)
			}
			b := &r.buf[j]
			if j != i && b.nextToWatch >= 0 {
				return fmt.Errorf("tx: slot %d inside a frame marked as a frame start", j)
			}
			if j == eop {
				if b.skb == nil {
					return fmt.Errorf("tx: last slot %d of a frame has no skb", j)
				}
				if _, dup := seen[b.skb]; dup {
					return fmt.Errorf("tx: skb %d held twice", b.skb.ID)
				}
				seen[b.skb] = struct{}{}
				break
			}
			if b.skb != nil {
				return fmt.Errorf("tx: slot %d inside a frame holds an skb", j)
			}
			j = r.Next(j)
		}
		i = r.Next(eop)
	}
	return nil
}
