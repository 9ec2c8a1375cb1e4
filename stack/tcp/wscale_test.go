package tcp_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/tcp"
)

// offersWscale reports whether a SYN's options hold a window scale, read
// by the stack's own tcp_parse_options.
func offersWscale(seg header.TCP) bool {
	var rx tcp.RxOptions
	sys := tcp.NewSysctl()
	tcp.ParseOptions(seg[20:seg.DataOffset()], true, false, &sys, &rx)
	return rx.WscaleOK
}

// TestWindowScaling (RFC 7323 section 2): with both ends offering wscale 7,
// the window fields of segments after the SYNs are shifted (a receiver
// that grew its buffer advertises more than 65535 bytes in 16 bits) and
// the sender's snd_wnd is the last field << 7; with tcp_window_scaling=0 on
// the client its SYN has no wscale, so the server's SYN-ACK has none (it
// answers only what was offered) and neither side shifts: the fields are
// the window itself, snd_wnd equal to the last field.
func TestWindowScaling(t *testing.T) {
	for _, tc := range []struct {
		name    string
		scaling int
		shift   uint
	}{
		{"on", 1, 7},
		{"off", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t)
			p.a.TCP.Sysctl.WindowScaling = tc.scaling
			cl, srv := p.connected(t, 80)
			data := pattern(4<<20, 3)
			p.transfer(t, p.ka, p.kb, cl, srv, data, 30*time.Second)
			p.n.Clock.RunFor(time.Second)

			syn := tcpFrames(p.pa.Sent)[0]
			synack := tcpFrames(p.pb.Sent)[0]
			if got := offersWscale(syn); got != (tc.scaling != 0) {
				t.Errorf("SYN has wscale %v, want %v", got, tc.scaling != 0)
			}
			if got := offersWscale(synack); got != (tc.scaling != 0) {
				t.Errorf("SYN-ACK has wscale %v, want %v (only if the SYN offered it)", got, tc.scaling != 0)
			}
			// The server's (receiver's) segments after the handshake.
			segs := tcpFrames(p.pb.Sent)[1:]
			maxWin := 0
			for _, s := range segs {
				maxWin = max(maxWin, int(s.WindowSize())<<tc.shift)
			}
			last := segs[len(segs)-1]
			ia, _ := cl.TCPInfo()
			if want := uint32(last.WindowSize()) << tc.shift; ia.SndWnd != want {
				t.Errorf("client snd_wnd %d, want the last window field %d << %d = %d", ia.SndWnd, last.WindowSize(), tc.shift, want)
			}
			if ia.SndWscale != uint8(tc.shift) || ia.RcvWscale != uint8(tc.shift) {
				t.Errorf("client wscale %d,%d, want %d,%d", ia.SndWscale, ia.RcvWscale, tc.shift, tc.shift)
			}
			switch {
			case tc.shift > 0 && maxWin <= 65535:
				t.Errorf("largest advertised window %d: with wscale the grown receive buffer should advertise more than 65535", maxWin)
			case tc.shift == 0 && maxWin > 65535:
				t.Errorf("largest advertised window %d without scaling", maxWin)
			}
			t.Logf("wscale %d: largest window advertised %d bytes, snd_wnd %d", tc.shift, maxWin, ia.SndWnd)
		})
	}
}
