package header

import "encoding/binary"

// ICMPv4 is an ICMP message header (RFC 792): type, code, checksum and the
// four bytes of the rest of the header (identifier and sequence number of
// an echo).
type ICMPv4 []byte

// ICMPv4 offsets, types and codes.
const (
	ICMPv4Type     = 0
	ICMPv4Code     = 1
	ICMPv4Checksum = 2
	ICMPv4ID       = 4
	ICMPv4Seq      = 6
	ICMPv4MinSize  = 8

	ICMPv4EchoReply    = 0  // ICMP_ECHOREPLY
	ICMPv4DestUnreach  = 3  // ICMP_DEST_UNREACH
	ICMPv4Redirect     = 5  // ICMP_REDIRECT
	ICMPv4Echo         = 8  // ICMP_ECHO
	ICMPv4TimeExceeded = 11 // ICMP_TIME_EXCEEDED
	ICMPv4ParamProb    = 12 // ICMP_PARAMETERPROB
	ICMPv4NetUnreach   = 0  // ICMP_NET_UNREACH (code)
	ICMPv4HostUnreach  = 1  // ICMP_HOST_UNREACH
	ICMPv4ProtUnreach  = 2  // ICMP_PROT_UNREACH
	ICMPv4PortUnreach  = 3  // ICMP_PORT_UNREACH
	ICMPv4FragNeeded   = 4  // ICMP_FRAG_NEEDED
	ICMPv4NRTypes      = 18 // NR_ICMP_TYPES + 1
)

// Type is the message type.
func (m ICMPv4) Type() uint8 { return m[ICMPv4Type] }

// Code is the message code.
func (m ICMPv4) Code() uint8 { return m[ICMPv4Code] }

// Checksum is the checksum field.
func (m ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(m[ICMPv4Checksum:]) }

// SetType sets type and code.
func (m ICMPv4) SetType(t, code uint8) { m[ICMPv4Type], m[ICMPv4Code] = t, code }

// SetChecksum sets the checksum field.
func (m ICMPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(m[ICMPv4Checksum:], c) }
