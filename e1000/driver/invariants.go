package driver

import (
	"fmt"

	"github.com/nicbed/nicbed/hw/ring"

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
		if r.frame.Partial() {
			return fmt.Errorf("rx: no ring but a partial frame")
		}
		return nil
	}
	if len(r.buf) != r.Count() {
		return fmt.Errorf("rx: ring of %d with %d buffers", r.Count(), len(r.buf))
	}
	if err := ring.CheckPosted(&r.Ring, func(i int) bool { return r.buf[i].posted }); err != nil {
		return fmt.Errorf("rx: %w", err)
	}
	if r.frame.Partial() && a.netdev.MTU <= ethDataLen {
		return fmt.Errorf("rx: partial frame without long frames")
	}
	return nil
}

func (a *Adapter) checkTx() error {
	if a.invSeen == nil {
		a.invSeen = make(map[*kernelmodel.SKB]struct{})
	}
	if err := ring.CheckTx(&a.tx.Ring, a.tx.buf, a.invSeen, skbID); err != nil {
		return fmt.Errorf("tx: %w", err)
	}
	return nil
}

func skbID(s *kernelmodel.SKB) uint64 { return s.ID }
