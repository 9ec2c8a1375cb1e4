package testbed

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// EtherType is the EtherType of test frames (IEEE 802 local experimental
// EtherType 1).
const EtherType = 0x88B5

// Test frame layout after the 14-byte Ethernet header: the sequence number
// (8 bytes, big-endian), the flow's index on the receiving host (1 byte),
// then a pattern that depends on the sequence number.
const (
	seqOff     = ethHLen
	flowOff    = ethHLen + 8
	patOff     = ethHLen + 9
	ethHLen    = 14
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

	index uint8
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
	if cfg.MinSize == 0 {
		cfg.MinSize = minFrame
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = 1514
	}
	if cfg.MinSize < minFrame || cfg.MaxSize < cfg.MinSize || cfg.MaxSize > maxFlowLen {
		return nil, fmt.Errorf("testbed: frame sizes %d-%d: want %d <= min <= max <= %d", cfg.MinSize, cfg.MaxSize, minFrame, maxFlowLen)
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
	f := &Flow{From: from, To: to, Cfg: cfg, index: uint8(len(to.flows))}
	to.addFlow(f)
	dst, src := to.Dev.Addr, from.Dev.Addr
	f.Pktgen = from.Kernel.StartPktgen(cfg.CPU, kernelmodel.PktgenConfig{
		Dev:   from.Dev,
		Count: cfg.Count,
		Delay: cfg.Delay,
		Fill: func(seq uint64, buf []byte) int {
			n := f.Size(seq)
			copy(buf[0:6], dst[:])
			copy(buf[6:12], src[:])
			binary.BigEndian.PutUint16(buf[12:], EtherType)
			binary.BigEndian.PutUint64(buf[seqOff:], seq)
			buf[flowOff] = f.index
			copy(buf[patOff:n], patternAt(seq, n-patOff))
			return n
		},
		MaxSize: cfg.MaxSize,
	})
	return f, nil
}

// addFlow installs the host's test-frame sink on first use.
func (h *Host) addFlow(f *Flow) {
	if h.flows == nil {
		h.Kernel.DevAddPack(&kernelmodel.PacketType{Type: EtherType, Dev: h.Dev, Func: h.sink})
	}
	h.flows = append(h.flows, f)
}

// sink is the test frames' protocol handler: it checks each frame against
// its flow and consumes it.
func (h *Host) sink(skb *kernelmodel.SKB) {
	p := skb.Data // after the Ethernet header
	if len(p) < patOff-ethHLen || int(p[flowOff-ethHLen]) >= len(h.flows) {
		h.StrayFrames++
		h.Kernel.ConsumeSKB(skb)
		return
	}
	f := h.flows[p[flowOff-ethHLen]]
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
	p := skb.Data
	seq := binary.BigEndian.Uint64(p[seqOff-ethHLen:])
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
	case !bytes.Equal(p[patOff-ethHLen:], patternAt(seq, len(p)+ethHLen-patOff)):
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
