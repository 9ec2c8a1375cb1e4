package tcp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/tcp"
)

// finAckArrival is when the first segment from the peer that ACKs seq
// fin+1 (our FIN) reached port a's side.
func finAckArrival(p *pair, finSeq uint32) (time.Duration, bool) {
	for _, f := range p.pa.Received {
		segs := tcpFrames([]stacktest.Sent{f})
		if len(segs) == 1 && segs[0].Flags()&header.TCPFlagACK != 0 && !tcp.Before(segs[0].AckNumber(), finSeq+1) {
			return f.At, true
		}
	}
	return 0, false
}

// ourFin is the sequence number of the first FIN a sent, and when.
func ourFin(p *pair) (uint32, time.Duration, bool) {
	for _, f := range p.pa.Sent {
		segs := tcpFrames([]stacktest.Sent{f})
		if len(segs) == 1 && segs[0].Flags()&header.TCPFlagFIN != 0 {
			th := segs[0]
			return th.SequenceNumber() + uint32(len(th)-th.DataOffset()), f.At, true
		}
	}
	return 0, 0, false
}

// TestLingerClose: SO_LINGER {1, 2}: close(2) sleeps until the FIN is
// ACKed — it returns at the moment that ACK arrives, with the connection
// in FIN_WAIT2 — and, against a peer that ACKs nothing, returns after
// exactly the 2 s with the connection still in FIN_WAIT1, not reset,
// retransmitting as an orphan (Linux 6.1's tcp_close: no RST on
// the timeout). O_NONBLOCK does not shorten the wait (inet_release looks
// at SOCK_LINGER only).
func TestLingerClose(t *testing.T) {
	for _, silent := range []bool{false, true} {
		p := newPair(t)
		cl, srv := p.connected(t, 6000)
		ca := p.a.TCP.Lookup(netip.AddrPortFrom(addrB, 6000), mustName(t, cl))
		if err := cl.SetLinger(true, 2); err != nil {
			t.Fatal(err)
		}
		data := pattern(64<<10, 9)
		if silent {
			data = data[:8<<10]
		}
		if silent {
			p.pb.Drop = func(f []byte) bool { return isTCP(f) }
		} else {
			p.kb.Spawn(0, "reader", func(tk *kernelmodel.Task) {
				buf := make([]byte, 8192)
				for {
					n, _, err := srv.RecvFrom(tk, buf, 0)
					if err != nil || n == 0 {
						return
					}
				}
			})
		}
		var start, end time.Duration
		var stateAtReturn tcp.State
		p.run(t, p.ka, 10*time.Second, func(tk *kernelmodel.Task) {
			if n, err := cl.Send(tk, data, 0); n != len(data) {
				t.Errorf("send: %d of %d: %v", n, len(data), err)
			}
			cl.SetNonblock(true)
			start = p.n.Clock.Now()
			if err := cl.CloseTask(tk); err != nil {
				t.Errorf("close: %v", err)
			}
			end = p.n.Clock.Now()
			stateAtReturn = ca.State()
		})
		finSeq, _, ok := ourFin(p)
		if !ok {
			t.Fatalf("silent=%v: no FIN sent", silent)
		}
		if !silent {
			at, ok := finAckArrival(p, finSeq)
			if !ok {
				t.Fatal("the FIN was not ACKed")
			}
			if end < at || end-at > time.Millisecond {
				t.Errorf("close returned at %v, the FIN's ACK came at %v", end, at)
			}
			if end-start >= 2*time.Second || end == start {
				t.Errorf("close took %v", end-start)
			}
			if stateAtReturn != tcp.StateFinWait2 {
				t.Errorf("state %v when close returned, want FIN-WAIT-2", stateAtReturn)
			}
			continue
		}
		// The linger timer's expiry plus the model's cost of waking the
		// task (tens of ns).
		if d := end - start - 2*time.Second; d < 0 || d > time.Microsecond {
			t.Errorf("silent peer: close took %v, want the 2 s linger", end-start)
		}
		if stateAtReturn != tcp.StateFinWait1 {
			t.Errorf("silent peer: state %v when close returned, want FIN-WAIT-1", stateAtReturn)
		}
		if !ca.Sock().Dead {
			t.Error("socket not orphaned after close")
		}
		p.n.Clock.RunFor(5 * time.Second)
		retrans := 0
		for _, f := range p.pa.Sent {
			for _, th := range tcpFrames([]stacktest.Sent{f}) {
				if th.Flags()&header.TCPFlagRST != 0 {
					t.Errorf("RST sent at %v", f.At)
				}
				if f.At > end {
					retrans++
				}
			}
		}
		if retrans == 0 {
			t.Error("the orphan retransmitted nothing after close returned")
		}
		if ca.State() != tcp.StateFinWait1 {
			t.Errorf("orphan %v 5 s after close, want FIN-WAIT-1", ca.State())
		}
	}
}
