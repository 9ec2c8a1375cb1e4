package tcp_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/tcp"
)

// TestDataRTOBackoff (RFC 6298 sections 2 and 5, RFC 8985 section 7,
// Linux's tcp_retransmit_timer): a data segment whose ACKs never come is
// sent again first by the tail loss probe (PTO 2 srtt + 200 ms for one
// segment in flight), then by the RTO armed after the probe (srtt + max(4
// rttvar, 200 ms): 201 ms on this link), then each time after double the
// last wait, until 120 s (TCP_RTO_MAX) caps it; once
// tcp_retries2 (15) is spent in time — tcp_model_timeout(15, 200 ms) =
// 924.6 s since the first transmission — the connection dies with
// ETIMEDOUT, which a blocked reader gets.
func TestDataRTOBackoff(t *testing.T) {
	p := newPair(t)
	cl, _ := p.connected(t, 80)
	// No TCP segment of the server reaches the client (ARP still does:
	// after tcp_retries1 the client's neighbour entry is confirmed again).
	p.pb.Drop = func(f []byte) bool { return len(f) > 14+9 && f[12] == 8 && f[13] == 0 && f[14+9] == 6 }
	first := len(tcpFrames(p.pa.Sent))
	var rerr error
	rdone := false
	p.ka.Spawn(0, "reader", func(tk *kernelmodel.Task) {
		_, _, rerr = cl.RecvFrom(tk, make([]byte, 100), 0)
		rdone = true
	})
	p.run(t, p.ka, time.Second, func(tk *kernelmodel.Task) {
		if _, err := cl.Send(tk, pattern(1000, 1), 0); err != nil {
			t.Errorf("send: %v", err)
		}
	})
	p.n.Clock.RunWhile(func() bool { return !rdone }, p.n.Clock.Now()+1100*time.Second)
	if !rdone || !errors.Is(rerr, syscall.ETIMEDOUT) {
		t.Fatalf("reader: done %v err %v, want ETIMEDOUT", rdone, rerr)
	}
	died := p.n.Clock.Now()

	// The times the 1000-byte segment went out.
	var at []time.Duration
	var seq uint32
	for i, f := range p.pa.Sent {
		segs := tcpFrames(p.pa.Sent[i : i+1])
		if len(segs) == 0 || i < first {
			continue
		}
		s := segs[0]
		if len(s)-s.DataOffset() != 1000 {
			continue
		}
		if len(at) == 0 {
			seq = s.SequenceNumber()
		} else if s.SequenceNumber() != seq {
			t.Errorf("retransmission %d has seq %d, want %d", len(at), s.SequenceNumber(), seq)
		}
		at = append(at, f.At)
	}
	if len(at) < 2 {
		t.Fatalf("%d transmissions of the segment", len(at))
	}
	if len(at) < 3 {
		t.Fatalf("%d transmissions of the segment", len(at))
	}
	pto, wait := at[1]-at[0], at[2]-at[1]
	if pto < tcp.TCPRtoMin || pto > tcp.TCPRtoMin+5*time.Millisecond {
		t.Errorf("loss probe after %v, want 200 ms + 2 srtt", pto)
	}
	if wait < tcp.TCPRtoMin || wait > tcp.TCPRtoMin+5*time.Millisecond {
		t.Errorf("first RTO %v after the probe, want 200 ms + srtt", wait)
	}
	for i := 3; i < len(at); i++ {
		want := min(2*wait, 120*time.Second)
		got := at[i] - at[i-1]
		if d := got - want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("wait before retransmission %d: %v, want %v (double %v, at most 120 s)", i, got, want, wait)
		}
		wait = got
	}
	if wait != 120*time.Second {
		t.Errorf("last wait %v: the backoff should have reached TCP_RTO_MAX", wait)
	}
	limit := tcp.ModelTimeout(15, tcp.TCPRtoMin)
	if alive := died - at[0]; alive < limit || alive > limit+120*time.Second {
		t.Errorf("ETIMEDOUT %v after the first transmission, want from %v to one RTO_MAX later", alive, limit)
	}
	if e, _ := cl.GetSockOpt(socket.SOL_SOCKET, socket.SO_ERROR); e != 0 && e != int(syscall.ETIMEDOUT) {
		t.Errorf("SO_ERROR %d", e)
	}
	// Every transmission after the first is a retransmission; all but the
	// probe are timeouts, tcp_retries2 of them.
	if p.a.TCP.MIB.RetransSegs != uint64(len(at)-1) || p.a.TCP.Ext.TCPTimeouts != 15 || len(at) != 17 {
		t.Errorf("%d transmissions, RetransSegs %d, TCPTimeouts %d: want 17, 16, 15 (the probe and tcp_retries2 timeouts)", len(at), p.a.TCP.MIB.RetransSegs, p.a.TCP.Ext.TCPTimeouts)
	}
	if p.a.TCP.Ext.TCPLossProbes != 1 {
		t.Errorf("TCPLossProbes %d, want 1", p.a.TCP.Ext.TCPLossProbes)
	}
	t.Logf("%d transmissions, probe after %v, first RTO %v, ETIMEDOUT after %v", len(at), pto, at[2]-at[1], died-at[0])
}
