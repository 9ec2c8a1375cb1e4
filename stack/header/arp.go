package header

import "encoding/binary"

// ARP is an ARP packet for IPv4 over Ethernet (RFC 826; struct arphdr
// followed by the Ethernet/IPv4 addresses):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        Hardware Type          |         Protocol Type         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  HW Addr Len  | Proto Addr Len|           Operation           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            Sender Hardware Address (6) ...                    |
//	|  ... Sender Protocol Address (4) ...                          |
//	|  ... Target Hardware Address (6) ...                          |
//	|  ... Target Protocol Address (4)                              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type ARP []byte

// ARP field offsets and values.
const (
	ARPHrd       = 0
	ARPPro       = 2
	ARPHln       = 4
	ARPPln       = 5
	ARPOp        = 6
	ARPSha       = 8
	ARPSip       = 14
	ARPTha       = 18
	ARPTip       = 24
	ARPSize      = 28 // arp_hdr_len for Ethernet and IPv4
	ARPHRDEther  = 1  // ARPHRD_ETHER
	ARPOpRequest = 1  // ARPOP_REQUEST
	ARPOpReply   = 2  // ARPOP_REPLY
)

// HardwareType is ar_hrd.
func (a ARP) HardwareType() uint16 { return binary.BigEndian.Uint16(a[ARPHrd:]) }

// ProtocolType is ar_pro.
func (a ARP) ProtocolType() uint16 { return binary.BigEndian.Uint16(a[ARPPro:]) }

// HardwareLen is ar_hln.
func (a ARP) HardwareLen() uint8 { return a[ARPHln] }

// ProtocolLen is ar_pln.
func (a ARP) ProtocolLen() uint8 { return a[ARPPln] }

// Op is ar_op.
func (a ARP) Op() uint16 { return binary.BigEndian.Uint16(a[ARPOp:]) }

// SenderHW is the sender hardware address.
func (a ARP) SenderHW() [6]byte { return [6]byte(a[ARPSha:]) }

// SenderIP is the sender protocol address.
func (a ARP) SenderIP() [4]byte { return [4]byte(a[ARPSip:]) }

// TargetHW is the target hardware address.
func (a ARP) TargetHW() [6]byte { return [6]byte(a[ARPTha:]) }

// TargetIP is the target protocol address.
func (a ARP) TargetIP() [4]byte { return [4]byte(a[ARPTip:]) }

// SetIPv4OverEthernet writes the fixed part for IPv4 over Ethernet and op.
func (a ARP) SetIPv4OverEthernet(op uint16) {
	binary.BigEndian.PutUint16(a[ARPHrd:], ARPHRDEther)
	binary.BigEndian.PutUint16(a[ARPPro:], EtherTypeIPv4)
	a[ARPHln], a[ARPPln] = 6, 4
	binary.BigEndian.PutUint16(a[ARPOp:], op)
}

// SetSender sets the sender addresses.
func (a ARP) SetSender(hw [6]byte, ip [4]byte) {
	copy(a[ARPSha:], hw[:])
	copy(a[ARPSip:], ip[:])
}

// SetTarget sets the target addresses.
func (a ARP) SetTarget(hw [6]byte, ip [4]byte) {
	copy(a[ARPTha:], hw[:])
	copy(a[ARPTip:], ip[:])
}
