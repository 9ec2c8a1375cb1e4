package header

import (
	"bytes"
	"errors"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TestIPv6: the accessors read what gopacket (an independent decoder) wrote,
// and bad input is refused with an error wrapping ErrMalformed.
func TestIPv6(t *testing.T) {
	ip := &layers.IPv6{
		Version: 6, TrafficClass: 0xB8, FlowLabel: 0xABCDE, NextHeader: layers.IPProtocolTCP, HopLimit: 63,
		SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2:3"),
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ip, gopacket.Payload(make([]byte, 100))); err != nil {
		t.Fatal(err)
	}
	h, err := ParseIPv6(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if h.Version() != 6 || h.TrafficClass() != 0xB8 || h.FlowLabel() != 0xABCDE || h.PayloadLength() != 100 ||
		h.NextHeader() != ProtocolTCP || h.HopLimit() != 63 {
		t.Errorf("fields: v%d tc %#x flow %#x plen %d nh %d hl %d", h.Version(), h.TrafficClass(), h.FlowLabel(), h.PayloadLength(), h.NextHeader(), h.HopLimit())
	}
	if !bytes.Equal(h.Src(), ip.SrcIP.To16()) || !bytes.Equal(h.Dst(), ip.DstIP.To16()) || !bytes.Equal(h.Addrs(), append(ip.SrcIP.To16(), ip.DstIP.To16()...)) {
		t.Errorf("addresses %x %x", h.Src(), h.Dst())
	}
	h.SetPayloadLength(7)
	h.SetNextHeader(ProtocolUDP)
	h.SetHopLimit(1)
	var back layers.IPv6
	if err := back.DecodeFromBytes(buf.Bytes()[:IPv6MinSize+7], gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if back.Length != 7 || back.NextHeader != layers.IPProtocolUDP || back.HopLimit != 1 {
		t.Errorf("setters: gopacket reads length %d next %v hop %d", back.Length, back.NextHeader, back.HopLimit)
	}
	for _, c := range []struct {
		b    []byte
		want error
	}{
		{buf.Bytes()[:39], ErrShortIPv6},
		{append([]byte{0x45}, make([]byte, 39)...), ErrIPv6Version},
	} {
		if _, err := ParseIPv6(c.b); err != c.want || !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseIPv6(%d bytes, %#x): %v, want %v", len(c.b), c.b[0], err, c.want)
		}
	}
}
