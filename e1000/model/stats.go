package model

import "github.com/nicbed/nicbed/e1000"

// stats is the statistics block, 0x4000–0x40FF (datasheet 13.7): one 32-bit
// counter per register. Reading a register returns and clears it. Counters
// saturate: a counter at 0xFFFFFFFF stays there instead of wrapping to 0
// (datasheet 13.7; QEMU's e1000x_inc_reg_if_not_full does the same). The 64-bit
// octet counters (GORC, GOTC, TOR, TOT) are low/high pairs that saturate as
// one 64-bit value: the low half reads without clearing, reading the high
// half clears both, so software reads low then high.
type stats struct {
	r [(e1000.StatsEnd - e1000.StatsStart) / 4]uint32
}

func statIndex(off uint32) int { return int(off-e1000.StatsStart) / 4 }

// is64Low reports whether off is the low half of a 64-bit counter.
func is64Low(off uint32) bool {
	switch off {
	case e1000.GORCL, e1000.GOTCL, e1000.TORL, e1000.TOTL:
		return true
	}
	return false
}

func is64High(off uint32) bool {
	switch off {
	case e1000.GORCH, e1000.GOTCH, e1000.TORH, e1000.TOTH:
		return true
	}
	return false
}

// inc adds one to a 32-bit counter, sticking at the maximum.
func (s *stats) inc(off uint32) {
	if i := statIndex(off); s.r[i] != 0xFFFFFFFF {
		s.r[i]++
	}
}

// add64 adds n to the 64-bit counter whose low half is at lo.
func (s *stats) add64(lo uint32, n int) {
	i := statIndex(lo)
	v := uint64(s.r[i+1])<<32 | uint64(s.r[i])
	if w := v + uint64(n); w >= v {
		v = w
	} else {
		v = ^uint64(0)
	}
	s.r[i], s.r[i+1] = uint32(v), uint32(v>>32)
}

// read is a software read of the register at off.
func (s *stats) read(off uint32) uint32 {
	i := statIndex(off)
	v := s.r[i]
	switch {
	case is64Low(off):
	case is64High(off):
		s.r[i], s.r[i-1] = 0, 0
	default:
		s.r[i] = 0
	}
	return v
}

// Stat returns the statistics counter at register offset off (for a 64-bit
// counter, either half's offset gives the whole) without clearing it: the
// host's view, for tests and printing. Offsets outside the block give 0.
func (d *Device) Stat(off uint32) uint64 {
	if off < e1000.StatsStart || off >= e1000.StatsEnd || off%4 != 0 {
		return 0
	}
	i := statIndex(off)
	switch {
	case is64Low(off):
		return uint64(d.st.r[i+1])<<32 | uint64(d.st.r[i])
	case is64High(off):
		return uint64(d.st.r[i])<<32 | uint64(d.st.r[i-1])
	}
	return uint64(d.st.r[i])
}

// rxSizeStat is the PRCxx counter for a frame of n bytes with FCS.
func rxSizeStat(n int) uint32 {
	switch {
	case n <= 64:
		return e1000.PRC64
	case n <= 127:
		return e1000.PRC127
	case n <= 255:
		return e1000.PRC255
	case n <= 511:
		return e1000.PRC511
	case n <= 1023:
		return e1000.PRC1023
	}
	return e1000.PRC1522
}

// txSizeStat is the PTCxx counter for a frame of n bytes with FCS.
func txSizeStat(n int) uint32 {
	return rxSizeStat(n) - e1000.PRC64 + e1000.PTC64
}

// countGroup counts a broadcast frame in bcast and another group-addressed
// (multicast) frame in mcast: BPRC/MPRC on receive, BPTC/MPTC on transmit.
func (s *stats) countGroup(frame []byte, bcast, mcast uint32) {
	if len(frame) < 6 || frame[0]&1 == 0 {
		return
	}
	if frame[0]&frame[1]&frame[2]&frame[3]&frame[4]&frame[5] == 0xFF {
		s.inc(bcast)
	} else {
		s.inc(mcast)
	}
}
