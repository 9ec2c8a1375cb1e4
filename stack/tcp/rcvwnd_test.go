package tcp

import "testing"

// newRcvWindow is a connection's receive window after a handshake with
// Linux's defaults: the initial window of 64240 and wscale 7.
func newRcvWindow(sys *Sysctl) RcvWindow {
	iw := SelectInitialWindow(WinFromSpace(sys.Rmem[1], sys.AdvWinScale), 1460, 0, true, 212992, sys.Rmem[2], false, 0)
	return RcvWindow{RcvWnd: iw.RcvWnd, RcvSsthresh: iw.RcvWnd, WindowClamp: iw.WindowClamp, RcvWscale: iw.RcvWscale, RcvMSS: 1460}
}

// TestSelectWindowLinux: with the default 128 KiB buffer (64 KiB of
// window) and rcv_ssthresh 64240, the window field is 502 (64256 >> 7):
// the "win 502" of a tcpdump of Linux.
func TestSelectWindowLinux(t *testing.T) {
	sys := NewSysctl()
	w := newRcvWindow(&sys)
	full := WinFromSpace(sys.Rmem[1], sys.AdvWinScale)
	f, _ := w.SelectWindow(full, full, 1000, &sys, nil)
	if f != 502 || w.RcvWnd != 64256 || w.RcvWup != 1000 {
		t.Fatalf("window field %d rcv_wnd %d rcv_wup %d, want 502, 64256, 1000", f, w.RcvWnd, w.RcvWup)
	}
}

func TestSelectWindow(t *testing.T) {
	sys := NewSysctl()
	const full = 65536
	for _, c := range []struct {
		name       string
		w          RcvWindow
		free       int
		rcvNxt     uint32
		field      uint16
		rcvWnd     uint32
		resetQuick bool
		toZero     uint64
		wantZero   uint64
	}{
		{"ceiling rcv_ssthresh", RcvWindow{RcvWnd: 64256, RcvSsthresh: 30000, WindowClamp: 0xffff << 7, RcvWscale: 7, RcvMSS: 1460, RcvWup: 0},
			full, 64256, 235, 30080, false, 0, 0},
		// The right edge never moves left: 64256 offered at 0, data up
		// to 10000 came, the buffer is full: keep 54256, rounded to 128.
		{"never shrink", RcvWindow{RcvWnd: 64256, RcvSsthresh: 64240, WindowClamp: 0xffff << 7, RcvWscale: 7, RcvMSS: 1460},
			20000, 10000, 424, 54272, true, 0, 0},
		{"below 1/16 of the buffer: zero window", RcvWindow{RcvWnd: 0, RcvSsthresh: 64240, WindowClamp: 0xffff << 7, RcvWscale: 7, RcvMSS: 1460, RcvWup: 5000},
			3000, 5000, 0, 0, true, 0, 0},
		{"to zero counts", RcvWindow{RcvWnd: 1000, RcvSsthresh: 64240, WindowClamp: 0xffff << 7, RcvWscale: 7, RcvMSS: 1460, RcvWup: 4000},
			1000, 5000, 0, 0, true, 1, 0},
		// 1000 of the offer left but the buffer wants a zero window:
		// the edge stays (1024 after rounding), TCPWantZeroWindowAdv.
		{"want zero, the edge stays", RcvWindow{RcvWnd: 2000, RcvSsthresh: 64240, WindowClamp: 0xffff << 7, RcvWscale: 7, RcvMSS: 1460, RcvWup: 4000},
			1000, 5000, 8, 1024, true, 0, 1},
		{"no scaling: multiples of the MSS", RcvWindow{RcvWnd: 20000, RcvSsthresh: 64240, WindowClamp: 0xffff, RcvMSS: 1460, RcvWup: 1000},
			full, 1000, 64240, 64240, false, 0, 0},
		{"no scaling: within one MSS, kept", RcvWindow{RcvWnd: 63000, RcvSsthresh: 64240, WindowClamp: 0xffff, RcvMSS: 1460, RcvWup: 1000},
			full, 1000, 63000, 63000, false, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mib TcpExtMIB
			w := c.w
			f, rq := w.SelectWindow(c.free, full, c.rcvNxt, &sys, &mib)
			if f != c.field || w.RcvWnd != c.rcvWnd || rq != c.resetQuick {
				t.Errorf("field %d rcv_wnd %d reset quick %v, want %d %d %v", f, w.RcvWnd, rq, c.field, c.rcvWnd, c.resetQuick)
			}
			if mib.TCPToZeroWindowAdv != c.toZero || mib.TCPWantZeroWindowAdv != c.wantZero {
				t.Errorf("TCPToZeroWindowAdv %d TCPWantZeroWindowAdv %d", mib.TCPToZeroWindowAdv, mib.TCPWantZeroWindowAdv)
			}
		})
	}
	// Back from zero.
	var mib TcpExtMIB
	w := RcvWindow{RcvWnd: 0, RcvSsthresh: 64240, WindowClamp: 0xffff << 7, RcvWscale: 7, RcvMSS: 1460, RcvWup: 5000}
	if f, _ := w.SelectWindow(full, full, 5000, &sys, &mib); f != 502 || mib.TCPFromZeroWindowAdv != 1 {
		t.Errorf("reopened to %d, TCPFromZeroWindowAdv %d", f, mib.TCPFromZeroWindowAdv)
	}
}

func TestGrowWindow(t *testing.T) {
	sys := NewSysctl()
	w := RcvWindow{RcvSsthresh: 20000, WindowClamp: 0xffff << 7, RcvMSS: 1460}
	// A 1448-byte segment in a 2304-byte buffer (truesize of a 2 KiB
	// skb): its window share (1152) is below its length: +2*advmss,
	// at least 2*len.
	if !w.GrowWindow(1448, 2304, 1448, 65536, &sys) || w.RcvSsthresh != 20000+2896 {
		t.Errorf("rcv_ssthresh %d, want +2896", w.RcvSsthresh)
	}
	// A small segment in a big buffer (bad overhead) grows only while
	// rcv_ssthresh is low: 100 bytes in 4 KiB: 1024>>k <= 100 at k=4,
	// window 3 MiB>>1>>4 = 98304 >= rcv_ssthresh: +2*rcv_mss.
	w.RcvSsthresh = 20000
	if !w.GrowWindow(100, 4096, 1448, 65536, &sys) || w.RcvSsthresh != 22920 {
		t.Errorf("rcv_ssthresh %d, want +2920", w.RcvSsthresh)
	}
	// No room left.
	w.RcvSsthresh = 65536
	if w.GrowWindow(1448, 2304, 1448, 65536, &sys) {
		t.Error("grew past the buffer")
	}
	// The room caps the growth.
	w.RcvSsthresh = 65000
	if !w.GrowWindow(1448, 2304, 1448, 65536, &sys) || w.RcvSsthresh != 65536 {
		t.Errorf("rcv_ssthresh %d, want capped at 65536", w.RcvSsthresh)
	}
}
