package header

import (
	"encoding/binary"
)

// Ethernet is an Ethernet II header (IEEE 802.3 clause 3.2):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                   Destination Address                         |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                      Source Address                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           EtherType           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Ethernet []byte

// Ethernet field offsets and sizes.
const (
	EthernetDst     = 0
	EthernetSrc     = 6
	EthernetType    = 12
	EthernetMinSize = 14 // header only
	EthernetAddrLen = 6
	// EthernetMinFrame is the shortest frame without FCS (IEEE 802.3
	// minFrameSize 64 less the 4-byte FCS); shorter frames are padded.
	EthernetMinFrame = 60
	EthernetFCSLen   = 4
)

// EtherType values.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeARP  = 0x0806
	EtherTypeVLAN = 0x8100 // IEEE 802.1Q customer VLAN tag
	EtherTypeIPv6 = 0x86DD
)

// Destination is the destination MAC address.
func (e Ethernet) Destination() [6]byte { return [6]byte(e[EthernetDst:]) }

// Source is the source MAC address.
func (e Ethernet) Source() [6]byte { return [6]byte(e[EthernetSrc:]) }

// Type is the EtherType (or, for a tagged frame, the TPID 0x8100).
func (e Ethernet) Type() uint16 { return binary.BigEndian.Uint16(e[EthernetType:]) }

// SetDestination sets the destination address.
func (e Ethernet) SetDestination(a [6]byte) { copy(e[EthernetDst:], a[:]) }

// SetSource sets the source address.
func (e Ethernet) SetSource(a [6]byte) { copy(e[EthernetSrc:], a[:]) }

// SetType sets the EtherType.
func (e Ethernet) SetType(t uint16) { binary.BigEndian.PutUint16(e[EthernetType:], t) }

// IsBroadcast reports the all-ones destination.
func (e Ethernet) IsBroadcast() bool {
	return e[0]&e[1]&e[2]&e[3]&e[4]&e[5] == 0xFF
}

// IsMulticast reports a group destination (the I/G bit), broadcast included.
func (e Ethernet) IsMulticast() bool { return e[0]&1 != 0 }

// ParseEthernet checks that b holds an Ethernet header.
func ParseEthernet(b []byte) (Ethernet, error) {
	if len(b) < EthernetMinSize {
		return nil, ErrShortEthernet
	}
	return Ethernet(b), nil
}

// VLAN is the 802.1Q tag control information and the encapsulated
// EtherType that follow an Ethernet header whose Type is 0x8100 (IEEE
// 802.1Q clause 9.6):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| PCP |D|         VID           |           EtherType           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type VLAN []byte

// VLAN field offsets.
const (
	VLANTCI  = 0
	VLANType = 2
	VLANSize = 4
)

// TCI is the whole tag control information (what a NIC strips into a
// descriptor's VLAN field).
func (v VLAN) TCI() uint16 { return binary.BigEndian.Uint16(v[VLANTCI:]) }

// ID is the VLAN identifier (12 bits).
func (v VLAN) ID() uint16 { return v.TCI() & 0x0FFF }

// Priority is the priority code point (3 bits).
func (v VLAN) Priority() uint8 { return v[VLANTCI] >> 5 }

// DEI is the drop eligible indicator (formerly CFI).
func (v VLAN) DEI() bool { return v[VLANTCI]&0x10 != 0 }

// Type is the encapsulated EtherType.
func (v VLAN) Type() uint16 { return binary.BigEndian.Uint16(v[VLANType:]) }

// SetTCI sets the tag control information.
func (v VLAN) SetTCI(t uint16) { binary.BigEndian.PutUint16(v[VLANTCI:], t) }

// SetType sets the encapsulated EtherType.
func (v VLAN) SetType(t uint16) { binary.BigEndian.PutUint16(v[VLANType:], t) }

// ParseVLAN checks that b holds a VLAN tag.
func ParseVLAN(b []byte) (VLAN, error) {
	if len(b) < VLANSize {
		return nil, ErrShortVLAN
	}
	return VLAN(b), nil
}
