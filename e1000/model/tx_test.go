package model

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/stack/checksum"
)

func TestTxLegacy(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.setupTx(16, e1000.TCTL_PSP)
	r.wr(e1000.IMS, e1000.ICR_TXDW|e1000.ICR_TXQE)
	f1 := ethFrame(peerMAC, testMAC, 0x88B5, pattern(200, 1))
	f2 := ethFrame(bcastMAC, testMAC, 0x0806, pattern(28, 2)) // 42 bytes: padded
	f3 := ethFrame(peerMAC, testMAC, 0x88B5, pattern(3000, 3))
	d1 := r.txLegacy(f1, e1000.TXD_CMD_EOP|e1000.TXD_CMD_IFCS|e1000.TXD_CMD_RS)
	d2 := r.txLegacy(f2, e1000.TXD_CMD_EOP|e1000.TXD_CMD_IFCS) // no RS: no write-back
	// f3 in three pieces, one of them empty.
	d3 := r.txLegacy(f3[:1000], e1000.TXD_CMD_IFCS)
	d4 := r.txLegacy(nil, e1000.TXD_CMD_IFCS)
	d5 := r.txLegacy(f3[1000:], e1000.TXD_CMD_EOP|e1000.TXD_CMD_IFCS|e1000.TXD_CMD_RS)
	r.doorbell()
	if got := len(r.link.frames); got != 3 {
		t.Fatalf("%d frames on the wire, want 3", got)
	}
	pad := append(append([]byte(nil), f2...), make([]byte, 18)...)
	for i, want := range [][]byte{f1, pad, f3} {
		if !bytes.Equal(r.link.frames[i], want) {
			t.Fatalf("frame %d differs (%d bytes, want %d)", i, len(r.link.frames[i]), len(want))
		}
	}
	for _, c := range []struct {
		i  int
		dd bool
	}{{d1, true}, {d2, false}, {d3, false}, {d4, false}, {d5, true}} {
		if dd := e1000.TxDesc(r.txDesc(c.i)).Status()&e1000.TXD_STAT_DD != 0; dd != c.dd {
			t.Fatalf("descriptor %d DD %v, want %v", c.i, dd, c.dd)
		}
	}
	if r.rd(e1000.TDH) != 5 {
		t.Fatalf("TDH %d, want 5", r.rd(e1000.TDH))
	}
	if icr := r.rd(e1000.ICR); icr != e1000.ICR_TXDW|e1000.ICR_TXQE {
		t.Fatalf("ICR %#x, want TXDW|TXQE", icr)
	}
	if r.rd(e1000.GPTC) != 3 || r.rd(e1000.BPTC) != 1 || r.rd(e1000.PTC64) != 1 || r.rd(e1000.PTC255) != 1 || r.rd(e1000.PTC1522) != 1 {
		t.Fatalf("transmit statistics wrong")
	}
	if got, want := r.rd(e1000.GOTCL), uint32(len(f1)+4+64+len(f3)+4); got != want {
		t.Fatalf("GOTC %d, want %d", got, want)
	}
	if c := r.dev.Counters(); c.TxZeroLength != 1 || c.TxDescriptors != 5 {
		t.Fatalf("counters %+v", c)
	}
}

func TestTxLegacyChecksumAndVLAN(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.setupTx(8, e1000.TCTL_PSP)
	r.wr(e1000.CTRL, r.rd(e1000.CTRL)|e1000.CTRL_VME)
	pkt := ipv4Packet(peerMAC, 17, pattern(77, 1))
	udp := pkt[34:]
	want := binary.BigEndian.Uint16(udp[6:])
	// The driver puts the pseudo-header sum (with length) in the field; IC
	// makes the device finish it from CSS to the end and store it at CSO.
	binary.BigEndian.PutUint16(udp[6:], pseudoSum(pkt[26:30], pkt[30:34], 17, make([]byte, len(udp))))
	i := r.txLegacy(pkt, e1000.TXD_CMD_EOP|e1000.TXD_CMD_IC|e1000.TXD_CMD_VLE|e1000.TXD_CMD_RS)
	d := e1000.TxDesc(r.txDesc(i))
	d.SetCSS(34)
	d.SetCSO(34 + 6)
	d.SetSpecial(0x0064)
	r.doorbell()
	f := r.link.frames[0]
	if len(f) != len(pkt)+4 || binary.BigEndian.Uint16(f[12:]) != 0x8100 || binary.BigEndian.Uint16(f[14:]) != 0x0064 {
		t.Fatalf("VLAN tag not inserted: % x", f[:18])
	}
	if got := binary.BigEndian.Uint16(f[4+34+6:]); got != want {
		t.Fatalf("UDP checksum %#04x, want %#04x", got, want)
	}
}

// ctxDesc builds a TCP/IP context descriptor.
func ctxDesc(ipcss, ipcso uint8, ipcse uint16, tucss, tucso uint8, tucse uint16, paylen uint32, tucmd, hdrlen uint8, mss uint16) []byte {
	b := make([]byte, 16)
	c := e1000.TxContextDesc(b)
	c.SetIPCSS(ipcss)
	c.SetIPCSO(ipcso)
	c.SetIPCSE(ipcse)
	c.SetTUCSS(tucss)
	c.SetTUCSO(tucso)
	c.SetTUCSE(tucse)
	c.SetTypeLen(paylen, tucmd)
	c.SetHDRLEN(hdrlen)
	c.SetMSS(mss)
	return b
}

// dataDesc builds a TCP/IP data descriptor for buffer i of the rig.
func (r *rig) dataDesc(i int, data []byte, dcmd, popts uint8) []byte {
	copy(r.txBufs[i].Bytes, data)
	b := make([]byte, 16)
	d := e1000.TxDataDesc(b)
	d.SetAddr(uint64(r.txBufs[i].Addr))
	d.SetTypeLen(uint32(len(data)), dcmd)
	d.SetPOPTS(popts)
	return b
}

func TestTxChecksumOffload(t *testing.T) {
	for _, proto := range []uint8{6, 17} {
		r := newRig(t, rigOpt{})
		r.setupTx(8, e1000.TCTL_PSP)
		pkt := ipv4Packet(peerMAC, proto, pattern(333, 7))
		l4 := pkt[34:]
		csumAt := 16
		tucmd := uint8(e1000.TXD_TUCMD_IP | e1000.TXD_TUCMD_TCP)
		if proto == 17 {
			csumAt = 6
			tucmd = e1000.TXD_TUCMD_IP
		}
		wantIP, wantL4 := binary.BigEndian.Uint16(pkt[24:]), binary.BigEndian.Uint16(l4[csumAt:])
		// As a driver does for CHECKSUM_PARTIAL: IP checksum zero, L4 field
		// seeded with the pseudo-header sum including the length.
		binary.BigEndian.PutUint16(pkt[24:], 0)
		binary.BigEndian.PutUint16(l4[csumAt:], 0)
		binary.BigEndian.PutUint16(l4[csumAt:], pseudoSum(pkt[26:30], pkt[30:34], proto, make([]byte, len(l4))))
		r.txRaw(ctxDesc(14, 24, 33, 34, uint8(34+csumAt), 0, 0, tucmd, 0, 0))
		half := len(pkt) / 2
		r.txRaw(r.dataDesc(1, pkt[:half], 0, e1000.TXD_POPTS_IXSM|e1000.TXD_POPTS_TXSM))
		r.txRaw(r.dataDesc(2, pkt[half:], e1000.TXD_CMD_EOP|e1000.TXD_CMD_RS, 0))
		r.doorbell()
		if len(r.link.frames) != 1 {
			t.Fatalf("proto %d: %d frames", proto, len(r.link.frames))
		}
		f := r.link.frames[0]
		if got := binary.BigEndian.Uint16(f[24:]); got != wantIP {
			t.Errorf("proto %d: IP checksum %#04x, want %#04x", proto, got, wantIP)
		}
		if got := binary.BigEndian.Uint16(f[34+csumAt:]); got != wantL4 {
			t.Errorf("proto %d: L4 checksum %#04x, want %#04x", proto, got, wantL4)
		}
		if e1000.TxDataDesc(r.txDesc(2)).Status()&e1000.TXD_STAT_DD == 0 {
			t.Errorf("proto %d: DD not written back", proto)
		}
	}
}

// tsoHeader is the header a driver hands to TSO: Ethernet, IPv4 with total
// length and checksum 0, TCP with timestamps and the checksum seeded with the
// pseudo-header sum without length.
func tsoHeader(flags uint8) []byte {
	h := make([]byte, 14+20+32)
	copy(h, peerMAC[:])
	copy(h[6:], testMAC[:])
	binary.BigEndian.PutUint16(h[12:], 0x0800)
	ip := h[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[4:], 0x4000) // IP ID
	ip[6] = 0x40
	ip[8] = 64
	ip[9] = 6
	copy(ip[12:], []byte{192, 168, 1, 10, 192, 168, 1, 20})
	tcp := h[34:]
	binary.BigEndian.PutUint16(tcp[0:], 40000)
	binary.BigEndian.PutUint16(tcp[2:], 5001)
	binary.BigEndian.PutUint32(tcp[4:], 0xFFFFF000) // wraps during the send
	binary.BigEndian.PutUint32(tcp[8:], 0x11223344)
	tcp[12] = 8 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 502)
	tcp[20], tcp[21], tcp[22] = 1, 1, 8 // NOP NOP TS
	tcp[23] = 10
	binary.BigEndian.PutUint32(tcp[24:], 123456)
	binary.BigEndian.PutUint32(tcp[28:], 654321)
	// The pseudo-header sum with a zero length: the seed Linux uses.
	binary.BigEndian.PutUint16(tcp[16:], pseudoSum(ip[12:16], ip[16:20], 6, nil))
	return h
}

// TestTSO64K: a 64 KiB TCP send cut into MSS segments whose headers and
// checksums gopacket (an independent decoder) and a plain RFC 1071 sum accept.
func TestTSO64K(t *testing.T) {
	const mss = 1448
	payload := pattern(65536, 11)
	hdr := tsoHeader(0x18 | 0x01) // ACK PSH FIN
	r := newRig(t, rigOpt{speed: 1_000_000_000})
	r.setupTx(32, e1000.TCTL_PSP)
	r.wr(e1000.IMS, e1000.ICR_TXDW)
	tucmd := uint8(e1000.TXD_TUCMD_TCP | e1000.TXD_TUCMD_IP | e1000.TXD_TUCMD_TSE)
	r.txRaw(ctxDesc(14, 24, 33, 34, 50, 0, uint32(len(payload)), tucmd, uint8(len(hdr)), mss))
	// Header plus the first 1000 payload bytes in one buffer (as an skb's
	// linear part), the rest in 4 KiB pieces.
	first := append(append([]byte(nil), hdr...), payload[:1000]...)
	r.txRaw(r.dataDesc(r.txTail, first, e1000.TXD_CMD_TSE, e1000.TXD_POPTS_IXSM|e1000.TXD_POPTS_TXSM))
	for off := 1000; off < len(payload); off += 4096 {
		end := min(off+4096, len(payload))
		dcmd := uint8(e1000.TXD_CMD_TSE)
		if end == len(payload) {
			dcmd |= e1000.TXD_CMD_EOP | e1000.TXD_CMD_RS
		}
		r.txRaw(r.dataDesc(r.txTail, payload[off:end], dcmd, 0))
	}
	last := (r.txTail + r.txN - 1) % r.txN
	r.doorbell()
	r.clk.RunFor(10 * time.Millisecond)

	nseg := (len(payload) + mss - 1) / mss
	if len(r.link.frames) != nseg {
		t.Fatalf("%d segments, want %d", len(r.link.frames), nseg)
	}
	if e1000.TxDataDesc(r.txDesc(last)).Status()&e1000.TXD_STAT_DD == 0 || r.rd(e1000.ICR)&e1000.ICR_TXDW == 0 {
		t.Fatalf("last descriptor not written back")
	}
	var got []byte
	for i, f := range r.link.frames {
		p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("segment %d: gopacket: %v", i, el.Error())
		}
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			t.Fatalf("segment %d: not IPv4/TCP", i)
		}
		seg := min(mss, len(payload)-i*mss)
		if int(ip.Length) != 20+32+seg || len(f) != 14+20+32+seg {
			t.Fatalf("segment %d: IP length %d, frame %d, want payload %d", i, ip.Length, len(f), seg)
		}
		if ip.Id != uint16(0x4000+i) {
			t.Fatalf("segment %d: IP ID %#x", i, ip.Id)
		}
		if want := uint32(0xFFFFF000) + uint32(i*mss); tcp.Seq != want {
			t.Fatalf("segment %d: seq %#x, want %#x", i, tcp.Seq, want)
		}
		isLast := i == nseg-1
		if tcp.PSH != isLast || tcp.FIN != isLast || !tcp.ACK || tcp.Ack != 0x11223344 {
			t.Fatalf("segment %d: PSH %v FIN %v ACK %v", i, tcp.PSH, tcp.FIN, tcp.ACK)
		}
		if len(tcp.Options) != 3 || tcp.Options[2].OptionType != layers.TCPOptionKindTimestamps {
			t.Fatalf("segment %d: options %v", i, tcp.Options)
		}
		// Checksums, by gopacket: recompute the IP header checksum by
		// serializing, and the TCP checksum over the segment with its field.
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		if c, err := tcp.ComputeChecksum(); err != nil || c != 0 {
			t.Fatalf("segment %d: gopacket TCP checksum residue %#x (%v)", i, c, err)
		}
		orig := ip.Checksum
		buf := gopacket.NewSerializeBuffer()
		if err := ip.SerializeTo(buf, gopacket.SerializeOptions{ComputeChecksums: true}); err != nil {
			t.Fatal(err)
		}
		if ip.Checksum != orig {
			t.Fatalf("segment %d: IP checksum %#04x, gopacket computes %#04x", i, orig, ip.Checksum)
		}
		// And by a plain RFC 1071 sum.
		if s := checksum.Checksum(f[14:34], 0); s != 0xFFFF {
			t.Fatalf("segment %d: IP header sums to %#04x", i, s)
		}
		if s := pseudoSum(f[26:30], f[30:34], 6, f[34:]); s != 0xFFFF {
			t.Fatalf("segment %d: TCP segment sums to %#04x", i, s)
		}
		got = append(got, tcp.Payload...)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("reassembled payload differs")
	}
	c := r.dev.Counters()
	if c.TxTSOPackets != 1 || c.TxTSOSegments != uint64(nseg) || c.TxTSOPaylenMismatch != 0 || r.rd(e1000.TSCTC) != 1 {
		t.Fatalf("counters %+v", c)
	}
	// Pacing: the wire never fell more than a TX FIFO (16 KiB) plus one
	// frame behind.
	limit := wire.WireTime(16384, 1e9) + wire.WireTime(1514, 1e9)
	if r.link.maxBacklog > limit {
		t.Fatalf("wire backlog reached %v, more than a TX FIFO (%v)", r.link.maxBacklog, limit)
	}
	if c.TxPaced == 0 {
		t.Fatalf("64 KiB at line rate never paused the DMA")
	}
}

func TestTSOUDPAndIPv6(t *testing.T) {
	// IPv6/TCP: payload length per segment, no IP ID or checksum.
	r := newRig(t, rigOpt{})
	r.setupTx(8, e1000.TCTL_PSP)
	h := make([]byte, 14+40+20)
	copy(h, peerMAC[:])
	binary.BigEndian.PutUint16(h[12:], 0x86DD)
	h[14] = 0x60
	h[14+6] = 6
	h[14+7] = 64
	for i := range 32 {
		h[14+8+i] = byte(i)
	}
	tcp := h[54:]
	tcp[12] = 5 << 4
	tcp[13] = 0x10
	payload := pattern(1000, 1)
	ph := append(append([]byte(nil), h[22:54]...), 0, 0, 0, 6)
	binary.BigEndian.PutUint16(tcp[16:], checksum.Checksum(ph, 0))
	r.txRaw(ctxDesc(14, 0, 0, 54, 54+16, 0, 1000, e1000.TXD_TUCMD_TCP|e1000.TXD_TUCMD_TSE, 74, 300))
	r.txRaw(r.dataDesc(1, append(append([]byte(nil), h...), payload...), e1000.TXD_CMD_TSE|e1000.TXD_CMD_EOP, e1000.TXD_POPTS_TXSM))
	r.doorbell()
	if len(r.link.frames) != 4 {
		t.Fatalf("%d segments, want 4", len(r.link.frames))
	}
	for i, f := range r.link.frames {
		p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		ip6, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		tl, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip6 == nil || tl == nil {
			t.Fatalf("segment %d not IPv6/TCP: %v", i, p.ErrorLayer())
		}
		if want := 20 + min(300, 1000-300*i); int(ip6.Length) != want {
			t.Fatalf("segment %d: payload length %d, want %d", i, ip6.Length, want)
		}
		if err := tl.SetNetworkLayerForChecksum(ip6); err != nil {
			t.Fatal(err)
		}
		if c, _ := tl.ComputeChecksum(); c != 0 {
			t.Fatalf("segment %d: TCP checksum residue %#x", i, c)
		}
	}
}

// TestTxHostile: every malformed request is bounded and counted, and the
// device keeps going with the next good packet.
func TestTxHostile(t *testing.T) {
	good := ethFrame(peerMAC, testMAC, 0x88B5, pattern(100, 0))
	tso := uint8(e1000.TXD_TUCMD_TCP | e1000.TXD_TUCMD_IP | e1000.TXD_TUCMD_TSE)
	for _, c := range []struct {
		name  string
		setup func(r *rig)
		check func(c Counters) bool
		sent  int // frames on the wire, including the good one at the end (-1: none expected, ring refused)
	}{
		{"TDH beyond the ring (CVE-2016-1981)", func(r *rig) {
			r.txLegacy(good, e1000.TXD_CMD_EOP)
			r.wr(e1000.TDH, 1000)
			r.doorbell()
		}, func(c Counters) bool { return c.TxBadRing == 1 && c.TxDescriptors == 0 }, -1},
		{"TDT beyond the ring", func(r *rig) {
			r.wr(e1000.TDT, 0x8000)
		}, func(c Counters) bool { return c.TxBadRing == 1 }, -1},
		{"TDLEN 0", func(r *rig) {
			r.txLegacy(good, e1000.TXD_CMD_EOP)
			r.wr(e1000.TDLEN, 0)
			r.doorbell()
		}, func(c Counters) bool { return c.TxBadRing == 1 && c.BadRingLength == 1 }, -1},
		{"ring outside DMA memory", func(r *rig) {
			r.txLegacy(good, e1000.TXD_CMD_EOP)
			r.wr(e1000.TDBAH, 7)
			r.doorbell()
		}, func(c Counters) bool { return c.TxDescFaults == 1 }, -1},
		{"buffer outside DMA memory", func(r *rig) {
			i := r.txLegacy(good, e1000.TXD_CMD_EOP|e1000.TXD_CMD_RS)
			e1000.TxDesc(r.txDesc(i)).SetAddr(0xDEAD0000)
			r.doorbell()
		}, func(c Counters) bool { return c.TxBufferFaults == 1 }, 1},
		{"zero-length packet", func(r *rig) {
			r.txLegacy(nil, e1000.TXD_CMD_EOP)
			r.doorbell()
		}, func(c Counters) bool { return c.TxEmptyPackets == 1 && c.TxZeroLength == 1 }, 1},
		{"never-ending chain", func(r *rig) {
			// 16 KiB buffers without EOP, ring after ring: each doorbell
			// is bounded by the ring, the packet by the maximum frame.
			for range 5 {
				for range r.txN - 1 {
					r.txLegacy(pattern(16000, 0), 0)
				}
				r.doorbell()
			}
			r.txLegacy(good, e1000.TXD_CMD_EOP) // ends the monster
			r.doorbell()
		}, func(c Counters) bool { return c.TxOversize == 1 && c.TxMaxRun <= 16 }, 1},
		{"TSO with MSS 0 (CVE-2021-20257)", func(r *rig) {
			hdr := tsoHeader(0x10)
			r.txRaw(ctxDesc(14, 24, 33, 34, 50, 0, 2000, tso, 66, 0))
			r.txRaw(r.dataDesc(r.txTail, append(hdr, pattern(2000, 1)...), e1000.TXD_CMD_TSE|e1000.TXD_CMD_EOP|e1000.TXD_CMD_RS, e1000.TXD_POPTS_TXSM|e1000.TXD_POPTS_IXSM))
			r.doorbell()
		}, func(c Counters) bool { return c.TxTSOInvalid == 1 }, 1},
		{"TSO header shorter than its offsets", func(r *rig) {
			r.txRaw(ctxDesc(14, 24, 33, 34, 50, 0, 2000, tso, 20, 1448))
			r.txRaw(r.dataDesc(r.txTail, pattern(2020, 1), e1000.TXD_CMD_TSE|e1000.TXD_CMD_EOP, e1000.TXD_POPTS_TXSM))
			r.doorbell()
		}, func(c Counters) bool { return c.TxTSOInvalid == 1 }, 1},
		{"TSO segment beyond the maximum frame", func(r *rig) {
			r.txRaw(ctxDesc(14, 24, 33, 34, 50, 0, 2000, tso, 66, 65535))
			r.txRaw(r.dataDesc(r.txTail, append(tsoHeader(0x10), pattern(2000, 1)...), e1000.TXD_CMD_TSE|e1000.TXD_CMD_EOP, 0))
			r.doorbell()
		}, func(c Counters) bool { return c.TxTSOInvalid == 1 }, 1},
		{"TSO header without payload", func(r *rig) {
			r.txRaw(ctxDesc(14, 24, 33, 34, 50, 0, 0, tso, 66, 1448))
			r.txRaw(r.dataDesc(r.txTail, tsoHeader(0x10), e1000.TXD_CMD_TSE|e1000.TXD_CMD_EOP, 0))
			r.doorbell()
		}, func(c Counters) bool { return c.TxTSOInvalid == 1 }, 1},
		{"checksum offset outside the packet", func(r *rig) {
			i := r.txLegacy(good, e1000.TXD_CMD_EOP|e1000.TXD_CMD_IC)
			e1000.TxDesc(r.txDesc(i)).SetCSO(250)
			r.doorbell()
		}, func(c Counters) bool { return c.TxBadChecksumOffsets == 1 }, 2},
		{"reserved descriptor type", func(r *rig) {
			b := make([]byte, 16)
			binary.LittleEndian.PutUint32(b[8:], 7<<20|uint32(e1000.TXD_CMD_DEXT|e1000.TXD_CMD_EOP)<<24)
			r.txRaw(b)
			r.doorbell()
		}, func(c Counters) bool { return c.TxBadDescType == 1 }, 1},
		{"bus mastering off", func(r *rig) {
			r.dev.ConfigWrite(pci.Command, 2, pci.CommandMemory)
			r.txLegacy(good, e1000.TXD_CMD_EOP)
			r.doorbell()
			if len(r.link.frames) != 0 {
				panic("sent without bus mastering")
			}
			r.dev.ConfigWrite(pci.Command, 2, pci.CommandMemory|pci.CommandBusMaster)
		}, func(c Counters) bool { return true }, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpt{})
			r.setupTx(16, e1000.TCTL_PSP)
			c.setup(r)
			ctr := r.dev.Counters()
			if !c.check(ctr) {
				t.Fatalf("counters %+v", ctr)
			}
			if c.sent < 0 {
				if len(r.link.frames) != 0 {
					t.Fatalf("sent %d frames through a refused ring", len(r.link.frames))
				}
				return
			}
			// The device goes on with the next good packet.
			r.txLegacy(good, e1000.TXD_CMD_EOP)
			r.doorbell()
			r.clk.RunFor(time.Millisecond)
			if len(r.link.frames) != c.sent || !bytes.Equal(r.link.frames[len(r.link.frames)-1], good) {
				t.Fatalf("%d frames sent, want %d ending with the good one", len(r.link.frames), c.sent)
			}
		})
	}
}

// TestTxPacing: a ring full of 1514-byte frames on a 1 Gb/s wire. The DMA
// runs at most a TX FIFO ahead of the wire and resumes by itself.
func TestTxPacing(t *testing.T) {
	r := newRig(t, rigOpt{speed: 1_000_000_000, arena: 8 << 20})
	r.setupTx(256, e1000.TCTL_PSP)
	f := ethFrame(peerMAC, testMAC, 0x88B5, pattern(1500, 0))
	for range 255 {
		r.txLegacy(f, e1000.TXD_CMD_EOP|e1000.TXD_CMD_RS)
	}
	r.doorbell()
	fifo := 16384
	perFrame := wire.WireTime(len(f), 1e9) // 12.304 µs
	if n := len(r.link.frames); n < fifo/1538 || n > fifo/1538+2 {
		t.Fatalf("%d frames fetched at once, want about a FIFO's worth (%d)", n, fifo/1538+1)
	}
	r.clk.RunFor(time.Duration(255) * perFrame)
	if len(r.link.frames) != 255 {
		t.Fatalf("%d frames sent after the wire time of 255", len(r.link.frames))
	}
	limit := time.Duration(fifo)*8 + perFrame
	if r.link.maxBacklog > limit {
		t.Fatalf("backlog %v beyond FIFO %v", r.link.maxBacklog, limit)
	}
	// Spacing: after the initial burst, frames leave at line rate.
	gap := r.link.times[200] - r.link.times[199]
	if gap != perFrame {
		t.Fatalf("steady-state gap %v, want %v", gap, perFrame)
	}
	if r.rd(e1000.TDH) != 255 {
		t.Fatalf("TDH %d", r.rd(e1000.TDH))
	}
}

func TestTxLinkDown(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.setupTx(16, e1000.TCTL_PSP)
	r.link.up = false
	r.dev.LinkChange(false)
	f := ethFrame(peerMAC, testMAC, 0x88B5, pattern(100, 0))
	r.txLegacy(f, e1000.TXD_CMD_EOP)
	r.doorbell()
	if len(r.link.frames) != 0 || r.rd(e1000.TDH) != 0 {
		t.Fatalf("transmitted with the link down")
	}
	r.link.up = true
	r.dev.LinkChange(true)
	r.clk.RunFor(DefaultAutonegDelay)
	if len(r.link.frames) != 1 {
		t.Fatalf("pending frame not sent after link up")
	}
}
