package tcp

import (
	"math/bits"

	"github.com/nicbed/nicbed/kernelmodel"
)

// CUBIC's parameters as Linux's tcp_cubic.c module defaults them
// (RFC 9438 section 5 names them β_cubic and C).
const (
	// CubicBeta is beta: β_cubic = 717/1024 ≈ 0.7 (RFC 9438 section 4.6).
	CubicBeta      = 717
	cubicBetaScale = 1024 // BICTCP_BETA_SCALE
	// CubicBicScale is bic_scale: C = 41*10/1024 ≈ 0.4 (RFC 9438
	// section 5), applied as cube_rtt_scale = bic_scale*10.
	CubicBicScale = 41
	cubicHZ       = 10 // BICTCP_HZ: time in 2^-10 s

	// HystartLowWindow is hystart_low_window: HyStart looks for the exit
	// only once cwnd is at least 16.
	HystartLowWindow = 16
	// HystartAckDeltaUS is hystart_ack_delta_us: ACKs at most 2 ms apart
	// form a train.
	HystartAckDeltaUS = 2000
	hystartMinSamples = 8     // HYSTART_MIN_SAMPLES
	hystartDelayMin   = 4000  // HYSTART_DELAY_MIN, µs
	hystartDelayMax   = 16000 // HYSTART_DELAY_MAX, µs

	// cubeRTTScale is cube_rtt_scale: 1024*C.
	cubeRTTScale = CubicBicScale * 10
	// cubeFactor is cube_factor: 2^(10+3*BICTCP_HZ) / cube_rtt_scale,
	// so that cbrt(cubeFactor*(Wmax-cwnd)) is K in 2^-10 s.
	cubeFactor = (uint64(1) << (10 + 3*cubicHZ)) / cubeRTTScale
	// cubicBetaFriendly is beta_scale: 8*(1+β)/(3*(1-β)) in Linux's
	// integers (15), the ACKs per Reno-estimate increase, times 8.
	cubicBetaFriendly = 8 * (cubicBetaScale + CubicBeta) / 3 / (cubicBetaScale - CubicBeta)
)

// Cubic is tcp_cubic (struct bictcp and the cubictcp_* functions): CUBIC
// congestion control (RFC 9438) with fast convergence, the Reno-friendly
// region, and HyStart (both the ACK-train and the delay detection), as
// Linux's module parameters default them.
type Cubic struct {
	cnt            uint32 // cnt: ACKs per cwnd increase
	lastMaxCwnd    uint32 // last_max_cwnd: W_max
	lastCwnd       uint32 // last_cwnd
	lastTime       uint32 // last_time: jiffy of the last update
	bicOriginPoint uint32 // bic_origin_point: W_max of the curve
	bicK           uint32 // bic_K: K in 2^-10 s
	delayMin       uint32 // delay_min: the smallest RTT seen, µs
	epochStart     uint32 // epoch_start: jiffy the epoch began, 0 for none
	ackCnt         uint32 // ack_cnt: packets ACKed in the epoch
	tcpCwnd        uint32 // tcp_cwnd: W_est, the Reno-friendly estimate
	sampleCnt      uint8  // sample_cnt: RTT samples this round
	found          bool   // found: HyStart found its exit
	roundStart     uint32 // round_start: µs the round began
	endSeq         uint32 // end_seq: snd_nxt when the round began
	lastAck        uint32 // last_ack: µs of the last ACK of the train
	currRTT        uint32 // curr_rtt: the smallest RTT of this round
}

// Name is "cubic".
func (*Cubic) Name() string { return "cubic" }

// reset is bictcp_reset: everything but HyStart's round.
func (c *Cubic) reset() {
	r := c.roundStart
	e, l, cr, sc := c.endSeq, c.lastAck, c.currRTT, c.sampleCnt
	*c = Cubic{roundStart: r, endSeq: e, lastAck: l, currRTT: cr, sampleCnt: sc}
}

// hystartReset is bictcp_hystart_reset: a new round begins at snd_nxt.
func (c *Cubic) hystartReset(s *Sock) {
	now := s.clockUS()
	c.roundStart, c.lastAck = now, now
	c.endSeq = s.SndNxt
	c.currRTT = ^uint32(0)
	c.sampleCnt = 0
}

// Init is cubictcp_init.
func (c *Cubic) Init(s *Sock) {
	c.reset()
	c.hystartReset(s)
}

// CwndEvent is cubictcp_cwnd_event: after the application left the
// connection idle (CA_EVENT_TX_START), the epoch moves on by the idle
// time, so the curve resumes where it stood.
func (c *Cubic) CwndEvent(s *Sock, ev CAEvent) {
	if ev != CAEventTxStart {
		return
	}
	now := s.jiffies32()
	delta := int32(now - s.Lsndtime)
	if c.epochStart != 0 && delta > 0 {
		c.epochStart += uint32(delta)
		if After(c.epochStart, now) {
			c.epochStart = now
		}
	}
}

// cubicRoot is the integer cube root, rounded down. Linux's cubic_root
// estimates it from a table and one Newton-Raphson step (≈0.2% error);
// this one is exact: Newton's method from above, which only decreases.
func cubicRoot(a uint64) uint32 {
	if a < 8 {
		if a == 0 {
			return 0
		}
		return 1
	}
	x := uint64(1) << ((bits.Len64(a) + 2) / 3) // > cbrt(a)
	for {
		y := (2*x + a/(x*x)) / 3
		if y >= x {
			return uint32(x)
		}
		x = y
	}
}

// usecsToJiffies is usecs_to_jiffies, rounded up.
func usecsToJiffies(us uint32) uint32 {
	const usPerJiffy = 1000000 / kernelmodel.HZ
	return (us + usPerJiffy - 1) / usPerJiffy
}

// update is bictcp_update: cnt, the ACKs per cwnd increase, from the cubic
// curve W_cubic(t+RTT) = C*(t+RTT-K)^3 + W_max (RFC 9438 section 4.2),
// then no slower than the Reno-friendly estimate W_est (section 4.3), and
// never faster than 1.5x per RTT (one increase per 2 ACKs).
func (c *Cubic) update(s *Sock, cwnd, acked uint32) {
	c.ackCnt += acked
	now := s.jiffies32()
	if c.lastCwnd == cwnd && int32(now-c.lastTime) <= kernelmodel.HZ/32 {
		return
	}
	// cnt is recomputed at most once a jiffy; a reduction zeroes
	// epoch_start and so forces it.
	if c.epochStart == 0 || now != c.lastTime {
		c.lastCwnd = cwnd
		c.lastTime = now
		if c.epochStart == 0 {
			c.epochStart = now
			c.ackCnt = acked
			c.tcpCwnd = cwnd
			if c.lastMaxCwnd <= cwnd {
				c.bicK = 0
				c.bicOriginPoint = cwnd
			} else {
				c.bicK = cubicRoot(cubeFactor * uint64(c.lastMaxCwnd-cwnd))
				c.bicOriginPoint = c.lastMaxCwnd
			}
		}
		// t is the time since the epoch plus one RTT, in 2^-10 s.
		t := uint64(int32(now-c.epochStart)) + uint64(usecsToJiffies(c.delayMin))
		t = (t << cubicHZ) / kernelmodel.HZ
		var offs uint64
		if t < uint64(c.bicK) {
			offs = uint64(c.bicK) - t
		} else {
			offs = t - uint64(c.bicK)
		}
		delta := uint32((cubeRTTScale * offs * offs * offs) >> (10 + 3*cubicHZ))
		var target uint32
		if t < uint64(c.bicK) {
			target = c.bicOriginPoint - delta
		} else {
			target = c.bicOriginPoint + delta
		}
		if target > cwnd {
			c.cnt = cwnd / (target - cwnd)
		} else {
			c.cnt = 100 * cwnd // hardly any growth
		}
		// Before any loss the bandwidth is unknown: grow at least 5%
		// per RTT.
		if c.lastMaxCwnd == 0 && c.cnt > 20 {
			c.cnt = 20
		}
	}
	// The Reno-friendly region: W_est grows by one per
	// cwnd*beta_scale/8 packets ACKed.
	delta := (cwnd * cubicBetaFriendly) >> 3
	for delta > 0 && c.ackCnt > delta {
		c.ackCnt -= delta
		c.tcpCwnd++
	}
	if c.tcpCwnd > cwnd {
		if maxCnt := cwnd / (c.tcpCwnd - cwnd); c.cnt > maxCnt {
			c.cnt = maxCnt
		}
	}
	c.cnt = max(c.cnt, 2)
}

// CongAvoid is cubictcp_cong_avoid: slow start below ssthresh, then
// additive increase by the cnt bictcp_update computes.
func (c *Cubic) CongAvoid(s *Sock, _, acked uint32) {
	if !s.CwndLimited() {
		return
	}
	if s.InSlowStart() {
		if acked = s.SlowStart(acked); acked == 0 {
			return
		}
	}
	c.update(s, s.SndCwnd, acked)
	s.CongAvoidAI(c.cnt, acked)
}

// SSThresh is cubictcp_recalc_ssthresh: the epoch ends; W_max is cwnd, or
// with fast convergence (RFC 9438 section 4.7) cwnd*(1+β)/2 when cwnd did
// not reach the previous W_max; ssthresh is cwnd*β, at least 2.
func (c *Cubic) SSThresh(s *Sock) uint32 {
	c.epochStart = 0
	if s.SndCwnd < c.lastMaxCwnd {
		c.lastMaxCwnd = s.SndCwnd * (cubicBetaScale + CubicBeta) / (2 * cubicBetaScale)
	} else {
		c.lastMaxCwnd = s.SndCwnd
	}
	return max(s.SndCwnd*CubicBeta/cubicBetaScale, 2)
}

// SetState is cubictcp_state: an RTO (TCP_CA_Loss) starts CUBIC and
// HyStart over.
func (c *Cubic) SetState(s *Sock, newState CAState) {
	if newState == CALoss {
		c.reset()
		c.hystartReset(s)
	}
}

// UndoCwnd is tcp_reno_undo_cwnd, which CUBIC uses.
func (c *Cubic) UndoCwnd(s *Sock) uint32 { return renoUndoCwnd(s) }

// hystartAckDelay is hystart_ack_delay: the delay TSO and GRO add to an
// ACK train at the pacing rate, at most 1 ms.
func hystartAckDelay(s *Sock) uint32 {
	if s.PacingRate == 0 {
		return 0
	}
	return uint32(min(1000, uint64(s.GSOMaxSize)*4*1000000/s.PacingRate))
}

// hystartUpdate is hystart_update (HyStart, Ha and Rhee 2011): leave slow
// start (ssthresh = cwnd) when the ACK train of a round has lasted more
// than half the minimum RTT, or when the round's minimum RTT over 8
// samples exceeds the minimum by delay_min/8 clamped to [4 ms, 16 ms].
func (c *Cubic) hystartUpdate(s *Sock, delay uint32) {
	if After(s.SndUna, c.endSeq) {
		c.hystartReset(s)
	}
	if s.SndCwnd < HystartLowWindow {
		return
	}
	now := s.clockUS()
	if int32(now-c.lastAck) <= HystartAckDeltaUS {
		c.lastAck = now
		threshold := c.delayMin + hystartAckDelay(s)
		if !s.Pacing {
			threshold >>= 1
		}
		if int32(now-c.roundStart) > int32(threshold) {
			c.found = true
			if s.MIB != nil {
				s.MIB.TCPHystartTrainDetect++
				s.MIB.TCPHystartTrainCwnd += uint64(s.SndCwnd)
			}
			s.SndSsthresh = s.SndCwnd
		}
	}
	if c.currRTT > delay {
		c.currRTT = delay
	}
	if c.sampleCnt < hystartMinSamples {
		c.sampleCnt++
	} else if c.currRTT > c.delayMin+min(max(c.delayMin>>3, hystartDelayMin), hystartDelayMax) {
		c.found = true
		if s.MIB != nil {
			s.MIB.TCPHystartDelayDetect++
			s.MIB.TCPHystartDelayCwnd += uint64(s.SndCwnd)
		}
		s.SndSsthresh = s.SndCwnd
	}
}

// PktsAcked is cubictcp_acked: the RTT sample keeps delay_min, and in slow
// start feeds HyStart. Samples in the first second after a reduction are
// not taken (they still carry the queue of the loss).
func (c *Cubic) PktsAcked(s *Sock, sample AckSample) {
	if sample.RTTUS < 0 {
		return
	}
	if c.epochStart != 0 && int32(s.jiffies32()-c.epochStart) < kernelmodel.HZ {
		return
	}
	delay := max(uint32(sample.RTTUS), 1)
	if c.delayMin == 0 || c.delayMin > delay {
		c.delayMin = delay
	}
	if !c.found && s.InSlowStart() {
		c.hystartUpdate(s, delay)
	}
}
