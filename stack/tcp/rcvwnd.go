package tcp

// RcvWindow is the receive window state of a connection (tcp_sock's
// rcv_wnd, rcv_wup, rcv_ssthresh, window_clamp, rx_opt.rcv_wscale and
// icsk_ack.rcv_mss): what SelectWindow advertises from.
type RcvWindow struct {
	RcvWnd      uint32 // rcv_wnd: the window last advertised (scaled up)
	RcvWup      uint32 // rcv_wup: rcv_nxt when it was
	RcvSsthresh uint32 // rcv_ssthresh: the window's current ceiling, grown by tcp_grow_window
	WindowClamp uint32 // window_clamp: the most ever advertised
	RcvWscale   uint8  // rcv_wscale: our shift
	RcvMSS      uint32 // icsk_ack.rcv_mss: the peer's segment size as seen
}

func alignUp(v uint32, shift uint8) uint32 {
	m := uint32(1)<<shift - 1
	return (v + m) &^ m
}

// selectWindow is __tcp_select_window: the window the receive buffer
// allows now. free is tcp_space (WinFromSpace of what the buffer has
// left), allowed tcp_full_space (WinFromSpace of the whole buffer).
// Below half the buffer free, quick ACKs stop (resetQuick) and a window
// below 1/16 of the buffer or below one MSS goes to 0 (receiver-side SWS
// avoidance, RFC 9293 section 3.8.6.2.2). The window is at most
// rcv_ssthresh; with scaling it is rounded up to a unit of the scale,
// without it kept or rounded down to whole MSS.
func (w *RcvWindow) selectWindow(free, allowed int) (window uint32, resetQuick bool) {
	mss := int(w.RcvMSS)
	full := min(int(w.WindowClamp), allowed)
	if mss > full {
		mss = full
		if mss <= 0 {
			return 0, false
		}
	}
	if free < full>>1 {
		resetQuick = true
		free = free &^ (1<<w.RcvWscale - 1)
		if free < allowed>>4 || free < mss {
			return 0, true
		}
	}
	free = min(free, int(w.RcvSsthresh))
	if w.RcvWscale != 0 {
		return alignUp(uint32(free), w.RcvWscale), resetQuick
	}
	win := int(w.RcvWnd)
	if win <= free-mss || win > free {
		win = free - free%mss
	} else if mss == full && free > win+full>>1 {
		win = free
	}
	return uint32(win), resetQuick
}

// SelectWindow is tcp_select_window: the window field of the next
// segment, scaled down by rcv_wscale. The offered window never shrinks
// (RFC 9293 section 3.8.6.2.1: the right edge stays, rounded up to the
// scale), rcv_wnd and rcv_wup move to it, and the TCP*ZeroWindowAdv
// counters note changes to and from 0. resetQuick is
// __tcp_select_window's end of quick-ACK mode under memory pressure.
func (w *RcvWindow) SelectWindow(free, allowed int, rcvNxt uint32, sys *Sysctl, mib *TcpExtMIB) (field uint16, resetQuick bool) {
	old := w.RcvWnd
	cur := ReceiveWindow(w.RcvWup, w.RcvWnd, rcvNxt)
	nw, resetQuick := w.selectWindow(free, allowed)
	if nw < cur {
		if nw == 0 && mib != nil {
			mib.TCPWantZeroWindowAdv++
		}
		nw = alignUp(cur, w.RcvWscale)
	}
	w.RcvWnd = nw
	w.RcvWup = rcvNxt
	if w.RcvWscale == 0 && sys.WorkaroundSignedWindows != 0 {
		nw = min(nw, MaxTCPWindow)
	} else {
		nw = min(nw, 0xffff<<w.RcvWscale)
	}
	nw >>= w.RcvWscale
	if mib != nil {
		if nw == 0 && old != 0 {
			mib.TCPToZeroWindowAdv++
		} else if nw != 0 && old == 0 {
			mib.TCPFromZeroWindowAdv++
		}
	}
	return uint16(nw), resetQuick
}

// GrowWindow is tcp_grow_window (without memory pressure): data of len
// bytes in a buffer of truesize bytes arrived; rcv_ssthresh, the
// window's ceiling, grows by at least twice the data (2*advmss when the
// buffer's overhead is small, 2*rcv_mss while the ceiling is below what
// such skbs would need of tcp_rmem[2]) up to the room the buffer has
// (space: tcp_space). It reports whether it grew (Linux then sets a
// quick ACK).
func (w *RcvWindow) GrowWindow(len, truesize int, advMSS uint32, space int, sys *Sysctl) bool {
	room := min(int(w.WindowClamp), space) - int(w.RcvSsthresh)
	if room <= 0 {
		return false
	}
	incr := 0
	if WinFromSpace(truesize, sys.AdvWinScale) <= len {
		incr = 2 * int(advMSS)
	} else {
		ts := WinFromSpace(truesize, sys.AdvWinScale) >> 1
		win := WinFromSpace(sys.Rmem[2], sys.AdvWinScale) >> 1
		for int(w.RcvSsthresh) <= win {
			if ts <= len {
				incr = 2 * int(w.RcvMSS)
				break
			}
			ts >>= 1
			win >>= 1
		}
	}
	if incr == 0 {
		return false
	}
	incr = max(incr, 2*len)
	w.RcvSsthresh += uint32(min(room, incr))
	return true
}
