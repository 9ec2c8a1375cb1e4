package model

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/rss"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// checksumOf is the Internet checksum sum of b (not complemented).
func checksumOf(b []byte, initial uint16) uint16 { return checksum.Checksum(b, initial) }

var peerMAC = [6]byte{0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF}

// rxQueue is one receive ring the test set up.
type rxQueue struct {
	ring dma.Region
	bufs []dma.Region
	n    int
}

// rxRig is a rig with link up, the receiver enabled and rings on queues.
type rxRig struct {
	*rig
	q map[int]*rxQueue
}

func newRxRig(t testing.TB, rctl uint32) *rxRig { return newRxRigP(t, ProfileDatasheet, rctl) }

// newRxRigP is newRxRig on profile p.
func newRxRigP(t testing.TB, p Profile, rctl uint32) *rxRig {
	r := &rxRig{rig: newRigCfg(t, 8<<20, p, nil), q: map[int]*rxQueue{}}
	r.dev.LinkChange(true)
	r.clk.RunFor(r.autoneg() + DefaultAutonegDelay)
	if r.rd(igb.STATUS)&igb.STATUS_LU == 0 {
		t.Fatalf("no link")
	}
	r.wr(igb.RCTL, igb.RCTL_EN|igb.RCTL_BAM|igb.RCTL_SECRC|rctl)
	return r
}

func (r *rxRig) alloc(n int) dma.Region {
	reg, err := r.arena.Alloc(n, 128)
	if err != nil {
		r.t.Fatal(err)
	}
	return reg
}

// setup makes queue q's ring of n descriptors with buffers of bufKiB KiB,
// gives the device n-1 of them, and enables the queue.
func (r *rxRig) setup(q, n, bufKiB int) *rxQueue {
	rq := &rxQueue{ring: r.alloc(n * igb.DescSize), n: n}
	for i := range n {
		b := r.alloc(bufKiB << 10)
		rq.bufs = append(rq.bufs, b)
		igb.RxRead(rq.ring.Bytes[16*i:]).SetPktAddr(uint64(b.Addr))
	}
	r.wr(igb.RDBAL(q), uint32(rq.ring.Addr))
	r.wr(igb.RDBAH(q), uint32(uint64(rq.ring.Addr)>>32))
	r.wr(igb.RDLEN(q), uint32(n*igb.DescSize))
	r.wr(igb.RDH(q), 0)
	r.wr(igb.SRRCTL(q), uint32(bufKiB)|igb.SRRCTL_DESCTYPE_ADV1)
	r.wr(igb.RXDCTL(q), igb.XDCTL_ENABLE)
	r.wr(igb.RDT(q), uint32(n-1))
	r.q[q] = rq
	return rq
}

func (rq *rxQueue) wb(i int) igb.RxWB { return igb.RxWB(rq.ring.Bytes[16*i : 16*i+16]) }

// ipv4Frame is an Ethernet/IPv4 frame from the peer to dst carrying l4
// bytes of protocol proto (zeroed), IPv4 header checksum correct.
func ipv4Frame(dst [6]byte, src, dstIP [4]byte, proto uint8, l4 int) (frame []byte, ip header.IPv4) {
	b := make([]byte, header.EthernetMinSize+header.IPv4MinSize+l4)
	eth := header.Ethernet(b)
	eth.SetDestination(dst)
	eth.SetSource(peerMAC)
	eth.SetType(header.EtherTypeIPv4)
	ip = header.IPv4(b[header.EthernetMinSize:])
	ip.SetVersionIHL(header.IPv4MinSize)
	ip.SetTotalLength(uint16(len(b) - header.EthernetMinSize))
	ip.SetID(0x1234)
	ip.SetTTL(64)
	ip.SetProtocol(proto)
	ip.SetSource(src)
	ip.SetDestination(dstIP)
	ip.SetChecksum(ip.CalculateChecksum())
	return b, ip
}

// tcpFrame is an Ethernet/IPv4/TCP frame from the peer to dst with
// payload bytes of payload, checksums correct.
func tcpFrame(dst [6]byte, src, dstIP [4]byte, sport, dport uint16, payload int) []byte {
	b, ip := ipv4Frame(dst, src, dstIP, header.ProtocolTCP, header.TCPMinSize+payload)
	tcp := header.TCP(ip[header.IPv4MinSize:])
	tcp.SetSourcePort(sport)
	tcp.SetDestinationPort(dport)
	tcp.SetDataOffset(header.TCPMinSize)
	for i := range payload {
		tcp[header.TCPMinSize+i] = byte(i * 7)
	}
	tcp.SetChecksum(^checksumOf(tcp, ip.PseudoHeaderChecksum(uint16(len(tcp)))))
	return b
}

// TestRxOneBuffer: a TCP frame lands in queue 0's first descriptor:
// buffer bytes equal to the frame, write-back DD|EOP|IPCS|L4I, length,
// packet type IPv4+TCP, IP ID in dword 1 (RXCSUM.PCSD clear); RDH moves
// on; GPRC and the queue's PQGPRC count it; its receive cause reaches the
// vector IVAR names.
func TestRxOneBuffer(t *testing.T) {
	r := newRxRig(t, 0)
	rq := r.setup(0, 8, 2)
	r.msixOn(0, 3)
	r.wr(igb.IVAR(0), 3|igb.IVAR_VALID)
	r.wr(igb.EIMS, 1<<3)
	f := tcpFrame(testMAC, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1000, 80, 100)
	r.dev.Receive(f)
	wb := rq.wb(0)
	st := wb.StatusError()
	if want := uint32(igb.RXD_STAT_DD | igb.RXD_STAT_EOP | igb.RXD_STAT_IPCS | igb.RXD_STAT_L4I); st != want {
		t.Fatalf("status %#x, want %#x", st, want)
	}
	if int(wb.Length()) != len(f) || !bytes.Equal(rq.bufs[0].Bytes[:len(f)], f) {
		t.Fatalf("length %d of %d, bytes differ: %v", wb.Length(), len(f), !bytes.Equal(rq.bufs[0].Bytes[:len(f)], f))
	}
	if wb.PacketType() != igb.PKTTYPE_IPV4|igb.PKTTYPE_TCP || wb.RSSType() != igb.RSSTypeNone || wb.IPID() != 0x1234 {
		t.Fatalf("packet type %#x, RSS type %d, IP ID %#x", wb.PacketType(), wb.RSSType(), wb.IPID())
	}
	if r.rd(igb.RDH(0)) != 1 || r.rd(igb.GPRC) != 1 || r.rd(igb.PQGPRC(0)) != 1 || r.rd(igb.TPR) != 1 {
		t.Fatalf("RDH %d GPRC %d PQGPRC0 %d", r.rd(igb.RDH(0)), r.rd(igb.GPRC), r.rd(igb.PQGPRC(0)))
	}
	if r.rd(igb.GORCL) != uint32(len(f)+4) || r.rd(igb.PRC127+4) != 1 {
		t.Fatalf("GORC %d, size bins wrong", r.rd(igb.GORCL))
	}
	if r.sink.count(3) != 1 {
		t.Fatalf("%d messages on vector 3", r.sink.count(3))
	}
	// Another station's unicast is filtered; broadcast (BAM) passes.
	r.dev.Receive(tcpFrame(peerMAC, [4]byte{1, 1, 1, 1}, [4]byte{2, 2, 2, 2}, 1, 2, 0))
	bc := tcpFrame([6]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, [4]byte{1, 1, 1, 1}, [4]byte{2, 2, 2, 2}, 1, 2, 0)
	r.dev.Receive(bc)
	if r.rd(igb.RDH(0)) != 2 || r.dev.Counters().RxFiltered != 1 || r.rd(igb.BPRC) != 1 {
		t.Fatalf("filter: RDH %d, filtered %d, BPRC %d", r.rd(igb.RDH(0)), r.dev.Counters().RxFiltered, r.rd(igb.BPRC))
	}
}

// TestRxRSS: with MRQC's RSS and the Microsoft key in RSSRK, each of the
// published IPv4/TCP rows lands in the queue RETA[hash & 127] names, with
// the published hash and RSS type IPv4/TCP in its write-back (RXCSUM.PCSD
// set). Changing RETA moves the flow.
func TestRxRSS(t *testing.T) {
	r := newRxRig(t, 0)
	for q := range 4 {
		r.setup(q, 16, 2)
	}
	for n := range igb.NumRSSRK {
		r.wr(igb.RSSRKReg(n), binary.LittleEndian.Uint32(rss.MicrosoftKey[4*n:]))
	}
	var tbl [igb.RETAWidth]uint8
	for i := range tbl {
		tbl[i] = uint8(i % 4)
	}
	writeRETA := func() {
		for n := range igb.NumRETA {
			r.wr(igb.RETAReg(n), uint32(tbl[4*n])|uint32(tbl[4*n+1])<<8|uint32(tbl[4*n+2])<<16|uint32(tbl[4*n+3])<<24)
		}
	}
	writeRETA()
	r.wr(igb.MRQC, igb.MRQC_ENABLE_RSS|igb.MRQC_RSS_FIELD_IPV4|igb.MRQC_RSS_FIELD_IPV4_TCP|igb.MRQC_RSS_FIELD_IPV4_UDP)
	r.wr(igb.RXCSUM, igb.RXCSUM_IPOFLD|igb.RXCSUM_TUOFLD|igb.RXCSUM_PCSD)
	next := map[int]int{}
	for _, v := range rss.Verification {
		r.dev.Receive(tcpFrame(testMAC, v.Src, v.Dst, v.SrcPort, v.DstPort, 10))
		q := int(tbl[v.IPv4TCP&127])
		wb := r.q[q].wb(next[q])
		if wb.StatusError()&igb.RXD_STAT_DD == 0 {
			t.Fatalf("%v:%d: not in queue %d", v.Src, v.SrcPort, q)
		}
		if wb.RSSHash() != v.IPv4TCP || wb.RSSType() != igb.RSSTypeIPv4TCP {
			t.Fatalf("%v:%d: hash %#08x type %d, want %#08x", v.Src, v.SrcPort, wb.RSSHash(), wb.RSSType(), v.IPv4TCP)
		}
		next[q]++
	}
	// Point the first row's entry at queue 3 instead.
	v := rss.Verification[0]
	tbl[v.IPv4TCP&127] = 3
	writeRETA()
	r.rd(igb.PQGPRC(3)) // read to clear
	r.dev.Receive(tcpFrame(testMAC, v.Src, v.Dst, v.SrcPort, v.DstPort, 10))
	if r.rd(igb.PQGPRC(3)) != 1 {
		t.Fatalf("RETA change did not move the flow to queue 3")
	}
}

// TestRxMultiBuffer: a frame longer than a buffer spans descriptors, EOP
// only on the last, lengths adding up, bytes in order.
func TestRxMultiBuffer(t *testing.T) {
	r := newRxRig(t, igb.RCTL_LPE)
	rq := r.setup(0, 8, 1)
	f := tcpFrame(testMAC, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 2, 2946) // 3000 bytes
	r.dev.Receive(f)
	var got []byte
	for i, want := range []int{1024, 1024, 952} {
		wb := rq.wb(i)
		eop := wb.StatusError()&igb.RXD_STAT_EOP != 0
		if int(wb.Length()) != want || eop != (i == 2) || wb.StatusError()&igb.RXD_STAT_DD == 0 {
			t.Fatalf("descriptor %d: length %d EOP %v", i, wb.Length(), eop)
		}
		got = append(got, rq.bufs[i].Bytes[:want]...)
	}
	if !bytes.Equal(got, f) || r.rd(igb.RDH(0)) != 3 {
		t.Fatalf("bytes differ or RDH %d", r.rd(igb.RDH(0)))
	}
}

// TestRxOffloads: a bad IPv4 header checksum sets IPE, a bad TCP checksum
// L4E, a UDP datagram UDPCS; CTRL.VME strips a tag into the write-back
// with VP; without RCTL.SECRC the CRC is stored.
func TestRxOffloads(t *testing.T) {
	r := newRxRig(t, 0)
	rq := r.setup(0, 16, 2)
	f := tcpFrame(testMAC, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 2, 20)
	bad := append([]byte(nil), f...)
	bad[header.EthernetMinSize+10] ^= 0xFF // IP checksum
	r.dev.Receive(bad)
	bad = append([]byte(nil), f...)
	bad[len(bad)-1] ^= 0xFF // payload: TCP checksum
	r.dev.Receive(bad)
	if st := rq.wb(0).StatusError(); st&igb.RXD_ERR_IPE == 0 || st&igb.RXD_ERR_L4E != 0 {
		t.Fatalf("bad IP checksum: status %#x", st)
	}
	if st := rq.wb(1).StatusError(); st&igb.RXD_ERR_L4E == 0 || st&igb.RXD_ERR_IPE != 0 || st&igb.RXD_STAT_L4I == 0 {
		t.Fatalf("bad TCP checksum: status %#x", st)
	}
	// UDP.
	u := udpFrame(testMAC)
	r.dev.Receive(u)
	if st := rq.wb(2).StatusError(); st&igb.RXD_STAT_UDPCS == 0 || st&igb.RXD_STAT_L4I != 0 || st&igb.RXD_ERR_L4E != 0 {
		t.Fatalf("UDP: status %#x", st)
	}
	// VLAN strip.
	r.wr(igb.CTRL, r.rd(igb.CTRL)|igb.CTRL_VME)
	tagged := append(append(append([]byte(nil), f[:12]...), 0x81, 0x00, 0x20, 0x05), f[12:]...)
	r.dev.Receive(tagged)
	wb := rq.wb(3)
	if wb.StatusError()&igb.RXD_STAT_VP == 0 || wb.VLAN() != 0x2005 || int(wb.Length()) != len(f) || !bytes.Equal(rq.bufs[3].Bytes[:len(f)], f) {
		t.Fatalf("VLAN strip: status %#x vlan %#x length %d", wb.StatusError(), wb.VLAN(), wb.Length())
	}
	// CRC kept.
	r.wr(igb.RCTL, igb.RCTL_EN|igb.RCTL_BAM)
	r.dev.Receive(f)
	if wb := rq.wb(4); int(wb.Length()) != len(f)+4 {
		t.Fatalf("without SECRC: length %d, want %d", wb.Length(), len(f)+4)
	}
}

// udpFrame is a small Ethernet/IPv4/UDP frame to dst, checksums correct.
func udpFrame(dst [6]byte) []byte {
	b, ip := ipv4Frame(dst, [4]byte{10, 0, 0, 9}, [4]byte{10, 0, 0, 2}, header.ProtocolUDP, header.UDPSize+4)
	u := header.UDP(ip[header.IPv4MinSize:])
	u.SetSourcePort(53)
	u.SetDestinationPort(5353)
	u.SetLength(uint16(len(u)))
	u.SetChecksum(^checksumOf(u, ip.PseudoHeaderChecksum(uint16(len(u)))))
	return b
}

// TestRxHostile: what a hostile driver programs is refused and counted,
// never followed outside DMA memory: no free descriptor with DROP_EN (RNBC
// and RQDPC; not MPC: the packet buffer had room), a disabled queue, a ring length not a multiple of 128,
// RDH beyond the ring, legacy descriptors, a ring or buffer outside memory.
func TestRxHostile(t *testing.T) {
	f := tcpFrame(testMAC, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 2, 20)
	cases := []struct {
		name  string
		setup func(r *rxRig)
		ctr   func(c Counters) uint64
	}{
		{"no descriptors", func(r *rxRig) {
			r.wr(igb.SRRCTL(0), 2|igb.SRRCTL_DESCTYPE_ADV1|igb.SRRCTL_DROP_EN)
			r.wr(igb.RDT(0), 0)
		}, func(c Counters) uint64 { return c.RxNoDesc }},
		{"queue disabled", func(r *rxRig) { r.wr(igb.RXDCTL(0), 0) }, func(c Counters) uint64 { return c.RxQueueDisabled }},
		{"ring length", func(r *rxRig) { r.wr(igb.RDLEN(0), 100) }, func(c Counters) uint64 { return c.RxBadRing }},
		{"head beyond ring", func(r *rxRig) { r.wr(igb.RDH(0), 9) }, func(c Counters) uint64 { return c.RxBadIndex }},
		{"legacy descriptors", func(r *rxRig) { r.wr(igb.SRRCTL(0), 2) }, func(c Counters) uint64 { return c.RxLegacyDesc }},
		{"ring outside memory", func(r *rxRig) { r.wr(igb.RDBAH(0), 0x7F) }, func(c Counters) uint64 { return c.DMAFaults }},
		{"buffer outside memory", func(r *rxRig) {
			igb.RxRead(r.q[0].ring.Bytes).SetPktAddr(0x7F00000000)
		}, func(c Counters) uint64 { return c.DMAFaults }},
	}
	for _, c := range cases {
		r := newRxRig(t, 0)
		r.setup(0, 8, 2)
		c.setup(r)
		r.dev.Receive(f)
		if got := c.ctr(r.dev.Counters()); got != 1 {
			t.Errorf("%s: counter %d, want 1", c.name, got)
		}
		if r.dev.Counters().RxFrames != 0 || r.rd(igb.GPRC) != 0 {
			t.Errorf("%s: frame counted as received", c.name)
		}
		if wantMPC := c.name != "queue disabled" && c.name != "no descriptors"; r.rd(igb.MPC) != b2u(wantMPC) {
			t.Errorf("%s: MPC %d", c.name, r.rd(igb.MPC))
		}
		if c.name == "no descriptors" && (r.rd(igb.RNBC) != 1 || r.rd(igb.RQDPC(0)) != 1) {
			t.Errorf("no descriptors: RNBC %d RQDPC %d", r.rd(igb.RNBC), r.rd(igb.RQDPC(0)))
		}
	}
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// BenchmarkModelRX is the model's receive path for 64-byte frames (60
// bytes and CRC) with RSS on: filter, parse, hash, queue pick, DMA of
// buffer and write-back, statistics, the queue's cause; the "driver" hands
// the descriptor back (its read format again) by moving RDT. It allocates
// nothing.
func BenchmarkModelRX(b *testing.B) {
	r := newRxRig(b, 0)
	rq := r.setup(0, 256, 2)
	r.wr(igb.MRQC, igb.MRQC_ENABLE_RSS|igb.MRQC_RSS_FIELD_IPV4|igb.MRQC_RSS_FIELD_IPV4_TCP)
	r.wr(igb.RXCSUM, igb.RXCSUM_IPOFLD|igb.RXCSUM_TUOFLD|igb.RXCSUM_PCSD)
	f := tcpFrame(testMAC, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 2, 6)
	tail := uint32(rq.n - 1)
	b.ReportAllocs()
	for b.Loop() {
		r.dev.Receive(f)
		tail = (tail + 1) % uint32(rq.n)
		d := igb.RxRead(rq.ring.Bytes[16*tail:])
		d.SetPktAddr(uint64(rq.bufs[tail].Addr)) // the write-back overwrote it
		d.SetHdrAddr(0)
		r.wr(igb.RDT(0), tail)
	}
	if c := r.dev.Counters(); c.RxFrames == 0 || c.RxNoDesc != 0 || c.DMAFaults != 0 {
		b.Fatalf("frames %d, no descriptor %d, faults %d", c.RxFrames, c.RxNoDesc, c.DMAFaults)
	}
}

// TestRxPacketBuffer: the datasheet device's receive packet buffer
// (RXPBS, 64 KB after reset). Frames that find no free descriptor wait
// there (RNBC once each) and are stored in order when RDT moves; frames
// behind a waiting one wait too, even for another queue with descriptors
// (one FIFO); a queue with SRRCTL.DROP_EN drops instead (RQDPC); once the
// buffer is full a frame is lost (MPC, RXO); clearing RCTL.EN empties it.
func TestRxPacketBuffer(t *testing.T) {
	if igb.RXPBS_RESET != 64 {
		t.Fatalf("RXPBS resets to %d KB, the datasheet says 64", igb.RXPBS_RESET)
	}
	frame := func(i int) []byte {
		return tcpFrame(testMAC, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, uint16(i), 2, 1000-54)
	}
	r := newRxRig(t, 0)
	if r.rd(igb.RXPBS) != 64 {
		t.Fatalf("RXPBS %#x", r.rd(igb.RXPBS))
	}
	q0 := r.setup(0, 256, 2)
	r.wr(igb.RDT(0), 0) // no descriptor
	// 1004 bytes with FCS each: 65 fit in 64 KB, the 66th does not.
	for i := range 70 {
		r.dev.Receive(frame(i))
	}
	c := r.dev.Counters()
	if rnbc, mpc := r.rd(igb.RNBC), r.rd(igb.MPC); c.RxFrames != 0 || c.RxFIFOQueued != 65 || rnbc != 1 || mpc != 5 || c.RxFIFOOverflow != 5 {
		t.Fatalf("queued %d stored %d RNBC %d MPC %d overflow %d", c.RxFIFOQueued, c.RxFrames, rnbc, mpc, c.RxFIFOOverflow)
	}
	if r.rd(igb.ICR)&igb.ICR_RXO == 0 {
		t.Fatalf("no RXO on overflow")
	}
	// 10 descriptors: the first 10 frames, in order; the rest wait.
	r.wr(igb.RDT(0), 10)
	if c := r.dev.Counters(); c.RxFrames != 10 || c.RxFIFODrained != 10 {
		t.Fatalf("after 10 descriptors: stored %d drained %d", c.RxFrames, c.RxFIFODrained)
	}
	for i := range 10 {
		if sport := binary.BigEndian.Uint16(q0.bufs[i].Bytes[34:]); sport != uint16(i) {
			t.Fatalf("descriptor %d holds frame %d", i, sport)
		}
	}
	// Queue 1 has descriptors, but its frame queues behind queue 0's.
	r.setup(1, 8, 2)
	for i := range igb.NumRETA {
		r.wr(igb.RETA+4*uint32(i), 0x01010101)
	}
	r.wr(igb.MRQC, igb.MRQC_ENABLE_RSS|igb.MRQC_RSS_FIELD_IPV4)
	r.wr(igb.RDT(0), 70) // room for the 55 still waiting
	if c := r.dev.Counters(); c.RxFrames != 65 {
		t.Fatalf("stored %d after posting enough", c.RxFrames)
	}
	r.wr(igb.RDT(0), r.rd(igb.RDH(0))) // queue 0 full again
	r.wr(igb.MRQC, 0)
	r.dev.Receive(frame(100)) // queue 0: waits
	r.wr(igb.MRQC, igb.MRQC_ENABLE_RSS|igb.MRQC_RSS_FIELD_IPV4)
	r.dev.Receive(frame(101)) // queue 1: behind it
	if r.rd(igb.RDH(1)) != 0 || r.dev.Counters().RxFIFOQueued != 67 {
		t.Fatalf("queue 1 stored past the blocked head: RDH1 %d queued %d", r.rd(igb.RDH(1)), r.dev.Counters().RxFIFOQueued)
	}
	// DROP_EN on queue 0, set now: the head is dropped on the next retry,
	// and queue 1's frame goes through.
	r.wr(igb.SRRCTL(0), 2|igb.SRRCTL_DESCTYPE_ADV1|igb.SRRCTL_DROP_EN)
	if rqdpc := r.rd(igb.RQDPC(0)); rqdpc != 1 || r.rd(igb.RDH(1)) != 1 {
		t.Fatalf("DROP_EN: RQDPC0 %d, RDH1 %d", rqdpc, r.rd(igb.RDH(1)))
	}
	r.wr(igb.MRQC, 0)
	r.dev.Receive(frame(102)) // dropped at once
	// RNBC: frame 100 waited, frame 102 found no descriptor.
	if rqdpc, rnbc := r.rd(igb.RQDPC(0)), r.rd(igb.RNBC); rqdpc != 1 || rnbc != 2 || r.dev.Counters().RxFIFOQueued != 67 {
		t.Fatalf("DROP_EN: RQDPC0 %d RNBC %d queued %d", rqdpc, rnbc, r.dev.Counters().RxFIFOQueued)
	}
	// RCTL.EN clear empties the buffer.
	r.wr(igb.SRRCTL(0), 2|igb.SRRCTL_DESCTYPE_ADV1)
	r.dev.Receive(frame(103))
	r.wr(igb.RCTL, 0)
	r.wr(igb.RCTL, igb.RCTL_EN|igb.RCTL_SECRC)
	r.wr(igb.RDT(0), (r.rd(igb.RDH(0))+5)%256)
	if c := r.dev.Counters(); c.RxFIFOFlushed != 1 || c.RxFrames != 66 {
		t.Fatalf("RCTL.EN clear: flushed %d, stored %d", c.RxFIFOFlushed, c.RxFrames)
	}
}

// TestRxPacketBufferSize: RXPBS sets the buffer's size: at 8 KB, eight
// 1004-byte frames wait and the ninth is missed.
func TestRxPacketBufferSize(t *testing.T) {
	r := newRxRig(t, 0)
	r.setup(0, 8, 2)
	r.wr(igb.RDT(0), 0)
	r.wr(igb.RXPBS, 8)
	for i := range 9 {
		r.dev.Receive(tcpFrame(testMAC, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, uint16(i), 2, 1000-54))
	}
	if c, mpc := r.dev.Counters(), r.rd(igb.MPC); c.RxFIFOQueued != 8 || mpc != 1 {
		t.Fatalf("queued %d MPC %d", c.RxFIFOQueued, mpc)
	}
}
