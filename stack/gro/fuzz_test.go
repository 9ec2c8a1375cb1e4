package gro_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/internal/fuzzmin"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/gro"
	"github.com/nicbed/nicbed/stack/header"
)

// fuzzRecord appends one frame to a FuzzGRO input: a control byte (bit 0:
// CHECKSUM_UNNECESSARY; bits 1-2: skb->hash; bit 6: napi_complete_done
// after it; bit 7: a jiffy passes and the old flush runs before it), the
// length (big-endian 16 bits) and the frame.
func fuzzRecord(in []byte, ctl byte, frame []byte) []byte {
	in = append(in, ctl, byte(len(frame)>>8), byte(len(frame)))
	return append(in, frame...)
}

// fuzzSeeds are streams GRO merges, flushes and refuses.
func fuzzSeeds() [][]byte {
	var out [][]byte
	var in []byte
	for i := 0; i < 6; i++ {
		in = fuzzRecord(in, 1, full(0, i).build(i))
	}
	out = append(out, in)
	in = nil
	for i := 0; i < 4; i++ {
		in = fuzzRecord(in, 1, full(0, i).build(i))
		in = fuzzRecord(in, 1, full(1, i).build(i))
	}
	in = fuzzRecord(in, 1|0x40, with(full(0, 4), func(s *seg) { s.flags = header.TCPFlagACK | header.TCPFlagPSH }).build(4))
	out = append(out, in)
	in = nil
	in = fuzzRecord(in, 0, full(0, 0).build(0))
	in = fuzzRecord(in, 0, with(full(0, 1), func(s *seg) { s.badCsum = true }).build(1))
	in = fuzzRecord(in, 0x81, full(0, 2).build(2))
	in = fuzzRecord(in, 1, with(full(0, 3), func(s *seg) { s.pad = 6 }).build(3))
	in = fuzzRecord(in, 1, with(full(0, 4), func(s *seg) { s.n = 10 }).build(4))
	in = fuzzRecord(in, 3, with(full(2, 0), func(s *seg) { s.mod = ipOptions }).build(0))
	out = append(out, in)
	in = nil
	for i := 0; i < 46; i++ {
		in = fuzzRecord(in, 1, full(0, i).build(i))
	}
	out = append(out, in)
	return out
}

// FuzzGRO feeds hostile frames to napi_gro_receive: GRO must not panic,
// must leave no skb live or misused (SKBAudit), must pass up every frame
// the IPv4 handler gets exactly once (alone and unchanged, or inside one
// aggregate), and every aggregate must be a valid concatenation of frames
// that came in: its headers those of its first segment with the lengths and
// checksums fixed, each segment's headers equal but for the ID, lengths,
// checksums and FIN/PSH, the sequence numbers consecutive, the payloads in
// order.
func FuzzGRO(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newRig(t)
		defer r.k.Close()
		var inputs [][]byte
		ip := 0
		for len(data) >= 3 && len(inputs) < 64 {
			ctl := data[0]
			n := min(int(binary.BigEndian.Uint16(data[1:3])), len(data)-3, 9000)
			frame := data[3 : 3+n]
			data = data[3+n:]
			if ctl&0x80 != 0 {
				r.k.Clock().RunFor(time.Millisecond)
				if g := gro.Of(&r.napi); g != nil {
					g.Flush(&r.napi, true)
				}
			}
			summed := uint8(kernelmodel.CHECKSUM_NONE)
			if ctl&1 != 0 {
				summed = kernelmodel.CHECKSUM_UNNECESSARY
			}
			r.receive(frame, summed, uint32(ctl>>1)&3)
			if ctl&0x40 != 0 {
				r.napi.NAPICompleteDone(0)
			}
			inputs = append(inputs, frame)
			if len(frame) >= 14 && binary.BigEndian.Uint16(frame[12:]) == kernelmodel.ETH_P_IP {
				ip++
			}
		}
		r.napi.NAPICompleteDone(0)
		if err := r.k.SKBAudit(); err != nil {
			t.Fatal(err)
		}
		total := 0
		for i, d := range r.got {
			if d.gsoSegs <= 1 {
				total++
				if !containsFrame(inputs, d.frame) {
					t.Fatalf("packet %d passed up alone is no frame that came in: %x", i, d.frame)
				}
				continue
			}
			total += int(d.gsoSegs)
			if err := validAggregate(d, inputs); err != "" {
				t.Fatalf("aggregate %d: %s\n%x", i, err, d.frame)
			}
		}
		if total != ip {
			t.Fatalf("%d segments passed up, %d IPv4 frames came in", total, ip)
		}
	})
}

// TestMain bounds the minimization of new fuzz inputs (each run builds a
// kernel model).
func TestMain(m *testing.M) { fuzzmin.Main(m, 2000) }

func containsFrame(inputs [][]byte, f []byte) bool {
	for _, in := range inputs {
		if bytes.Equal(in, f) {
			return true
		}
	}
	return false
}

// validAggregate checks an aggregate against the frames that came in; it
// returns what is wrong, or "".
func validAggregate(d delivered, inputs [][]byte) string {
	f := d.frame
	if len(f) < 14+40 {
		return "short"
	}
	ip := header.IPv4(f[14:])
	if f[14] != 0x45 || int(ip.TotalLength()) != len(f)-14 || !ip.ChecksumValid() {
		return "bad IP header"
	}
	th := header.TCP(f[34:])
	thlen := th.DataOffset()
	if thlen < 20 || 34+thlen > len(f) {
		return "bad TCP header"
	}
	if d.ipSummed != kernelmodel.CHECKSUM_PARTIAL || d.csumStart != 34 || d.csumOff != 16 ||
		th.Checksum() != ip.PseudoHeaderChecksum(uint16(len(f)-34)) {
		return "bad CHECKSUM_PARTIAL state"
	}
	hdr := 34 + thlen
	pay := f[hdr:]
	seq := th.SequenceNumber()
	var flags uint8
	for k := 0; k < int(d.gsoSegs); k++ {
		found := false
		for _, in := range inputs {
			if len(in) < hdr || len(in)-hdr > len(pay) || len(in) == hdr {
				continue
			}
			if !sameSegmentHeader(f[:hdr], in[:hdr], k == 0) || header.TCP(in[34:]).SequenceNumber() != seq ||
				!bytes.Equal(in[hdr:], pay[:len(in)-hdr]) {
				continue
			}
			if k == 0 && !bytes.Equal(in[14+4:14+6], f[14+4:14+6]) {
				continue // the aggregate keeps the first segment's ID
			}
			if k > 0 && len(in)-hdr > int(d.gsoSize) {
				continue
			}
			found = true
			flags |= in[34+13]
			seq += uint32(len(in) - hdr)
			pay = pay[len(in)-hdr:]
			break
		}
		if !found {
			return "segment " + itoa(k) + " matches no frame that came in"
		}
	}
	if len(pay) != 0 {
		return "payload beyond its segments"
	}
	if th.Flags()&(header.TCPFlagFIN|header.TCPFlagPSH) != flags&(header.TCPFlagFIN|header.TCPFlagPSH) {
		return "FIN/PSH not its segments'"
	}
	if checksum.Checksum(f[14:34], 0) != 0xFFFF {
		return "IP checksum"
	}
	return ""
}

// sameSegmentHeader compares an aggregate's headers with a segment's: all
// but the IP total length, ID and checksum, the sequence number, FIN and
// PSH (and CWR, which only the first may carry), the TCP checksum and the
// urgent pointer (tcp_gro_receive compares neither).
func sameSegmentHeader(agg, in []byte, first bool) bool {
	skip := func(i int) bool {
		switch {
		case i >= 14+2 && i < 14+6, i >= 14+10 && i < 14+12: // tot_len, id, check
			return true
		case i >= 34+4 && i < 34+8, i >= 34+16 && i < 34+20: // seq, check, urg_ptr
			return true
		}
		return false
	}
	for i := range agg {
		if skip(i) {
			continue
		}
		a, b := agg[i], in[i]
		if i == 34+13 {
			mask := ^uint8(header.TCPFlagFIN | header.TCPFlagPSH)
			if !first {
				mask &^= header.TCPFlagCWR
			}
			a, b = a&mask, b&mask
		}
		if a != b {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
