package gso_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/hw/offload"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/gso"
	"github.com/nicbed/nicbed/stack/header"
)

const mss = 1448

var (
	macA = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	macB = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x57}
	ipA  = [4]byte{10, 0, 0, 1}
	ipB  = [4]byte{10, 0, 0, 2}
)

// sent is what the device got: the frame and the skb's offload state.
type sent struct {
	frame              []byte
	ipSummed           uint8
	csumStart, csumOff uint16
	gsoSize            uint16
}

// recDev is a net_device that records what it is given.
type recDev struct {
	k    *kernelmodel.Kernel
	d    *kernelmodel.NetDevice
	sent []sent
}

func (r *recDev) Open(*kernelmodel.Task) error { r.d.NetifStartQueue(); return nil }
func (r *recDev) Stop(*kernelmodel.Task) error { return nil }
func (r *recDev) StartXmit(skb *kernelmodel.SKB) kernelmodel.NetdevTx {
	r.sent = append(r.sent, sent{append([]byte(nil), skb.Data...), skb.IPSummed, skb.CsumStart, skb.CsumOffset, skb.GSOSize})
	r.k.ConsumeSKB(skb)
	return kernelmodel.NETDEV_TX_OK
}

// newDev is an up device with features on a kernel with GSO registered.
func newDev(t testing.TB, features uint64) *recDev {
	k := kernelmodel.New(kernelmodel.Config{CPUs: 1})
	gso.Register(k)
	r := &recDev{k: k, d: k.AllocEtherdev("eth0", 1, 1)}
	r.d.Ops = r
	if err := k.RegisterNetdev(r.d); err != nil {
		t.Fatal(err)
	}
	r.d.Features = features | kernelmodel.NETIF_F_SOFT_FEATURES
	var err error
	k.Spawn(0, "up", func(tk *kernelmodel.Task) { err = r.d.DevOpen(tk) })
	k.Clock().RunFor(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// superFrame is a TCP/IPv4 frame with plen bytes of payload, TS options,
// the IP ID 0x1234, DF and flags.
func superFrame(plen int, flags uint8) []byte {
	f := make([]byte, 14+20+32+plen)
	copy(f[0:], macA[:])
	copy(f[6:], macB[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := header.IPv4(f[14:34])
	ip.SetVersionIHL(20)
	ip.SetTotalLength(uint16(min(len(f)-14, 0xFFFF)))
	ip.SetID(0x1234)
	ip.SetFlagsFragment(header.IPv4FlagDF, 0)
	ip.SetTTL(64)
	ip.SetProtocol(header.ProtocolTCP)
	ip.SetSource(ipB)
	ip.SetDestination(ipA)
	ip.SetChecksum(ip.CalculateChecksum())
	tcp := header.TCP(f[34:66])
	tcp.SetSourcePort(40000)
	tcp.SetDestinationPort(5001)
	tcp.SetSequenceNumber(0xFFFF0000) // wraps within the burst
	tcp.SetAckNumber(555)
	tcp.SetDataOffset(32)
	tcp.SetFlags(flags)
	tcp.SetWindowSize(512)
	copy(tcp[20:], []byte{1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9})
	for i := range f[66:] {
		f[66+i] = byte(i*7 + i>>8)
	}
	return f
}

// gsoSKB is a GSO skb of frame as tcp_v4_send_check leaves it:
// CHECKSUM_PARTIAL with the pseudo-header sum for the whole segment.
func gsoSKB(k *kernelmodel.Kernel, d *kernelmodel.NetDevice, frame []byte, gsoType uint32) *kernelmodel.SKB {
	skb := k.AllocSKB(len(frame))
	p := skb.Put(len(frame))
	copy(p, frame)
	binary.BigEndian.PutUint16(p[34+16:], header.IPv4(p[14:]).PseudoHeaderChecksum(uint16(len(p)-34)))
	skb.IPSummed, skb.CsumStart, skb.CsumOffset = kernelmodel.CHECKSUM_PARTIAL, 34, 16
	skb.GSOSize, skb.GSOType = mss, gsoType
	skb.Protocol = kernelmodel.ETH_P_IP
	skb.NetHeader = skb.BufOffset() + 14
	skb.Dev = d
	return skb
}

// hwTSO is what a NIC's TSO engine puts on the wire for frame: the driver's
// preparation (e1000_tso: the TCP checksum seeded with the pseudo-header
// sum without length) and hw/offload's segmentation with both checksums.
func hwTSO(t *testing.T, frame []byte) [][]byte {
	t.Helper()
	sup := append([]byte(nil), frame...)
	binary.BigEndian.PutUint16(sup[34+16:], checksum.PseudoHeaderIPv4(sup[26:30], sup[30:34], header.ProtocolTCP, 0))
	var out [][]byte
	buf := make([]byte, 66+mss)
	_, err := offload.Segment(sup, offload.TSO{MACLen: 14, IPLen: 20, L4Len: 32, MSS: mss, IPv4: true, TCP: true, IPCsum: true, L4Csum: true}, buf,
		func(f []byte) { out = append(out, append([]byte(nil), f...)) })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkSegment decodes f with gopacket and checks both checksums against
// gopacket's own computation.
func checkSegment(t *testing.T, i int, f []byte) (*layers.IPv4, *layers.TCP) {
	t.Helper()
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tc, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if ip == nil || tc == nil || p.ErrorLayer() != nil {
		t.Fatalf("segment %d does not decode: %v", i, p)
	}
	ip2, tc2 := *ip, *tc
	tc2.SetNetworkLayerForChecksum(&ip2)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, &ip2, &tc2, gopacket.Payload(tc.Payload)); err != nil {
		t.Fatal(err)
	}
	if ip2.Checksum != ip.Checksum || tc2.Checksum != tc.Checksum {
		t.Errorf("segment %d: checksums IP %#04x TCP %#04x, gopacket computes %#04x %#04x", i, ip.Checksum, tc.Checksum, ip2.Checksum, tc2.Checksum)
	}
	return ip, tc
}

// complete inserts a CHECKSUM_PARTIAL segment's checksum as a device does.
func complete(s sent) []byte {
	f := append([]byte(nil), s.frame...)
	off := int(s.csumStart + s.csumOff)
	binary.BigEndian.PutUint16(f[off:], ^checksum.Checksum(f[s.csumStart:], 0))
	return f
}

func xmit(t *testing.T, r *recDev, skb *kernelmodel.SKB) int {
	t.Helper()
	return r.k.DevQueueXmit(skb)
}

// TestGSOMatchesTSO: a 64 KiB GSO skb to a device without TSO is segmented
// in software into exactly the frames a NIC's TSO engine (hw/offload, as
// the e1000 driver programs it) puts on the wire, byte for byte, each
// decoded and its checksums recomputed by gopacket: with the checksums done
// here (no NETIF_F_IP_CSUM: CHECKSUM_NONE), and with them left to the
// device (CHECKSUM_PARTIAL at csum_start 34, offset 16, which completed
// gives the same bytes). A device with TSO gets the skb unchanged.
func TestGSOMatchesTSO(t *testing.T) {
	frame := superFrame(65536-66, header.TCPFlagACK|header.TCPFlagPSH|header.TCPFlagFIN)
	want := hwTSO(t, frame)
	if len(want) != 46 {
		t.Fatalf("reference: %d segments", len(want))
	}
	for _, tc := range []struct {
		name     string
		features uint64
	}{
		{"software checksum", kernelmodel.NETIF_F_SG},
		{"checksum offload", kernelmodel.NETIF_F_SG | kernelmodel.NETIF_F_IP_CSUM},
		{"TSO without SG", kernelmodel.NETIF_F_IP_CSUM | kernelmodel.NETIF_F_TSO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newDev(t, tc.features)
			if rc := xmit(t, r, gsoSKB(r.k, r.d, frame, kernelmodel.SKB_GSO_TCPV4)); rc != kernelmodel.NET_XMIT_SUCCESS {
				t.Fatalf("dev_queue_xmit %d", rc)
			}
			if len(r.sent) != len(want) {
				t.Fatalf("%d segments, want %d", len(r.sent), len(want))
			}
			partial := tc.features&kernelmodel.NETIF_F_IP_CSUM != 0
			for i, s := range r.sent {
				f := s.frame
				if partial {
					if s.ipSummed != kernelmodel.CHECKSUM_PARTIAL || s.csumStart != 34 || s.csumOff != 16 {
						t.Fatalf("segment %d: ip_summed %d csum %d/%d", i, s.ipSummed, s.csumStart, s.csumOff)
					}
					if got, w := binary.BigEndian.Uint16(f[50:]), header.IPv4(f[14:]).PseudoHeaderChecksum(uint16(len(f)-34)); got != w {
						t.Errorf("segment %d: TCP check %#04x, want the pseudo-header sum %#04x", i, got, w)
					}
					f = complete(s)
				} else if s.ipSummed != kernelmodel.CHECKSUM_NONE {
					t.Errorf("segment %d: ip_summed %d, want CHECKSUM_NONE", i, s.ipSummed)
				}
				if s.gsoSize != 0 {
					t.Errorf("segment %d: gso_size %d", i, s.gsoSize)
				}
				if !bytes.Equal(f, want[i]) {
					t.Fatalf("segment %d differs from the TSO engine's\n got %x\nwant %x", i, f[:80], want[i][:80])
				}
				ip, tcp := checkSegment(t, i, f)
				last := i == len(want)-1
				if ip.Id != uint16(0x1234+i) || tcp.Seq != 0xFFFF0000+uint32(i*mss) || tcp.PSH != last || tcp.FIN != last || !tcp.ACK {
					t.Errorf("segment %d: id %#x seq %#x PSH %v FIN %v", i, ip.Id, tcp.Seq, tcp.PSH, tcp.FIN)
				}
			}
			if st := r.k.GSOStats(); st.Segmented != 1 || st.Segments != uint64(len(want)) {
				t.Errorf("GSO counters %+v", st)
			}
			if err := r.k.SKBAudit(); err != nil {
				t.Fatal(err)
			}
		})
	}
	r := newDev(t, kernelmodel.NETIF_F_SG|kernelmodel.NETIF_F_IP_CSUM|kernelmodel.NETIF_F_TSO)
	skb := gsoSKB(r.k, r.d, frame, kernelmodel.SKB_GSO_TCPV4)
	orig := append([]byte(nil), skb.Data...)
	xmit(t, r, skb)
	if len(r.sent) != 1 || !bytes.Equal(r.sent[0].frame, orig) || r.sent[0].gsoSize != mss || r.k.GSOStats().Segmented != 0 {
		t.Fatalf("TSO device: %d frames, gso_size %d", len(r.sent), r.sent[0].gsoSize)
	}
}

// TestGSOFlags: CWR stays on the first segment only (tcp_gso_segment; a
// device without NETIF_F_TSO_ECN gets SKB_GSO_TCP_ECN in software even with
// TSO); SKB_GSO_TCP_FIXEDID keeps one IP ID (without NETIF_F_TSO_MANGLEID);
// a GSO skb that is not CHECKSUM_PARTIAL is segmented in software with its
// checksum set up first, whatever its check field held.
func TestGSOFlags(t *testing.T) {
	tso := uint64(kernelmodel.NETIF_F_SG | kernelmodel.NETIF_F_IP_CSUM | kernelmodel.NETIF_F_TSO)
	for _, tc := range []struct {
		name    string
		flags   uint8
		gsoType uint32
		none    bool
		check   func(t *testing.T, i int, ip *layers.IPv4, tcp *layers.TCP)
	}{
		{"CWR", header.TCPFlagACK | header.TCPFlagCWR | header.TCPFlagPSH, kernelmodel.SKB_GSO_TCPV4 | kernelmodel.SKB_GSO_TCP_ECN, false,
			func(t *testing.T, i int, ip *layers.IPv4, tcp *layers.TCP) {
				if tcp.CWR != (i == 0) || tcp.PSH != (i == 4) || ip.Id != uint16(0x1234+i) {
					t.Errorf("segment %d: CWR %v PSH %v id %#x", i, tcp.CWR, tcp.PSH, ip.Id)
				}
			}},
		{"fixed ID", header.TCPFlagACK, kernelmodel.SKB_GSO_TCPV4 | kernelmodel.SKB_GSO_TCP_FIXEDID, false,
			func(t *testing.T, i int, ip *layers.IPv4, tcp *layers.TCP) {
				if ip.Id != 0x1234 || tcp.Seq != 0xFFFF0000+uint32(i*mss) {
					t.Errorf("segment %d: id %#x seq %#x", i, ip.Id, tcp.Seq)
				}
			}},
		{"not CHECKSUM_PARTIAL", header.TCPFlagACK, kernelmodel.SKB_GSO_TCPV4, true,
			func(t *testing.T, i int, ip *layers.IPv4, tcp *layers.TCP) {
				if ip.Id != uint16(0x1234+i) {
					t.Errorf("segment %d: id %#x", i, ip.Id)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newDev(t, tso)
			skb := gsoSKB(r.k, r.d, superFrame(5*mss-100, tc.flags), tc.gsoType)
			if tc.none {
				skb.IPSummed = kernelmodel.CHECKSUM_NONE
				binary.BigEndian.PutUint16(skb.Data[50:], 0xBEEF)
			}
			if rc := xmit(t, r, skb); rc != kernelmodel.NET_XMIT_SUCCESS || len(r.sent) != 5 {
				t.Fatalf("dev_queue_xmit %d, %d segments", rc, len(r.sent))
			}
			for i, s := range r.sent {
				ip, tcp := checkSegment(t, i, complete(s))
				tc.check(t, i, ip, tcp)
			}
			if err := r.k.SKBAudit(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGSORefused: what inet_gso_segment/tcp_gso_segment refuse is dropped
// by validate_xmit_skb — freed, tx_dropped and the failure counted,
// dev_queue_xmit -ENOMEM — and nothing reaches the device.
func TestGSORefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(skb *kernelmodel.SKB)
	}{
		{"no SKB_GSO_TCPV4", func(s *kernelmodel.SKB) { s.GSOType = kernelmodel.SKB_GSO_TCP_ECN }},
		{"UDP", func(s *kernelmodel.SKB) { s.Data[14+9] = header.ProtocolUDP }},
		{"payload within gso_size", func(s *kernelmodel.SKB) { s.GSOSize = 60000 }},
		{"payload of gso_size", func(s *kernelmodel.SKB) { s.GSOSize = 3 * mss }},
		{"IHL below 5", func(s *kernelmodel.SKB) { s.Data[14] = 0x44 }},
		{"not IPv4", func(s *kernelmodel.SKB) { s.Data[14] = 0x65 }},
		{"TCP data offset beyond the data", func(s *kernelmodel.SKB) { s.Data = s.Data[:60] }},
		{"fixed ID without DF", func(s *kernelmodel.SKB) {
			s.GSOType |= kernelmodel.SKB_GSO_TCP_FIXEDID
			header.IPv4(s.Data[14:]).SetFlagsFragment(0, 0)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newDev(t, kernelmodel.NETIF_F_SG)
			skb := gsoSKB(r.k, r.d, superFrame(3*mss, header.TCPFlagACK), kernelmodel.SKB_GSO_TCPV4)
			tc.mod(skb)
			if rc := xmit(t, r, skb); rc != -kernelmodel.ENOMEM {
				t.Errorf("dev_queue_xmit %d, want -ENOMEM", rc)
			}
			if len(r.sent) != 0 || r.d.Stats.TxDropped != 1 || r.k.GSOStats().Failed != 1 {
				t.Errorf("%d sent, tx_dropped %d, %+v", len(r.sent), r.d.Stats.TxDropped, r.k.GSOStats())
			}
			if err := r.k.SKBAudit(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestChecksumHelp: a CHECKSUM_PARTIAL UDP datagram to a device without
// checksum offload gets its checksum in software (skb_checksum_help:
// CHECKSUM_NONE, gopacket agrees); with NETIF_F_IP_CSUM it is left to the
// device.
func TestChecksumHelp(t *testing.T) {
	build := func(r *recDev) *kernelmodel.SKB {
		b := gopacket.NewSerializeBuffer()
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP(ipB[:]), DstIP: net.IP(ipA[:])}
		udp := &layers.UDP{SrcPort: 1000, DstPort: 7}
		udp.SetNetworkLayerForChecksum(ip)
		gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			&layers.Ethernet{SrcMAC: macB[:], DstMAC: macA[:], EthernetType: layers.EthernetTypeIPv4}, ip, udp, gopacket.Payload("nicbed checksum help!"))
		f := b.Bytes()
		skb := r.k.AllocSKB(len(f))
		p := skb.Put(len(f))
		copy(p, f)
		binary.BigEndian.PutUint16(p[40:], header.IPv4(p[14:]).PseudoHeaderChecksum(uint16(len(p)-34)))
		skb.IPSummed, skb.CsumStart, skb.CsumOffset = kernelmodel.CHECKSUM_PARTIAL, 34, 6
		skb.Protocol, skb.Dev = kernelmodel.ETH_P_IP, r.d
		return skb
	}
	r := newDev(t, 0)
	xmit(t, r, build(r))
	if len(r.sent) != 1 || r.sent[0].ipSummed != kernelmodel.CHECKSUM_NONE || r.k.GSOStats().CsumHelp != 1 {
		t.Fatalf("%d sent, %+v", len(r.sent), r.k.GSOStats())
	}
	p := gopacket.NewPacket(r.sent[0].frame, layers.LayerTypeEthernet, gopacket.Default)
	udp := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	u2 := *udp
	u2.SetNetworkLayerForChecksum(ip)
	if err := gopacket.SerializeLayers(gopacket.NewSerializeBuffer(), gopacket.SerializeOptions{ComputeChecksums: true}, &u2, gopacket.Payload(udp.Payload)); err != nil {
		t.Fatal(err)
	}
	if u2.Checksum != udp.Checksum {
		t.Errorf("UDP checksum %#04x, gopacket computes %#04x", udp.Checksum, u2.Checksum)
	}
	r2 := newDev(t, kernelmodel.NETIF_F_IP_CSUM)
	xmit(t, r2, build(r2))
	if len(r2.sent) != 1 || r2.sent[0].ipSummed != kernelmodel.CHECKSUM_PARTIAL || r2.k.GSOStats().CsumHelp != 0 {
		t.Fatalf("with checksum offload: %d sent, %+v", len(r2.sent), r2.k.GSOStats())
	}
}

// TestGSOStoppedQueue: segments the driver does not take are freed with
// tx_dropped counted once, as dev_queue_xmit does for a noqueue device.
func TestGSOStoppedQueue(t *testing.T) {
	r := newDev(t, kernelmodel.NETIF_F_SG)
	stop := &stopDev{recDev: r, after: 2}
	r.d.Ops = stop
	if rc := xmit(t, r, gsoSKB(r.k, r.d, superFrame(5*mss, header.TCPFlagACK), kernelmodel.SKB_GSO_TCPV4)); rc != -kernelmodel.ENETDOWN {
		t.Errorf("dev_queue_xmit %d, want -ENETDOWN", rc)
	}
	if len(r.sent) != 2 || r.d.Stats.TxDropped != 1 {
		t.Errorf("%d sent, tx_dropped %d", len(r.sent), r.d.Stats.TxDropped)
	}
	if err := r.k.SKBAudit(); err != nil {
		t.Fatal(err)
	}
}

// stopDev takes after frames, then stops its queue.
type stopDev struct {
	*recDev
	after int
}

func (s *stopDev) StartXmit(skb *kernelmodel.SKB) kernelmodel.NetdevTx {
	rc := s.recDev.StartXmit(skb)
	if len(s.sent) >= s.after {
		s.d.NetifStopQueue()
	}
	return rc
}

// BenchmarkGSOSegment is dev_queue_xmit of a 64 KiB TCP skb to a driver
// that frees what it gets: segmented in software into 46 segments with
// software checksums (gso=sw, what validate_xmit_skb does for a device
// without TSO), next to the same skb given whole to a TSO device
// (gso=tso, the baseline). Neither allocates per skb in steady state.
func BenchmarkGSOSegment(b *testing.B) {
	for _, tc := range []struct {
		name     string
		features uint64
	}{{"gso=sw", kernelmodel.NETIF_F_SG}, {"gso=tso", kernelmodel.NETIF_F_SG | kernelmodel.NETIF_F_IP_CSUM | kernelmodel.NETIF_F_TSO}} {
		b.Run(tc.name, func(b *testing.B) {
			r := newDev(b, tc.features)
			defer r.k.Close()
			r.d.Ops = countDev{r}
			frame := superFrame(65536-66, header.TCPFlagACK)
			send := func() {
				if rc := r.k.DevQueueXmit(gsoSKB(r.k, r.d, frame, kernelmodel.SKB_GSO_TCPV4)); rc != kernelmodel.NET_XMIT_SUCCESS {
					b.Fatal(rc)
				}
			}
			for i := 0; i < 10; i++ {
				send()
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				send()
			}
			b.StopTimer()
			if st := r.k.GSOStats(); st.Segmented != 0 {
				b.ReportMetric(float64(st.Segments)/float64(st.Segmented), "segs/op")
			}
			if err := r.k.SKBAudit(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

type countDev struct{ *recDev }

func (c countDev) StartXmit(skb *kernelmodel.SKB) kernelmodel.NetdevTx {
	c.k.ConsumeSKB(skb)
	return kernelmodel.NETDEV_TX_OK
}
