package ping_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/twostack"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/testbed"
)

// TestPingSocket: socket(SOCK_DGRAM, IPPROTO_ICMP) is EACCES with
// ping_group_range's default; opened, it pings B: the stack sets the
// identifier (the socket's port, 1 for the first autobind) and the
// checksum, the replies come back without their IP header, and nothing
// is dropped as NO_SOCKET. A request that is not an echo, or shorter than
// its header, is EINVAL.
func TestPingSocket(t *testing.T) {
	p, err := twostack.New(testbed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.A.Socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); !errors.Is(err, syscall.EACCES) {
		t.Fatalf("ping socket with ping_group_range 1 0: %v", err)
	}
	p.A.Ping.SetGroupRange(0, 2147483647)
	so, err := p.A.Socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.AddrPortFrom(twostack.B, 0)
	data := []byte("abcdefghijklmnopqrstuvwxyz")
	err = p.TB.RunTask(p.TB.A, "ping", 2*time.Second, func(tk *kernelmodel.Task) error {
		so.SetSockOpt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 100000)
		buf := make([]byte, 200)
		for seq := uint16(1); seq <= 5; seq++ {
			req := make([]byte, 8+len(data))
			req[0] = header.ICMPv4Echo
			binary.BigEndian.PutUint16(req[4:], 0x9999) // replaced by the stack
			binary.BigEndian.PutUint16(req[6:], seq)
			copy(req[8:], data)
			if _, err := so.SendTo(tk, req, 0, dst); err != nil {
				return err
			}
			n, from, err := so.RecvFrom(tk, buf, 0)
			if err != nil {
				return err
			}
			m := buf[:n]
			if from != dst || n != 8+len(data) || m[0] != header.ICMPv4EchoReply || binary.BigEndian.Uint16(m[4:]) != 1 ||
				binary.BigEndian.Uint16(m[6:]) != seq || !bytes.Equal(m[8:], data) || checksum.Checksum(m, 0) != 0xffff {
				t.Errorf("reply %d from %v: %x", seq, from, m)
			}
		}
		if _, err := so.SendTo(tk, []byte{header.ICMPv4EchoReply, 0, 0, 0, 0, 0, 0, 0}, 0, dst); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("an echo reply sent: %v", err)
		}
		if _, err := so.SendTo(tk, []byte{header.ICMPv4Echo, 0, 0}, 0, dst); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("3 bytes sent: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := so.GetSockName(); a.Port() != 1 {
		t.Errorf("identifier %d, want 1", a.Port())
	}
	if n := p.TB.A.Kernel.Drops.Reason[kernelmodel.SKB_DROP_REASON_NO_SOCKET]; n != 0 || p.A.IPv4.SNMP.Icmp.OutType[8] != 5 || p.B.IPv4.SNMP.Icmp.InType[8] != 5 {
		t.Errorf("NO_SOCKET drops %d, A sent %d echoes, B got %d", n, p.A.IPv4.SNMP.Icmp.OutType[8], p.B.IPv4.SNMP.Icmp.InType[8])
	}
	o, _ := p.A.Socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
	if err := o.Bind(netip.AddrPortFrom(twostack.A, 1)); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("bind to identifier 1 in use: %v", err)
	}
	so.Close()
	o.Close()
	if err := p.Settle(); err != nil {
		t.Fatal(err)
	}
}
