package tcp

import "math/bits"

// MaxTCPWindow is MAX_TCP_WINDOW (include/net/tcp.h).
const (
	// MaxTCPWindow is the largest unscaled window offered to a peer
	// that may take the field as signed.
	MaxTCPWindow = 32767
)

// WinFromSpace is tcp_win_from_space with net.ipv4.tcp_adv_win_scale
// (Linux 6.1, default 1): the part of a buffer of space bytes offered as
// window, the rest reserved for the skb overhead — half with the
// default.
func WinFromSpace(space int, advWinScale int) int {
	if advWinScale <= 0 {
		return space >> -advWinScale
	}
	return space - space>>advWinScale
}

// InitialWindow is what tcp_select_initial_window chooses for the SYN or
// SYN-ACK.
type InitialWindow struct {
	RcvWnd      uint32 // rcv_wnd: the window offered first (unscaled)
	WindowClamp uint32 // window_clamp: the most ever offered
	RcvWscale   uint8  // rcv_wscale: the shift announced
}

// SelectInitialWindow is tcp_select_initial_window (Linux 6.1): from the
// receive space (tcp_full_space: WinFromSpace of the receive buffer) and
// the MSS, the first window, a multiple of the MSS below 64 KiB (below
// 32 KiB with net.ipv4.tcp_workaround_signed_windows), and — when the
// peer may scale (wscaleOK) — the shift for the largest buffer the
// connection could grow to: max(space, tcp_rmem[2], net.core.rmem_max),
// ilog2 of it minus 15, in [0, 14]. With Linux's defaults (tcp_rmem
// 4096 131072 6291456, MSS 1460) that is a window of 64240 and wscale 7.
// windowClamp 0 means none (65535 << 14); initRcvWnd 0 means no route
// limit (RTAX_INITRWND).
func SelectInitialWindow(space int, mss, windowClamp uint32, wscaleOK bool, rmemMax, tcpRmemMax int, workaroundSigned bool, initRcvWnd uint32) InitialWindow {
	sp := uint32(max(space, 0))
	if windowClamp == 0 {
		windowClamp = 0xffff << TCPMaxWscale
	}
	sp = min(windowClamp, sp)
	if sp > mss {
		sp -= sp % mss
	}
	w := InitialWindow{WindowClamp: windowClamp}
	if workaroundSigned {
		w.RcvWnd = min(sp, MaxTCPWindow)
	} else {
		w.RcvWnd = min(sp, 0xffff)
	}
	if initRcvWnd != 0 {
		w.RcvWnd = min(w.RcvWnd, initRcvWnd*mss)
	}
	if wscaleOK {
		s := max(sp, uint32(max(tcpRmemMax, 0)), uint32(max(rmemMax, 0)))
		s = min(s, windowClamp)
		w.RcvWscale = uint8(min(max(bits.Len32(s)-1-15, 0), TCPMaxWscale))
	}
	w.WindowClamp = min(uint32(0xffff)<<w.RcvWscale, windowClamp)
	return w
}
