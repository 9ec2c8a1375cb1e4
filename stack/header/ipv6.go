package header

import "encoding/binary"

// IPv6 is the IPv6 fixed header (RFC 8200 section 3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                         Source Address                        +
//	|                          (128 bits)                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                      Destination Address                      +
//	|                          (128 bits)                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Extension headers follow it as Next Header says; this type covers the
// fixed header only.
type IPv6 []byte

// IPv6 field offsets and sizes.
const (
	IPv6VersionTCFlow = 0
	IPv6PayloadLen    = 4
	IPv6NextHeader    = 6
	IPv6HopLimit      = 7
	IPv6Src           = 8
	IPv6Dst           = 24
	IPv6AddrLen       = 16
	IPv6MinSize       = 40
)

// ParseIPv6 checks that b holds an IPv6 fixed header (version 6, 40 bytes)
// and returns b whole; the payload length is not checked (TSO rewrites it).
func ParseIPv6(b []byte) (IPv6, error) {
	if len(b) < IPv6MinSize {
		return nil, ErrShortIPv6
	}
	h := IPv6(b)
	if h.Version() != 6 {
		return nil, ErrIPv6Version
	}
	return h, nil
}

// Version is the IP version (6).
func (h IPv6) Version() uint8 { return h[IPv6VersionTCFlow] >> 4 }

// TrafficClass is the traffic class (DSCP and ECN).
func (h IPv6) TrafficClass() uint8 {
	return uint8(binary.BigEndian.Uint16(h[IPv6VersionTCFlow:]) >> 4)
}

// FlowLabel is the 20-bit flow label.
func (h IPv6) FlowLabel() uint32 { return binary.BigEndian.Uint32(h[IPv6VersionTCFlow:]) & 0xFFFFF }

// PayloadLength is the length after the fixed header, extension headers
// included.
func (h IPv6) PayloadLength() uint16 { return binary.BigEndian.Uint16(h[IPv6PayloadLen:]) }

// NextHeader is the protocol (or extension header) after the fixed header.
func (h IPv6) NextHeader() uint8 { return h[IPv6NextHeader] }

// HopLimit is the hop limit.
func (h IPv6) HopLimit() uint8 { return h[IPv6HopLimit] }

// Src is the source address.
func (h IPv6) Src() []byte { return h[IPv6Src : IPv6Src+IPv6AddrLen] }

// Dst is the destination address.
func (h IPv6) Dst() []byte { return h[IPv6Dst : IPv6Dst+IPv6AddrLen] }

// Addrs is source and destination, the 32 bytes the pseudo-header sums.
func (h IPv6) Addrs() []byte { return h[IPv6Src : IPv6Dst+IPv6AddrLen] }

// SetPayloadLength sets the payload length.
func (h IPv6) SetPayloadLength(n uint16) { binary.BigEndian.PutUint16(h[IPv6PayloadLen:], n) }

// SetNextHeader sets the next header.
func (h IPv6) SetNextHeader(p uint8) { h[IPv6NextHeader] = p }

// SetHopLimit sets the hop limit.
func (h IPv6) SetHopLimit(v uint8) { h[IPv6HopLimit] = v }
