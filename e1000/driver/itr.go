package driver

import "github.com/nicbed/nicbed/e1000"

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
