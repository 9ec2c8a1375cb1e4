package tcp

import (
	"encoding/binary"

	"github.com/nicbed/nicbed/stack/header"
)

// Option space and sizes as Linux reserves them (include/net/tcp.h).
const (
	// TCPNumSACKs is TCP_NUM_SACKS: the most SACK blocks Linux keeps and
	// sends (4 fit in 40 bytes without timestamps, 3 with them).
	TCPNumSACKs = 4
	// TCPMaxWscale is TCP_MAX_WSCALE: a larger shift received is clamped
	// (RFC 7323 section 2.3).
	TCPMaxWscale = 14
	// TCPMSSDefault is TCP_MSS_DEFAULT: the MSS assumed when a SYN has no
	// MSS option (RFC 9293 section 3.7.1).
	TCPMSSDefault = 536

	lenMSSAligned      = 4  // TCPOLEN_MSS_ALIGNED
	lenTstampAligned   = 12 // TCPOLEN_TSTAMP_ALIGNED
	lenWscaleAligned   = 4  // TCPOLEN_WSCALE_ALIGNED
	lenSACKPermAligned = 4  // TCPOLEN_SACKPERM_ALIGNED
	lenSACKBaseAligned = 4  // TCPOLEN_SACK_BASE_ALIGNED
)

// SACKBlock is struct tcp_sack_block: one [Start, End) range of a SACK
// option (RFC 2018 section 3).
type SACKBlock struct {
	Start, End uint32
}

// RxOptions is struct tcp_options_received: what the peer's options say.
// The first group is per connection (set during the handshake and kept);
// ParseOptions resets the second group for every segment.
type RxOptions struct {
	TstampOK  bool   // tstamp_ok: timestamps negotiated
	SackOK    bool   // sack_ok: SACK-permitted seen (TCP_SACK_SEEN)
	WscaleOK  bool   // wscale_ok: window scaling negotiated
	SndWscale uint8  // snd_wscale: the peer's shift for its windows
	MSSClamp  uint16 // mss_clamp: the peer's MSS, 0 until a SYN gives one
	UserMSS   uint16 // user_mss: TCP_MAXSEG, 0 for none

	SawTstamp bool   // saw_tstamp: this segment had a timestamp option
	RcvTSval  uint32 // rcv_tsval
	RcvTSecr  uint32 // rcv_tsecr
	// NumSACK and SACK are the blocks of the segment's SACK option, in
	// the order sent (Linux keeps the option's offset in
	// TCP_SKB_CB(skb)->sacked and reads the blocks in
	// tcp_sacktag_write_queue).
	NumSACK int
	SACK    [TCPNumSACKs]SACKBlock
}

// ParseOptions is tcp_parse_options: it reads the option bytes of a
// segment into rx. syn is the segment's SYN flag, estab whether the
// connection is past the handshake (Linux's estab argument), sys the
// net.ipv4.tcp_* switches that allow an option on a SYN.
//
// It is as tolerant as Linux's: an option with a length below 2 or beyond
// the option space, or a kind byte with no room for its length, ends the
// parse (the options before it count); EOL ends it; options of a wrong
// length or in the wrong state are skipped. MSS, window scale and
// SACK-permitted count only on a SYN before the connection is established;
// a timestamp counts when negotiated (estab) or allowed (handshake); SACK
// blocks count only when SACK is permitted and the option holds whole
// blocks. An MSS of 0 is ignored, and a shift above 14 becomes 14.
func ParseOptions(opts []byte, syn, estab bool, sys *Sysctl, rx *RxOptions) {
	rx.SawTstamp = false
	rx.NumSACK = 0
	for b := opts; ; {
		kind, data, rest, ok := header.NextTCPOption(b)
		if !ok {
			return
		}
		b = rest
		n := len(data) + 2
		switch kind {
		case header.TCPOptionMSS:
			if n == header.TCPOptionMSSLength && syn && !estab {
				mss := binary.BigEndian.Uint16(data)
				if mss != 0 {
					if rx.UserMSS != 0 && rx.UserMSS < mss {
						mss = rx.UserMSS
					}
					rx.MSSClamp = mss
				}
			}
		case header.TCPOptionWindowScale:
			if n == header.TCPOptionWindowScaleLength && syn && !estab && sys.WindowScaling != 0 {
				rx.WscaleOK = true
				rx.SndWscale = min(data[0], TCPMaxWscale)
			}
		case header.TCPOptionTimestamp:
			if n == header.TCPOptionTimestampLength && ((estab && rx.TstampOK) || (!estab && sys.Timestamps != 0)) {
				rx.SawTstamp = true
				rx.RcvTSval = binary.BigEndian.Uint32(data)
				rx.RcvTSecr = binary.BigEndian.Uint32(data[4:])
			}
		case header.TCPOptionSACKPermitted:
			if n == header.TCPOptionSACKPermittedLength && syn && !estab && sys.SACK != 0 {
				rx.SackOK = true
			}
		case header.TCPOptionSACK:
			if n >= header.TCPOptionSACKBase+header.TCPOptionSACKPerBlock &&
				(n-header.TCPOptionSACKBase)%header.TCPOptionSACKPerBlock == 0 && rx.SackOK {
				rx.NumSACK = min(TCPNumSACKs, len(data)/header.TCPOptionSACKPerBlock)
				for i := range rx.NumSACK {
					rx.SACK[i] = SACKBlock{binary.BigEndian.Uint32(data[8*i:]), binary.BigEndian.Uint32(data[8*i+4:])}
				}
			}
		}
	}
}

// alignedTS is the first word of Linux's timestamp layouts: NOP, NOP,
// TIMESTAMP, 10.
const alignedTS = header.TCPOptionNOP<<24 | header.TCPOptionNOP<<16 | header.TCPOptionTimestamp<<8 | header.TCPOptionTimestampLength

// FastParseOptions is tcp_fast_parse_options: on an established connection
// a header with no options, or with exactly the NOP, NOP, timestamp layout
// Linux sends (tcp_parse_aligned_timestamp), is read without the general
// walk; anything else goes through ParseOptions. A nonzero echo has the
// connection's timestamp offset tsoffset taken off (RcvTSecr is then on
// the connection's own clock). It reports whether the header had options
// at all; rx.SawTstamp whether one was a timestamp.
func FastParseOptions(th header.TCP, sys *Sysctl, tsoffset uint32, rx *RxOptions) bool {
	switch th.DataOffset() {
	case header.TCPMinSize:
		rx.SawTstamp = false
		rx.NumSACK = 0
		return false
	case header.TCPMinSize + lenTstampAligned:
		if rx.TstampOK {
			o := th[header.TCPMinSize:]
			if binary.BigEndian.Uint32(o) == alignedTS {
				rx.SawTstamp = true
				rx.NumSACK = 0
				rx.RcvTSval = binary.BigEndian.Uint32(o[4:])
				rx.RcvTSecr = binary.BigEndian.Uint32(o[8:])
				if rx.RcvTSecr != 0 {
					rx.RcvTSecr -= tsoffset
				}
				return true
			}
		}
	}
	ParseOptions(th.Options(), th.Flags()&header.TCPFlagSYN != 0, true, sys, rx)
	if rx.SawTstamp && rx.RcvTSecr != 0 {
		rx.RcvTSecr -= tsoffset
	}
	return true
}

// The options a segment carries (Linux's OPTION_* bits of struct
// tcp_out_options).
const (
	OptionSACKAdvertise = 1 << 0 // OPTION_SACK_ADVERTISE: SACK-permitted
	OptionTS            = 1 << 1 // OPTION_TS: timestamps
	OptionWscale        = 1 << 3 // OPTION_WSCALE: window scale
)

// OutOptions is struct tcp_out_options: the options of one outgoing
// segment, as the tcp_*_options functions choose them and WriteOptions
// lays them out.
type OutOptions struct {
	Options uint16 // OPTION_* bits
	MSS     uint16 // 0: no MSS option
	WS      uint8  // the window scale shift
	TSval   uint32
	TSecr   uint32
	// NumSACKBlocks blocks of SACK are sent, a D-SACK block first
	// (RFC 2883 section 4).
	NumSACKBlocks int
	SACK          [TCPNumSACKs]SACKBlock
}

// SynOptions is tcp_syn_options: the options of a SYN. It advertises mss,
// timestamps (tsval; tsecr 0) when net.ipv4.tcp_timestamps is on, the
// receive window shift wscale when tcp_window_scaling is on, and SACK when
// tcp_sack is on, and returns the option bytes that takes (20 with all of
// them: mss, sackOK+TS, nop+wscale).
func SynOptions(o *OutOptions, sys *Sysctl, mss uint16, wscale uint8, tsval uint32) int {
	*o = OutOptions{MSS: mss}
	size := lenMSSAligned
	if sys.Timestamps != 0 {
		o.Options |= OptionTS
		o.TSval = tsval
		size += lenTstampAligned
	}
	if sys.WindowScaling != 0 {
		o.Options |= OptionWscale
		o.WS = wscale
		size += lenWscaleAligned
	}
	if sys.SACK != 0 {
		o.Options |= OptionSACKAdvertise
		if o.Options&OptionTS == 0 {
			size += lenSACKPermAligned
		}
	}
	return size
}

// SynackOptions is tcp_synack_options: the options of a SYN-ACK, each
// only if the SYN negotiated it (wscaleOK, tstampOK, sackOK of the
// request sock). It returns the option bytes.
func SynackOptions(o *OutOptions, mss uint16, wscaleOK bool, wscale uint8, tstampOK bool, tsval, tsecr uint32, sackOK bool) int {
	*o = OutOptions{MSS: mss}
	size := lenMSSAligned
	if wscaleOK {
		o.Options |= OptionWscale
		o.WS = wscale
		size += lenWscaleAligned
	}
	if tstampOK {
		o.Options |= OptionTS
		o.TSval, o.TSecr = tsval, tsecr
		size += lenTstampAligned
	}
	if sackOK {
		o.Options |= OptionSACKAdvertise
		if !tstampOK {
			size += lenSACKPermAligned
		}
	}
	return size
}

// EstablishedOptions is tcp_established_options: timestamps when
// negotiated, then SACK blocks, a D-SACK block (dsack, at most one) first
// and then the SACK blocks, as many as fit the 40 bytes (4 without
// timestamps, 3 with them). It returns the option bytes.
func EstablishedOptions(o *OutOptions, tstampOK bool, tsval, tsecr uint32, dsack, sacks []SACKBlock) int {
	*o = OutOptions{}
	size := 0
	if tstampOK {
		o.Options |= OptionTS
		o.TSval, o.TSecr = tsval, tsecr
		size += lenTstampAligned
	}
	eff := len(dsack) + len(sacks)
	if eff == 0 {
		return size
	}
	remaining := header.TCPOptionsMaxSize - size
	if remaining < lenSACKBaseAligned+header.TCPOptionSACKPerBlock {
		return size
	}
	n := min(eff, (remaining-lenSACKBaseAligned)/header.TCPOptionSACKPerBlock, TCPNumSACKs)
	i := copy(o.SACK[:n], dsack)
	copy(o.SACK[i:n], sacks)
	o.NumSACKBlocks = n
	return size + lenSACKBaseAligned + n*header.TCPOptionSACKPerBlock
}

// WriteOptions is tcp_options_write: it lays out o in Linux's order and
// 32-bit words, as tcpdump shows them: MSS; SACK-permitted and timestamps
// in one layout (SACK_PERM, TS) or NOP, NOP, TS; NOP, NOP, SACK_PERM when
// there is no timestamp; NOP, WSCALE; NOP, NOP, SACK with the blocks. b
// must hold the size the tcp_*_options function returned; WriteOptions
// returns the bytes written.
func WriteOptions(b []byte, o *OutOptions) int {
	n := 0
	word := func(v uint32) {
		binary.BigEndian.PutUint32(b[n:], v)
		n += 4
	}
	opts := o.Options
	if o.MSS != 0 {
		word(header.TCPOptionMSS<<24 | header.TCPOptionMSSLength<<16 | uint32(o.MSS))
	}
	if opts&OptionTS != 0 {
		if opts&OptionSACKAdvertise != 0 {
			word(header.TCPOptionSACKPermitted<<24 | header.TCPOptionSACKPermittedLength<<16 |
				header.TCPOptionTimestamp<<8 | header.TCPOptionTimestampLength)
			opts &^= OptionSACKAdvertise
		} else {
			word(alignedTS)
		}
		word(o.TSval)
		word(o.TSecr)
	}
	if opts&OptionSACKAdvertise != 0 {
		word(header.TCPOptionNOP<<24 | header.TCPOptionNOP<<16 | header.TCPOptionSACKPermitted<<8 | header.TCPOptionSACKPermittedLength)
	}
	if opts&OptionWscale != 0 {
		word(header.TCPOptionNOP<<24 | header.TCPOptionWindowScale<<16 | header.TCPOptionWindowScaleLength<<8 | uint32(o.WS))
	}
	if o.NumSACKBlocks > 0 {
		word(header.TCPOptionNOP<<24 | header.TCPOptionNOP<<16 | header.TCPOptionSACK<<8 |
			uint32(header.TCPOptionSACKBase+o.NumSACKBlocks*header.TCPOptionSACKPerBlock))
		for _, s := range o.SACK[:o.NumSACKBlocks] {
			word(s.Start)
			word(s.End)
		}
	}
	return n
}
