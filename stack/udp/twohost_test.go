package udp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/stack/internal/twostack"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/udp"
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

// TestPortUnreachable: a datagram to a port of B with no socket makes B
// answer port unreachable (NoPorts); A's connected socket gets
// ECONNREFUSED on its next call, once (sock_error clears it); an
// unconnected socket is not told, unless it set IP_RECVERR.
func TestPortUnreachable(t *testing.T) {
	p, err := twostack.New(testbed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	conn := udpSocket(t, p.A)
	uncon := udpSocket(t, p.A)
	recverr := udpSocket(t, p.A)
	recverr.SetSockOpt(socket.SOL_IP, socket.IP_RECVERR, 1)
	dst := netip.AddrPortFrom(twostack.B, 9)
	err = p.TB.RunTask(p.TB.A, "client", time.Second, func(tk *kernelmodel.Task) error {
		if err := conn.Connect(tk, dst); err != nil {
			return err
		}
		if _, err := conn.Send(tk, []byte("ping"), 0); err != nil {
			return err
		}
		if _, err := uncon.SendTo(tk, []byte("ping"), 0, dst); err != nil {
			return err
		}
		if _, err := recverr.SendTo(tk, []byte("ping"), 0, dst); err != nil {
			return err
		}
		conn.SetSockOpt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 50000)
		if _, _, err := conn.RecvFrom(tk, make([]byte, 10), 0); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("connected recvfrom: %v, want ECONNREFUSED", err)
		}
		if _, _, err := conn.RecvFrom(tk, make([]byte, 10), socket.MSG_DONTWAIT); !errors.Is(err, syscall.EAGAIN) {
			t.Errorf("second recvfrom: %v, want EAGAIN (the error was reported)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p.TB.Clock.RunFor(10 * time.Millisecond)
	if p.B.UDP.MIB.NoPorts != 3 || p.B.IPv4.SNMP.Icmp.OutType[3] != 3 || p.A.IPv4.SNMP.Icmp.InType[3] != 3 {
		t.Errorf("NoPorts %d, B sent %d unreachables, A got %d", p.B.UDP.MIB.NoPorts, p.B.IPv4.SNMP.Icmp.OutType[3], p.A.IPv4.SNMP.Icmp.InType[3])
	}
	if v, _ := uncon.GetSockOpt(socket.SOL_SOCKET, socket.SO_ERROR); v != 0 {
		t.Errorf("unconnected socket's SO_ERROR %d", v)
	}
	if uncon.Poll()&socket.EPOLLERR != 0 || recverr.Poll()&socket.EPOLLERR == 0 {
		t.Errorf("poll: unconnected %#x, IP_RECVERR %#x", uncon.Poll(), recverr.Poll())
	}
	if v, _ := recverr.GetSockOpt(socket.SOL_SOCKET, socket.SO_ERROR); v != int(syscall.ECONNREFUSED) {
		t.Errorf("IP_RECVERR socket's SO_ERROR %d", v)
	}
	if _, err := recverr.SendTo(nil, []byte("x"), 0, dst); err != nil {
		t.Errorf("send after SO_ERROR cleared: %v", err)
	}
	for _, so := range []*socket.Socket{conn, uncon, recverr} {
		so.Close()
	}
	p.TB.Clock.RunFor(10 * time.Millisecond)
	if err := p.Settle(); err != nil {
		t.Fatal(err)
	}
}

// TestUDPMillion: A sends a million 64-byte datagrams, each carrying its
// sequence number, to B, whose reader is slower than the wire (it spends
// 1.5 µs per datagram), so B's receive buffer fills. Every datagram A
// sent is either received, in order and intact, or counted as a receive
// buffer drop: sent = received + RcvbufErrors, the missing sequence
// numbers are exactly the drops (sk_drops, kfree_skb SOCKET_RCVBUFF), and
// the queue never held more than sk_rcvbuf plus one skb.
func TestUDPMillion(t *testing.T) {
	const total = 1_000_000
	p, err := twostack.New(testbed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rx := udpSocket(t, p.B)
	if err := rx.Bind(netip.AddrPortFrom(twostack.B, 9000)); err != nil {
		t.Fatal(err)
	}
	got := make([]bool, total)
	received, outOfOrder, bad := 0, 0, 0
	maxRmem := 0
	last := -1
	done := false
	p.TB.B.Kernel.Spawn(1, "reader", func(tk *kernelmodel.Task) {
		buf := make([]byte, 128)
		rx.SetSockOpt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 20000)
		for {
			maxRmem = max(maxRmem, rx.Sk.RmemAlloc)
			n, _, err := rx.RecvFrom(tk, buf, 0)
			if err != nil {
				if done {
					return
				}
				continue
			}
			tk.Charge(1500 * time.Nanosecond)
			seq := int(binary.BigEndian.Uint64(buf))
			if n != 64 || seq < 0 || seq >= total || got[seq] || buf[63] != byte(seq) {
				bad++
				continue
			}
			got[seq] = true
			received++
			if seq < last {
				outOfOrder++
			}
			last = seq
		}
	})
	tx := udpSocket(t, p.A)
	sent := 0
	err = p.TB.RunTask(p.TB.A, "sender", 60*time.Second, func(tk *kernelmodel.Task) error {
		if err := tx.Connect(tk, netip.AddrPortFrom(twostack.B, 9000)); err != nil {
			return err
		}
		msg := make([]byte, 64)
		for seq := 0; seq < total; seq++ {
			if seq == 1 {
				// The first datagram resolved B (ARP); the rest would
				// overflow the unresolved queue meanwhile
				// (unres_qlen_bytes), which drops the oldest silently.
				tk.Sleep(time.Millisecond)
			}
			binary.BigEndian.PutUint64(msg, uint64(seq))
			msg[63] = byte(seq)
			if _, err := tx.Send(tk, msg, 0); err != nil {
				return err
			}
			sent++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	done = true
	p.TB.Clock.RunFor(100 * time.Millisecond)
	m := p.B.UDP.MIB
	t.Logf("sent %d, received %d, RcvbufErrors %d, model time %v", sent, received, m.RcvbufErrors, p.TB.Clock.Now())
	if sent != total || bad != 0 || outOfOrder != 0 {
		t.Fatalf("sent %d, %d bad, %d out of order", sent, bad, outOfOrder)
	}
	if uint64(received)+m.RcvbufErrors != total || m.RcvbufErrors == 0 {
		t.Fatalf("received %d + RcvbufErrors %d != sent %d (want drops > 0)\n%s", received, m.RcvbufErrors, total, p.TB.Report())
	}
	missing := 0
	for _, ok := range got {
		if !ok {
			missing++
		}
	}
	if uint64(missing) != m.RcvbufErrors || rx.Sk.Drops != m.RcvbufErrors || m.InErrors != m.RcvbufErrors ||
		p.TB.B.Kernel.Drops.Reason[kernelmodel.SKB_DROP_REASON_SOCKET_RCVBUFF] != m.RcvbufErrors || m.InDatagrams != uint64(received) {
		t.Fatalf("missing %d, sk_drops %d, %+v, kfree_skb SOCKET_RCVBUFF %d", missing, rx.Sk.Drops, m,
			p.TB.B.Kernel.Drops.Reason[kernelmodel.SKB_DROP_REASON_SOCKET_RCVBUFF])
	}
	if maxRmem > rx.Sk.Rcvbuf+4096 {
		t.Errorf("receive queue held %d bytes, sk_rcvbuf %d", maxRmem, rx.Sk.Rcvbuf)
	}
	if a := p.A.UDP.MIB; a.OutDatagrams != total || a.SndbufErrors != 0 {
		t.Errorf("A: %+v", a)
	}
	rx.Close()
	tx.Close()
	if err := p.Settle(); err != nil {
		t.Fatal(err)
	}
}

// TestUDPFragmentsLossReorder: A sends 60 datagrams of 65507 bytes (45
// fragments each) to B over a cable that loses 0.3% of frames and
// reorders 10%. A tap on B records which fragments reached B's stack: a
// datagram all of whose fragments arrived must be received, intact and
// once; one with a fragment lost must not, and its reassembly queue
// expires after ipfrag_time (ReasmTimeout). The counters agree.
func TestUDPFragmentsLossReorder(t *testing.T) {
	const n = 60
	p, err := twostack.New(testbed.Config{Cable: wire.CableConfig{Seed: 7, Loss: 0.003, Reorder: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	// Which fragments of which IP ID reached B.
	frags := map[uint16]int{}
	idOf := map[int]uint16{}
	p.TB.B.Kernel.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_ALL, Dev: p.TB.B.Dev, Func: func(skb *kernelmodel.SKB) {
		f := skb.Buf()[skb.MACHeader : skb.BufOffset()+skb.Len()]
		if header.Ethernet(f).Type() != header.EtherTypeIPv4 {
			return
		}
		ip := header.IPv4(f[14:])
		if ip.Protocol() == 17 && ip.IsFragment() {
			frags[ip.ID()]++
			if ip.FragmentOffset() == 0 {
				idOf[int(f[14+20+8])] = ip.ID() // the first fragment names the datagram
			}
		}
	}})
	rx := udpSocket(t, p.B)
	if err := rx.Bind(netip.AddrPortFrom(twostack.B, 9000)); err != nil {
		t.Fatal(err)
	}
	got := map[int]int{}
	bad := 0
	p.TB.B.Kernel.Spawn(1, "reader", func(tk *kernelmodel.Task) {
		buf := make([]byte, 65536)
		for {
			m, _, err := rx.RecvFrom(tk, buf, 0)
			if err != nil {
				return
			}
			seq := int(buf[0])
			if m != udp.MaxPayload || !bytes.Equal(buf[:m], payload(seq, m)) {
				bad++
			}
			got[seq]++
		}
	})
	tx := udpSocket(t, p.A)
	err = p.TB.RunTask(p.TB.A, "sender", 10*time.Second, func(tk *kernelmodel.Task) error {
		for seq := 0; seq < n; seq++ {
			if _, err := tx.SendTo(tk, payload(seq, udp.MaxPayload), 0, netip.AddrPortFrom(twostack.B, 9000)); err != nil {
				return err
			}
			tk.Sleep(2 * time.Millisecond)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p.TB.Clock.RunFor(31 * time.Second) // ipfrag_time
	complete, incomplete := 0, 0
	for seq := 0; seq < n; seq++ {
		id, seen := idOf[seq]
		want := 0
		if seen && frags[id] == 45 {
			want = 1
			complete++
		} else {
			incomplete++
		}
		if got[seq] != want {
			t.Errorf("datagram %d (IP ID %#x, %d of 45 fragments reached B): received %d times, want %d", seq, id, frags[id], got[seq], want)
		}
	}
	ls, _ := p.TB.Cable.Stats()
	t.Logf("%d complete, %d incomplete; cable A→B lost %d, reordered %d", complete, incomplete, ls.Lost, ls.Reordered)
	if bad != 0 || incomplete == 0 || complete < n/2 || ls.Reordered == 0 {
		t.Fatalf("%d bad datagrams; %d complete, %d incomplete: the impairment does not test what it should", bad, complete, incomplete)
	}
	ip := p.B.IPv4.SNMP.Ip
	if ip.ReasmOKs != uint64(complete) || ip.ReasmTimeout != uint64(incomplete) || p.B.UDP.MIB.InDatagrams != uint64(complete) {
		t.Errorf("B: ReasmOKs %d ReasmTimeout %d, Udp %+v", ip.ReasmOKs, ip.ReasmTimeout, p.B.UDP.MIB)
	}
	rx.Close()
	tx.Close()
	if err := p.Settle(); err != nil {
		t.Fatal(err)
	}
}

// payload is datagram seq's bytes: seq, then a pattern of it.
func payload(seq, n int) []byte {
	b := make([]byte, n)
	b[0] = byte(seq)
	for i := 1; i < n; i++ {
		b[i] = byte(seq*31 + i*7)
	}
	return b
}
