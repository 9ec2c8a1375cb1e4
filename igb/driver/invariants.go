package driver

import (
	"fmt"

	"github.com/nicbed/nicbed/hw/ring"
	"github.com/nicbed/nicbed/kernelmodel"
)

// CheckInvariants checks the driver's books against what must hold between
// two events, whatever the device did:
//
//   - every receive ring's slots are posted to the device exactly from
//     next_to_clean to next_to_use-1, and at least one is the driver's
//     (hw/ring's CheckPosted); a half-assembled frame only on a ring that
//     has one;
//   - every transmit ring's slots in use are exactly next_to_clean ..
//     next_to_use-1, each queued frame names its last slot and that slot
//     alone holds its skb, no skb twice (hw/ring's CheckTx);
//   - each q_vector serves its own ring pair, and every ring one q_vector.
//
// It returns the first violation found.
func (a *Adapter) CheckInvariants() error {
	for _, r := range a.rx {
		if len(r.posted) != r.Count() {
			return fmt.Errorf("rx %d: ring of %d with %d buffers", r.idx, r.Count(), len(r.posted))
		}
		if err := ring.CheckPosted(&r.Ring, func(i int) bool { return r.posted[i] }); err != nil {
			return fmt.Errorf("rx %d: %w", r.idx, err)
		}
	}
	if a.invSeen == nil {
		a.invSeen = make(map[*kernelmodel.SKB]struct{})
	}
	for _, r := range a.tx {
		if err := ring.CheckTx(&r.Ring, r.buf, a.invSeen, skbID); err != nil {
			return fmt.Errorf("tx %d: %w", r.idx, err)
		}
	}
	if a.resources {
		if len(a.qv) != len(a.rx) || len(a.rx) != len(a.tx) {
			return fmt.Errorf("%d q_vectors for %d rx and %d tx rings", len(a.qv), len(a.rx), len(a.tx))
		}
		for i, q := range a.qv {
			if q.rx != a.rx[i] || q.tx != a.tx[i] || q.rx.idx != i || q.tx.idx != i {
				return fmt.Errorf("q_vector %d does not serve ring pair %d", i, i)
			}
		}
	}
	return nil
}

func skbID(s *kernelmodel.SKB) uint64 { return s.ID }
