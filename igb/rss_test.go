package igb

import (
	"encoding/binary"
	"testing"

	"github.com/nicbed/nicbed/hw/rss"
	"github.com/nicbed/nicbed/stack/header"
)

// ipFrame builds an untagged Ethernet/IPv4 frame carrying proto (TCP, UDP
// or another protocol with an 8-byte payload) between the given endpoints.
// frag sets IPv4's More Fragments flag.
func ipFrame(src, dst [4]byte, proto uint8, sport, dport uint16, frag bool) []byte {
	l4 := 8
	if proto == header.ProtocolTCP {
		l4 = header.TCPMinSize
	}
	b := make([]byte, header.EthernetMinSize+header.IPv4MinSize+l4)
	eth := header.Ethernet(b)
	eth.SetDestination([6]byte{0x02, 0, 0, 0, 0, 2})
	eth.SetSource([6]byte{0x02, 0, 0, 0, 0, 1})
	eth.SetType(header.EtherTypeIPv4)
	ip := header.IPv4(b[header.EthernetMinSize:])
	ip.SetVersionIHL(header.IPv4MinSize)
	ip.SetTotalLength(uint16(header.IPv4MinSize + l4))
	ip.SetTTL(64)
	ip.SetProtocol(proto)
	ip.SetSource(src)
	ip.SetDestination(dst)
	if frag {
		ip.SetFlagsFragment(header.IPv4FlagMF, 0)
	}
	ip.SetChecksum(ip.CalculateChecksum())
	setL4(b[header.EthernetMinSize+header.IPv4MinSize:], proto, sport, dport)
	return b
}

// setL4 fills a TCP or UDP header's ports (and data offset or length).
func setL4(l []byte, proto uint8, sport, dport uint16) {
	switch proto {
	case header.ProtocolTCP:
		t := header.TCP(l)
		t.SetSourcePort(sport)
		t.SetDestinationPort(dport)
		t.SetDataOffset(header.TCPMinSize)
	case header.ProtocolUDP:
		u := header.UDP(l)
		u.SetSourcePort(sport)
		u.SetDestinationPort(dport)
		u.SetLength(8)
	}
}

const allIPv4 = MRQC_ENABLE_RSS | MRQC_RSS_FIELD_IPV4 | MRQC_RSS_FIELD_IPV4_TCP | MRQC_RSS_FIELD_IPV4_UDP

// TestRSSHashVerification runs every published IPv4 row through the
// device's path (frame → parse → MRQC field selection → Toeplitz): a TCP
// segment hashes to the 4-tuple value, the same segment with IPV4_TCP not
// selected to the 2-tuple value, a UDP datagram to the 4-tuple value with
// IPV4_UDP selected and the 2-tuple one without, an ICMP packet and an IPv4
// fragment to the 2-tuple value, and nothing with no field selected.
func TestRSSHashVerification(t *testing.T) {
	h := rss.New(rss.MicrosoftKey[:])
	for _, v := range rss.Verification {
		cases := []struct {
			name  string
			frame []byte
			mrqc  uint32
			hash  uint32
			typ   uint8
		}{
			{"tcp", ipFrame(v.Src, v.Dst, header.ProtocolTCP, v.SrcPort, v.DstPort, false), allIPv4, v.IPv4TCP, RSSTypeIPv4TCP},
			{"tcp 2-tuple", ipFrame(v.Src, v.Dst, header.ProtocolTCP, v.SrcPort, v.DstPort, false), MRQC_RSS_FIELD_IPV4 | MRQC_RSS_FIELD_IPV4_UDP, v.IPv4, RSSTypeIPv4},
			{"udp", ipFrame(v.Src, v.Dst, header.ProtocolUDP, v.SrcPort, v.DstPort, false), allIPv4, v.IPv4TCP, RSSTypeIPv4UDP},
			{"udp 2-tuple", ipFrame(v.Src, v.Dst, header.ProtocolUDP, v.SrcPort, v.DstPort, false), MRQC_RSS_FIELD_IPV4 | MRQC_RSS_FIELD_IPV4_TCP, v.IPv4, RSSTypeIPv4},
			{"icmp", ipFrame(v.Src, v.Dst, header.ProtocolICMP, 0, 0, false), allIPv4, v.IPv4, RSSTypeIPv4},
			{"fragment", ipFrame(v.Src, v.Dst, header.ProtocolTCP, v.SrcPort, v.DstPort, true), allIPv4, v.IPv4, RSSTypeIPv4},
			{"tcp only, udp frame", ipFrame(v.Src, v.Dst, header.ProtocolUDP, v.SrcPort, v.DstPort, false), MRQC_RSS_FIELD_IPV4_TCP, 0, RSSTypeNone},
			{"nothing selected", ipFrame(v.Src, v.Dst, header.ProtocolTCP, v.SrcPort, v.DstPort, false), MRQC_ENABLE_RSS, 0, RSSTypeNone},
		}
		for _, c := range cases {
			f, err := header.Parse(c.frame)
			if err != nil {
				t.Fatalf("%s: parse: %v", c.name, err)
			}
			hash, typ := RSSHash(h, c.mrqc, c.frame, &f)
			if hash != c.hash || typ != c.typ {
				t.Errorf("%v:%d -> %v:%d %s: hash %#08x type %d, want %#08x type %d",
					v.Src, v.SrcPort, v.Dst, v.DstPort, c.name, hash, typ, c.hash, c.typ)
			}
		}
	}
	// Not IPv4: no hash.
	arp := make([]byte, 60)
	header.Ethernet(arp).SetType(header.EtherTypeARP)
	f, _ := header.Parse(arp)
	if hash, typ := RSSHash(h, allIPv4, arp, &f); hash != 0 || typ != RSSTypeNone {
		t.Errorf("ARP hashed: %#x %d", hash, typ)
	}
}

// TestRSSKeyAndRETA checks the register layouts: RSSRK as Linux's
// igb_setup_mrqc writes the key (ten little-endian u32 of the key bytes),
// RETA as igb_write_rss_indir_tbl writes it (entry 4n+j in byte j of
// register n), and the queue pick RETA[hash & 127].
func TestRSSKeyAndRETA(t *testing.T) {
	var regs [NumRSSRK]uint32
	for n := range regs {
		regs[n] = binary.LittleEndian.Uint32(rss.MicrosoftKey[4*n:])
	}
	if RSSKey(&regs) != rss.MicrosoftKey {
		t.Fatalf("RSSKey = % x", RSSKey(&regs))
	}
	// A table spreading entries over 4 queues as ethtool's default does
	// (entry i -> i % 4), with entry 77 pointing at queue 9.
	var tbl [RETAWidth]uint8
	for i := range tbl {
		tbl[i] = uint8(i % 4)
	}
	tbl[77] = 9
	var reta [NumRETA]uint32
	for n := range reta {
		var v uint32
		for j := 3; j >= 0; j-- {
			v = v<<8 | uint32(tbl[4*n+j])
		}
		reta[n] = v
	}
	for i := range RETAWidth {
		if RETAEntry(&reta, i) != tbl[i] {
			t.Fatalf("RETAEntry(%d) = %d, want %d", i, RETAEntry(&reta, i), tbl[i])
		}
	}
	for _, c := range []struct {
		hash  uint32
		queue int
	}{{0, 0}, {1, 1}, {127, 3}, {128, 0}, {0xFFFFFF80 | 77, 9}, {0x51ccc178, int(tbl[0x78])}, {0x323e8fc2, int(tbl[0x42])}} {
		if got := RSSQueue(&reta, c.hash); got != c.queue {
			t.Errorf("RSSQueue(%#x) = %d, want %d", c.hash, got, c.queue)
		}
	}
	// Bits above the queue field are not a queue.
	reta[0] = 0xF0
	if RSSQueue(&reta, 0) != 0 {
		t.Errorf("RETA entry 0xF0 picked queue %d", RSSQueue(&reta, 0))
	}
	for _, c := range []struct {
		mrqc uint32
		on   bool
	}{{0, false}, {MRQC_ENABLE_RSS, true}, {MRQC_ENABLE_VMDQ, false}, {MRQC_ENABLE_VMDQ_RSS, true}, {MRQC_RSS_FIELD_IPV4, false}} {
		if RSSEnabled(c.mrqc) != c.on {
			t.Errorf("RSSEnabled(%#x) = %v", c.mrqc, !c.on)
		}
	}
}

// BenchmarkRSSFrame is the per-frame receive cost of RSS in the model:
// parse, hash by MRQC, pick the queue.
func BenchmarkRSSFrame(b *testing.B) {
	h := rss.New(rss.MicrosoftKey[:])
	v := rss.Verification[0]
	frame := ipFrame(v.Src, v.Dst, header.ProtocolTCP, v.SrcPort, v.DstPort, false)
	var reta [NumRETA]uint32
	b.ReportAllocs()
	q := 0
	for b.Loop() {
		f, err := header.Parse(frame)
		if err != nil {
			b.Fatal(err)
		}
		hash, _ := RSSHash(h, allIPv4, frame, &f)
		q += RSSQueue(&reta, hash)
	}
	_ = q
}

// ip6Frame builds an untagged Ethernet/IPv6 frame with next header proto
// (TCP, UDP, or anything else with 8 bytes behind it).
func ip6Frame(src, dst [16]byte, proto uint8, sport, dport uint16) []byte {
	l4 := 8
	if proto == header.ProtocolTCP {
		l4 = header.TCPMinSize
	}
	b := make([]byte, header.EthernetMinSize+header.IPv6MinSize+l4)
	header.Ethernet(b).SetType(header.EtherTypeIPv6)
	ip := header.IPv6(b[header.EthernetMinSize:])
	ip[0] = 6 << 4
	ip.SetPayloadLength(uint16(l4))
	ip.SetNextHeader(proto)
	ip.SetHopLimit(64)
	copy(ip.Src(), src[:])
	copy(ip.Dst(), dst[:])
	setL4(b[header.EthernetMinSize+header.IPv6MinSize:], proto, sport, dport)
	return b
}

// TestRSSHashIPv6: the published IPv6 rows through the device's path: TCP
// by the 4-tuple with IPV6_TCP, the address pair with only IPV6, UDP by the
// 4-tuple with IPV6_UDP, an extension header (hop-by-hop) by the pair, and
// nothing with no IPv6 field selected.
func TestRSSHashIPv6(t *testing.T) {
	h := rss.New(rss.MicrosoftKey[:])
	const v6all = MRQC_ENABLE_RSS | MRQC_RSS_FIELD_IPV6 | MRQC_RSS_FIELD_IPV6_TCP | MRQC_RSS_FIELD_IPV6_UDP
	for _, v := range rss.VerificationIPv6 {
		for _, c := range []struct {
			name  string
			frame []byte
			mrqc  uint32
			hash  uint32
			typ   uint8
		}{
			{"tcp", ip6Frame(v.Src, v.Dst, header.ProtocolTCP, v.SrcPort, v.DstPort), v6all, v.IPv6TCP, RSSTypeIPv6TCP},
			{"tcp 2-tuple", ip6Frame(v.Src, v.Dst, header.ProtocolTCP, v.SrcPort, v.DstPort), MRQC_RSS_FIELD_IPV6, v.IPv6, RSSTypeIPv6},
			{"udp", ip6Frame(v.Src, v.Dst, header.ProtocolUDP, v.SrcPort, v.DstPort), v6all, v.IPv6TCP, RSSTypeIPv6UDP},
			{"extension header", ip6Frame(v.Src, v.Dst, 0, 0, 0), v6all, v.IPv6, RSSTypeIPv6},
			{"IPv4 fields only", ip6Frame(v.Src, v.Dst, header.ProtocolTCP, v.SrcPort, v.DstPort), allIPv4, 0, RSSTypeNone},
		} {
			f, err := header.Parse(c.frame)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if hash, typ := RSSHash(h, c.mrqc, c.frame, &f); hash != c.hash || typ != c.typ {
				t.Errorf("%x %s: hash %#08x type %d, want %#08x type %d", v.Dst, c.name, hash, typ, c.hash, c.typ)
			}
		}
	}
}
