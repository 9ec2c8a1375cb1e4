package udp_test

import (
	"bytes"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/stack/internal/twostack"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/testbed"
)

func udpSocket(t *testing.T, s *inet.Stack) *socket.Socket {
	t.Helper()
	so, err := s.Socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	return so
}

// echoServer is an RFC 862 echo server on B's port in a task: each
// datagram back to its sender, until the socket is closed.
func echoServer(p *twostack.Pair, so *socket.Socket) {
	p.TB.B.Kernel.Spawn(0, "echo", func(t *kernelmodel.Task) {
		buf := make([]byte, 65536)
		for {
			n, from, err := so.RecvFrom(t, buf, 0)
			if err != nil {
				return
			}
			so.SendTo(t, buf[:n], 0, from)
		}
	})
}

// TestUDPEcho: A sends datagrams of several sizes (fragmented above the
// MTU) to an echo server on B and gets each back intact, from B's port;
// the counters of both sides add up and nothing is left.
func TestUDPEcho(t *testing.T) {
	p, err := twostack.New(testbed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := udpSocket(t, p.B)
	if err := srv.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 7)); err != nil {
		t.Fatal(err)
	}
	echoServer(p, srv)
	cl := udpSocket(t, p.A)
	sizes := []int{0, 1, 18, 1472, 1473, 4000, 65507}
	err = p.TB.RunTask(p.TB.A, "client", 5*time.Second, func(tk *kernelmodel.Task) error {
		if err := cl.SetSockOpt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 100000); err != nil {
			return err
		}
		buf := make([]byte, 70000)
		for i, n := range sizes {
			msg := make([]byte, n)
			for j := range msg {
				msg[j] = byte(i*7 + j*13)
			}
			if m, err := cl.SendTo(tk, msg, 0, netip.AddrPortFrom(twostack.B, 7)); err != nil || m != n {
				t.Errorf("sendto %d bytes: %d, %v", n, m, err)
				continue
			}
			m, from, err := cl.RecvFrom(tk, buf, 0)
			if err != nil {
				t.Errorf("recvfrom after %d bytes: %v", n, err)
				continue
			}
			if from != netip.AddrPortFrom(twostack.B, 7) || !bytes.Equal(buf[:m], msg) {
				t.Errorf("echo of %d bytes: %d bytes from %v", n, m, from)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := p.A.UDP.MIB, p.B.UDP.MIB; a.OutDatagrams != uint64(len(sizes)) || a.InDatagrams != uint64(len(sizes)) ||
		b.InDatagrams != uint64(len(sizes)) || b.OutDatagrams != uint64(len(sizes)) || a.InErrors+b.InErrors+a.NoPorts+b.NoPorts != 0 {
		t.Errorf("Udp counters: A %+v, B %+v", a, b)
	}
	if f := p.A.IPv4.SNMP.Ip.FragCreates; f != 2+3+45 {
		t.Errorf("A made %d fragments, want 50 (2, 3 and 45 for 1473, 4000 and 65507 bytes)", f)
	}
	srv.Close()
	cl.Close()
	if err := p.Settle(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.RecvFrom(nil, nil, 0); !errors.Is(err, syscall.EBADF) {
		t.Errorf("recvfrom after close: %v", err)
	}
}
