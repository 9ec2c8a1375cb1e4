package header

import (
	"encoding/binary"

	"github.com/nicbed/nicbed/stack/checksum"
)

// IPv4 is an IPv4 header (RFC 791 section 3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Identification        |Flags|      Fragment Offset    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Source Address                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type IPv4 []byte

// IPv4 field offsets and sizes.
const (
	IPv4VersionIHL = 0
	IPv4TOS        = 1
	IPv4TotalLen   = 2
	IPv4ID         = 4
	IPv4FlagsFrag  = 6
	IPv4TTL        = 8
	IPv4Protocol   = 9
	IPv4Checksum   = 10
	IPv4Src        = 12
	IPv4Dst        = 16
	IPv4MinSize    = 20
	IPv4MaxSize    = 60 // IHL 15
	IPv4AddrLen    = 4
)

// IPv4 flags (RFC 791 section 3.1), in the Flags/Fragment Offset word.
const (
	IPv4FlagDF      = 0x4000 // don't fragment
	IPv4FlagMF      = 0x2000 // more fragments
	IPv4FragOffMask = 0x1FFF // in 8-byte units
)

// IP protocol numbers (IANA).
const (
	ProtocolICMP = 1
	ProtocolTCP  = 6
	ProtocolUDP  = 17
)

// Version is the IP version (4).
func (h IPv4) Version() uint8 { return h[IPv4VersionIHL] >> 4 }

// HeaderLength is IHL in bytes.
func (h IPv4) HeaderLength() int { return int(h[IPv4VersionIHL]&0xF) * 4 }

// TOS is the type of service (DSCP and ECN) byte.
func (h IPv4) TOS() uint8 { return h[IPv4TOS] }

// TotalLength is the length of the datagram, header included.
func (h IPv4) TotalLength() uint16 { return binary.BigEndian.Uint16(h[IPv4TotalLen:]) }

// ID is the identification field.
func (h IPv4) ID() uint16 { return binary.BigEndian.Uint16(h[IPv4ID:]) }

// Flags are the DF and MF bits (IPv4FlagDF, IPv4FlagMF).
func (h IPv4) Flags() uint16 { return binary.BigEndian.Uint16(h[IPv4FlagsFrag:]) &^ IPv4FragOffMask }

// FragmentOffset is the fragment offset in bytes.
func (h IPv4) FragmentOffset() int {
	return int(binary.BigEndian.Uint16(h[IPv4FlagsFrag:])&IPv4FragOffMask) * 8
}

// IsFragment reports MF set or a non-zero offset.
func (h IPv4) IsFragment() bool {
	return binary.BigEndian.Uint16(h[IPv4FlagsFrag:])&(IPv4FlagMF|IPv4FragOffMask) != 0
}

// TTL is the time to live.
func (h IPv4) TTL() uint8 { return h[IPv4TTL] }

// Protocol is the payload's protocol number.
func (h IPv4) Protocol() uint8 { return h[IPv4Protocol] }

// Checksum is the header checksum field.
func (h IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(h[IPv4Checksum:]) }

// Source is the source address.
func (h IPv4) Source() [4]byte { return [4]byte(h[IPv4Src:]) }

// Destination is the destination address.
func (h IPv4) Destination() [4]byte { return [4]byte(h[IPv4Dst:]) }

// SetVersionIHL sets version 4 and the header length in bytes (a multiple
// of 4 from 20 to 60).
func (h IPv4) SetVersionIHL(hdrLen int) { h[IPv4VersionIHL] = 4<<4 | uint8(hdrLen/4)&0xF }

// SetTotalLength sets the total length.
func (h IPv4) SetTotalLength(n uint16) { binary.BigEndian.PutUint16(h[IPv4TotalLen:], n) }

// SetID sets the identification field.
func (h IPv4) SetID(id uint16) { binary.BigEndian.PutUint16(h[IPv4ID:], id) }

// SetFlagsFragment sets the flags and the fragment offset (bytes, a
// multiple of 8).
func (h IPv4) SetFlagsFragment(flags uint16, off int) {
	binary.BigEndian.PutUint16(h[IPv4FlagsFrag:], flags&^IPv4FragOffMask|uint16(off/8)&IPv4FragOffMask)
}

// SetTTL sets the time to live.
func (h IPv4) SetTTL(t uint8) { h[IPv4TTL] = t }

// SetProtocol sets the protocol number.
func (h IPv4) SetProtocol(p uint8) { h[IPv4Protocol] = p }

// SetChecksum sets the header checksum field.
func (h IPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(h[IPv4Checksum:], c) }

// SetSource sets the source address.
func (h IPv4) SetSource(a [4]byte) { copy(h[IPv4Src:], a[:]) }

// SetDestination sets the destination address.
func (h IPv4) SetDestination(a [4]byte) { copy(h[IPv4Dst:], a[:]) }

// CalculateChecksum is the header checksum the header should carry: the
// complement of the sum of the header (HeaderLength bytes) with the checksum
// field taken as zero.
func (h IPv4) CalculateChecksum() uint16 {
	n := h.HeaderLength()
	s := checksum.Checksum(h[:IPv4Checksum], 0)
	s = checksum.Checksum(h[IPv4Checksum+2:n], s)
	return ^s
}

// ChecksumValid reports whether the header sums to 0xFFFF.
func (h IPv4) ChecksumValid() bool { return checksum.Checksum(h[:h.HeaderLength()], 0) == 0xFFFF }

// PseudoHeaderChecksum is the sum of the TCP/UDP pseudo-header for an L4
// segment of length bytes in this datagram.
func (h IPv4) PseudoHeaderChecksum(length uint16) uint16 {
	return checksum.PseudoHeaderIPv4(h[IPv4Src:IPv4Src+4], h[IPv4Dst:IPv4Dst+4], h.Protocol(), length)
}

// Payload is the datagram's payload, as far as TotalLength and b allow.
func (h IPv4) Payload() []byte {
	end := min(int(h.TotalLength()), len(h))
	return h[min(h.HeaderLength(), end):end]
}

// ParseIPv4 checks that b starts with a well-formed IPv4 header: version 4,
// IHL at least 5 and within b, total length covering the header and within
// b (trailing bytes, such as Ethernet padding, are allowed). The returned
// header is b cut to the total length.
func ParseIPv4(b []byte) (IPv4, error) {
	h, err := ParseIPv4Header(b)
	if err != nil {
		return nil, err
	}
	tl := int(h.TotalLength())
	if tl < h.HeaderLength() || tl > len(b) {
		return nil, ErrIPv4TotalLength
	}
	return h[:tl], nil
}

// ParseIPv4Header checks only the header itself: version 4, IHL at least 5
// and within b; the total length is not looked at and b is returned whole.
// It is what reads a header whose total length is not the datagram's: a
// driver preparing TSO (the device rewrites it per segment) and the flow
// dissector (Linux's __skb_flow_dissect checks the IHL alone).
func ParseIPv4Header(b []byte) (IPv4, error) {
	if len(b) < IPv4MinSize {
		return nil, ErrShortIPv4
	}
	h := IPv4(b)
	if h.Version() != 4 {
		return nil, ErrIPVersion
	}
	if hl := h.HeaderLength(); hl < IPv4MinSize || hl > len(b) {
		return nil, ErrIPv4HeaderLength
	}
	return h, nil
}
