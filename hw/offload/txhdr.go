package offload

import (
	"encoding/binary"

	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// This file is the driver side of transmit offload, shared by the e1000 and
// igb drivers: where a frame's headers are (what Linux's drivers take from
// skb_network_offset and skb_transport_offset), the header rewrite a TSO
// frame needs before the device segments it, and skb_checksum_help for an
// offload the descriptor cannot express.

// TxHeaders is where a frame's headers are, from the start of the frame.
type TxHeaders struct {
	L3, L4 int   // network and transport header offsets
	IPv4   bool  // IPv4 (else IPv6)
	Proto  uint8 // transport protocol
	L4Len  int   // TCP header length (0 for other protocols)
}

// ParseTxHeaders finds the IPv4 or IPv6 header (after an optional 802.1Q
// tag) and the TCP header of a frame, checking every length against the
// frame. Ethernet, VLAN, IPv4 and TCP go through stack/header; the IPv4
// total length and the IPv6 payload length are not checked (PrepareTSO
// rewrites them, as Linux does). IPv6 is its fixed header: extension
// headers are not walked.
func ParseTxHeaders(p []byte) (h TxHeaders, ok bool) {
	eth, err := header.ParseEthernet(p)
	if err != nil {
		return h, false
	}
	l3, et := header.EthernetMinSize, eth.Type()
	if et == header.EtherTypeVLAN {
		v, err := header.ParseVLAN(p[l3:])
		if err != nil {
			return h, false
		}
		l3, et = l3+header.VLANSize, v.Type()
	}
	switch et {
	case header.EtherTypeIPv4:
		ip, err := header.ParseIPv4Header(p[l3:])
		if err != nil {
			return h, false
		}
		h = TxHeaders{L3: l3, L4: l3 + ip.HeaderLength(), IPv4: true, Proto: ip.Protocol()}
	case header.EtherTypeIPv6:
		ip, err := header.ParseIPv6(p[l3:])
		if err != nil {
			return h, false
		}
		h = TxHeaders{L3: l3, L4: l3 + header.IPv6MinSize, Proto: ip.NextHeader()}
	default:
		return h, false
	}
	if h.Proto == header.ProtocolTCP {
		tcp, err := header.ParseTCP(p[h.L4:])
		if err != nil {
			return h, false
		}
		h.L4Len = tcp.DataOffset()
	}
	return h, true
}

// HeaderLen is the length of the headers every TSO segment repeats
// (Ethernet, IP and TCP).
func (h TxHeaders) HeaderLen() int { return h.L4 + h.L4Len }

// PrepareTSO prepares a TCP frame with headers h for segmentation by the
// device, as e1000_tso and igb_tso do: the IPv4 total length and header
// checksum zeroed (or the IPv6 payload length), and the TCP checksum seeded
// with the folded pseudo-header sum without the length
// (~csum_tcpudp_magic(saddr, daddr, 0, IPPROTO_TCP, 0)), which the device
// completes per segment. It reports false, changing nothing, for a frame
// that is not TCP or has no payload after its headers.
func PrepareTSO(p []byte, h TxHeaders) bool {
	if h.Proto != header.ProtocolTCP || h.HeaderLen() >= len(p) {
		return false
	}
	var sum uint16
	if h.IPv4 {
		ip := header.IPv4(p[h.L3:])
		ip.SetTotalLength(0)
		binary.BigEndian.PutUint16(p[h.L3+header.IPv4Checksum:], 0)
		sum = checksum.Checksum(p[h.L3+header.IPv4Src:h.L3+header.IPv4Dst+4], header.ProtocolTCP)
	} else {
		ip := header.IPv6(p[h.L3:])
		ip.SetPayloadLength(0)
		sum = checksum.Checksum(ip.Addrs(), header.ProtocolTCP)
	}
	binary.BigEndian.PutUint16(p[h.L4+header.TCPChecksum:], sum)
	return true
}

// ChecksumHelp is skb_checksum_help: complete in software the checksum a
// CHECKSUM_PARTIAL frame asks for, from css to the end, into the 16 bits at
// cso (which hold the pseudo-header sum). It reports false for offsets
// outside the frame.
func ChecksumHelp(p []byte, css, cso int) bool {
	if css < 0 || cso < 0 || css >= len(p) || cso+2 > len(p) {
		return false
	}
	binary.BigEndian.PutUint16(p[cso:], ^checksum.Checksum(p[css:], 0))
	return true
}
