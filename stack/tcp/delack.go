package tcp

import "time"

// Delayed ACK limits (include/net/tcp.h), in jiffies of the model's HZ.
const (
	// TCPDelackMin is TCP_DELACK_MIN (HZ/25): 40 ms.
	TCPDelackMin = time.Second / 25
	// TCPDelackMax is TCP_DELACK_MAX (HZ/5): 200 ms.
	TCPDelackMax = time.Second / 5
	// TCPATOMin is TCP_ATO_MIN (HZ/25): the smallest ACK timeout.
	TCPATOMin = time.Second / 25
	// TCPMaxQuickacks is TCP_MAX_QUICKACKS: at most 16 quick ACKs in a
	// row.
	TCPMaxQuickacks = 16
)

// The icsk_ack.pending bits (enum inet_csk_ack_state_t).
const (
	ICSKAckSched   = 1 << 0 // ICSK_ACK_SCHED: an ACK is due
	ICSKAckTimer   = 1 << 1 // ICSK_ACK_TIMER: the delayed ACK timer runs
	ICSKAckPushed  = 1 << 2 // ICSK_ACK_PUSHED: data with PSH came in
	ICSKAckPushed2 = 1 << 3 // ICSK_ACK_PUSHED2
	ICSKAckNow     = 1 << 4 // ICSK_ACK_NOW: send an ACK at once
)

// DelAck is the delayed ACK engine of a connection
// (inet_connection_sock's icsk_ack and the functions of tcp_input.c and
// tcp_output.c that drive it; RFC 9293 section 3.8.6.3, RFC 5681
// section 4.2): the ACK timeout ato adapts to the spacing of arriving
// data between 40 ms and the RTO; a connection starts in quick-ACK mode
// (an ACK for every segment, for up to 16, or half the window); an
// interactive one (Pingpong) delays at most 200 ms.
type DelAck struct {
	Pending  uint8         // pending: ICSK_ACK_* bits
	Quick    uint32        // quick: quick ACKs left
	Pingpong bool          // pingpong: interactive mode (inet_csk_in_pingpong_mode)
	ATO      time.Duration // ato: the current ACK timeout
	// Timeout is when the delayed ACK timer fires (valid with
	// ICSKAckTimer).
	Timeout time.Duration
	// Lrcvtime is lrcvtime: when data last arrived.
	Lrcvtime time.Duration
	// RcvMSS is rcv_mss: the MSS estimated from what arrives.
	RcvMSS uint32
	// DelackMax is icsk_delack_max (TCP_DELACK_MAX unless a route
	// says otherwise).
	DelackMax time.Duration
}

// NewDelAck returns the engine of a new connection.
func NewDelAck(rcvMSS uint32) DelAck {
	return DelAck{RcvMSS: rcvMSS, DelackMax: TCPDelackMax}
}

// IncrQuickack is tcp_incr_quickack: allow up to max quick ACKs, half
// the receive window's segments (at least 2).
func (d *DelAck) IncrQuickack(rcvWnd uint32, maxQuick uint32) {
	q := uint32(0)
	if d.RcvMSS != 0 {
		q = rcvWnd / (2 * d.RcvMSS)
	}
	if q == 0 {
		q = 2
	}
	q = min(q, maxQuick)
	if q > d.Quick {
		d.Quick = q
	}
}

// InQuickackMode is tcp_in_quickack_mode (without the route's
// dst_quick_ack): quick ACKs left and not interactive.
func (d *DelAck) InQuickackMode() bool { return d.Quick != 0 && !d.Pingpong }

// EventDataRecv is the delayed-ACK part of tcp_event_data_recv: data
// arrived at now. The first data starts quick-ACK mode with ato 40 ms;
// later, data closer than 20 ms after the last halves ato toward 20 ms,
// data within ato pulls it toward the gap (at most rto), and a gap above
// the RTO (the sender restarted after idle) gives quick ACKs again.
func (d *DelAck) EventDataRecv(now, rto time.Duration, rcvWnd uint32) {
	d.Pending |= ICSKAckSched
	if d.ATO == 0 {
		d.IncrQuickack(rcvWnd, TCPMaxQuickacks)
		d.ATO = TCPATOMin
	} else {
		m := jiffiesOf(now) - jiffiesOf(d.Lrcvtime)
		ato := jiffiesOf(d.ATO)
		switch {
		case m <= jiffiesOf(TCPATOMin)/2:
			d.ATO = time.Duration(ato>>1+jiffiesOf(TCPATOMin)/2) * jiffy
		case m < ato:
			d.ATO = min(time.Duration(ato>>1+m)*jiffy, rto)
		case m > jiffiesOf(rto):
			d.IncrQuickack(rcvWnd, TCPMaxQuickacks)
		}
	}
	d.Lrcvtime = now
}

func jiffiesOf(t time.Duration) int64 { return int64(t / jiffy) }

// SendDelayedAck is tcp_send_delayed_ack: schedule the ACK. Above the
// 40 ms minimum, ato is bounded by 500 ms (200 ms when interactive or
// after a PSH) and by SRTT (srttUS, Linux's <<3 form; 0 for none), and
// always by icsk_delack_max. If the timer already runs, the earlier
// deadline stays, and an ACK whose timer would fire within ato/4 is sent
// now instead (sendNow). Otherwise it returns when the timer fires, on
// the jiffy clock.
func (d *DelAck) SendDelayedAck(now time.Duration, srttUS uint32) (sendNow bool, timeout time.Duration) {
	ato := d.ATO
	if ato > TCPDelackMin {
		maxATO := time.Second / 2
		if d.Pingpong || d.Pending&ICSKAckPushed != 0 {
			maxATO = TCPDelackMax
		}
		if srttUS != 0 {
			rtt := max(time.Duration(usecsToJiffies(srttUS>>3))*jiffy, TCPDelackMin)
			maxATO = min(maxATO, rtt)
		}
		ato = min(ato, maxATO)
	}
	ato = min(ato, d.DelackMax)
	j := time.Duration(jiffiesOf(now)) * jiffy // the timer runs on jiffies
	timeout = j + ato
	if d.Pending&ICSKAckTimer != 0 {
		if d.Timeout <= j+time.Duration(jiffiesOf(ato)>>2)*jiffy {
			return true, 0
		}
		if timeout >= d.Timeout {
			timeout = d.Timeout
		}
	}
	d.Pending |= ICSKAckSched | ICSKAckTimer
	d.Timeout = timeout
	return false, timeout
}

// AckSent is the delayed-ACK part of tcp_event_ack_sent: an ACK covering
// pkts segments went out; the pending state clears and quick ACKs are
// spent (tcp_dec_quickack_mode: when the last goes, ato is back at
// 40 ms).
func (d *DelAck) AckSent(pkts uint32) {
	if d.Quick != 0 {
		if pkts >= d.Quick {
			d.Quick = 0
			d.ATO = TCPATOMin
		} else {
			d.Quick -= pkts
		}
	}
	d.Pending = 0
}

// DelackTimer is tcp_delack_timer_handler's decision when the timer
// fires: if an ACK is still due, send it (DelayedACKs counts it) after
// adapting ato — a missed delayed ACK doubles it (at most rto) in bulk
// mode, and leaves interactive mode with ato back at 40 ms.
func (d *DelAck) DelackTimer(rto time.Duration, mib *TcpExtMIB) (send bool) {
	d.Pending &^= ICSKAckTimer
	if d.Pending&ICSKAckSched == 0 {
		return false
	}
	if !d.Pingpong {
		d.ATO = min(d.ATO*2, rto)
	} else {
		d.Pingpong = false
		d.ATO = TCPATOMin
	}
	if mib != nil {
		mib.DelayedACKs++
	}
	return true
}

// AckNeededNow is __tcp_ack_snd_check's choice between an ACK now and a
// delayed one: more than one full segment received since the last window
// update with a window that does not shrink (windowOK: __tcp_select_window
// >= rcv_wnd), quick-ACK mode, or ICSK_ACK_NOW.
func (d *DelAck) AckNeededNow(rcvNxt, rcvWup uint32, windowOK bool) bool {
	return rcvNxt-rcvWup > d.RcvMSS && windowOK || d.InQuickackMode() || d.Pending&ICSKAckNow != 0
}
