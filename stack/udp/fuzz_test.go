package udp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/socket"
)

// FuzzUDP feeds hostile UDP datagrams to udp_rcv through a valid IPv4
// header (to A's address, or with the first byte odd to the subnet's
// broadcast): any UDP header and payload, the checksum as given or, with
// the first byte's bit 1 set, made right. Sockets listen on ports 7
// (wildcard), 53 (bound to A) and 9 (connected to B:1234). Nothing may
// panic; every datagram is counted exactly once (queued and read, or
// dropped under a counter); after the sockets are drained and closed and
// ARP has given up on the ICMP errors, no skb is left or misused. The
// seeds (testdata/fuzz/FuzzUDP) are one of each path of udp_rcv.
func FuzzUDP(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 1 || len(in) > 2000 {
			return
		}
		h := newHost(t)
		var socks []*socket.Socket
		for _, a := range []netip.AddrPort{netip.AddrPortFrom(netip.IPv4Unspecified(), 7), netip.AddrPortFrom(ipA, 53), netip.AddrPortFrom(ipA, 9)} {
			so := mustUDP(h.s)
			if err := so.Bind(a); err != nil {
				t.Fatal(err)
			}
			socks = append(socks, so)
		}
		if err := socks[2].Connect(nil, netip.AddrPortFrom(ipB, 1234)); err != nil {
			t.Fatal(err)
		}
		mode, u := in[0], in[1:]
		dst := stacktest.IPA
		if mode&1 != 0 {
			dst = [4]byte{10, 0, 0, 255}
		}
		fr := ipFrame(stacktest.IPB, dst, u)
		if mode&2 != 0 && len(u) >= 8 {
			setUDPChecksum(fr)
		}
		h.inject(fr)
		read := 0
		for _, so := range socks {
			for {
				if _, _, err := so.RecvFrom(nil, make([]byte, 2000), socket.MSG_DONTWAIT); err != nil {
					break
				}
				read++
			}
		}
		m := h.s.UDP.MIB
		if m.InDatagrams != uint64(read) {
			t.Fatalf("read %d, InDatagrams %d", read, m.InDatagrams)
		}
		if accounted := m.InDatagrams + m.NoPorts + m.InErrors + m.IgnoredMulti; accounted != 1 && !(mode&1 != 0 && read == 2 && accounted == 2) {
			t.Fatalf("one datagram counted %d times: %+v (read %d)", accounted, m, read)
		}
		for _, so := range socks {
			so.Close()
		}
		h.s.K.Clock().RunFor(5 * time.Second)
		if err := h.s.K.SKBAudit(); err != nil {
			t.Fatal(err)
		}
	})
}
