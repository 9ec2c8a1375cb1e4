package gro_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/gro"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

const mss = 1448

// seg describes one TCP/IPv4 segment sent to GRO.
type seg struct {
	flow  int    // source port 40000+flow
	seq   uint32 // payload offset in the flow
	n     int    // payload bytes
	flags uint8  // TCP flags; 0 means ACK
	ack   uint32 // 0 means 777
	win   uint16 // 0 means 512
	ts    uint32 // timestamp value in the options (0: 100)
	mod   func(ip header.IPv4, tcp header.TCP)
	// After the checksums: pad appends Ethernet padding, badCsum breaks
	// the TCP checksum, none sends it as CHECKSUM_NONE.
	pad     int
	badCsum bool
	none    bool
	hash    uint32
}

// full is the i-th MSS-sized segment of flow.
func full(flow, i int) seg { return seg{flow: flow, seq: uint32(i * mss), n: mss} }

// build makes the Ethernet frame of s, the id-th segment of its flow.
func (s seg) build(id int) []byte {
	const thlen = 32
	f := make([]byte, 14+20+thlen+s.n+s.pad)
	copy(f[0:6], stacktest.MACA[:])
	copy(f[6:12], stacktest.MACB[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := header.IPv4(f[14:34])
	ip.SetVersionIHL(20)
	ip.SetTotalLength(uint16(20 + thlen + s.n))
	ip.SetID(uint16(1000 + 7*s.flow + id))
	ip.SetFlagsFragment(header.IPv4FlagDF, 0)
	ip.SetTTL(64)
	ip.SetProtocol(header.ProtocolTCP)
	ip.SetSource(stacktest.IPB)
	ip.SetDestination(stacktest.IPA)
	tcp := header.TCP(f[34 : 34+thlen])
	tcp.SetSourcePort(uint16(40000 + s.flow))
	tcp.SetDestinationPort(5001)
	tcp.SetSequenceNumber(1_000_000 + s.seq)
	ack, win, ts, flags := s.ack, s.win, s.ts, s.flags
	if ack == 0 {
		ack = 777
	}
	if win == 0 {
		win = 512
	}
	if ts == 0 {
		ts = 100
	}
	if flags == 0 {
		flags = header.TCPFlagACK
	}
	tcp.SetAckNumber(ack)
	tcp.SetDataOffset(thlen)
	tcp.SetFlags(flags)
	tcp.SetWindowSize(win)
	copy(tcp[20:], []byte{1, 1, 8, 10})
	binary.BigEndian.PutUint32(tcp[24:], ts)
	binary.BigEndian.PutUint32(tcp[28:], 55)
	pay := f[34+thlen : 34+thlen+s.n]
	for i := range pay {
		pay[i] = byte(int(s.seq)+i) ^ byte(s.flow*31)
	}
	if s.mod != nil {
		s.mod(ip, tcp)
	}
	ip = header.IPv4(f[14 : 14+ip.HeaderLength()])
	ip.SetChecksum(0)
	ip.SetChecksum(ip.CalculateChecksum())
	l4 := f[14+ip.HeaderLength() : 14+int(ip.TotalLength())]
	if len(l4) >= 20 {
		t := header.TCP(l4)
		t.SetChecksum(0)
		t.SetChecksum(^checksum.Checksum(l4, ip.PseudoHeaderChecksum(uint16(len(l4)))))
		if s.badCsum {
			t.SetChecksum(t.Checksum() ^ 0x5a5a)
		}
	}
	return f
}

// rig is a kernel with one device whose NAPI instance has GRO, and an
// ETH_P_IP handler that keeps what GRO passes up.
type rig struct {
	k    *kernelmodel.Kernel
	dev  *stacktest.Dev
	napi kernelmodel.NAPI
	eng  *gro.Engine
	got  []delivered
	// count, if set, makes the handler only count what comes up.
	count bool
	n     int
}

type delivered struct {
	frame              []byte // MAC header and data
	ipSummed           uint8
	csumStart, csumOff uint16
	gsoSize, gsoSegs   uint16
	gsoType            uint32
	truesize           int
}

func newRig(t testing.TB) *rig {
	d, err := stacktest.New(stacktest.MACA)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{k: d.K, dev: d}
	r.eng = gro.Register(d.K)
	d.K.NetifNAPIAdd(d.D, &r.napi, func(*kernelmodel.NAPI, int) int { return 0 }, 0)
	r.napi.NAPIEnable()
	d.K.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_IP, Func: func(skb *kernelmodel.SKB) {
		r.n++
		if r.count {
			d.K.ConsumeSKB(skb)
			return
		}
		r.got = append(r.got, delivered{
			frame:    append(append([]byte(nil), skb.MAC()...), skb.Data...),
			ipSummed: skb.IPSummed, csumStart: skb.CsumStart, csumOff: skb.CsumOffset,
			gsoSize: skb.GSOSize, gsoSegs: skb.GSOSegs, gsoType: skb.GSOType,
			truesize: skb.Truesize(),
		})
		d.K.ConsumeSKB(skb)
	}})
	return r
}

// receive hands frame to napi_gro_receive as a driver would.
func (r *rig) receive(frame []byte, summed uint8, hash uint32) {
	r.receiveOn(&r.napi, frame, summed, hash)
}

func (r *rig) receiveOn(n *kernelmodel.NAPI, frame []byte, summed uint8, hash uint32) {
	skb := r.k.AllocSKB(len(frame))
	copy(skb.Put(len(frame)), frame)
	skb.IPSummed = summed
	skb.Hash = hash
	r.k.EthTypeTrans(skb, r.dev.D)
	n.NAPIGROReceive(skb)
}

// payload is the TCP payload of a frame.
func payload(f []byte) []byte {
	ip := header.IPv4(f[14:])
	end := 14 + int(ip.TotalLength())
	off := 14 + ip.HeaderLength()
	return f[off+header.TCP(f[off:]).DataOffset() : end]
}

// checkSingle: a packet passed up alone is the frame that came in.
func checkSingle(t *testing.T, d delivered, in []byte) {
	t.Helper()
	if !bytes.Equal(d.frame, in) {
		t.Errorf("single packet changed:\n got %x\nwant %x", d.frame, in)
	}
	if d.gsoSize != 0 || d.gsoSegs != 0 || d.gsoType != 0 {
		t.Errorf("single packet with gso_size %d segs %d type %#x", d.gsoSize, d.gsoSegs, d.gsoType)
	}
}

// checkMerged checks an aggregate against the segments in it: gopacket
// decodes it; it is the first segment's headers with the total length
// covering the concatenated payloads, FIN/PSH of the last, the IP header
// checksum gopacket computes; CHECKSUM_PARTIAL at the TCP checksum, whose
// field completed over the segment is the checksum gopacket computes; and
// the GSO fields.
func checkMerged(t *testing.T, d delivered, in [][]byte) {
	t.Helper()
	var pay []byte
	for _, f := range in {
		pay = append(pay, payload(f)...)
	}
	f := d.frame
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tc, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if ip == nil || tc == nil || p.ErrorLayer() != nil {
		t.Fatalf("aggregate does not decode: %v", p)
	}
	if int(ip.Length) != len(f)-14 || !bytes.Equal(tc.Payload, pay) {
		t.Errorf("aggregate: IP length %d of %d bytes, payload %d bytes equal %v (want %d)", ip.Length, len(f)-14, len(tc.Payload), bytes.Equal(tc.Payload, pay), len(pay))
	}
	first, last := in[0], in[len(in)-1]
	want := append([]byte(nil), first[:14+52]...)
	header.IPv4(want[14:]).SetTotalLength(uint16(len(f) - 14))
	want[14+20+13] |= last[14+20+13] & (header.TCPFlagFIN | header.TCPFlagPSH)
	// Compare all but the two checksums.
	for _, r := range [][2]int{{0, 24}, {26, 50}, {52, 66}} {
		if !bytes.Equal(f[r[0]:r[1]], want[r[0]:r[1]]) {
			t.Errorf("aggregate header bytes %d-%d: got %x want %x", r[0], r[1], f[r[0]:r[1]], want[r[0]:r[1]])
		}
	}
	if d.ipSummed != kernelmodel.CHECKSUM_PARTIAL || d.csumStart != 34 || d.csumOff != 16 {
		t.Errorf("aggregate ip_summed %d csum_start %d offset %d, want CHECKSUM_PARTIAL 34 16", d.ipSummed, d.csumStart, d.csumOff)
	}
	// Complete the checksum as a device would (skb_checksum_help).
	done := append([]byte(nil), f...)
	binary.BigEndian.PutUint16(done[34+16:], ^checksum.Checksum(done[34:], 0))
	sentIP, sentTCP := ip.Checksum, binary.BigEndian.Uint16(done[34+16:])
	buf := gopacket.NewSerializeBuffer()
	ip2, tc2 := *ip, *tc
	tc2.SetNetworkLayerForChecksum(&ip2)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, &ip2, &tc2, gopacket.Payload(tc.Payload)); err != nil {
		t.Fatal(err)
	}
	if ip2.Checksum != sentIP || tc2.Checksum != sentTCP {
		t.Errorf("checksums: IP %#04x TCP %#04x, gopacket computes %#04x %#04x", sentIP, sentTCP, ip2.Checksum, tc2.Checksum)
	}
	if int(d.gsoSize) != len(payload(first)) || int(d.gsoSegs) != len(in) || d.gsoType&kernelmodel.SKB_GSO_TCPV4 == 0 {
		t.Errorf("aggregate gso_size %d segs %d type %#x, want %d %d TCPV4", d.gsoSize, d.gsoSegs, d.gsoType, len(payload(first)), len(in))
	}
}

func flows(segs ...[]seg) []seg {
	var out []seg
	for _, s := range segs {
		out = append(out, s...)
	}
	return out
}

func run(flow, from, to int) []seg {
	var out []seg
	for i := from; i < to; i++ {
		out = append(out, full(flow, i))
	}
	return out
}

func with(s seg, f func(*seg)) seg { f(&s); return s }

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

type groCase struct {
	name string
	segs []seg
	// want are the packets passed up, in order, as the indices of the
	// segments in each.
	want    [][]int
	flush   map[gro.FlushReason]uint64
	notHeld map[gro.FlushReason]uint64
	gsoType uint32 // extra GSO type bits every aggregate carries
	noGRO   bool   // ethtool -K gro off
}

// TestGRO runs table cases through napi_gro_receive and napi_complete_done
// and checks which segments each packet passed up holds, every aggregate's
// headers and checksums (gopacket), the flush and not-held reasons counted,
// and that no skb is left or misused.
func TestGRO(t *testing.T) {
	psh := func(s *seg) { s.flags = header.TCPFlagACK | header.TCPFlagPSH }
	cases := []groCase{
		{name: "in order", segs: run(0, 0, 10), want: [][]int{seq(0, 10)}, flush: map[gro.FlushReason]uint64{gro.FlushNAPI: 1}},
		{name: "64 KiB limit", segs: run(0, 0, 50), want: [][]int{seq(0, 45), seq(45, 50)},
			flush: map[gro.FlushReason]uint64{gro.FlushMaxSize: 1, gro.FlushNAPI: 1}},
		{name: "PSH ends", segs: flows(run(0, 0, 2), []seg{with(full(0, 2), psh)}, run(0, 3, 5)), want: [][]int{{0, 1, 2}, {3, 4}},
			flush: map[gro.FlushReason]uint64{gro.FlushPush: 1, gro.FlushNAPI: 1}},
		{name: "FIN ends", segs: flows(run(0, 0, 2), []seg{with(full(0, 2), func(s *seg) { s.flags = header.TCPFlagACK | header.TCPFlagFIN })}),
			want: [][]int{{0, 1, 2}}, flush: map[gro.FlushReason]uint64{gro.FlushPush: 1}},
		{name: "PSH alone not held", segs: []seg{with(full(0, 0), psh)}, want: [][]int{{0}}, notHeld: map[gro.FlushReason]uint64{gro.FlushPush: 1}},
		{name: "RST", segs: flows(run(0, 0, 2), []seg{with(full(0, 2), func(s *seg) { s.flags = header.TCPFlagACK | header.TCPFlagRST })}),
			want: [][]int{{0, 1}, {2}}, flush: map[gro.FlushReason]uint64{gro.FlushFlags: 1}, notHeld: map[gro.FlushReason]uint64{gro.FlushPush: 1}},
		{name: "URG", segs: flows(run(0, 0, 2), []seg{with(full(0, 2), func(s *seg) { s.flags = header.TCPFlagACK | header.TCPFlagURG })}),
			want: [][]int{{0, 1}, {2}}, flush: map[gro.FlushReason]uint64{gro.FlushFlags: 1}, notHeld: map[gro.FlushReason]uint64{gro.FlushPush: 1}},
		{name: "SYN", segs: []seg{with(full(0, 0), func(s *seg) { s.flags = header.TCPFlagSYN; s.n = 0 })}, want: [][]int{{0}},
			notHeld: map[gro.FlushReason]uint64{gro.FlushShort: 1}},
		{name: "short segment ends", segs: flows(run(0, 0, 2), []seg{with(full(0, 2), func(s *seg) { s.n = 1000 })}, []seg{{seq: 2*mss + 1000, n: mss}}),
			want: [][]int{{0, 1, 2}, {3}}, flush: map[gro.FlushReason]uint64{gro.FlushShort: 1, gro.FlushNAPI: 1}},
		{name: "longer than the MSS", segs: []seg{{n: 1000}, {seq: 1000, n: mss}, {seq: 1000 + mss, n: mss}},
			want: [][]int{{0}, {1, 2}}, flush: map[gro.FlushReason]uint64{gro.FlushMSS: 1, gro.FlushNAPI: 1}},
		{name: "sequence gap", segs: flows(run(0, 0, 2), run(0, 3, 5)), want: [][]int{{0, 1}, {2, 3}},
			flush: map[gro.FlushReason]uint64{gro.FlushSeq: 1, gro.FlushNAPI: 1}},
		{name: "out of order", segs: []seg{full(0, 1), full(0, 0), full(0, 2)}, want: [][]int{{0}, {1}, {2}},
			flush: map[gro.FlushReason]uint64{gro.FlushSeq: 2, gro.FlushNAPI: 1}},
		{name: "retransmission", segs: []seg{full(0, 0), full(0, 1), full(0, 1)}, want: [][]int{{0, 1}, {2}},
			flush: map[gro.FlushReason]uint64{gro.FlushSeq: 1, gro.FlushNAPI: 1}},
		{name: "ACK differs", segs: []seg{full(0, 0), full(0, 1), with(full(0, 2), func(s *seg) { s.ack = 778 })}, want: [][]int{{0, 1}, {2}},
			flush: map[gro.FlushReason]uint64{gro.FlushAck: 1, gro.FlushNAPI: 1}},
		{name: "timestamps differ", segs: []seg{full(0, 0), with(full(0, 1), func(s *seg) { s.ts = 101 }), with(full(0, 2), func(s *seg) { s.ts = 101 })},
			want: [][]int{{0}, {1, 2}}, flush: map[gro.FlushReason]uint64{gro.FlushOptions: 1, gro.FlushNAPI: 1}},
		{name: "window differs", segs: []seg{full(0, 0), with(full(0, 1), func(s *seg) { s.win = 600 })}, want: [][]int{{0}, {1}},
			flush: map[gro.FlushReason]uint64{gro.FlushFlags: 1, gro.FlushNAPI: 1}},
		{name: "ECE changes", segs: []seg{full(0, 0), with(full(0, 1), func(s *seg) { s.flags = header.TCPFlagACK | header.TCPFlagECE })}, want: [][]int{{0}, {1}},
			flush: map[gro.FlushReason]uint64{gro.FlushFlags: 1, gro.FlushNAPI: 1}},
		{name: "CWR starts the next", segs: []seg{full(0, 0), with(full(0, 1), func(s *seg) { s.flags = header.TCPFlagACK | header.TCPFlagCWR }), full(0, 2)},
			want: [][]int{{0}, {1, 2}}, flush: map[gro.FlushReason]uint64{gro.FlushFlags: 1, gro.FlushNAPI: 1}, gsoType: kernelmodel.SKB_GSO_TCP_ECN},
		{name: "TTL differs", segs: []seg{full(0, 0), with(full(0, 1), func(s *seg) { s.mod = func(ip header.IPv4, _ header.TCP) { ip.SetTTL(63) } })},
			want: [][]int{{0}, {1}}, flush: map[gro.FlushReason]uint64{gro.FlushIP: 1, gro.FlushNAPI: 1}},
		{name: "TOS differs", segs: []seg{full(0, 0), with(full(0, 1), func(s *seg) { s.mod = func(ip header.IPv4, _ header.TCP) { ip[1] = 0x10 } })},
			want: [][]int{{0}, {1}}, flush: map[gro.FlushReason]uint64{gro.FlushIP: 1, gro.FlushNAPI: 1}},
		{name: "DF differs", segs: []seg{full(0, 0), with(full(0, 1), func(s *seg) { s.mod = func(ip header.IPv4, _ header.TCP) { ip.SetFlagsFragment(0, 0) } })},
			want: [][]int{{0}, {1}}, flush: map[gro.FlushReason]uint64{gro.FlushIP: 1, gro.FlushNAPI: 1}},
		{name: "IP ID jumps", segs: []seg{full(0, 0), full(0, 1), with(full(0, 2), func(s *seg) { s.mod = func(ip header.IPv4, _ header.TCP) { ip.SetID(ip.ID() + 5) } })},
			want: [][]int{{0, 1}, {2}}, flush: map[gro.FlushReason]uint64{gro.FlushIP: 1, gro.FlushNAPI: 1}},
		{name: "fixed IP ID with DF", segs: fixedID(run(0, 0, 4)), want: [][]int{{0, 1, 2, 3}},
			flush: map[gro.FlushReason]uint64{gro.FlushNAPI: 1}, gsoType: kernelmodel.SKB_GSO_TCP_FIXEDID},
		{name: "fixed IP ID without DF", segs: noDF(fixedID(run(0, 0, 2))), want: [][]int{{0}, {1}},
			flush: map[gro.FlushReason]uint64{gro.FlushIP: 1, gro.FlushNAPI: 1}},
		{name: "IP options", segs: []seg{with(full(0, 0), func(s *seg) { s.mod = ipOptions })}, want: [][]int{{0}},
			notHeld: map[gro.FlushReason]uint64{gro.FlushIneligible: 1}},
		{name: "fragment", segs: []seg{with(full(0, 0), func(s *seg) { s.mod = func(ip header.IPv4, _ header.TCP) { ip.SetFlagsFragment(header.IPv4FlagMF, 0) } })},
			want: [][]int{{0}}, notHeld: map[gro.FlushReason]uint64{gro.FlushIneligible: 1}},
		{name: "Ethernet padding", segs: []seg{full(0, 0), with(full(0, 1), func(s *seg) { s.pad = 6 })}, want: [][]int{{0}, {1}},
			flush: map[gro.FlushReason]uint64{gro.FlushIP: 1}, notHeld: map[gro.FlushReason]uint64{gro.FlushIneligible: 1}},
		{name: "pure ACK", segs: []seg{full(0, 0), {seq: mss, n: 0}}, want: [][]int{{0}, {1}},
			flush: map[gro.FlushReason]uint64{gro.FlushShort: 1}, notHeld: map[gro.FlushReason]uint64{gro.FlushShort: 1}},
		{name: "bad checksum passes the held packet", segs: []seg{full(0, 0), with(full(0, 1), func(s *seg) { s.badCsum, s.none = true, true })},
			want: [][]int{{1}, {0}}, flush: map[gro.FlushReason]uint64{gro.FlushNAPI: 1}, notHeld: map[gro.FlushReason]uint64{gro.FlushCsum: 1}},
		{name: "software checksum", segs: none(run(0, 0, 3)), want: [][]int{{0, 1, 2}}, flush: map[gro.FlushReason]uint64{gro.FlushNAPI: 1}},
		{name: "two interleaved flows", segs: []seg{full(0, 0), full(1, 0), full(0, 1), full(1, 1), full(0, 2), full(1, 2)},
			want: [][]int{{0, 2, 4}, {1, 3, 5}}, flush: map[gro.FlushReason]uint64{gro.FlushNAPI: 2}},
		{name: "bucket full", segs: []seg{full(0, 0), full(1, 0), full(2, 0), full(3, 0), full(4, 0), full(5, 0), full(6, 0), full(7, 0), full(8, 0), full(1, 1)},
			want: [][]int{{0}, {1, 9}, {2}, {3}, {4}, {5}, {6}, {7}, {8}}, flush: map[gro.FlushReason]uint64{gro.FlushOldest: 1, gro.FlushNAPI: 8}},
		{name: "other buckets", segs: []seg{full(0, 0), with(full(1, 0), func(s *seg) { s.hash = 1 }), full(0, 1), with(full(1, 1), func(s *seg) { s.hash = 1 })},
			want: [][]int{{0, 2}, {1, 3}}, flush: map[gro.FlushReason]uint64{gro.FlushNAPI: 2}},
		{name: "GRO off", segs: run(0, 0, 3), noGRO: true, want: [][]int{{0}, {1}, {2}}, notHeld: map[gro.FlushReason]uint64{gro.FlushIneligible: 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			if tc.noGRO {
				r.dev.D.Features &^= kernelmodel.NETIF_F_GRO
			}
			frames := make([][]byte, len(tc.segs))
			ids := map[int]int{}
			for i, s := range tc.segs {
				frames[i] = s.build(ids[s.flow])
				ids[s.flow]++
				summed := uint8(kernelmodel.CHECKSUM_UNNECESSARY)
				if s.none {
					summed = kernelmodel.CHECKSUM_NONE
				}
				r.receive(frames[i], summed, s.hash)
			}
			if !r.napi.NAPICompleteDone(len(tc.segs)) {
				t.Fatal("napi_complete_done returned false")
			}
			if len(r.got) != len(tc.want) {
				t.Fatalf("%d packets passed up, want %d", len(r.got), len(tc.want))
			}
			for i, w := range tc.want {
				if len(w) == 1 {
					checkSingle(t, r.got[i], frames[w[0]])
					continue
				}
				var in [][]byte
				for _, j := range w {
					in = append(in, frames[j])
				}
				checkMerged(t, r.got[i], in)
				// skb_gro_receive's delta_truesize: the aggregate holds what
				// the packets merged into it held, not GRO's 64 KiB copy.
				want := 0
				for _, f := range in {
					probe := r.k.AllocSKB(len(f))
					want += probe.Truesize()
					r.k.ConsumeSKB(probe)
				}
				if r.got[i].truesize != want {
					t.Errorf("packet %d: truesize %d, want %d (the sum of its %d packets')", i, r.got[i].truesize, want, len(in))
				}
				if r.got[i].gsoType&tc.gsoType != tc.gsoType {
					t.Errorf("packet %d: gso_type %#x, want bits %#x", i, r.got[i].gsoType, tc.gsoType)
				}
			}
			st := r.eng.Stats()
			for fr := gro.FlushReason(0); fr < gro.NumFlushReasons; fr++ {
				if st.Flush[fr] != tc.flush[fr] {
					t.Errorf("Flush[%v] = %d, want %d", fr, st.Flush[fr], tc.flush[fr])
				}
				if st.NotHeld[fr] != tc.notHeld[fr] {
					t.Errorf("NotHeld[%v] = %d, want %d", fr, st.NotHeld[fr], tc.notHeld[fr])
				}
			}
			merged := uint64(0)
			for _, w := range tc.want {
				if len(w) > 1 {
					merged += uint64(len(w) - 1)
				}
			}
			if st.Receive != uint64(len(tc.segs)) || st.Merged != merged || st.Held+st.Normal+st.Merged != st.Receive || st.Complete != st.Held {
				t.Errorf("counters %+v: want %d received, %d merged", st, len(tc.segs), merged)
			}
			if err := r.k.SKBAudit(); err != nil {
				t.Error(err)
			}
		})
	}
}

func fixedID(s []seg) []seg {
	for i := range s {
		s[i].mod = func(ip header.IPv4, _ header.TCP) { ip.SetID(4242) }
	}
	return s
}

func noDF(s []seg) []seg {
	for i := range s {
		m := s[i].mod
		s[i].mod = func(ip header.IPv4, tcp header.TCP) {
			m(ip, tcp)
			ip.SetFlagsFragment(0, 0)
		}
	}
	return s
}

func none(s []seg) []seg {
	for i := range s {
		s[i].none = true
	}
	return s
}

// ipOptions gives the IP header an IHL of 6 (the first TCP word reads as
// its options): GRO refuses a header with options before it looks further.
func ipOptions(ip header.IPv4, _ header.TCP) { ip.SetVersionIHL(24) }

// TestGROFlushOld: the end-of-poll flush (napi_gro_flush(n, true)) passes
// up what was held in an earlier jiffy and keeps what came in this one.
func TestGROFlushOld(t *testing.T) {
	r := newRig(t)
	a := full(0, 0).build(0)
	r.receive(a, kernelmodel.CHECKSUM_UNNECESSARY, 0)
	r.k.Clock().RunFor(1500 * time.Microsecond) // the next jiffy
	b := full(1, 0).build(0)
	r.receive(b, kernelmodel.CHECKSUM_UNNECESSARY, 0)
	g := gro.Of(&r.napi)
	g.Flush(&r.napi, true)
	if g.Held() != 1 {
		t.Fatalf("%d held after the old flush, want 1", g.Held())
	}
	r.napi.NAPICompleteDone(0)
	if len(r.got) != 2 || !bytes.Equal(r.got[0].frame, a) || !bytes.Equal(r.got[1].frame, b) {
		t.Fatalf("passed up %d packets", len(r.got))
	}
	if st := g.Stats; st.Flush[gro.FlushOld] != 1 || st.Flush[gro.FlushNAPI] != 1 {
		t.Errorf("flushes %v", st.Flush)
	}
	if err := r.k.SKBAudit(); err != nil {
		t.Error(err)
	}
}

// TestGROFlushOldAtPoll: a poll that uses its whole weight flushes the old
// packets at its end (__napi_poll), through the kernel's NET_RX softirq.
func TestGROFlushOldAtPoll(t *testing.T) {
	r := newRig(t)
	k := r.k
	polls := 0
	frames := [][]byte{full(0, 0).build(0), full(1, 0).build(0)}
	poll := func(n *kernelmodel.NAPI, budget int) int {
		polls++
		switch polls {
		case 1: // hold a packet, use the whole weight: polled again
			r.receiveOn(n, frames[0], kernelmodel.CHECKSUM_UNNECESSARY, 0)
			return budget
		case 2: // a jiffy later, another flow; still busy: the first goes
			k.Charge(1500 * time.Microsecond)
			r.receiveOn(n, frames[1], kernelmodel.CHECKSUM_UNNECESSARY, 0)
			return budget
		}
		n.NAPICompleteDone(0)
		return 0
	}
	var n kernelmodel.NAPI
	k.NetifNAPIAdd(r.dev.D, &n, poll, 0)
	n.NAPIEnable()
	irq := k.AllocIRQ()
	k.RequestIRQ(irq, func(int) kernelmodel.IRQReturn { n.NAPISchedule(); return kernelmodel.IRQ_HANDLED }, "t")
	k.Raise(irq)
	k.Clock().RunFor(20 * time.Millisecond)
	if polls != 3 || len(r.got) != 2 || !bytes.Equal(r.got[0].frame, frames[0]) || !bytes.Equal(r.got[1].frame, frames[1]) {
		t.Fatalf("%d polls, %d packets passed up", polls, len(r.got))
	}
	st := gro.Of(&n).Stats
	if st.Flush[gro.FlushOld] != 1 || st.Flush[gro.FlushNAPI] != 1 {
		t.Errorf("flushes %v, want one old, one at napi_complete_done", st.Flush)
	}
	if err := k.SKBAudit(); err != nil {
		t.Error(err)
	}
}

func TestFlushReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for r := gro.FlushReason(0); r < gro.NumFlushReasons; r++ {
		s := r.String()
		if s == "?" || s == "" || seen[s] {
			t.Errorf("reason %d named %q", r, s)
		}
		seen[s] = true
	}
	if gro.NumFlushReasons.String() != "?" {
		t.Error("out of range reason named")
	}
}
