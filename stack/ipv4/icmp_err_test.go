package ipv4

import (
	"math/rand/v2"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

// TestIPDecreaseTTL: the incremental update (RFC 1624 eqn. 3) gives the
// checksum a full recomputation gives, for random headers and every TTL
// from 2 to 255 (including the headers whose checksum field is 0x0000 or
// 0xFFFF on the way).
func TestIPDecreaseTTL(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := make(header.IPv4, 20)
	for i := 0; i < 20000; i++ {
		for j := range h {
			h[j] = byte(r.Uint32())
		}
		h.SetVersionIHL(20)
		h.SetTTL(uint8(2 + i%254))
		h.SetChecksum(0)
		h.SetChecksum(h.CalculateChecksum())
		ipDecreaseTTL(h)
		got := h.Checksum()
		h.SetChecksum(0)
		if want := h.CalculateChecksum(); got != want {
			t.Fatalf("header %x: incremental %#04x, recomputed %#04x", h, got, want)
		}
	}
}

// icmpErr is a frame from B to A: an ICMP error (typ, code, the 4 bytes
// rest) quoting a UDP datagram A sent to B (port 5000 to 53).
func icmpErr(t testing.TB, typ, code uint8, rest uint32) []byte {
	t.Helper()
	quoted := gopacket.NewSerializeBuffer()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP(stacktest.IPA[:]), DstIP: net.IP(stacktest.IPB[:])}
	udp := &layers.UDP{SrcPort: 5000, DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	if err := gopacket.SerializeLayers(quoted, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload([]byte("question"))); err != nil {
		t.Fatal(err)
	}
	return frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Id: uint16(rest >> 16), Seq: uint16(rest)},
		gopacket.Payload(quoted.Bytes()))
}

// TestICMPErrHandler: ICMP errors about a UDP datagram reach UDP's
// registered err_handler with the quoted IP header: a port unreachable with info 0, a fragmentation
// needed with the next-hop MTU as info (and the path MTU to B lowered to
// it; below min_pmtu to 552), a parameter problem with its pointer, a
// time exceeded in transit; a time exceeded in reassembly and a redirect
// without room for the quote do not. A protocol without an err_handler
// gets nothing, and the ICMP message is consumed either way.
func TestICMPErrHandler(t *testing.T) {
	e := newEnv(t)
	type call struct {
		typ, code uint8
		info      uint32
		sport     uint16
	}
	var calls []call
	e.s.AddErrHandler(IPPROTO_UDP, func(ih header.IPv4, typ, code uint8, info uint32) {
		if ih.Protocol() != IPPROTO_UDP || ih.Destination() != stacktest.IPB || len(ih) < ih.HeaderLength()+8 {
			t.Errorf("err_handler: quoted %x", ih)
			return
		}
		udp := ih[ih.HeaderLength():]
		calls = append(calls, call{typ, code, info, uint16(udp[0])<<8 | uint16(udp[1])})
	})
	for _, tc := range []struct {
		typ, code uint8
		rest      uint32
		want      *call
		pmtu      int
	}{
		{3, 3, 0, &call{3, 3, 0, 5000}, 1500},
		{3, 4, 1200, &call{3, 4, 1200, 5000}, 1200},
		{3, 4, 300, &call{3, 4, 300, 5000}, 552},
		{12, 0, 0x14000000, &call{12, 0, 0x14, 5000}, 552},
		{11, 0, 0, &call{11, 0, 0, 5000}, 552},
		{11, 1, 0, nil, 552},
		{3, 99, 0, nil, 552},
	} {
		n := len(calls)
		e.dev.Receive(icmpErr(t, tc.typ, tc.code, tc.rest))
		if tc.want == nil {
			if len(calls) != n {
				t.Errorf("type %d code %d reached the err_handler: %+v", tc.typ, tc.code, calls[n:])
			}
		} else if len(calls) != n+1 || calls[n] != *tc.want {
			t.Errorf("type %d code %d: calls %+v, want %+v", tc.typ, tc.code, calls[n:], *tc.want)
		}
		if p := e.s.PMTU(stacktest.IPB); p != tc.pmtu {
			t.Errorf("type %d code %d: path MTU to B %d, want %d", tc.typ, tc.code, p, tc.pmtu)
		}
	}
	// The path MTU expires after route.mtu_expires.
	e.k.Clock().RunFor(601e9)
	if p := e.s.PMTU(stacktest.IPB); p != 1500 {
		t.Errorf("after mtu_expires: path MTU %d", p)
	}
	e.s.AddErrHandler(IPPROTO_UDP, nil)
	e.dev.Receive(icmpErr(t, 3, 3, 0))
	if m := e.s.SNMP.Icmp; m.InType[3] != 5 || m.InType[11] != 2 || m.InType[12] != 1 || m.InErrors != 0 {
		t.Errorf("counters %d %d %v", m.InMsgs, m.InErrors, m.InType[:13])
	}
	for r, n := range e.k.Drops.Reason {
		if n != 0 {
			t.Errorf("drop %v: %d", kernelmodel.DropReason(r), n)
		}
	}
	e.settle(t)
}
