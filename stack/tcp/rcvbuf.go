package tcp

import (
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/socket"
)

// rcvqSpace is tcp_sock's rcvq_space and rcv_rtt_est: what dynamic right
// sizing of the receive buffer measures.
type rcvqSpace struct {
	space int           // bytes copied in the last measured RTT
	seq   uint32        // copied_seq when the measurement began
	time  time.Duration // and when
	rtt   time.Duration // rcv_rtt_est.rtt_us: the receiver's RTT estimate
}

// rcvRTTMeasureTS is tcp_rcv_rtt_measure_ts: the receiver's RTT from the
// echo of our timestamp on a data segment (the smallest seen, a model
// simplification of Linux's 7/8 filter).
func (c *Conn) rcvRTTMeasureTS() {
	if !c.rx.SawTstamp || c.rx.RcvTSecr == 0 {
		return
	}
	d := TSOptRTTUS(c.tsNow(), c.rx.RcvTSecr)
	if d <= 0 {
		return
	}
	r := time.Duration(d) * time.Microsecond
	if c.rcvq.rtt == 0 || r < c.rcvq.rtt {
		c.rcvq.rtt = r
	} else {
		c.rcvq.rtt += (r - c.rcvq.rtt) / 8
	}
}

// initBufferSpace is tcp_init_buffer_space: the measurement starts with
// the initial window's worth.
func (c *Conn) initBufferSpace() {
	c.rcvq = rcvqSpace{space: int(min(c.rw.RcvWnd, 10*c.advMSS)), seq: c.copiedSeq, time: c.now()}
}

// rcvSpaceAdjust is tcp_rcv_space_adjust (dynamic right sizing): once per
// receiver RTT, if the reader copied more than last time, the receive
// buffer grows to hold twice that plus 16 segments (in truesize), at most
// tcp_rmem[2], unless SO_RCVBUF locked it; the window clamp follows.
func (c *Conn) rcvSpaceAdjust() {
	now := c.now()
	q := &c.rcvq
	if q.rtt == 0 || now-q.time < q.rtt {
		return
	}
	copied := int(c.copiedSeq - q.seq)
	if copied > q.space {
		sys := &c.t.Sysctl
		if c.sk.Userlocks&socket.SOCK_RCVBUF_LOCK == 0 {
			rcvwin := copied<<1 + 16*int(c.advMSS)
			rcvmem := int(c.advMSS) + maxTCPHeader + kernelmodel.SKBOverhead
			rcvmem = max(rcvmem, c.rcvTruesize)
			rcvbuf := min(rcvwin/int(c.advMSS)*rcvmem, sys.Rmem[2])
			if rcvbuf > c.sk.Rcvbuf {
				c.sk.Rcvbuf = rcvbuf
				c.rw.WindowClamp = min(max(c.rw.WindowClamp, uint32(WinFromSpace(rcvbuf, sys.AdvWinScale))), 0xffff<<c.rw.RcvWscale)
			}
		}
		q.space = copied
	}
	q.seq = c.copiedSeq
	q.time = now
}
