package header

import "fmt"

// Frame is where the headers of an Ethernet frame are: what a NIC's parser
// finds before it checksums, filters or hashes (and what a driver's offload
// code computes before it fills a context descriptor).
type Frame struct {
	// L2 headers.
	VLAN      bool   // one 802.1Q tag follows the MAC addresses
	TCI       uint16 // its tag control information
	EtherType uint16 // the EtherType after any tag
	// L3 is the offset of the network header (14, or 18 with a tag).
	L3 int
	// IPv4 fields, when EtherType is IPv4.
	L3Len    int   // IPv4 header length
	Protocol uint8 // IPv4 protocol
	Fragment bool  // MF or a fragment offset: L4 is not parsed
	// L4 is the offset of the TCP/UDP header, 0 when there is none
	// (another EtherType or protocol, or a fragment).
	L4    int
	L4Len int // TCP data offset or the UDP header size
	// End is the end of the IP datagram (L3 + total length): bytes after
	// it are Ethernet padding. For non-IPv4 frames it is len(frame).
	End int
}

// Parse finds the L2, L3 and L4 headers of an Ethernet frame (without FCS).
// A frame too short for its headers, or with inconsistent lengths, is
// reported with an error wrapping ErrMalformed; a frame of another EtherType
// or protocol is not an error (L4 stays 0).
func Parse(frame []byte) (Frame, error) {
	var f Frame
	eth, err := ParseEthernet(frame)
	if err != nil {
		return f, err
	}
	f.EtherType, f.L3 = eth.Type(), EthernetMinSize
	if f.EtherType == EtherTypeVLAN {
		v, err := ParseVLAN(frame[EthernetMinSize:])
		if err != nil {
			return f, err
		}
		f.VLAN, f.TCI, f.EtherType = true, v.TCI(), v.Type()
		f.L3 += VLANSize
	}
	f.End = len(frame)
	if f.EtherType != EtherTypeIPv4 {
		return f, nil
	}
	ip, err := ParseIPv4(frame[f.L3:])
	if err != nil {
		return f, err
	}
	f.L3Len, f.Protocol, f.Fragment = ip.HeaderLength(), ip.Protocol(), ip.IsFragment()
	f.End = f.L3 + len(ip)
	if f.Fragment {
		return f, nil
	}
	l4 := frame[f.L3+f.L3Len : f.End]
	switch f.Protocol {
	case ProtocolTCP:
		t, err := ParseTCP(l4)
		if err != nil {
			return f, err
		}
		f.L4, f.L4Len = f.L3+f.L3Len, t.DataOffset()
	case ProtocolUDP:
		if _, err := ParseUDP(l4); err != nil {
			return f, err
		}
		f.L4, f.L4Len = f.L3+f.L3Len, UDPSize
	}
	return f, nil
}

// String describes the offsets, for test failures and traces.
func (f Frame) String() string {
	return fmt.Sprintf("vlan=%v type=%#04x l3=%d+%d proto=%d frag=%v l4=%d+%d end=%d",
		f.VLAN, f.EtherType, f.L3, f.L3Len, f.Protocol, f.Fragment, f.L4, f.L4Len, f.End)
}
