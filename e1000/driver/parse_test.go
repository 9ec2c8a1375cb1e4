package driver

import (
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TestParseHeaders: the offsets e1000_tso and e1000_tx_csum take from the
// frame, for IPv4 and IPv6 (with and without an 802.1Q tag), built by
// gopacket; malformed frames are refused.
func TestParseHeaders(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	frame := func(vlan bool, l3 gopacket.SerializableLayer, et layers.EthernetType, tcpOpts int) []byte {
		eth := &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: et}
		ls := []gopacket.SerializableLayer{eth}
		if vlan {
			eth.EthernetType = layers.EthernetTypeDot1Q
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: 5, Type: et})
		}
		tcp := &layers.TCP{SrcPort: 1, DstPort: 2, Window: 1}
		for i := 0; i < tcpOpts; i++ {
			tcp.Options = append(tcp.Options, layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1})
		}
		switch ip := l3.(type) {
		case *layers.IPv4:
			tcp.SetNetworkLayerForChecksum(ip)
		case *layers.IPv6:
			tcp.SetNetworkLayerForChecksum(ip)
		}
		ls = append(ls, l3, tcp, gopacket.Payload(make([]byte, 64)))
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	v4 := func() *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 6, Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 1}}, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
	}
	v6 := func() *layers.IPv6 {
		return &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64,
			SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	}
	for _, c := range []struct {
		name  string
		frame []byte
		want  hdrs
	}{
		{"ipv4 options", frame(false, v4(), layers.EthernetTypeIPv4, 0), hdrs{L3: 14, L4: 38, IPv4: true, Proto: ipProtoTCP, L4Len: 20}},
		{"vlan ipv4", frame(true, v4(), layers.EthernetTypeIPv4, 4), hdrs{L3: 18, L4: 42, IPv4: true, Proto: ipProtoTCP, L4Len: 24}},
		{"ipv6", frame(false, v6(), layers.EthernetTypeIPv6, 0), hdrs{L3: 14, L4: 54, Proto: ipProtoTCP, L4Len: 20}},
		{"vlan ipv6", frame(true, v6(), layers.EthernetTypeIPv6, 8), hdrs{L3: 18, L4: 58, Proto: ipProtoTCP, L4Len: 28}},
	} {
		got, ok := parseHeaders(c.frame)
		if !ok || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.name, got, ok, c.want)
		}
	}
	bad6 := frame(false, v6(), layers.EthernetTypeIPv6, 0)
	bad6[14] = 0x45 // IPv4's version in an IPv6 EtherType
	for _, c := range []struct {
		name  string
		frame []byte
	}{
		{"short ethernet", make([]byte, 10)},
		{"ipv6 version", bad6},
		{"short ipv6", frame(false, v6(), layers.EthernetTypeIPv6, 0)[:14+39]},
		{"short tcp", frame(false, v6(), layers.EthernetTypeIPv6, 0)[:14+40+10]},
	} {
		if _, ok := parseHeaders(c.frame); ok {
			t.Errorf("%s: accepted", c.name)
		}
	}
}
