package testbed

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// EtherType is the EtherType of test frames (IEEE 802 local experimental
// EtherType 1).
const EtherType = 0x88B5

// Test frame layout after the headers (the 14-byte Ethernet header, and for
// a TCP flow a 20-byte IPv4 and a 20-byte TCP header): the sequence number
// (8 bytes, big-endian), the flow's index on the receiving host (1 byte),
// then a pattern that depends on the sequence number.
const (
	seqOff     = 0
	flowOff    = 8
	patOff     = 9
	ethHLen    = 14
	tcpHLen    = ethHLen + 20 + 20
	udpHLen    = ethHLen + 20 + 8
	minFrame   = 60
	patMod     = 16381 // prime: pattern offsets spread
	patLen     = patMod + 16384
	maxFlowLen = 16384
)

var pattern = func() []byte {
	p := make([]byte, patLen)
	x := uint64(0x243F6A8885A308D3)
	for i := range p {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = byte(x >> 32)
	}
	return p
}()

// FlowConfig describes a Flow: pktgen frames from one host to the other.
type FlowConfig struct {
	// Count is the number of frames (0: until stopped).
	Count uint64
	// MinSize and MaxSize bound the frame lengths (without FCS): each
	// frame's length is a fixed pseudo-random function of its sequence
	// number and Seed. Defaults 60 and 1514; at least 60.
	MinSize, MaxSize int
	Seed             uint64
	// CPU is the sending host's CPU pktgen runs on (default: the last).
	CPU int
	// Delay is pktgen's gap between frames (0: as fast as the queue takes
	// them).
	Delay time.Duration
	// TCP, if set, makes the frames IPv4/TCP segments of this 4-tuple
	// (ETH_P_IP, valid header and TCP checksums, the TCP sequence number
	// advancing with the payload) instead of frames of EtherType, so that
	// the receiver's flow hash and RPS see a real flow. Frames are then at
	// least 64 bytes.
	TCP *TCPFlow
}

// TCPFlow is the 4-tuple of a TCP flow.
type TCPFlow struct {
	Src, Dst         [4]byte
	SrcPort, DstPort uint16
	// UDP makes the frames IPv4/UDP datagrams of the 4-tuple (valid UDP
	// checksum) instead of TCP segments.
	UDP bool
}

// Flow is a stream of numbered, patterned frames from From to To, checked on
// arrival: every byte, and the order.
type Flow struct {
	From, To *Host
	Cfg      FlowConfig
	Pktgen   *kernelmodel.Pktgen

	Received    uint64 // frames that arrived intact
	Bytes       uint64 // their bytes (without FCS)
	Lost        uint64 // sequence numbers skipped (frames that never arrived)
	Bad         uint64 // frames corrupt, duplicated or out of order
	Next        uint64 // next sequence number expected
	FirstError  string
	LastArrival time.Duration
	// CPUs counts, per CPU of the receiving host, the frames whose
	// protocol handler ran there (after RPS steering).
	CPUs []uint64
	// RxQueues counts the frames per receive queue the driver recorded
	// (skb->queue_mapping).
	RxQueues [16]uint64
	// Hash is skb->hash of the first frame that arrived; HashChanges
	// counts frames whose hash differed from it.
	Hash        uint32
	HashChanges uint64

	index uint8
	hlen  int // bytes of headers before the test payload
}

// Size is the length of frame seq of the flow (without FCS).
func (f *Flow) Size(seq uint64) int {
	span := uint64(f.Cfg.MaxSize - f.Cfg.MinSize + 1)
	return f.Cfg.MinSize + int(mix(seq^f.Cfg.Seed)%span)
}

func mix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

func patternAt(seq uint64, n int) []byte {
	o := int(seq * 0x9E3779B1 % patMod)
	return pattern[o : o+n]
}

// StartFlow starts pktgen on from sending cfg.Count frames to to, and the
// checking sink on to. The interfaces must be up.
func (tb *Testbed) StartFlow(from, to *Host, cfg FlowConfig) (*Flow, error) {
	hlen, least := ethHLen, minFrame
	if cfg.TCP != nil {
		hlen, least = tcpHLen, 64
		if cfg.TCP.UDP {
			hlen = udpHLen
		}
	}
	if cfg.MinSize == 0 {
		cfg.MinSize = least
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = 1514
	}
	if cfg.MinSize < least || cfg.MaxSize < cfg.MinSize || cfg.MaxSize > maxFlowLen {
		return nil, fmt.Errorf("testbed: frame sizes %d-%d: want %d <= min <= max <= %d", cfg.MinSize, cfg.MaxSize, least, maxFlowLen)
	}
	if cfg.CPU == 0 {
		cfg.CPU = from.Kernel.NumCPUs() - 1
	}
	if cfg.CPU < 0 || cfg.CPU >= from.Kernel.NumCPUs() {
		return nil, fmt.Errorf("testbed: %s has no CPU %d", from.Name, cfg.CPU)
	}
	if len(to.flows) >= 256 {
		return nil, fmt.Errorf("testbed: too many flows to %s", to.Name)
	}
	f := &Flow{From: from, To: to, Cfg: cfg, index: uint8(len(to.flows)), hlen: hlen, CPUs: make([]uint64, to.Kernel.NumCPUs())}
	to.addFlow(f)
	f.Pktgen = from.Kernel.StartPktgen(cfg.CPU, kernelmodel.PktgenConfig{
		Dev:     from.Dev,
		Count:   cfg.Count,
		Delay:   cfg.Delay,
		Fill:    f.fill,
		MaxSize: cfg.MaxSize,
	})
	return f, nil
}

// fill writes frame seq of the flow into buf (pktgen's Fill).
func (f *Flow) fill(seq uint64, buf []byte) int {
	n := f.Size(seq)
	copy(buf[0:6], f.To.Dev.Addr[:])
	copy(buf[6:12], f.From.Dev.Addr[:])
	pl := buf[f.hlen:n]
	binary.BigEndian.PutUint64(pl[seqOff:], seq)
	pl[flowOff] = f.index
	copy(pl[patOff:], patternAt(seq, len(pl)-patOff))
	if f.Cfg.TCP == nil {
		binary.BigEndian.PutUint16(buf[12:], EtherType)
		return n
	}
	binary.BigEndian.PutUint16(buf[12:], kernelmodel.ETH_P_IP)
	f.Cfg.TCP.header(buf[ethHLen:n], seq, f.tcpSeq(seq))
	return n
}

// tcpSeq is the TCP sequence number of frame seq: a function of seq alone,
// as if every segment were full (nothing here reassembles the stream).
func (f *Flow) tcpSeq(seq uint64) uint32 { return uint32(seq) * uint32(f.Cfg.MaxSize-tcpHLen) }

// header writes the IPv4 and TCP headers of p (IPv4 header, TCP header,
// payload) for a segment with IP id and TCP sequence from seq, with both
// checksums (or the IPv4 and UDP headers with UDP).
func (t *TCPFlow) header(p []byte, seq uint64, tcpSeq uint32) {
	if t.UDP {
		t.udpHeader(p, seq)
		return
	}
	ip, tcp := t.ipHeader(p, seq, header.ProtocolTCP), header.TCP(p[header.IPv4MinSize:])
	tcp.SetSourcePort(t.SrcPort)
	tcp.SetDestinationPort(t.DstPort)
	tcp.SetSequenceNumber(tcpSeq)
	tcp.SetAckNumber(1)
	tcp.SetDataOffset(header.TCPMinSize)
	tcp.SetFlags(header.TCPFlagPSH | header.TCPFlagACK)
	tcp.SetWindowSize(65535)
	tcp[header.TCPUrgent], tcp[header.TCPUrgent+1] = 0, 0
	tcp.SetChecksum(0)
	tcp.SetChecksum(^checksum.Checksum(tcp, ip.PseudoHeaderChecksum(uint16(len(tcp)))))
}

// ipHeader writes the IPv4 header of p for packet seq of the flow: no
// options, DF, TTL 64, the ID from seq, and its checksum.
func (t *TCPFlow) ipHeader(p []byte, seq uint64, proto uint8) header.IPv4 {
	ip := header.IPv4(p[:header.IPv4MinSize])
	ip.SetVersionIHL(header.IPv4MinSize)
	ip[header.IPv4TOS] = 0
	ip.SetTotalLength(uint16(len(p)))
	ip.SetID(uint16(seq))
	ip.SetFlagsFragment(header.IPv4FlagDF, 0)
	ip.SetTTL(64)
	ip.SetProtocol(proto)
	ip.SetSource(t.Src)
	ip.SetDestination(t.Dst)
	ip.SetChecksum(ip.CalculateChecksum())
	return ip
}

// udpHeader writes the IPv4 and UDP headers of p for datagram seq.
func (t *TCPFlow) udpHeader(p []byte, seq uint64) {
	ip, udp := t.ipHeader(p, seq, header.ProtocolUDP), header.UDP(p[header.IPv4MinSize:])
	udp.SetSourcePort(t.SrcPort)
	udp.SetDestinationPort(t.DstPort)
	udp.SetLength(uint16(len(udp)))
	udp.SetChecksum(0)
	udp.SetChecksum(^checksum.Checksum(udp, ip.PseudoHeaderChecksum(uint16(len(udp)))))
}

// addFlow installs the host's sink for the flow's kind of frames on first
// use.
func (h *Host) addFlow(f *Flow) {
	raw, tcp := false, false
	for _, g := range h.flows {
		raw, tcp = raw || g.Cfg.TCP == nil, tcp || g.Cfg.TCP != nil
	}
	switch {
	case f.Cfg.TCP == nil && !raw:
		h.Kernel.DevAddPack(&kernelmodel.PacketType{Type: EtherType, Dev: h.Dev, Func: h.sink})
	case f.Cfg.TCP != nil && !tcp:
		h.Kernel.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_IP, Dev: h.Dev, Func: h.sink})
	}
	h.flows = append(h.flows, f)
}

// sink is the test frames' protocol handler: it checks each frame against
// its flow and consumes it.
func (h *Host) sink(skb *kernelmodel.SKB) {
	p := skb.Data // after the Ethernet header
	off := 0
	if skb.Protocol == kernelmodel.ETH_P_IP {
		l4 := 20
		if len(p) >= 20 && p[9] == 17 {
			l4 = 8
		}
		if len(p) < 20 || p[9] != 6 && p[9] != 17 || len(p) < int(p[0]&0xF)*4+l4 {
			h.StrayFrames++
			h.Kernel.ConsumeSKB(skb)
			return
		}
		off = int(p[0]&0xF) * 4
		if p[9] == 6 {
			off += int(p[off+12]>>4) * 4
		} else {
			off += 8
		}
	}
	if len(p) < off+patOff || int(p[off+flowOff]) >= len(h.flows) {
		h.StrayFrames++
		h.Kernel.ConsumeSKB(skb)
		return
	}
	f := h.flows[p[off+flowOff]]
	if f.hlen != ethHLen+off {
		h.StrayFrames++
		h.Kernel.ConsumeSKB(skb)
		return
	}
	f.check(skb)
	h.Kernel.ConsumeSKB(skb)
}

func (f *Flow) fail(format string, args ...any) {
	f.Bad++
	if f.FirstError == "" {
		f.FirstError = fmt.Sprintf(format, args...)
	}
}

func (f *Flow) check(skb *kernelmodel.SKB) {
	if c := f.To.Kernel.CurrentCPU(); c != nil {
		f.CPUs[c.ID]++
	}
	if q := int(skb.QueueMapping); q < len(f.RxQueues) {
		f.RxQueues[q]++
	}
	if f.Received+f.Bad == 0 {
		f.Hash = skb.Hash
	} else if skb.Hash != f.Hash {
		f.HashChanges++
	}
	p := skb.Data
	pl := p[f.hlen-ethHLen:]
	seq := binary.BigEndian.Uint64(pl[seqOff:])
	f.LastArrival = f.To.Kernel.Now()
	mac := skb.MAC()
	switch {
	case mac == nil || [6]byte(mac[0:6]) != f.To.Dev.Addr || [6]byte(mac[6:12]) != f.From.Dev.Addr:
		f.fail("frame %d: bad addresses % x", seq, mac)
		return
	case f.Cfg.Count != 0 && seq >= f.Cfg.Count:
		f.fail("frame %d: beyond the flow's %d frames", seq, f.Cfg.Count)
		return
	case len(p)+ethHLen != f.Size(seq):
		f.fail("frame %d: %d bytes, want %d", seq, len(p)+ethHLen, f.Size(seq))
		return
	case !bytes.Equal(pl[patOff:], patternAt(seq, len(pl)-patOff)):
		f.fail("frame %d: payload corrupt", seq)
		return
	case seq < f.Next:
		f.fail("frame %d: out of order or duplicated (expected %d)", seq, f.Next)
		return
	}
	f.Lost += seq - f.Next
	f.Next = seq + 1
	f.Received++
	f.Bytes += uint64(len(p) + ethHLen)
}

// Complete reports whether pktgen has sent every frame and the last one has
// arrived (or, for frames lost on the way, been passed).
func (f *Flow) Complete() bool {
	return f.Pktgen.Done && f.Next >= f.Cfg.Count
}

// Err reports the first problem: a frame corrupt, duplicated or out of order.
func (f *Flow) Err() error {
	if f.Bad != 0 {
		return fmt.Errorf("%s->%s: %d bad frames, first: %s", f.From.Name, f.To.Name, f.Bad, f.FirstError)
	}
	return nil
}

// RunFlows runs the clock until every flow is complete, at most limit of
// model time from now; it reports whether they completed.
func (tb *Testbed) RunFlows(limit time.Duration, flows ...*Flow) bool {
	cond := func() bool {
		for _, f := range flows {
			if !f.Complete() {
				return true
			}
		}
		return false
	}
	tb.Clock.RunWhile(cond, tb.Clock.Now()+limit)
	return !cond()
}
