package offload

import (
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// RxCsum is what a NIC's receive checksum offload found in one frame: which
// checksums it verified and which of those were wrong.
type RxCsum struct {
	IPChecked, IPBad bool  // the IPv4 header checksum
	L4Checked, L4Bad bool  // the TCP or UDP checksum
	Proto            uint8 // the L4 protocol checked (TCP or UDP), 0 if none
}

// VerifyRx verifies, in a frame parsed into f, the IPv4 header checksum
// (ip set: e1000/igb RXCSUM.IPOFLD) and the TCP or UDP checksum of an
// unfragmented IPv4 packet (l4 set: RXCSUM.TUOFLD). A UDP datagram with
// checksum 0 carries none and is not wrong. Non-IPv4 frames check nothing.
func VerifyRx(frame []byte, f *header.Frame, ip, l4 bool) RxCsum {
	var r RxCsum
	if f.EtherType != header.EtherTypeIPv4 || f.L3Len == 0 {
		return r
	}
	h := header.IPv4(frame[f.L3:f.End])
	if ip {
		r.IPChecked = true
		r.IPBad = !h.ChecksumValid()
	}
	if !l4 || f.L4 == 0 {
		return r
	}
	seg := frame[f.L4:f.End]
	r.L4Checked, r.Proto = true, f.Protocol
	if f.Protocol == header.ProtocolUDP && header.UDP(seg).Checksum() == 0 {
		return r
	}
	r.L4Bad = checksum.Checksum(seg, h.PseudoHeaderChecksum(uint16(len(seg)))) != 0xFFFF
	return r
}
