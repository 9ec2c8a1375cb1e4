// Package offload is the device side of the offloads NICs share: receive
// checksum verification (VerifyRx) and, for transmit,
// checksum insertion at a start/offset/end triple (e1000 CSS/CSO/CSE and
// IPCSS/TUCSS..., igb's context descriptors) and TCP/UDP segmentation (TSO)
// of a super-frame into MSS-sized frames with their headers rewritten: IPv4
// total length and identification (or IPv6 payload length), TCP sequence
// number, FIN and PSH only on the last segment (or the UDP length), and
// fresh checksums.
//
// Every length and offset comes from a driver the model does not trust:
// Validate refuses a TSO context whose header offsets are inconsistent or
// whose MSS would make the segment loop run without bound (QEMU's
// CVE-2021-20257 class), and Insert refuses checksum offsets outside the
// packet. Nothing here panics on hostile values or allocates.
package offload

import (
	"encoding/binary"
	"errors"

	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// MaxHeader is the longest TSO header (L2+L3+L4) a Segmenter keeps.
const MaxHeader = 256

// ErrInvalid is returned for a TSO context that cannot be segmented.
var ErrInvalid = errors.New("offload: invalid TSO context")

// Insert stores at offset cso the Internet checksum of pkt[css:cse+1] (cse
// 0: to the end of the packet; a cse beyond the end is cut to it), as a
// legacy e1000 descriptor's IC with CSS/CSO or a context's xxCSS/xxCSO/xxCSE
// ask. With zeroAsFFFF a computed 0 is sent as 0xFFFF (UDP, RFC 768). It
// reports false, inserting nothing, when start or offset are outside the
// packet.
func Insert(pkt []byte, css, cse, cso int, zeroAsFFFF bool) bool {
	stop := len(pkt)
	if cse != 0 {
		stop = min(cse+1, len(pkt))
	}
	if css < 0 || cso < 0 || css >= stop || cso+2 > len(pkt) {
		return false
	}
	c := ^checksum.Checksum(pkt[css:stop], 0)
	if zeroAsFFFF && c == 0 {
		c = 0xFFFF
	}
	binary.BigEndian.PutUint16(pkt[cso:], c)
	return true
}

// TSO describes a segmentation context: where the headers are and how long
// each segment's payload may be.
type TSO struct {
	MACLen int  // L2 header length: the offset of the IP header (e1000 IPCSS)
	IPLen  int  // IP header length (e1000 TUCSS - IPCSS)
	L4Len  int  // TCP or UDP header length (e1000 HDRLEN - TUCSS)
	MSS    int  // payload bytes per segment
	IPv4   bool // IPv4 (total length, ID, header checksum); else IPv6 (payload length)
	TCP    bool // TCP (sequence number, FIN/PSH); else UDP (length)
	// IPCsum inserts the IPv4 header checksum at IPCSO (0: the header's
	// checksum field) over the IP header.
	IPCsum bool
	IPCSO  int
	// L4Csum inserts the TCP/UDP checksum at L4CSO (0: the header's
	// checksum field) over the segment from the L4 header on. The driver
	// seeds that field with the pseudo-header sum without the length, as
	// Linux's e1000 and igb do; each segment adds its own L4 length.
	L4Csum bool
	L4CSO  int
}

// HeaderLen is the length of the header every segment repeats.
func (p *TSO) HeaderLen() int { return p.MACLen + p.IPLen + p.L4Len }

func (p *TSO) ipcso() int {
	if p.IPCSO != 0 {
		return p.IPCSO
	}
	return p.MACLen + header.IPv4Checksum
}

func (p *TSO) l4cso() int {
	if p.L4CSO != 0 {
		return p.L4CSO
	}
	if p.TCP {
		return p.MACLen + p.IPLen + header.TCPChecksum
	}
	return p.MACLen + p.IPLen + header.UDPChecksum
}

// Validate checks a context against a device's largest frame (without
// FCS): MSS > 0, header plus MSS within maxFrame, the header within
// MaxHeader, the IP header at least 20 (IPv4) or 40 (IPv6) bytes, the L4
// header at least 20 (TCP) or 8 (UDP) bytes, and the checksum fields inside
// their headers.
func (p *TSO) Validate(maxFrame int) error {
	minIP, minL4 := 40, header.UDPSize
	if p.IPv4 {
		minIP = header.IPv4MinSize
	}
	if p.TCP {
		minL4 = header.TCPMinSize
	}
	h := p.HeaderLen()
	ok := p.MSS > 0 && p.MACLen >= 0 && p.IPLen >= minIP && p.L4Len >= minL4 &&
		h <= MaxHeader && h+p.MSS <= maxFrame
	if ok && p.L4Csum {
		cso := p.l4cso()
		ok = cso >= p.MACLen+p.IPLen && cso+2 <= h
	}
	if ok && p.IPCsum && p.IPv4 {
		cso := p.ipcso()
		ok = cso >= p.MACLen && cso+2 <= p.MACLen+p.IPLen
	}
	if !ok {
		return ErrInvalid
	}
	return nil
}

// Segmenter rewrites the segments of one TSO super-frame. Start latches the
// header; Segment fixes up each frame (the header followed by up to MSS
// payload bytes) in order; Restore puts the original header back into a
// buffer for the next segment.
type Segmenter struct {
	p    TSO
	hdr  [MaxHeader]byte
	ipID uint16
	seq  uint32
	segs int // segments fixed so far
	sent int // payload bytes in them
}

// Start begins a super-frame with a validated context p and its header
// (at least p.HeaderLen() bytes).
func (s *Segmenter) Start(p TSO, hdr []byte) {
	s.p, s.segs, s.sent = p, 0, 0
	n := copy(s.hdr[:], hdr[:p.HeaderLen()])
	if p.IPv4 {
		s.ipID = header.IPv4(s.hdr[p.MACLen:n]).ID()
	}
	if p.TCP {
		s.seq = header.TCP(s.hdr[p.MACLen+p.IPLen : n]).SequenceNumber()
	}
}

// Segments is how many segments were fixed since Start.
func (s *Segmenter) Segments() int { return s.segs }

// Payload is how many payload bytes those segments carried.
func (s *Segmenter) Payload() int { return s.sent }

// Restore copies the super-frame's header into buf.
func (s *Segmenter) Restore(buf []byte) { copy(buf, s.hdr[:s.p.HeaderLen()]) }

// Segment fixes up frame, the next segment: the header (as Restore left
// it) followed by its payload. last marks the final segment, the only one
// that keeps FIN and PSH.
func (s *Segmenter) Segment(frame []byte, last bool) {
	p := &s.p
	l3, l4 := p.MACLen, p.MACLen+p.IPLen
	if p.IPv4 {
		ip := header.IPv4(frame[l3:])
		ip.SetTotalLength(uint16(len(frame) - l3))
		ip.SetID(s.ipID + uint16(s.segs))
	} else {
		binary.BigEndian.PutUint16(frame[l3+4:], uint16(len(frame)-l3-40)) // IPv6 payload length
	}
	if p.TCP {
		t := header.TCP(frame[l4:])
		t.SetSequenceNumber(s.seq + uint32(s.sent))
		if !last {
			t.SetFlags(t.Flags() &^ (header.TCPFlagFIN | header.TCPFlagPSH))
		}
	} else {
		header.UDP(frame[l4:]).SetLength(uint16(len(frame) - l4))
	}
	if p.IPv4 && p.IPCsum {
		cso := p.ipcso()
		frame[cso], frame[cso+1] = 0, 0
		binary.BigEndian.PutUint16(frame[cso:], ^checksum.Checksum(frame[l3:l4], 0))
	}
	if p.L4Csum {
		// The field holds the pseudo-header sum without the length.
		n := len(frame) - l4
		c := ^checksum.Fold(checksum.Sum64(frame[l4:], uint64(n)))
		if !p.TCP && c == 0 {
			c = 0xFFFF
		}
		binary.BigEndian.PutUint16(frame[p.l4cso():], c)
	}
	s.segs++
	s.sent += len(frame) - p.HeaderLen()
}

// Segment cuts super (header and payload) into segments in buf (at least
// p.HeaderLen()+p.MSS bytes) and calls emit with each finished frame, which
// is only valid during the call. It returns the number of segments; a
// context that fails Validate(len(buf)), a super-frame shorter than its
// header or without payload is refused with ErrInvalid.
func Segment(super []byte, p TSO, buf []byte, emit func(frame []byte)) (int, error) {
	if err := p.Validate(len(buf)); err != nil {
		return 0, err
	}
	h := p.HeaderLen()
	if len(super) <= h {
		return 0, ErrInvalid
	}
	var s Segmenter
	s.Start(p, super)
	for pay := super[h:]; len(pay) > 0; {
		n := min(p.MSS, len(pay))
		s.Restore(buf)
		copy(buf[h:], pay[:n])
		pay = pay[n:]
		frame := buf[:h+n]
		s.Segment(frame, len(pay) == 0)
		emit(frame)
	}
	return s.segs, nil
}
