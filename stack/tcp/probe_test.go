package tcp_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/tcp"
)

// TestZeroWindowProbe: B does not read; A fills B's window and, with
// nothing in flight, probes it at the RTO-based base doubling
// (tcp_probe0_when); once B reads, the rest arrives intact.
func TestZeroWindowProbe(t *testing.T) {
	p := newPair(t)
	cl, srv := p.connectedWith(t, 5003, func(l *socket.Socket) {
		if err := l.SetSockOpt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192); err != nil {
			t.Fatal(err)
		}
	})
	data := pattern(200000, 4)
	sent := 0
	p.ka.Spawn(0, "writer", func(tk *kernelmodel.Task) {
		for sent < len(data) {
			n, err := cl.Send(tk, data[sent:], 0)
			if err != nil {
				return
			}
			sent += n
		}
	})
	p.n.Clock.RunFor(100 * time.Millisecond)
	probes0 := p.a.TCP.Ext.TCPWinProbe
	p.n.Clock.RunFor(10 * time.Second)
	probes := p.a.TCP.Ext.TCPWinProbe - probes0
	// RTO ~200 ms: probes at about 0.2, 0.6, 1.4, 3.0, 6.2 s from the
	// first stall: 4 to 6 in 10 s, not one per RTO.
	if probes < 3 || probes > 7 {
		t.Errorf("%d zero-window probes in 10 s", probes)
	}
	if i, _ := cl.TCPInfo(); i.State != tcp.StateEstablished {
		t.Fatalf("client %v while probing", i.State)
	}
	got := make([]byte, 0, len(data))
	p.run(t, p.kb, 200*time.Second, func(tk *kernelmodel.Task) {
		buf := make([]byte, 4096)
		for len(got) < len(data) {
			n, _, err := srv.RecvFrom(tk, buf, 0)
			if err != nil || n == 0 {
				t.Errorf("recv: %d %v", n, err)
				return
			}
			got = append(got, buf[:n]...)
		}
	})
	if string(got) != string(data) {
		t.Error("data differs")
	}
}

func isTCP(f []byte) bool { return len(tcpFrames([]stacktest.Sent{{Frame: f}})) == 1 }

// TestKeepalive: with SO_KEEPALIVE and TCP_KEEPIDLE 10, TCP_KEEPINTVL 2,
// TCP_KEEPCNT 3, an idle connection whose peer went silent is probed at
// 10, 12 and 14 s and reset at 16 s (ETIMEDOUT); one whose peer answers
// is probed once in 15 s and stays up.
func TestKeepalive(t *testing.T) {
	for _, silent := range []bool{false, true} {
		p := newPair(t)
		cl, _ := p.connected(t, 5004)
		for _, o := range [][2]int{{socket.TCP_KEEPIDLE, 10}, {socket.TCP_KEEPINTVL, 2}, {socket.TCP_KEEPCNT, 3}} {
			if err := cl.SetSockOpt(socket.SOL_TCP, o[0], o[1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.SetSockOpt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1); err != nil {
			t.Fatal(err)
		}
		if silent {
			p.pb.Drop = func(f []byte) bool { return isTCP(f) }
		}
		start := p.n.Clock.Now()
		p.n.Clock.RunFor(15 * time.Second)
		want := uint64(1) // at 10 s, answered: the next is due at 20 s
		if silent {
			want = 3
		}
		if k := p.a.TCP.Ext.TCPKeepAlive; k != want {
			t.Errorf("silent=%v: %d keepalive probes by 15 s, want %d", silent, k, want)
		}
		p.n.Clock.RunFor(2 * time.Second)
		e, _ := cl.GetSockOpt(socket.SOL_SOCKET, socket.SO_ERROR)
		if silent && !errors.Is(syscall.Errno(e), syscall.ETIMEDOUT) {
			t.Errorf("silent: SO_ERROR %d at %v, want ETIMEDOUT", e, p.n.Clock.Now()-start)
		}
		if !silent && e != 0 {
			t.Errorf("answered: SO_ERROR %d", e)
		}
	}
}
