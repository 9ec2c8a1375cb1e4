package driver

import (
	"errors"
	"fmt"

	"github.com/nicbed/nicbed/igb"
)

// latencyRange is enum latency_range: the traffic class igb_update_itr puts
// an interrupt's work in.
type latencyRange uint8

const (
	lowestLatency latencyRange = iota // ~70000 ints/s: few small packets
	lowLatency                        // ~20000 ints/s
	bulkLatency                       // ~4000 ints/s: many or large packets
)

// updateITR is igb_update_itr: from the class of the last interval and the
// packets and bytes one ring container moved since the interrupt, pick the
// class for the next, and start the totals over. Jumbo and TSO frames
// (over 8000 bytes on average) are always bulk; the thresholds are Linux's
// (they differ from e1000's in the bulk class: below 1500 bytes goes back
// to low latency).
func updateITR(rc *ringContainer) {
	packets, bytes := rc.totalPackets, rc.totalBytes
	if packets == 0 {
		return
	}
	itr := rc.itr
	avg := bytes / packets
	switch itr {
	case lowestLatency:
		switch {
		case avg > 8000:
			itr = bulkLatency
		case packets < 5 && bytes > 512:
			itr = lowLatency
		}
	case lowLatency:
		if bytes > 10000 {
			switch {
			case avg > 8000, packets < 10, avg > 1200:
				itr = bulkLatency
			case packets > 35:
				itr = lowestLatency
			}
		} else {
			switch {
			case avg > 2000:
				itr = bulkLatency
			case packets <= 2 && bytes < 512:
				itr = lowestLatency
			}
		}
	case bulkLatency:
		switch {
		case bytes > 25000:
			if packets > 35 {
				itr = lowLatency
			}
		case bytes < 1500:
			itr = lowLatency
		}
	}
	rc.totalBytes, rc.totalPackets = 0, 0
	rc.itr = itr
}

// conservative reports whether the vector's ITR setting is 3 (rx for a
// vector with a receive ring, tx otherwise): dynamic without the lowest
// latency class.
func (q *qVector) conservative() bool {
	if q.rx != nil {
		return q.a.rxITRSetting == 3
	}
	return q.a.txITRSetting == 3
}

// adaptive reports whether the vector's setting is one of the adaptive
// modes (1 or 3).
func (q *qVector) adaptive() bool {
	if q.rx != nil {
		return q.a.rxITRSetting&3 != 0 && q.a.rxITRSetting <= 3
	}
	return q.a.txITRSetting&3 != 0 && q.a.txITRSetting <= 3
}

// setITRLatency is igb_set_itr, the adaptive algorithm of a single
// q_vector (MSI or INTx): classify transmit and receive, take the busier
// class (never lowest latency in conservative mode), and move to its
// interval. Below gigabit the rate is fixed at 4000 ints/s. The value is
// written at the next interrupt (igb_write_itr), not here: writing EITR
// restarts its timer.
func (q *qVector) setITRLatency() {
	newITR := q.itrVal
	if q.a.linkSpeed != 1000 {
		newITR = ITR4K
	} else {
		updateITR(&q.txC)
		updateITR(&q.rxC)
		cur := max(q.rxC.itr, q.txC.itr)
		if cur == lowestLatency && q.conservative() {
			cur = lowLatency
		}
		switch cur {
		case lowestLatency:
			newITR = ITR70K
		case lowLatency:
			newITR = ITR20K
		case bulkLatency:
			newITR = ITR4K
		}
	}
	if newITR != q.itrVal {
		// Bias towards bulk by adding intermediate steps when the
		// interval grows (Linux's expression; it comes out at newITR).
		if newITR > q.itrVal {
			newITR = max(newITR*q.itrVal/(newITR+q.itrVal>>2), newITR)
		}
		q.itrVal = newITR
		q.setITR = true
	}
}

// updateRingITR is igb_update_ring_itr, the adaptive algorithm of a vector
// among several (MSI-X): the interval follows the average frame size on
// the wire (24 bytes of CRC, preamble and gap added, at most 3000) — a
// third of it for mid-size frames, half otherwise — never below 20000
// ints/s's interval in conservative mode; below gigabit 4000 ints/s.
func (q *qVector) updateRingITR() {
	newVal := q.itrVal
	if q.a.linkSpeed != 1000 {
		newVal = ITR4K
	} else {
		var avg uint64
		if q.rxC.totalPackets != 0 {
			avg = q.rxC.totalBytes / q.rxC.totalPackets
		}
		if q.txC.totalPackets != 0 {
			avg = max(avg, q.txC.totalBytes/q.txC.totalPackets)
		}
		if avg == 0 {
			q.clearTotals()
			return
		}
		avg = min(avg+24, 3000)
		if avg > 300 && avg < 1200 {
			newVal = uint32(avg / 3)
		} else {
			newVal = uint32(avg / 2)
		}
		if newVal < ITR20K && q.conservative() {
			newVal = ITR20K
		}
	}
	if newVal != q.itrVal {
		q.itrVal = newVal
		q.setITR = true
	}
	q.clearTotals()
}

func (q *qVector) clearTotals() {
	q.rxC.totalBytes, q.rxC.totalPackets = 0, 0
	q.txC.totalBytes, q.txC.totalPackets = 0, 0
}

// writeITR is igb_write_itr: if the poll changed the interval, write it to
// the vector's EITR in the 82576's format — the interval bits 14:2
// (itr_val & 0x7FFC, at least 4: 1 µs), with CNT_IGNR so the running
// interval is kept.
func (q *qVector) writeITR() {
	if !q.setITR {
		return
	}
	v := q.itrVal & 0x7FFC
	if v == 0 {
		v = 4
	}
	v |= igb.EITR_CNT_IGNR
	q.a.wr(q.itrRegister, v)
	q.itrWrites++
	q.itrLastValue = v
	q.setITR = false
}

// ringIRQEnable is igb_ring_irq_enable: adapt the interval (igb_set_itr for
// a single q_vector, igb_update_ring_itr with several) if the setting is
// adaptive, then unmask the vector (EIMS with MSI-X, igb_irq_enable
// otherwise) unless going down.
func (q *qVector) ringIRQEnable() {
	a := q.a
	if q.adaptive() {
		if len(a.qv) == 1 {
			q.setITRLatency()
		} else {
			q.updateRingITR()
		}
	}
	if a.flagDown {
		return
	}
	if a.msix {
		a.wr(igb.EIMS, q.eimsValue)
	} else {
		a.irqEnable()
	}
}

// ITRStatus is one q_vector's interrupt moderation, for ethtool-like
// reports and the demo.
type ITRStatus struct {
	Vector  int    // MSI-X vector (0 without MSI-X)
	ITRVal  uint32 // itr_val, EITR units (4 × µs)
	Rate    int    // the interrupts per second it allows
	Writes  uint64 // igb_write_itr writes so far
	LastReg uint32 // the last EITR value written
}

// ITR reports each q_vector's interrupt moderation.
func (a *Adapter) ITR() []ITRStatus {
	out := make([]ITRStatus, len(a.qv))
	for i, q := range a.qv {
		v := max(q.itrVal&0x7FFC, 4)
		out[i] = ITRStatus{Vector: q.vector, ITRVal: q.itrVal, Rate: int(4_000_000 / v), Writes: q.itrWrites, LastReg: q.itrLastValue}
	}
	return out
}

// Coalesce is the part of struct ethtool_coalesce igb uses (ethtool -c /
// -C): rx-usecs and tx-usecs — 0 (no moderation), 1 or 3 (the adaptive
// modes, 3 conservative), or 10–10000 µs between interrupts — and
// tx-frames-irq, the transmit work limit. AdaptiveRx reports (read only)
// whether rx-usecs names an adaptive mode: Linux's igb does not take
// adaptive-rx (-EOPNOTSUPP) but its modes 1 and 3 are that.
type Coalesce struct {
	RxUsecs, TxUsecs int
	TxMaxFramesIRQ   int
	AdaptiveRx       bool
}

// ErrInvalid is wrapped by errors for values Linux refuses with -EINVAL.
var ErrInvalid = errors.New("invalid argument")

// ErrNotSupported is wrapped by errors for what Linux refuses with
// -EOPNOTSUPP.
var ErrNotSupported = errors.New("operation not supported")

// GetCoalesce is igb_get_coalesce: a mode as itself, an interval in µs.
func (a *Adapter) GetCoalesce() Coalesce {
	c := Coalesce{TxMaxFramesIRQ: a.txWorkLimit}
	c.RxUsecs = a.rxITRSetting
	if a.rxITRSetting > 3 {
		c.RxUsecs = a.rxITRSetting >> 2
	}
	c.TxUsecs = c.RxUsecs // queue pairs: tx follows rx
	c.AdaptiveRx = a.rxITRSetting == 1 || a.rxITRSetting == 3
	return c
}

// SetCoalesce is igb_set_coalesce: rx-usecs above 10000, from 4 to 9, or
// 2 are refused (ErrInvalid), and with queue pairs so is any tx-usecs
// (tx-usecs follows rx-usecs); adaptive-rx is refused (ErrNotSupported).
// rx-usecs 1 and 3 select the adaptive modes, anything else a fixed
// interval (itr_setting = µs << 2). Every q_vector restarts from it
// (IGB_START_ITR in the adaptive modes), written at its next interrupt.
func (a *Adapter) SetCoalesce(c Coalesce) error {
	u := c.RxUsecs
	if c.AdaptiveRx {
		return fmt.Errorf("%s: adaptive-rx: %w", a.netdev.Name, ErrNotSupported)
	}
	if u < 0 || u > maxITRUsecs || (u > 3 && u < minITRUsecs) || u == 2 {
		return fmt.Errorf("%s: rx-usecs %d: %w", a.netdev.Name, u, ErrInvalid)
	}
	if c.TxUsecs != 0 && c.TxUsecs != u {
		return fmt.Errorf("%s: tx-usecs %d with queue pairs: %w", a.netdev.Name, c.TxUsecs, ErrInvalid)
	}
	if c.TxMaxFramesIRQ < 0 {
		return fmt.Errorf("%s: tx-frames-irq %d: %w", a.netdev.Name, c.TxMaxFramesIRQ, ErrInvalid)
	}
	if c.TxMaxFramesIRQ != 0 {
		a.txWorkLimit = c.TxMaxFramesIRQ
	}
	if u > 0 && u <= 3 {
		a.rxITRSetting = u
	} else {
		a.rxITRSetting = u << 2
	}
	a.txITRSetting = a.rxITRSetting
	for _, q := range a.qv {
		q.txWorkLimit = a.txWorkLimit
		q.itrVal = uint32(a.rxITRSetting)
		if q.itrVal != 0 && q.itrVal <= 3 {
			q.itrVal = StartITR
		}
		q.setITR = true
	}
	return nil
}
