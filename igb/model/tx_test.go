package model

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
)

// testLink records what the device transmits.
type testLink struct{ frames [][]byte }

func (l *testLink) Up() bool { return true }

func (l *testLink) Transmit(f []byte) (time.Duration, bool) {
	l.frames = append(l.frames, append([]byte(nil), f...))
	return 0, true
}

// txRig is an rxRig with a transmit ring on queue 0 and a test link.
type txRig struct {
	*rxRig
	link *testLink
	ring dma.Region
	n    int
	tail int
}

func newTxRig(t testing.TB, n int) *txRig { return newTxRigP(t, ProfileDatasheet, n) }

// newTxRigP is newTxRig on profile p.
func newTxRigP(t testing.TB, p Profile, n int) *txRig {
	r := &txRig{rxRig: newRxRigP(t, p, 0), link: &testLink{}, n: n}
	r.dev.Connect(r.link)
	r.clk.RunFor(r.autoneg() + DefaultAutonegDelay)
	r.ring = r.alloc(n * igb.DescSize)
	r.wr(igb.TDBAL(0), uint32(r.ring.Addr))
	r.wr(igb.TDBAH(0), uint32(uint64(r.ring.Addr)>>32))
	r.wr(igb.TDLEN(0), uint32(n*igb.DescSize))
	r.wr(igb.TDH(0), 0)
	r.wr(igb.TDT(0), 0)
	r.wr(igb.TXDCTL(0), igb.XDCTL_ENABLE)
	r.wr(igb.TCTL, igb.TCTL_EN|igb.TCTL_PSP)
	return r
}

func (r *txRig) desc(i int) []byte { return r.ring.Bytes[16*(i%r.n) : 16*(i%r.n)+16] }

// ctx posts a context descriptor.
func (r *txRig) ctx(vlan uint16, maclen, iplen int, tucmd uint32, mss, l4len, idx int) {
	igb.TxContext(r.desc(r.tail)).Set(vlan, maclen, iplen, tucmd, mss, l4len, idx)
	r.tail++
}

// data posts data descriptors for pkt cut into pieces of at most chunk
// bytes: the first carries paylen/popts/idx, the last EOP|RS; dcmd goes on
// every one (as Linux's igb_tx_map).
func (r *txRig) data(pkt []byte, chunk int, dcmd, paylen, popts uint32, idx int) {
	for off := 0; off < len(pkt); off += chunk {
		end := min(off+chunk, len(pkt))
		buf := r.alloc(end - off)
		copy(buf.Bytes, pkt[off:end])
		cmd := dcmd | igb.TXD_DCMD_IFCS
		if end == len(pkt) {
			cmd |= igb.TXD_DCMD_EOP | igb.TXD_DCMD_RS
		}
		igb.TxData(r.desc(r.tail)).Set(uint64(buf.Addr), uint16(end-off), cmd, paylen, popts, idx)
		r.tail++
	}
}

func (r *txRig) doorbell() { r.wr(igb.TDT(0), uint32(r.tail%r.n)) }

// partial makes a TCP frame as Linux hands it for CHECKSUM_PARTIAL: IPv4
// header checksum 0, the TCP checksum field seeded with the pseudo-header
// sum (with length for plain offload, without for TSO, as igb_tso does).
func partial(payload int, tso bool) []byte {
	f := tcpFrame(peerMAC, [4]byte{10, 0, 0, 2}, [4]byte{10, 0, 0, 1}, 4000, 80, payload)
	ip := header.IPv4(f[header.EthernetMinSize:])
	ip.SetChecksum(0)
	tcp := header.TCP(ip[header.IPv4MinSize:])
	l := uint16(len(tcp))
	if tso {
		l = 0
	}
	tcp.SetChecksum(ip.PseudoHeaderChecksum(l))
	return f
}

// validTCP checks a transmitted frame with an independent decoder,
// gopacket: it must decode as Ethernet/IPv4/TCP, the IPv4 total length
// must cover the frame, and the IPv4 and TCP checksums must equal what
// gopacket computes for the same headers and payload.
func validTCP(t *testing.T, f []byte) (seq uint32, payload int) {
	t.Helper()
	pkt := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if ip == nil || tcp == nil || pkt.ErrorLayer() != nil {
		t.Fatalf("gopacket cannot decode the frame: %v", pkt.ErrorLayer())
	}
	if int(ip.Length) != len(f)-header.EthernetMinSize {
		t.Fatalf("IPv4 total length %d of %d", ip.Length, len(f)-header.EthernetMinSize)
	}
	ip2, tcp2 := *ip, *tcp
	if err := tcp2.SetNetworkLayerForChecksum(&ip2); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, &ip2, &tcp2, gopacket.Payload(tcp.Payload)); err != nil {
		t.Fatal(err)
	}
	ref := gopacket.NewPacket(buf.Bytes(), layers.LayerTypeIPv4, gopacket.Default)
	rip := ref.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	rtcp := ref.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if ip.Checksum != rip.Checksum || tcp.Checksum != rtcp.Checksum {
		t.Fatalf("checksums IPv4 %#04x TCP %#04x, gopacket computes %#04x and %#04x", ip.Checksum, tcp.Checksum, rip.Checksum, rtcp.Checksum)
	}
	return tcp.Seq, len(tcp.Payload)
}

// TestTxChecksum: a context (MACLEN 14, IPLEN 20, IPv4/TCP) and data
// descriptors with IXSM|TXSM send the frame with both checksums filled in;
// DD is written back on the RS descriptor, TDH reaches TDT, GPTC and the
// queue's PQGPTC count it, and the queue's transmit cause reaches the
// vector of its IVAR byte.
func TestTxChecksum(t *testing.T) {
	r := newTxRig(t, 16)
	r.msixOn(0, 2)
	r.wr(igb.IVAR(0), (2|igb.IVAR_VALID)<<8) // TX0 -> vector 2
	r.wr(igb.EIMS, 1<<2)
	pkt := partial(300, false)
	r.ctx(0, 14, 20, igb.TXCTX_TUCMD_IPV4|igb.TXCTX_TUCMD_L4T_TCP, 0, 0, 0)
	r.data(pkt, 128, 0, uint32(len(pkt)), igb.TXD_POPTS_IXSM|igb.TXD_POPTS_TXSM, 0)
	r.doorbell()
	if len(r.link.frames) != 1 || len(r.link.frames[0]) != len(pkt) {
		t.Fatalf("%d frames sent", len(r.link.frames))
	}
	validTCP(t, r.link.frames[0])
	if !bytes.Equal(r.link.frames[0][54:], pkt[54:]) {
		t.Fatalf("payload changed")
	}
	last := r.tail - 1
	if !igb.TxData(r.desc(last)).DD() || igb.TxData(r.desc(last-1)).DD() {
		t.Fatalf("DD: last %v, the one before %v", igb.TxData(r.desc(last)).DD(), igb.TxData(r.desc(last-1)).DD())
	}
	if r.rd(igb.TDH(0)) != uint32(r.tail) || r.rd(igb.GPTC) != 1 || r.rd(igb.PQGPTC(0)) != 1 || r.sink.count(2) != 1 {
		t.Fatalf("TDH %d GPTC %d PQGPTC %d messages %d", r.rd(igb.TDH(0)), r.rd(igb.GPTC), r.rd(igb.PQGPTC(0)), r.sink.count(2))
	}
}

// TestTxTSO: a TSO context (MSS 1000, L4LEN 20) and a 3000-byte payload in
// three buffers become three segments, each checked by an independent
// decoder (IPv4 and TCP checksums, lengths), sequence numbers advancing by
// the payload; TSCTC counts the context. With head write-back, TDH lands at
// the TDWBAL address and no DD is written. Both profiles.
func TestTxTSO(t *testing.T) {
	for _, p := range profiles {
		testTxTSO(t, p)
	}
}

func testTxTSO(t *testing.T, p Profile) {
	r := newTxRigP(t, p, 16)
	wb := r.alloc(64)
	r.wr(igb.TDWBAL(0), uint32(wb.Addr)|igb.TDWBAL_HEAD_WB_EN)
	r.wr(igb.TDWBAH(0), uint32(uint64(wb.Addr)>>32))
	pkt := partial(3000, true)
	r.ctx(0, 14, 20, igb.TXCTX_TUCMD_IPV4|igb.TXCTX_TUCMD_L4T_TCP, 1000, 20, 1)
	r.data(pkt, 1100, igb.TXD_DCMD_TSE, 3000, igb.TXD_POPTS_IXSM|igb.TXD_POPTS_TXSM, 1)
	r.doorbell()
	if len(r.link.frames) != 3 {
		t.Fatalf("%d segments, want 3 (counters %+v)", len(r.link.frames), r.dev.Counters())
	}
	seq0 := header.TCP(pkt[34:]).SequenceNumber()
	total := 0
	for i, f := range r.link.frames {
		seq, n := validTCP(t, f)
		if seq != seq0+uint32(total) || n != 1000 || len(f) > 14+20+20+1000 {
			t.Fatalf("segment %d: seq %d payload %d length %d", i, seq-seq0, n, len(f))
		}
		total += n
	}
	if r.rd(igb.TSCTC) != 1 {
		t.Fatalf("TSCTC %d", r.rd(igb.TSCTC))
	}
	if got := binary.LittleEndian.Uint32(wb.Bytes); got != uint32(r.tail) || got != r.rd(igb.TDH(0)) {
		t.Fatalf("head write-back %d, TDH %d, want %d", got, r.rd(igb.TDH(0)), r.tail)
	}
	if igb.TxData(r.desc(r.tail - 1)).DD() {
		t.Fatalf("DD written with head write-back on")
	}
}

// TestTxVLAN: DCMD.VLE inserts the context's VLAN tag after the addresses;
// TCTL.PSP pads a short frame to 60 bytes with zeros.
func TestTxVLAN(t *testing.T) {
	r := newTxRig(t, 8)
	pkt := partial(10, false)
	r.ctx(0x0123, 14, 20, igb.TXCTX_TUCMD_IPV4|igb.TXCTX_TUCMD_L4T_TCP, 0, 0, 0)
	r.data(pkt, 2048, igb.TXD_DCMD_VLE, uint32(len(pkt)), 0, 0)
	r.doorbell()
	if len(r.link.frames) != 1 {
		t.Fatalf("%d frames", len(r.link.frames))
	}
	f := r.link.frames[0]
	if binary.BigEndian.Uint16(f[12:]) != 0x8100 || binary.BigEndian.Uint16(f[14:]) != 0x0123 ||
		!bytes.Equal(f[:12], pkt[:12]) || !bytes.Equal(f[16:], pkt[12:]) {
		t.Fatalf("tagged frame % x", f[:20])
	}
	short := partial(0, false)[:42] // 14 + 20 + 8 bytes: a runt
	r.ctx(0, 14, 20, igb.TXCTX_TUCMD_IPV4, 0, 0, 0)
	r.data(short, 2048, 0, uint32(len(short)), 0, 0)
	r.doorbell()
	if len(r.link.frames) != 2 || len(r.link.frames[1]) != 60 || !bytes.Equal(r.link.frames[1][:42], short) ||
		!bytes.Equal(r.link.frames[1][42:], make([]byte, 18)) {
		t.Fatalf("short frame sent as % x", r.link.frames[len(r.link.frames)-1])
	}
}

// TestTxHostile: what a hostile driver posts is bounded and counted: a bad
// ring length or index runs nothing, a TSO context hw/offload refuses (MSS
// 0) drops its packet, a buffer outside memory drops its packet, a packet
// that never ends is dropped once it outgrows the model's limit, legacy
// descriptors are skipped; one doorbell consumes at most the ring.
func TestTxHostile(t *testing.T) {
	pkt := partial(100, false)
	cases := []struct {
		name string
		post func(r *txRig)
		ctr  func(c Counters) uint64
	}{
		{"ring length", func(r *txRig) { r.wr(igb.TDLEN(0), 100); r.data(pkt, 2048, 0, 0, 0, 0) }, func(c Counters) uint64 { return c.TxBadRing }},
		{"head beyond ring", func(r *txRig) { r.wr(igb.TDH(0), 99); r.data(pkt, 2048, 0, 0, 0, 0) }, func(c Counters) uint64 { return c.TxBadIndex }},
		{"TSO MSS 0", func(r *txRig) {
			r.ctx(0, 14, 20, igb.TXCTX_TUCMD_IPV4|igb.TXCTX_TUCMD_L4T_TCP, 0, 20, 0)
			r.data(pkt, 2048, igb.TXD_DCMD_TSE, 100, 0, 0)
		}, func(c Counters) uint64 { return c.TxBadTSO }},
		{"buffer outside memory", func(r *txRig) {
			igb.TxData(r.desc(r.tail)).Set(0x7F00000000, 100, igb.TXD_DCMD_EOP|igb.TXD_DCMD_RS, 100, 0, 0)
			r.tail++
		}, func(c Counters) uint64 { return c.TxDropped }},
		{"legacy descriptor", func(r *txRig) {
			binary.LittleEndian.PutUint32(r.desc(r.tail)[8:], 60|1<<24|1<<27) // EOP|RS, DEXT clear
			r.tail++
		}, func(c Counters) uint64 { return c.TxLegacyDesc }},
	}
	for _, c := range cases {
		r := newTxRig(t, 8)
		c.post(r)
		r.doorbell()
		if got := c.ctr(r.dev.Counters()); got != 1 || len(r.link.frames) != 0 {
			t.Errorf("%s: counter %d, %d frames sent; want 1 and none", c.name, got, len(r.link.frames))
		}
	}

	// A packet that never ends: 4 KiB descriptors without EOP, ring after
	// ring, until it outgrows maxTxPacket; then EOP drops it.
	r := newTxRig(t, 32)
	big := r.alloc(4096)
	for range 40 {
		for range 31 {
			igb.TxData(r.desc(r.tail)).Set(uint64(big.Addr), 4096, 0, 0, 0, 0)
			r.tail++
		}
		r.doorbell()
	}
	igb.TxData(r.desc(r.tail)).Set(uint64(big.Addr), 4096, igb.TXD_DCMD_EOP, 0, 0, 0)
	r.tail++
	r.doorbell()
	if c := r.dev.Counters(); c.TxTooLong != 1 || c.TxDropped != 1 || len(r.link.frames) != 0 {
		t.Fatalf("endless packet: too long %d, dropped %d, frames %d", c.TxTooLong, c.TxDropped, len(r.link.frames))
	}
}

// BenchmarkModelTX is the model's transmit path for one 64-byte frame per
// doorbell with IPv4 and TCP checksum insertion: descriptor fetch, gather,
// offloads, the wire, DD write-back, statistics. It allocates nothing.
func BenchmarkModelTX(b *testing.B) {
	r := &txRig{rxRig: newRxRig(b, 0), n: 256}
	link := &countLink{}
	r.dev.Connect(link)
	r.clk.RunFor(2 * DefaultAutonegDelay)
	r.ring = r.alloc(r.n * igb.DescSize)
	r.wr(igb.TDBAL(0), uint32(r.ring.Addr))
	r.wr(igb.TDBAH(0), uint32(uint64(r.ring.Addr)>>32))
	r.wr(igb.TDLEN(0), uint32(r.n*igb.DescSize))
	r.wr(igb.TXDCTL(0), igb.XDCTL_ENABLE)
	r.wr(igb.TCTL, igb.TCTL_EN|igb.TCTL_PSP)
	pkt := partial(6, false)
	buf := r.alloc(len(pkt))
	copy(buf.Bytes, pkt)
	r.ctx(0, 14, 20, igb.TXCTX_TUCMD_IPV4|igb.TXCTX_TUCMD_L4T_TCP, 0, 0, 0)
	r.doorbell()
	b.ReportAllocs()
	for b.Loop() {
		igb.TxData(r.desc(r.tail)).Set(uint64(buf.Addr), uint16(len(pkt)), igb.TXD_DCMD_EOP|igb.TXD_DCMD_RS|igb.TXD_DCMD_IFCS,
			uint32(len(pkt)), igb.TXD_POPTS_IXSM|igb.TXD_POPTS_TXSM, 0)
		r.tail++
		r.doorbell()
	}
	if link.n == 0 || r.dev.Counters().TxFrames != uint64(link.n) {
		b.Fatalf("%d frames on the link, %d counted", link.n, r.dev.Counters().TxFrames)
	}
}

// countLink counts what the device transmits.
type countLink struct{ n int }

func (l *countLink) Up() bool                                { return true }
func (l *countLink) Transmit(f []byte) (time.Duration, bool) { l.n++; return 0, true }

// arrivals is a wire endpoint that records when frames arrive.
type arrivals struct {
	clk *kernelmodel.Clock
	at  []time.Duration
}

func (a *arrivals) Receive([]byte)  { a.at = append(a.at, a.clk.Now()) }
func (a *arrivals) LinkChange(bool) {}

// TestTxPacing, on both profiles: 200 frames of 1514 bytes posted at once
// on a 1 Gb/s cable (12.304 µs each with FCS, preamble and gap). The
// device runs at most TXPBS (40 KB, 27 such frames) of line time ahead of
// the wire: descriptors complete as the wire frees room, the last one
// about 40 KB of line time before the last frame has left, and frames
// leave back to back.
func TestTxPacing(t *testing.T) {
	const frames, size = 200, 1514
	frameTime := wire.WireTime(size, 1_000_000_000)
	for _, p := range profiles {
		r := newTxRigP(t, p, 256)
		peer := &arrivals{clk: r.clk}
		cable := wire.NewCable(r.clk, wire.CableConfig{SpeedBPS: 1_000_000_000})
		la, _ := cable.Attach(r.dev.Port(), peer)
		r.dev.Connect(la)
		r.clk.RunFor(r.autoneg() + time.Millisecond)
		start := r.clk.Now()
		pkt := partial(size-54, false)
		for range frames {
			r.data(pkt, 2048, 0, size, 0, 0)
		}
		r.doorbell()
		head := func() int { return int(r.rd(igb.TDH(0))) }
		// The frames that fit in 40 KB of line time, and the one that
		// overshoots it.
		ahead := int(time.Duration(igb.TXPBS_RESET<<10)*byteTime/frameTime) + 1
		if h := head(); h < ahead || h > ahead+1 {
			t.Fatalf("%v: TDH %d right after the doorbell, want about %d", p, h, ahead)
		}
		r.clk.RunUntil(start + time.Millisecond)
		onWire := int(time.Millisecond / frameTime)
		if h := head(); h < onWire+ahead-1 || h > onWire+ahead+2 {
			t.Fatalf("%v: TDH %d at 1 ms, want about %d", p, h, onWire+ahead)
		}
		r.clk.RunUntil(start + 5*time.Millisecond)
		if head() != frames || len(peer.at) != frames {
			t.Fatalf("%v: TDH %d, %d frames arrived", p, head(), len(peer.at))
		}
		last := peer.at[frames-1] - start
		if want := frames * frameTime; last < want || last > want+frameTime {
			t.Fatalf("%v: last frame arrived at %v, want %v", p, last, want)
		}
		if c := r.dev.Counters(); c.TxPaced == 0 {
			t.Fatalf("%v: TxPaced %d", p, c.TxPaced)
		}
	}
}
