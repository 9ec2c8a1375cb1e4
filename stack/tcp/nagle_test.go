package tcp_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/socket"
)

// dataSegments counts A's segments with payload.
func (p *pair) dataSegments() int {
	n := 0
	for _, s := range tcpFrames(p.pa.Sent) {
		if len(s) > s.DataOffset() {
			n++
		}
	}
	return n
}

// TestNagle: on a 10 ms RTT, ten 10-byte writes in a row go as one small segment and
// then the rest once it is ACKed (Nagle with Minshall's check); with
// TCP_NODELAY each write is a segment; with TCP_CORK none goes until
// the cork is pulled, then one.
func TestNagle(t *testing.T) {
	for _, c := range []struct {
		name      string
		opt, val  int
		wantSegs  int
		uncorkNow bool
	}{
		{"nagle", 0, 0, 2, false},
		{"nodelay", socket.TCP_NODELAY, 1, 10, false},
		{"cork", socket.TCP_CORK, 1, 1, true},
	} {
		p := newPair(t)
		p.n.Delay = 5 * time.Millisecond // writes far closer than the RTT
		cl, srv := p.connected(t, 5011)
		if c.opt != 0 {
			if err := cl.SetSockOpt(socket.SOL_TCP, c.opt, c.val); err != nil {
				t.Fatal(err)
			}
		}
		before := p.dataSegments()
		p.run(t, p.ka, time.Second, func(tk *kernelmodel.Task) {
			for i := 0; i < 10; i++ {
				if _, err := cl.Send(tk, []byte("0123456789"), 0); err != nil {
					t.Error(err)
				}
			}
		})
		if c.uncorkNow {
			p.n.Clock.RunFor(100 * time.Millisecond)
			if n := p.dataSegments() - before; n != 0 {
				t.Errorf("cork: %d segments before uncorking", n)
			}
			cl.SetSockOpt(socket.SOL_TCP, socket.TCP_CORK, 0)
		}
		p.n.Clock.RunFor(100 * time.Millisecond)
		if n := p.dataSegments() - before; n != c.wantSegs {
			t.Errorf("%s: %d data segments for ten writes, want %d", c.name, n, c.wantSegs)
		}
		if q, _ := srv.Ioctl(socket.SIOCINQ); q != 100 {
			t.Errorf("%s: SIOCINQ %d, want 100", c.name, q)
		}
	}
}
