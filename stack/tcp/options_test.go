package tcp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/stack/header"
)

// tcpdumpOptions renders options the way tcpdump prints them, from
// gopacket's decoding of the segment: an independent decoder of what
// WriteOptions laid out.
func tcpdumpOptions(t *testing.T, opts []byte) string {
	t.Helper()
	seg := make([]byte, header.TCPMinSize+len(opts))
	header.TCP(seg).SetDataOffset(len(seg))
	copy(seg[header.TCPMinSize:], opts)
	var tcp layers.TCP
	if err := tcp.DecodeFromBytes(seg, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("gopacket: %v", err)
	}
	var parts []string
	for _, o := range tcp.Options {
		d := o.OptionData
		switch o.OptionType {
		case layers.TCPOptionKindNop:
			parts = append(parts, "nop")
		case layers.TCPOptionKindMSS:
			parts = append(parts, fmt.Sprintf("mss %d", binary.BigEndian.Uint16(d)))
		case layers.TCPOptionKindSACKPermitted:
			parts = append(parts, "sackOK")
		case layers.TCPOptionKindTimestamps:
			parts = append(parts, fmt.Sprintf("TS val %d ecr %d", binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:])))
		case layers.TCPOptionKindWindowScale:
			parts = append(parts, fmt.Sprintf("wscale %d", d[0]))
		case layers.TCPOptionKindSACK:
			s := "sack"
			for i := 0; i+8 <= len(d); i += 8 {
				s += fmt.Sprintf(" %d:%d", binary.BigEndian.Uint32(d[i:]), binary.BigEndian.Uint32(d[i+4:]))
			}
			parts = append(parts, s)
		default:
			parts = append(parts, fmt.Sprintf("opt-%d", o.OptionType))
		}
	}
	return "<" + strings.Join(parts, ",") + ">"
}

func TestWriteOptions(t *testing.T) {
	def := NewSysctl()
	noTS := def
	noTS.Timestamps = 0
	noSACK := def
	noSACK.SACK = 0
	noWS := def
	noWS.WindowScaling = 0
	b := func(n int) []SACKBlock {
		s := make([]SACKBlock, n)
		for i := range s {
			s[i] = SACKBlock{uint32(1000 * (i + 1)), uint32(1000*(i+1) + 500)}
		}
		return s
	}
	d := []SACKBlock{{100, 200}}
	for _, c := range []struct {
		name  string
		fill  func(*OutOptions) int
		size  int
		bytes []byte // nil: only the tcpdump form is checked
		dump  string
	}{
		{"syn", func(o *OutOptions) int { return SynOptions(o, &def, 1460, 7, 0x01020304) }, 20,
			[]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7},
			"<mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7>"},
		{"syn no timestamps", func(o *OutOptions) int { return SynOptions(o, &noTS, 1460, 7, 99) }, 12,
			[]byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7},
			"<mss 1460,nop,nop,sackOK,nop,wscale 7>"},
		{"syn no sack", func(o *OutOptions) int { return SynOptions(o, &noSACK, 1460, 7, 5) }, 20,
			[]byte{2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 0, 1, 3, 3, 7},
			"<mss 1460,nop,nop,TS val 5 ecr 0,nop,wscale 7>"},
		{"syn no wscale", func(o *OutOptions) int { return SynOptions(o, &noWS, 536, 7, 5) }, 16, nil,
			"<mss 536,sackOK,TS val 5 ecr 0>"},
		{"synack all", func(o *OutOptions) int { return SynackOptions(o, 1460, true, 7, true, 10, 20, true) }, 20, nil,
			"<mss 1460,sackOK,TS val 10 ecr 20,nop,wscale 7>"},
		{"synack sack only", func(o *OutOptions) int { return SynackOptions(o, 1400, false, 0, false, 0, 0, true) }, 8,
			[]byte{2, 4, 0x05, 0x78, 1, 1, 4, 2}, "<mss 1400,nop,nop,sackOK>"},
		{"synack bare", func(o *OutOptions) int { return SynackOptions(o, 1460, false, 0, false, 0, 0, false) }, 4,
			[]byte{2, 4, 0x05, 0xb4}, "<mss 1460>"},
		{"established ts", func(o *OutOptions) int { return EstablishedOptions(o, true, 7, 8, nil, nil) }, 12,
			[]byte{1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 8}, "<nop,nop,TS val 7 ecr 8>"},
		{"established none", func(o *OutOptions) int { return EstablishedOptions(o, false, 7, 8, nil, nil) }, 0, []byte{}, "<>"},
		{"ts and 1 sack", func(o *OutOptions) int { return EstablishedOptions(o, true, 7, 8, nil, b(1)) }, 24, nil,
			"<nop,nop,TS val 7 ecr 8,nop,nop,sack 1000:1500>"},
		{"ts keeps 3 of 4 sacks", func(o *OutOptions) int { return EstablishedOptions(o, true, 7, 8, nil, b(4)) }, 40, nil,
			"<nop,nop,TS val 7 ecr 8,nop,nop,sack 1000:1500 2000:2500 3000:3500>"},
		{"no ts 4 sacks", func(o *OutOptions) int { return EstablishedOptions(o, false, 0, 0, nil, b(4)) }, 36, nil,
			"<nop,nop,sack 1000:1500 2000:2500 3000:3500 4000:4500>"},
		{"dsack first", func(o *OutOptions) int { return EstablishedOptions(o, true, 7, 8, d, b(2)) }, 40, nil,
			"<nop,nop,TS val 7 ecr 8,nop,nop,sack 100:200 1000:1500 2000:2500>"},
		{"dsack crowds out the last sack", func(o *OutOptions) int { return EstablishedOptions(o, true, 7, 8, d, b(3)) }, 40, nil,
			"<nop,nop,TS val 7 ecr 8,nop,nop,sack 100:200 1000:1500 2000:2500>"},
		{"dsack alone no ts", func(o *OutOptions) int { return EstablishedOptions(o, false, 0, 0, d, nil) }, 12,
			[]byte{1, 1, 5, 10, 0, 0, 0, 100, 0, 0, 0, 200}, "<nop,nop,sack 100:200>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var o OutOptions
			size := c.fill(&o)
			if size != c.size {
				t.Fatalf("size %d, want %d", size, c.size)
			}
			buf := bytes.Repeat([]byte{0xEE}, 48)
			n := WriteOptions(buf, &o)
			if n != size {
				t.Fatalf("wrote %d bytes, the options function said %d", n, size)
			}
			if buf[n] != 0xEE {
				t.Fatal("wrote past the size")
			}
			if c.bytes != nil && !bytes.Equal(buf[:n], c.bytes) {
				t.Errorf("bytes % x\nwant  % x", buf[:n], c.bytes)
			}
			if got := tcpdumpOptions(t, buf[:n]); got != c.dump {
				t.Errorf("tcpdump %s\nwant    %s", got, c.dump)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	def := NewSysctl()
	noTS := def
	noTS.Timestamps = 0
	noWS := def
	noWS.WindowScaling = 0
	syn := []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3, 1, 3, 3, 7}
	sack2 := []byte{1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4}
	for _, c := range []struct {
		name       string
		opts       []byte
		syn, estab bool
		sys        *Sysctl
		pre        RxOptions // connection state before
		want       RxOptions
	}{
		{"syn", syn, true, false, &def, RxOptions{},
			RxOptions{SackOK: true, WscaleOK: true, SndWscale: 7, MSSClamp: 1460, SawTstamp: true, RcvTSval: 9, RcvTSecr: 3}},
		{"syn with tcp_timestamps 0", syn, true, false, &noTS, RxOptions{},
			RxOptions{SackOK: true, WscaleOK: true, SndWscale: 7, MSSClamp: 1460}},
		{"syn with tcp_window_scaling 0", syn, true, false, &noWS, RxOptions{},
			RxOptions{SackOK: true, MSSClamp: 1460, SawTstamp: true, RcvTSval: 9, RcvTSecr: 3}},
		{"handshake options ignored without SYN", syn, false, false, &def, RxOptions{},
			RxOptions{SawTstamp: true, RcvTSval: 9, RcvTSecr: 3}},
		{"established: timestamp only if negotiated", syn, true, true, &def, RxOptions{},
			RxOptions{}},
		{"established with timestamps", syn, false, true, &def, RxOptions{TstampOK: true},
			RxOptions{TstampOK: true, SawTstamp: true, RcvTSval: 9, RcvTSecr: 3}},
		{"user mss clamps", []byte{2, 4, 0x05, 0xb4}, true, false, &def, RxOptions{UserMSS: 1000},
			RxOptions{UserMSS: 1000, MSSClamp: 1000}},
		{"mss 0 ignored", []byte{2, 4, 0, 0}, true, false, &def, RxOptions{MSSClamp: 536},
			RxOptions{MSSClamp: 536}},
		{"mss of wrong length skipped, parse goes on", []byte{2, 5, 5, 0xb4, 0, 1, 3, 3, 7}, true, false, &def, RxOptions{},
			RxOptions{WscaleOK: true, SndWscale: 7}},
		{"wscale 15 clamped to 14", []byte{3, 3, 15}, true, false, &def, RxOptions{},
			RxOptions{WscaleOK: true, SndWscale: 14}},
		{"length 1 stops", []byte{1, 8, 1, 2, 4, 0x05, 0xb4}, true, false, &def, RxOptions{}, RxOptions{}},
		{"length 0 stops", []byte{3, 3, 2, 8, 0, 2, 4, 1, 0}, true, false, &def, RxOptions{},
			RxOptions{WscaleOK: true, SndWscale: 2}},
		{"length beyond the space stops", []byte{3, 3, 2, 2, 5, 5, 0xb4}, true, false, &def, RxOptions{},
			RxOptions{WscaleOK: true, SndWscale: 2}},
		{"kind without length byte", []byte{1, 1, 1, 2}, true, false, &def, RxOptions{}, RxOptions{}},
		{"EOL ends the list", []byte{3, 3, 2, 0, 2, 4, 5, 0xb4}, true, false, &def, RxOptions{},
			RxOptions{WscaleOK: true, SndWscale: 2}},
		{"sack blocks", sack2, false, true, &def, RxOptions{SackOK: true},
			RxOptions{SackOK: true, NumSACK: 2, SACK: [4]SACKBlock{{1, 2}, {3, 4}}}},
		{"sack without sack_ok ignored", sack2, false, true, &def, RxOptions{}, RxOptions{}},
		{"sack of a partial block skipped", []byte{5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 1, 1, 1, 5, 10, 0, 0, 0, 7, 0, 0, 0, 8},
			false, true, &def, RxOptions{SackOK: true}, RxOptions{SackOK: true, NumSACK: 1, SACK: [4]SACKBlock{{7, 8}}}},
		{"sack perm on a syn enables sack blocks after it", []byte{4, 2, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2}, true, false, &def,
			RxOptions{}, RxOptions{SackOK: true, NumSACK: 1, SACK: [4]SACKBlock{{1, 2}}}},
		{"timestamp of wrong length skipped", []byte{8, 6, 0, 0, 0, 1, 3, 3, 1}, true, false, &def, RxOptions{},
			RxOptions{WscaleOK: true, SndWscale: 1}},
		{"unknown options skipped", []byte{254, 4, 0xf9, 0x89, 34, 2, 2, 4, 1, 0}, true, false, &def, RxOptions{},
			RxOptions{MSSClamp: 256}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rx := c.pre
			rx.SawTstamp, rx.NumSACK = true, 3 // stale per-segment state must go
			ParseOptions(c.opts, c.syn, c.estab, c.sys, &rx)
			if rx != c.want {
				t.Errorf("got  %+v\nwant %+v", rx, c.want)
			}
		})
	}
}

func TestFastParseOptions(t *testing.T) {
	sys := NewSysctl()
	seg := func(opts []byte, flags uint8) header.TCP {
		b := make(header.TCP, header.TCPMinSize+len(opts))
		b.SetDataOffset(len(b))
		b.SetFlags(flags)
		copy(b[header.TCPMinSize:], opts)
		return b
	}
	ts := []byte{1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0} // TSval 256, TSecr 512
	for _, c := range []struct {
		name string
		th   header.TCP
		pre  RxOptions
		opts bool // the return value: options present
		saw  bool
		tsv  uint32
		ecr  uint32 // after the offset of 12
		nack int
	}{
		{"no options", seg(nil, header.TCPFlagACK), RxOptions{TstampOK: true, SawTstamp: true}, false, false, 0, 0, 0},
		{"aligned timestamp", seg(ts, header.TCPFlagACK), RxOptions{TstampOK: true}, true, true, 256, 500, 0},
		{"aligned layout, not negotiated", seg(ts, header.TCPFlagACK), RxOptions{}, true, false, 0, 0, 0},
		{"echo 0 keeps 0", seg([]byte{1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0}, header.TCPFlagACK), RxOptions{TstampOK: true}, true, true, 9, 0, 0},
		{"other layout goes the slow way", seg([]byte{8, 10, 0, 0, 0, 5, 0, 0, 0, 20, 1, 1}, header.TCPFlagACK), RxOptions{TstampOK: true}, true, true, 5, 8, 0},
		{"timestamp and sack", seg(append(append([]byte{}, ts...), 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2), header.TCPFlagACK),
			RxOptions{TstampOK: true, SackOK: true}, true, true, 256, 500, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rx := c.pre
			if got := FastParseOptions(c.th, &sys, 12, &rx); got != c.opts || rx.SawTstamp != c.saw {
				t.Fatalf("options %v, saw timestamp %v; want %v, %v", got, rx.SawTstamp, c.opts, c.saw)
			}
			if c.saw && (rx.RcvTSval != c.tsv || rx.RcvTSecr != c.ecr) {
				t.Errorf("tsval %d tsecr %d, want %d %d", rx.RcvTSval, rx.RcvTSecr, c.tsv, c.ecr)
			}
			if rx.NumSACK != c.nack {
				t.Errorf("%d sack blocks, want %d", rx.NumSACK, c.nack)
			}
		})
	}
}

// expectFromGopacket applies tcp_parse_options' rules to the options as
// gopacket tokenized them (it stops where Linux stops: a length below 2
// or beyond the data; the option it failed on is dropped).
func expectFromGopacket(opts []layers.TCPOption, syn, estab bool, sys *Sysctl, rx RxOptions) RxOptions {
	rx.SawTstamp, rx.NumSACK = false, 0
	for _, o := range opts {
		d := o.OptionData
		n := int(o.OptionLength)
		switch o.OptionType {
		case layers.TCPOptionKindEndList:
			return rx
		case layers.TCPOptionKindMSS:
			if n == 4 && syn && !estab {
				if v := uint16(d[0])<<8 | uint16(d[1]); v != 0 {
					if rx.UserMSS != 0 && rx.UserMSS < v {
						v = rx.UserMSS
					}
					rx.MSSClamp = v
				}
			}
		case layers.TCPOptionKindWindowScale:
			if n == 3 && syn && !estab && sys.WindowScaling != 0 {
				rx.WscaleOK, rx.SndWscale = true, min(d[0], 14)
			}
		case layers.TCPOptionKindTimestamps:
			if n == 10 && ((estab && rx.TstampOK) || (!estab && sys.Timestamps != 0)) {
				rx.SawTstamp = true
				rx.RcvTSval, rx.RcvTSecr = binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:])
			}
		case layers.TCPOptionKindSACKPermitted:
			if n == 2 && syn && !estab && sys.SACK != 0 {
				rx.SackOK = true
			}
		case layers.TCPOptionKindSACK:
			if n >= 10 && (n-2)%8 == 0 && rx.SackOK {
				rx.NumSACK = min(4, len(d)/8)
				for i := range rx.NumSACK {
					rx.SACK[i] = SACKBlock{binary.BigEndian.Uint32(d[8*i:]), binary.BigEndian.Uint32(d[8*i+4:])}
				}
			}
		}
	}
	return rx
}

// FuzzTCPOptions parses arbitrary option bytes in every state: no panic,
// the same result as tcp_parse_options' rules over gopacket's tokenizer,
// and what WriteOptions lays out from the result parses back to it.
func FuzzTCPOptions(f *testing.F) {
	for _, s := range [][]byte{
		{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3, 1, 3, 3, 7},
		{1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0, 1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4},
		{3, 3, 15, 2, 1},
		{5, 255, 0},
		{2, 0, 2, 4, 0, 0},
		{4, 2, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8},
	} {
		f.Add(s, uint8(0x0f))
	}
	f.Fuzz(func(t *testing.T, opts []byte, mode uint8) {
		// The option space is whole words (the data offset counts
		// them); padding instead would make a truncated option whole.
		opts = opts[:min(len(opts), header.TCPOptionsMaxSize)/4*4]
		syn, estab := mode&1 != 0, mode&2 != 0
		sys := NewSysctl()
		if mode&4 == 0 {
			sys.Timestamps = 0
		}
		pre := RxOptions{TstampOK: mode&8 != 0, SackOK: mode&16 != 0, UserMSS: uint16(mode>>5) * 200}
		rx := pre
		ParseOptions(opts, syn, estab, &sys, &rx)

		seg := make([]byte, header.TCPMinSize+len(opts))
		header.TCP(seg).SetDataOffset(len(seg))
		copy(seg[header.TCPMinSize:], opts)
		var g layers.TCP
		var gopts []layers.TCPOption
		if err := g.DecodeFromBytes(seg, gopacket.NilDecodeFeedback); err != nil {
			gopts = g.Options[:len(g.Options)-1] // the option it failed on
		} else {
			gopts = g.Options
		}
		if want := expectFromGopacket(gopts, syn, estab, &sys, pre); rx != want {
			t.Fatalf("options % x mode %#x:\nParseOptions %+v\ngopacket     %+v", opts, mode, rx, want)
		}

		// Round trip: lay out what was parsed and parse it again.
		var o OutOptions
		var size int
		if syn && !estab {
			size = SynackOptions(&o, rx.MSSClamp, rx.WscaleOK, rx.SndWscale, rx.SawTstamp, rx.RcvTSval, rx.RcvTSecr, rx.SackOK)
			if rx.MSSClamp == 0 {
				size -= lenMSSAligned
			}
		} else {
			size = EstablishedOptions(&o, rx.SawTstamp, rx.RcvTSval, rx.RcvTSecr, nil, rx.SACK[:rx.NumSACK])
		}
		if size > header.TCPOptionsMaxSize {
			t.Fatalf("options of %d bytes", size)
		}
		buf := make([]byte, header.TCPOptionsMaxSize)
		if n := WriteOptions(buf, &o); n != size {
			t.Fatalf("wrote %d, sized %d", n, size)
		}
		back := RxOptions{TstampOK: rx.SawTstamp, SackOK: rx.SackOK && !(syn && !estab)}
		ParseOptions(buf[:size], syn, estab, &sys, &back)
		if back.SawTstamp != rx.SawTstamp || back.RcvTSval != rx.RcvTSval || back.RcvTSecr != rx.RcvTSecr {
			t.Fatalf("timestamp did not round-trip: %+v -> %+v", rx, back)
		}
		if syn && !estab {
			if back.MSSClamp != rx.MSSClamp || back.WscaleOK != rx.WscaleOK || back.SndWscale != rx.SndWscale || back.SackOK != rx.SackOK {
				t.Fatalf("handshake options did not round-trip: %+v -> %+v", rx, back)
			}
		} else if rx.SackOK {
			keep := min(rx.NumSACK, map[bool]int{true: 3, false: 4}[rx.SawTstamp])
			if back.NumSACK != keep || !slices.Equal(back.SACK[:keep], rx.SACK[:keep]) {
				t.Fatalf("sack blocks did not round-trip: %+v -> %+v", rx, back)
			}
		}
	})
}

func BenchmarkParseOptions(b *testing.B) {
	sys := NewSysctl()
	opts := []byte{1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0, 1, 1, 5, 26, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6}
	rx := RxOptions{TstampOK: true, SackOK: true}
	b.ReportAllocs()
	for b.Loop() {
		ParseOptions(opts, false, true, &sys, &rx)
	}
	if rx.NumSACK != 3 {
		b.Fatal(rx.NumSACK)
	}
}

func BenchmarkWriteOptions(b *testing.B) {
	sacks := []SACKBlock{{1, 2}, {3, 4}, {5, 6}}
	var buf [header.TCPOptionsMaxSize]byte
	var o OutOptions
	b.ReportAllocs()
	for b.Loop() {
		n := EstablishedOptions(&o, true, 1, 2, nil, sacks)
		WriteOptions(buf[:n], &o)
	}
}
