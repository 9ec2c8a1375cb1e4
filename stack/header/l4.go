package header

import (
	"encoding/binary"
)

// TCP is a TCP header (RFC 9293 section 3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Acknowledgment Number                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	|       |       |R|E|G|K|H|T|N|N|                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Checksum            |         Urgent Pointer        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           [Options]                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type TCP []byte

// TCP field offsets and sizes.
const (
	TCPSrcPort    = 0
	TCPDstPort    = 2
	TCPSeq        = 4
	TCPAck        = 8
	TCPDataOffset = 12
	TCPFlags      = 13
	TCPWindow     = 14
	TCPChecksum   = 16
	TCPUrgent     = 18
	TCPMinSize    = 20
	TCPMaxSize    = 60
)

// TCP flags (the byte at TCPFlags).
const (
	TCPFlagFIN = 0x01
	TCPFlagSYN = 0x02
	TCPFlagRST = 0x04
	TCPFlagPSH = 0x08
	TCPFlagACK = 0x10
	TCPFlagURG = 0x20
	TCPFlagECE = 0x40
	TCPFlagCWR = 0x80
)

// SourcePort is the source port.
func (t TCP) SourcePort() uint16 { return binary.BigEndian.Uint16(t[TCPSrcPort:]) }

// DestinationPort is the destination port.
func (t TCP) DestinationPort() uint16 { return binary.BigEndian.Uint16(t[TCPDstPort:]) }

// SequenceNumber is the sequence number.
func (t TCP) SequenceNumber() uint32 { return binary.BigEndian.Uint32(t[TCPSeq:]) }

// AckNumber is the acknowledgment number.
func (t TCP) AckNumber() uint32 { return binary.BigEndian.Uint32(t[TCPAck:]) }

// DataOffset is the header length in bytes.
func (t TCP) DataOffset() int { return int(t[TCPDataOffset]>>4) * 4 }

// Flags are the control bits.
func (t TCP) Flags() uint8 { return t[TCPFlags] }

// WindowSize is the (unscaled) window.
func (t TCP) WindowSize() uint16 { return binary.BigEndian.Uint16(t[TCPWindow:]) }

// Checksum is the checksum field.
func (t TCP) Checksum() uint16 { return binary.BigEndian.Uint16(t[TCPChecksum:]) }

// UrgentPointer is the urgent pointer.
func (t TCP) UrgentPointer() uint16 { return binary.BigEndian.Uint16(t[TCPUrgent:]) }

// SetSourcePort sets the source port.
func (t TCP) SetSourcePort(p uint16) { binary.BigEndian.PutUint16(t[TCPSrcPort:], p) }

// SetDestinationPort sets the destination port.
func (t TCP) SetDestinationPort(p uint16) { binary.BigEndian.PutUint16(t[TCPDstPort:], p) }

// SetSequenceNumber sets the sequence number.
func (t TCP) SetSequenceNumber(s uint32) { binary.BigEndian.PutUint32(t[TCPSeq:], s) }

// SetAckNumber sets the acknowledgment number.
func (t TCP) SetAckNumber(a uint32) { binary.BigEndian.PutUint32(t[TCPAck:], a) }

// SetDataOffset sets the header length in bytes (a multiple of 4).
func (t TCP) SetDataOffset(n int) { t[TCPDataOffset] = uint8(n/4) << 4 }

// SetFlags sets the control bits.
func (t TCP) SetFlags(f uint8) { t[TCPFlags] = f }

// SetWindowSize sets the window.
func (t TCP) SetWindowSize(w uint16) { binary.BigEndian.PutUint16(t[TCPWindow:], w) }

// SetChecksum sets the checksum field.
func (t TCP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(t[TCPChecksum:], c) }

// ParseTCP checks that b starts with a TCP header whose data offset is at
// least 20 and within b.
func ParseTCP(b []byte) (TCP, error) {
	if len(b) < TCPMinSize {
		return nil, ErrShortTCP
	}
	t := TCP(b)
	if off := t.DataOffset(); off < TCPMinSize || off > len(b) {
		return nil, ErrTCPDataOffset
	}
	return t, nil
}

// UDP is a UDP header (RFC 768):
//
//	 0      7 8     15 16    23 24    31
//	+--------+--------+--------+--------+
//	|     Source      |   Destination   |
//	|      Port       |      Port       |
//	+--------+--------+--------+--------+
//	|                 |                 |
//	|     Length      |    Checksum     |
//	+--------+--------+--------+--------+
type UDP []byte

// UDP field offsets and size.
const (
	UDPSrcPort  = 0
	UDPDstPort  = 2
	UDPLength   = 4
	UDPChecksum = 6
	UDPSize     = 8
)

// SourcePort is the source port.
func (u UDP) SourcePort() uint16 { return binary.BigEndian.Uint16(u[UDPSrcPort:]) }

// DestinationPort is the destination port.
func (u UDP) DestinationPort() uint16 { return binary.BigEndian.Uint16(u[UDPDstPort:]) }

// Length is the length of header and data.
func (u UDP) Length() uint16 { return binary.BigEndian.Uint16(u[UDPLength:]) }

// Checksum is the checksum field (0: none was computed, RFC 768).
func (u UDP) Checksum() uint16 { return binary.BigEndian.Uint16(u[UDPChecksum:]) }

// SetSourcePort sets the source port.
func (u UDP) SetSourcePort(p uint16) { binary.BigEndian.PutUint16(u[UDPSrcPort:], p) }

// SetDestinationPort sets the destination port.
func (u UDP) SetDestinationPort(p uint16) { binary.BigEndian.PutUint16(u[UDPDstPort:], p) }

// SetLength sets the length.
func (u UDP) SetLength(n uint16) { binary.BigEndian.PutUint16(u[UDPLength:], n) }

// SetChecksum sets the checksum field.
func (u UDP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(u[UDPChecksum:], c) }

// ParseUDP checks that b starts with a UDP header whose length covers the
// header and lies within b.
func ParseUDP(b []byte) (UDP, error) {
	if len(b) < UDPSize {
		return nil, ErrShortUDP
	}
	u := UDP(b)
	if n := int(u.Length()); n < UDPSize || n > len(b) {
		return nil, ErrUDPLength
	}
	return u, nil
}
