package header

import (
	"errors"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/stack/checksum"
)

// build serializes layers with gopacket (lengths and checksums computed),
// so the parser is checked against an independent implementation.
func build(t testing.TB, vlan bool, l4 gopacket.SerializableLayer, payload []byte, frag bool) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 6, TTL: 64, Id: 0x1234, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2},
		Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}}
	ls := []gopacket.SerializableLayer{eth}
	if vlan {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{Priority: 5, VLANIdentifier: 42, Type: layers.EthernetTypeIPv4})
	}
	if frag {
		ip.Flags = layers.IPv4MoreFragments
	}
	ls = append(ls, ip)
	switch l := l4.(type) {
	case *layers.TCP:
		ip.Protocol = layers.IPProtocolTCP
		l.SetNetworkLayerForChecksum(ip)
	case *layers.UDP:
		ip.Protocol = layers.IPProtocolUDP
		l.SetNetworkLayerForChecksum(ip)
	default:
		ip.Protocol = layers.IPProtocolICMPv4
	}
	if l4 != nil {
		ls = append(ls, l4)
	}
	ls = append(ls, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParse(t *testing.T) {
	payload := []byte("0123456789abcdefghij")
	tcp := func() *layers.TCP {
		return &layers.TCP{SrcPort: 1000, DstPort: 80, Seq: 0xDEADBEEF, Ack: 7, PSH: true, ACK: true, Window: 512,
			Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)}}}
	}
	udp := func() *layers.UDP { return &layers.UDP{SrcPort: 53, DstPort: 5353} }
	for _, c := range []struct {
		name       string
		vlan, frag bool
		l4         gopacket.SerializableLayer
		want       Frame
	}{
		{"tcp", false, false, tcp(), Frame{EtherType: EtherTypeIPv4, L3: 14, L3Len: 24, Protocol: 6, L4: 38, L4Len: 32, End: 14 + 24 + 32 + 20}},
		{"tcp-vlan", true, false, tcp(), Frame{VLAN: true, TCI: 5<<13 | 42, EtherType: EtherTypeIPv4, L3: 18, L3Len: 24, Protocol: 6, L4: 42, L4Len: 32, End: 18 + 24 + 32 + 20}},
		{"udp", false, false, udp(), Frame{EtherType: EtherTypeIPv4, L3: 14, L3Len: 24, Protocol: 17, L4: 38, L4Len: 8, End: 14 + 24 + 8 + 20}},
		{"udp-fragment", false, true, udp(), Frame{EtherType: EtherTypeIPv4, L3: 14, L3Len: 24, Protocol: 17, Fragment: true, End: 14 + 24 + 8 + 20}},
		{"icmp", false, false, nil, Frame{EtherType: EtherTypeIPv4, L3: 14, L3Len: 24, Protocol: 1, End: 14 + 24 + 20}},
	} {
		t.Run(c.name, func(t *testing.T) {
			frame := build(t, c.vlan, c.l4, payload, c.frag)
			frame = append(frame, 0, 0, 0) // padding after the datagram
			got, err := Parse(frame)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got  %v\nwant %v", got, c.want)
			}
			ip := IPv4(frame[got.L3:got.End])
			if !ip.ChecksumValid() || ip.CalculateChecksum() != ip.Checksum() {
				t.Fatalf("IPv4 checksum %#04x, calculated %#04x", ip.Checksum(), ip.CalculateChecksum())
			}
			if ip.ID() != 0x1234 || ip.TTL() != 64 || ip.Source() != [4]byte{10, 0, 0, 1} || ip.Destination() != [4]byte{10, 0, 0, 2} {
				t.Fatalf("IPv4 fields: id %#x ttl %d %v %v", ip.ID(), ip.TTL(), ip.Source(), ip.Destination())
			}
			eth := Ethernet(frame)
			if eth.Source() != [6]byte{2, 0, 0, 0, 0, 1} || eth.Destination() != [6]byte{2, 0, 0, 0, 0, 2} || eth.IsMulticast() {
				t.Fatalf("Ethernet fields %v %v", eth.Source(), eth.Destination())
			}
			if got.L4 == 0 {
				return
			}
			// The L4 checksum gopacket computed verifies with the
			// pseudo-header sum.
			seg := frame[got.L4:got.End]
			if s := checksum.Checksum(seg, ip.PseudoHeaderChecksum(uint16(len(seg)))); s != 0xFFFF {
				t.Fatalf("L4 checksum does not verify: %#04x", s)
			}
			if got.Protocol == ProtocolTCP {
				tc := TCP(seg)
				if tc.SourcePort() != 1000 || tc.DestinationPort() != 80 || tc.SequenceNumber() != 0xDEADBEEF ||
					tc.AckNumber() != 7 || tc.Flags() != TCPFlagPSH|TCPFlagACK || tc.WindowSize() != 512 {
					t.Fatalf("TCP fields %d %d %#x %d %#x %d", tc.SourcePort(), tc.DestinationPort(), tc.SequenceNumber(), tc.AckNumber(), tc.Flags(), tc.WindowSize())
				}
			} else {
				u := UDP(seg)
				if u.SourcePort() != 53 || u.DestinationPort() != 5353 || int(u.Length()) != len(seg) {
					t.Fatalf("UDP fields %d %d %d", u.SourcePort(), u.DestinationPort(), u.Length())
				}
			}
		})
	}
}

func TestSetters(t *testing.T) {
	b := make([]byte, 14+20+20)
	eth := Ethernet(b)
	eth.SetDestination([6]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	eth.SetSource([6]byte{2, 3, 4, 5, 6, 7})
	eth.SetType(EtherTypeIPv4)
	ip := IPv4(b[14:])
	ip.SetVersionIHL(20)
	ip.SetTotalLength(40)
	ip.SetID(9)
	ip.SetFlagsFragment(IPv4FlagDF, 0)
	ip.SetTTL(64)
	ip.SetProtocol(ProtocolTCP)
	ip.SetSource([4]byte{1, 2, 3, 4})
	ip.SetDestination([4]byte{5, 6, 7, 8})
	ip.SetChecksum(ip.CalculateChecksum())
	tc := TCP(b[34:])
	tc.SetSourcePort(1)
	tc.SetDestinationPort(2)
	tc.SetSequenceNumber(3)
	tc.SetAckNumber(4)
	tc.SetDataOffset(20)
	tc.SetFlags(TCPFlagSYN)
	tc.SetWindowSize(65535)
	tc.SetChecksum(^checksum.Checksum(b[34:], ip.PseudoHeaderChecksum(20)))
	pkt := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	if el := pkt.ErrorLayer(); el != nil {
		t.Fatal(el.Error())
	}
	gip := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	gtcp := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !eth.IsBroadcast() || gip.Flags != layers.IPv4DontFragment || gip.Id != 9 || !gtcp.SYN || gtcp.Seq != 3 || gtcp.Ack != 4 {
		t.Fatalf("gopacket reads %+v %+v", gip, gtcp)
	}
	// Recompute with gopacket and compare checksums.
	want := gip.Checksum
	gip.Checksum = 0
	buf := gopacket.NewSerializeBuffer()
	gtcp.SetNetworkLayerForChecksum(gip)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, gip, gtcp); err != nil {
		t.Fatal(err)
	}
	if re := IPv4(buf.Bytes()); re.Checksum() != want || TCP(buf.Bytes()[20:]).Checksum() != tc.Checksum() {
		t.Fatalf("checksums: ip %#04x vs %#04x, tcp %#04x vs %#04x", re.Checksum(), want, TCP(buf.Bytes()[20:]).Checksum(), tc.Checksum())
	}
}

func TestParseMalformed(t *testing.T) {
	good := build(t, true, &layers.TCP{SrcPort: 1, DstPort: 2}, make([]byte, 10), false)
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, c := range []struct {
		name  string
		frame []byte
	}{
		{"empty", nil},
		{"short-ethernet", good[:13]},
		{"short-vlan", good[:16]},
		{"short-ip", good[:18+19]},
		{"ip-version", mut(func(b []byte) []byte { b[18] = 0x65; return b })},
		{"ihl-too-small", mut(func(b []byte) []byte { b[18] = 0x44; return b })},
		{"ihl-beyond", mut(func(b []byte) []byte { b[18] = 0x4F; return b[:18+40] })},
		{"total-beyond", mut(func(b []byte) []byte { b[18+2], b[18+3] = 0xFF, 0xFF; return b })},
		{"total-below-header", mut(func(b []byte) []byte { b[18+2], b[18+3] = 0, 10; return b })},
		{"short-tcp", mut(func(b []byte) []byte { IPv4(b[18:]).SetTotalLength(24 + 10); return b })},
		{"tcp-offset-small", mut(func(b []byte) []byte { b[18+24+12] = 0x40; return b })},
		{"tcp-offset-beyond", mut(func(b []byte) []byte { b[18+24+12] = 0xF0; return b })},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Parse(c.frame); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := ParseUDP([]byte{0, 1, 0, 2, 0, 9, 0, 0}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("UDP length beyond the data: %v", err)
	}
}

// FuzzParse: any input either parses with every offset inside the frame and
// every accessor in bounds, or is reported malformed; nothing panics.
func FuzzParse(f *testing.F) {
	f.Add(build(f, false, &layers.TCP{SrcPort: 1, DstPort: 2}, []byte("x"), false))
	f.Add(build(f, true, &layers.UDP{SrcPort: 1, DstPort: 2}, []byte("xy"), false))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0x00, 0, 1, 0x08, 0x00, 0x4F})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if p.End > len(b) || p.L3 > p.End {
			t.Fatalf("offsets outside the frame: %v (len %d)", p, len(b))
		}
		if p.EtherType == EtherTypeIPv4 {
			ip := IPv4(b[p.L3:p.End])
			_ = ip.CalculateChecksum()
			_ = ip.Payload()
		}
		if p.L4 != 0 {
			if p.L4+p.L4Len > p.End {
				t.Fatalf("L4 header beyond the datagram: %v", p)
			}
			if p.Protocol == ProtocolTCP {
				_ = TCP(b[p.L4:p.End]).UrgentPointer()
			} else {
				_ = UDP(b[p.L4:p.End]).Checksum()
			}
		}
	})
}

// TestParseAllocatesNothing: parsing, good or malformed, allocates nothing
// (a NIC model parses every frame).
func TestParseAllocatesNothing(t *testing.T) {
	good := build(t, true, &layers.TCP{SrcPort: 1, DstPort: 2}, make([]byte, 10), false)
	bad := append([]byte(nil), good...)
	bad[18] = 0x4F
	if n := testing.AllocsPerRun(100, func() { _, _ = Parse(good); _, _ = Parse(bad) }); n != 0 {
		t.Fatalf("%v allocations per Parse", n)
	}
}

// TestParseIPv4Header: the header-only parse refuses what ParseIPv4 refuses
// about the header itself, accepts a total length ParseIPv4 refuses, and
// returns the bytes whole.
func TestParseIPv4Header(t *testing.T) {
	hdr := func(verIHL byte, total uint16, n int) []byte {
		b := make([]byte, n)
		b[0] = verIHL
		b[2], b[3] = byte(total>>8), byte(total)
		return b
	}
	for _, c := range []struct {
		name            string
		b               []byte
		headerErr, full error
	}{
		{"good", hdr(0x45, 40, 40), nil, nil},
		{"options", hdr(0x46, 40, 40), nil, nil},
		{"total zero (TSO)", hdr(0x45, 0, 60), nil, ErrIPv4TotalLength},
		{"total beyond", hdr(0x45, 65535, 60), nil, ErrIPv4TotalLength},
		{"short", hdr(0x45, 19, 19), ErrShortIPv4, ErrShortIPv4},
		{"version 6", hdr(0x65, 40, 40), ErrIPVersion, ErrIPVersion},
		{"ihl 4", hdr(0x44, 40, 40), ErrIPv4HeaderLength, ErrIPv4HeaderLength},
		{"ihl beyond", hdr(0x4F, 40, 40), ErrIPv4HeaderLength, ErrIPv4HeaderLength},
	} {
		h, err := ParseIPv4Header(c.b)
		if err != c.headerErr || (err == nil && len(h) != len(c.b)) {
			t.Errorf("%s: ParseIPv4Header: %d bytes, %v; want %d, %v", c.name, len(h), err, len(c.b), c.headerErr)
		}
		if _, err := ParseIPv4(c.b); err != c.full {
			t.Errorf("%s: ParseIPv4: %v, want %v", c.name, err, c.full)
		}
	}
}
