package driver

import (
	"errors"
	"fmt"

	"github.com/nicbed/nicbed/e1000"
)

// latencyRange is enum latency_range: the traffic class e1000_update_itr
// puts an interrupt's work in.
type latencyRange uint8

const (
	lowestLatency latencyRange = iota // ~70000 ints/s: few small packets
	lowLatency                        // ~20000 ints/s
	bulkLatency                       // ~4000 ints/s: many or large packets
)

// Interrupt rates of the latency classes (e1000_set_itr).
const (
	lowestLatencyRate = 70000
	lowLatencyRate    = 20000
	bulkLatencyRate   = 4000
)

func (l latencyRange) rate() int {
	switch l {
	case lowestLatency:
		return lowestLatencyRate
	case lowLatency:
		return lowLatencyRate
	}
	return bulkLatencyRate
}

// updateITR is e1000_update_itr: from the class of the last interval and the
// packets and bytes moved in one direction since the interrupt, pick the
// class for the next. Jumbo frames (over 8000 bytes on average) are always
// bulk; the thresholds are Linux's.
func updateITR(cur latencyRange, packets, bytes uint64) latencyRange {
	if packets == 0 {
		return cur
	}
	avg := bytes / packets
	switch cur {
	case lowestLatency:
		switch {
		case avg > 8000:
			return bulkLatency
		case packets < 5 && bytes > 512:
			return lowLatency
		}
	case lowLatency:
		if bytes > 10000 {
			switch {
			case avg > 8000, packets < 10, avg > 1200:
				return bulkLatency
			case packets > 35:
				return lowestLatency
			}
		} else {
			switch {
			case avg > 2000:
				return bulkLatency
			case packets <= 2 && bytes < 512:
				return lowestLatency
			}
		}
	case bulkLatency:
		switch {
		case bytes > 25000:
			if packets > 35 {
				return lowLatency
			}
		case bytes < 6000:
			return lowLatency
		}
	}
	return cur
}

// setITR is e1000_set_itr: classify transmit and receive since the
// interrupt, take the busier class (conservative mode, 3, never goes to
// lowest latency), and move the interrupt rate to it: at once when the rate
// falls, by a quarter of the target per step when it rises, which biases the
// rate towards bulk. Below gigabit the rate is a fixed 4000.
func (a *Adapter) setITR() {
	var newITR int
	if a.linkSpeed != 1000 {
		newITR = bulkLatencyRate
	} else {
		a.txITR = updateITR(a.txITR, a.totalTxPackets, a.totalTxBytes)
		if a.itrSetting == ITRConservative && a.txITR == lowestLatency {
			a.txITR = lowLatency
		}
		a.rxITR = updateITR(a.rxITR, a.totalRxPackets, a.totalRxBytes)
		if a.itrSetting == ITRConservative && a.rxITR == lowestLatency {
			a.rxITR = lowLatency
		}
		newITR = max(a.rxITR, a.txITR).rate()
	}
	if newITR == a.itr {
		return
	}
	if newITR > a.itr {
		newITR = min(a.itr+newITR>>2, newITR)
	}
	a.itr = newITR
	a.wr(e1000.ITR, itrRegister(newITR))
	a.k.TracePoint("e1000_set_itr", 0, int64(newITR))
}

// simplifiedITR is the InterruptThrottleRate=4 step of e1000_watchdog:
// symmetric transmit and receive traffic gets 2000 ints/s, all one way 8000,
// mixes in between, from the good octets of the last watchdog interval.
func simplifiedITR(gotc, gorc uint64) int {
	goc := (gotc + gorc) / 10000
	var dif uint64
	if gotc > gorc {
		dif = (gotc - gorc) / 10000
	} else {
		dif = (gorc - gotc) / 10000
	}
	if goc == 0 {
		return 8000
	}
	return int(dif*6000/goc + 2000)
}

// InterruptThrottleRate is the InterruptThrottleRate setting: a mode (0, 1,
// 3, 4) or a fixed rate.
func (a *Adapter) InterruptThrottleRate() int {
	if a.itrSetting&3 != 0 || a.itrSetting == 0 || a.itrSetting == ITRSimplified {
		return a.itrSetting
	}
	return a.itr
}

// CurrentITR is the interrupt rate the device is throttled to now, in
// interrupts per second (0: unthrottled).
func (a *Adapter) CurrentITR() int {
	if a.itrSetting == 0 {
		return 0
	}
	return a.itr
}

// SetInterruptThrottleRate changes InterruptThrottleRate at run time, as
// ethtool -C does for e1000 (rx-usecs 0 / 1–4 select a mode, a larger value
// a fixed rate): 0, 1, 3, 4 or 100–100000 interrupts per second.
func (a *Adapter) SetInterruptThrottleRate(v int) error {
	if err := a.setITRParam(v); err != nil {
		return err
	}
	if a.open {
		if a.itrSetting != 0 {
			a.wr(e1000.ITR, itrRegister(a.itr))
		} else {
			a.wr(e1000.ITR, 0)
		}
	}
	return nil
}

// Coalesce is the part of struct ethtool_coalesce e1000 uses (ethtool -c/-C):
// rx-usecs. 0, 1, 3 and 4 name the InterruptThrottleRate modes (off,
// dynamic, dynamic conservative, simplified); 10–10000 is a fixed rate of
// 10^6/rx-usecs interrupts per second.
type Coalesce struct {
	RxUsecs int
}

// Limits of rx-usecs (E1000_MIN_ITR_USECS, E1000_MAX_ITR_USECS).
const (
	minITRUsecs = 10
	maxITRUsecs = 10000
)

// ErrInvalid is wrapped by errors for values Linux refuses with -EINVAL.
var ErrInvalid = errors.New("invalid argument")

// GetCoalesce is e1000_get_coalesce: a mode as itself, a fixed rate as its
// interval in µs.
//
// Linux refuses ethtool -c/-C with -EOPNOTSUPP on MACs before the 82545,
// and so on the 82540EM. nicbed models only the 82540EM, whose ITR register
// is the 82545's, so it accepts them: a documented deviation that lets
// rx-usecs be studied on the one MAC there is.
func (a *Adapter) GetCoalesce() Coalesce {
	if a.itrSetting <= ITRSimplified {
		return Coalesce{RxUsecs: a.itrSetting}
	}
	return Coalesce{RxUsecs: 1_000_000 / a.itrSetting}
}

// SetCoalesce is e1000_set_coalesce: rx-usecs above 10000, from 5 to 9, or
// 2, are refused (an error wrapping ErrInvalid, nothing changed); 4 selects
// the simplified mode, 0, 1 and 3 their modes starting at 20000 ints/s, and
// anything else the fixed rate 10^6/rx-usecs. The ITR register is written at
// once, as Linux does.
func (a *Adapter) SetCoalesce(c Coalesce) error {
	u := c.RxUsecs
	if u < 0 || u > maxITRUsecs || (u > ITRSimplified && u < minITRUsecs) || u == 2 {
		return fmt.Errorf("%s: rx-usecs %d: %w", a.netdev.Name, u, ErrInvalid)
	}
	switch {
	case u == ITRSimplified:
		// Linux stores 4 in itr too; the watchdog's simplified
		// algorithm sets the rate. Start where the module parameter
		// starts it.
		a.itr, a.itrSetting = 8000, ITRSimplified
	case u <= ITRConservative:
		a.itr, a.itrSetting = 20000, u
	default:
		a.itr = 1_000_000 / u
		a.itrSetting = a.itr &^ 3
	}
	if a.itrSetting != 0 {
		a.wr(e1000.ITR, itrRegister(a.itr))
	} else {
		a.wr(e1000.ITR, 0)
	}
	return nil
}
