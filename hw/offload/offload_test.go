package offload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// superFrame builds an Ethernet/IPv4/TCP (or UDP) super-frame with gopacket
// and seeds the L4 checksum with the pseudo-header sum without the length,
// as a driver does for TSO.
func superFrame(t testing.TB, tcp bool, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0xFFFE, Flags: layers.IPv4DontFragment,
		SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
	var l4 gopacket.SerializableLayer
	if tcp {
		ip.Protocol = layers.IPProtocolTCP
		l4 = &layers.TCP{SrcPort: 5000, DstPort: 80, Seq: 0xFFFFF000, Ack: 1, ACK: true, PSH: true, FIN: true, Window: 100,
			Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}}
	} else {
		ip.Protocol = layers.IPProtocolUDP
		l4 = &layers.UDP{SrcPort: 4000, DstPort: 4001}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, eth, ip, l4, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	iph := header.IPv4(b[14:])
	seed := checksum.PseudoHeaderIPv4(b[14+12:14+16], b[14+16:14+20], iph.Protocol(), 0)
	if tcp {
		header.TCP(b[34:]).SetChecksum(seed)
	} else {
		header.UDP(b[34:]).SetChecksum(seed)
	}
	return b
}

func TestSegmentTCP(t *testing.T) {
	payload := make([]byte, 5000)
	for i := range payload {
		payload[i] = byte(i * 13)
	}
	super := superFrame(t, true, payload)
	p := TSO{MACLen: 14, IPLen: 20, L4Len: 32, MSS: 1448, IPv4: true, TCP: true, IPCsum: true, L4Csum: true}
	buf := make([]byte, 16384)
	var got []byte
	var frames [][]byte
	n, err := Segment(super, p, buf, func(f []byte) { frames = append(frames, append([]byte(nil), f...)) })
	if err != nil || n != 4 || len(frames) != 4 {
		t.Fatalf("Segment: %d segments, %v", n, err)
	}
	for i, f := range frames {
		pkt := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		ip := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		last := i == len(frames)-1
		wantPay := 1448
		if last {
			wantPay = 5000 - 3*1448
		}
		if len(tcp.Payload) != wantPay || int(ip.Length) != 20+32+wantPay {
			t.Fatalf("segment %d: payload %d, IP length %d", i, len(tcp.Payload), ip.Length)
		}
		if ip.Id != uint16(0xFFFE+i) { // wraps past 0xFFFF
			t.Fatalf("segment %d: IP ID %#x", i, ip.Id)
		}
		if tcp.Seq != 0xFFFFF000+uint32(i*1448) { // wraps past 2^32
			t.Fatalf("segment %d: seq %#x", i, tcp.Seq)
		}
		if tcp.FIN != last || tcp.PSH != last || !tcp.ACK {
			t.Fatalf("segment %d: FIN %v PSH %v ACK %v", i, tcp.FIN, tcp.PSH, tcp.ACK)
		}
		if !header.IPv4(f[14:]).ChecksumValid() {
			t.Fatalf("segment %d: bad IP checksum", i)
		}
		ph := header.IPv4(f[14:]).PseudoHeaderChecksum(uint16(len(f) - 34))
		if checksum.Checksum(f[34:], ph) != 0xFFFF {
			t.Fatalf("segment %d: bad TCP checksum", i)
		}
		got = append(got, tcp.Payload...)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("payload not reassembled")
	}
}

func TestSegmentUDP(t *testing.T) {
	payload := bytes.Repeat([]byte{0xAB, 0xCD, 0xEF}, 1000)
	super := superFrame(t, false, payload)
	p := TSO{MACLen: 14, IPLen: 20, L4Len: 8, MSS: 1000, IPv4: true, IPCsum: true, L4Csum: true}
	buf := make([]byte, 1500)
	i := 0
	n, err := Segment(super, p, buf, func(f []byte) {
		u := header.UDP(f[34:])
		if int(u.Length()) != len(f)-34 || len(f)-42 != 1000 {
			t.Fatalf("segment %d: UDP length %d, frame %d", i, u.Length(), len(f))
		}
		ph := header.IPv4(f[14:]).PseudoHeaderChecksum(u.Length())
		if checksum.Checksum(f[34:], ph) != 0xFFFF || u.Checksum() == 0 {
			t.Fatalf("segment %d: bad UDP checksum %#04x", i, u.Checksum())
		}
		i++
	})
	if err != nil || n != 3 {
		t.Fatalf("%d segments, %v", n, err)
	}
}

func TestValidateHostile(t *testing.T) {
	ok := TSO{MACLen: 14, IPLen: 20, L4Len: 20, MSS: 1460, IPv4: true, TCP: true, IPCsum: true, L4Csum: true}
	if err := ok.Validate(16384); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    func(p *TSO)
	}{
		{"mss-0", func(p *TSO) { p.MSS = 0 }},
		{"mss-negative", func(p *TSO) { p.MSS = -1 }},
		{"beyond-frame", func(p *TSO) { p.MSS = 16384 }},
		{"ip-short", func(p *TSO) { p.IPLen = 19 }},
		{"ipv6-short", func(p *TSO) { p.IPv4 = false; p.IPLen = 20 }},
		{"tcp-short", func(p *TSO) { p.L4Len = 8 }},
		{"mac-negative", func(p *TSO) { p.MACLen = -14 }},
		{"header-too-long", func(p *TSO) { p.L4Len = 250 }},
		{"l4cso-outside", func(p *TSO) { p.L4CSO = 53 }},
		{"l4cso-in-ip", func(p *TSO) { p.L4CSO = 20 }},
		{"ipcso-outside", func(p *TSO) { p.IPCSO = 33 }},
	} {
		p := ok
		c.f(&p)
		if err := p.Validate(16384); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", c.name, err)
		}
		if _, err := Segment(make([]byte, 2000), p, make([]byte, 16384), func([]byte) { t.Fatal("emitted") }); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Segment %v", c.name, err)
		}
	}
	// A super-frame no longer than its header has nothing to send.
	if _, err := Segment(make([]byte, 54), ok, make([]byte, 2000), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("header only: %v", err)
	}
}

func TestInsert(t *testing.T) {
	pkt := make([]byte, 40)
	for i := range pkt {
		pkt[i] = byte(i)
	}
	// The field is summed as it is (the driver zeroes or seeds it).
	want := ^checksum.Checksum(pkt[4:], 0)
	if !Insert(pkt, 4, 0, 10, false) {
		t.Fatal("refused")
	}
	if c := binary.BigEndian.Uint16(pkt[10:]); c != want {
		t.Fatalf("%#04x, want %#04x", c, want)
	}
	if !Insert(pkt, 4, 19, 10, false) {
		t.Fatal("refused with end")
	}
	// A zero sum becomes 0xFFFF only when asked (UDP).
	z := make([]byte, 8)
	z[0], z[1] = 0xFF, 0xFF
	if Insert(z, 0, 0, 6, true); binary.BigEndian.Uint16(z[6:]) != 0xFFFF {
		t.Fatalf("UDP zero: %#04x", binary.BigEndian.Uint16(z[6:]))
	}
	z[6], z[7] = 0, 0
	if Insert(z, 0, 0, 6, false); binary.BigEndian.Uint16(z[6:]) != 0 {
		t.Fatalf("TCP zero: %#04x", binary.BigEndian.Uint16(z[6:]))
	}
	for _, bad := range [][3]int{{40, 0, 0}, {0, 0, 39}, {-1, 0, 0}, {0, 0, -2}, {30, 20, 0}} {
		if Insert(pkt, bad[0], bad[1], bad[2], false) {
			t.Errorf("Insert(css %d, cse %d, cso %d) accepted", bad[0], bad[1], bad[2])
		}
	}
}

// FuzzSegment: any context and super-frame either is refused or segments
// into frames that fit the buffer, at most one per MSS of payload; nothing
// panics.
func FuzzSegment(f *testing.F) {
	f.Add(superFrame(f, true, make([]byte, 3000)), uint8(14), uint8(20), uint8(32), uint16(1448), uint8(0xF))
	f.Add(superFrame(f, false, make([]byte, 100)), uint8(14), uint8(20), uint8(8), uint16(1), uint8(0x5))
	f.Add([]byte{1, 2, 3}, uint8(255), uint8(255), uint8(255), uint16(0xFFFF), uint8(0xFF))
	buf := make([]byte, 9018)
	f.Fuzz(func(t *testing.T, super []byte, mac, ipl, l4l uint8, mss uint16, flags uint8) {
		p := TSO{MACLen: int(mac), IPLen: int(ipl), L4Len: int(l4l), MSS: int(mss),
			IPv4: flags&1 != 0, TCP: flags&2 != 0, IPCsum: flags&4 != 0, L4Csum: flags&8 != 0}
		if flags&0x10 != 0 {
			p.L4CSO = int(mac) + 3
		}
		frames, bytes := 0, 0
		n, err := Segment(super, p, buf, func(fr []byte) {
			frames++
			bytes += len(fr) - p.HeaderLen()
			if len(fr) > len(buf) {
				t.Fatalf("frame of %d bytes", len(fr))
			}
		})
		if err != nil {
			if frames != 0 {
				t.Fatal("refused after emitting")
			}
			return
		}
		if n != frames || bytes != len(super)-p.HeaderLen() || frames > (bytes+p.MSS-1)/p.MSS {
			t.Fatalf("%d segments (%d emitted) for %d payload bytes, MSS %d", n, frames, bytes, p.MSS)
		}
	})
}
