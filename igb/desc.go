package igb

import "encoding/binary"

// Advanced descriptors are 16 bytes in little-endian byte order. Each type
// below is a view over such 16 bytes (a slice of a descriptor ring, by DMA
// or in the driver's memory) with accessor methods, in the style of gVisor's
// header package: no copy, no allocation. Methods panic if the slice is
// shorter than DescSize, as an index out of range would.

// RxRead is the read format of an advanced receive descriptor (datasheet
// 7.1.5.1, table 7-x), as software posts it:
//
//	 63                                                                  0
//	+---------------------------------------------------------------------+
//	|                 Packet Buffer Address [63:1]                   | A0 |  0
//	+---------------------------------------------------------------------+
//	|                 Header Buffer Address [63:1]                   | DD |  8
//	+---------------------------------------------------------------------+
//
// Bit 0 of the header address is DD of the write-back: software posts it
// zero. With one-buffer descriptors the header address is unused.
type RxRead []byte

// RxRead field offsets.
const (
	RxReadPktAddr = 0
	RxReadHdrAddr = 8
)

// PktAddr is the packet buffer address.
func (d RxRead) PktAddr() uint64 { return binary.LittleEndian.Uint64(d[RxReadPktAddr:]) }

// HdrAddr is the header buffer address (bit 0 is the write-back's DD).
func (d RxRead) HdrAddr() uint64 { return binary.LittleEndian.Uint64(d[RxReadHdrAddr:]) }

// SetPktAddr sets the packet buffer address.
func (d RxRead) SetPktAddr(a uint64) { binary.LittleEndian.PutUint64(d[RxReadPktAddr:], a) }

// SetHdrAddr sets the header buffer address.
func (d RxRead) SetHdrAddr(a uint64) { binary.LittleEndian.PutUint64(d[RxReadHdrAddr:], a) }

// RxWB is the write-back format of an advanced receive descriptor (7.1.5.2):
//
//	 31  30        21 20   17 16           4 3      0
//	+---+------------+-------+--------------+--------+
//	|SPH|  HDR_LEN   |  rsv  | Packet Type  |RSS Type|  0
//	+---+------------+-------+--------------+--------+
//	|   RSS Hash  /  Fragment Checksum | IP ID       |  4
//	+-------------------+----------------------------+
//	| Ext. Error (31:20)|   Extended Status (19:0)   |  8
//	+-------------------+----------------------------+
//	|     VLAN Tag      |        PKT_LEN             |  12
//	+-------------------+----------------------------+
//
// Dword 1 is the RSS hash when RXCSUM.PCSD is set, otherwise IP
// identification (bits 15:0) and fragment checksum (31:16).
type RxWB []byte

// RxWB field offsets.
const (
	RxWBInfo        = 0  // dword: RSS type, packet type, HDR_LEN, SPH
	RxWBRSSHash     = 4  // dword: RSS hash (PCSD = 1)
	RxWBIPID        = 4  // 16 bits: IP identification (PCSD = 0)
	RxWBCsum        = 6  // 16 bits: fragment checksum (PCSD = 0)
	RxWBStatusError = 8  // dword: extended status and errors
	RxWBLength      = 12 // 16 bits
	RxWBVLAN        = 14 // 16 bits
)

// Dword 0 fields.
const (
	RXDADV_RSSTYPE_MASK  = 0xF
	RXDADV_PKTTYPE_SHIFT = 4
	RXDADV_PKTTYPE_MASK  = 0x1FFF << RXDADV_PKTTYPE_SHIFT
	RXDADV_HDRLEN_SHIFT  = 21
	RXDADV_HDRLEN_MASK   = 0x3FF << RXDADV_HDRLEN_SHIFT
	RXDADV_SPH           = 1 << 31
)

// RSS types (dword 0 bits 3:0): which hash function the packet matched.
const (
	RSSTypeNone      = 0
	RSSTypeIPv4TCP   = 1
	RSSTypeIPv4      = 2
	RSSTypeIPv6TCP   = 3
	RSSTypeIPv6Ex    = 4
	RSSTypeIPv6      = 5
	RSSTypeIPv6TCPEx = 6
	RSSTypeIPv4UDP   = 7
	RSSTypeIPv6UDP   = 8
	RSSTypeIPv6UDPEx = 9
)

// Packet type bits (dword 0 bits 16:4, here relative to bit 4).
const (
	PKTTYPE_IPV4  = 1 << 0
	PKTTYPE_IPV4E = 1 << 1 // IPv4 with options
	PKTTYPE_IPV6  = 1 << 2
	PKTTYPE_IPV6E = 1 << 3 // IPv6 with extension headers
	PKTTYPE_TCP   = 1 << 4
	PKTTYPE_UDP   = 1 << 5
	PKTTYPE_SCTP  = 1 << 6
	PKTTYPE_NFS   = 1 << 7
)

// Extended status bits (dword 2 bits 19:0).
const (
	RXD_STAT_DD    = 1 << 0  // Descriptor Done
	RXD_STAT_EOP   = 1 << 1  // End of Packet
	RXD_STAT_VP    = 1 << 3  // VLAN packet (matched VET)
	RXD_STAT_UDPCS = 1 << 4  // UDP checksum calculated
	RXD_STAT_L4I   = 1 << 5  // L4 (TCP/UDP) integrity checked: TCPCS
	RXD_STAT_IPCS  = 1 << 6  // IPv4 checksum calculated
	RXD_STAT_PIF   = 1 << 7  // passed inexact filter
	RXD_STAT_VEXT  = 1 << 9  // outer VLAN
	RXD_STAT_UDPV  = 1 << 10 // UDP checksum valid (non-zero)
	RXD_STAT_LLINT = 1 << 11 // low latency interrupt
	RXD_STAT_TS    = 1 << 16 // time stamped
)

// Extended error bits (dword 2 bits 31:20).
const (
	RXD_ERR_HBO  = 1 << 23 // header buffer overflow
	RXD_ERR_CE   = 1 << 24 // CRC error
	RXD_ERR_SE   = 1 << 25 // symbol error
	RXD_ERR_SEQ  = 1 << 26 // sequence error
	RXD_ERR_CXE  = 1 << 28 // carrier extension error
	RXD_ERR_L4E  = 1 << 29 // TCP/UDP checksum error
	RXD_ERR_IPE  = 1 << 30 // IPv4 checksum error
	RXD_ERR_RXE  = 1 << 31 // RX data error
	RXD_ERR_MASK = 0xFFF << 20
	// RXD_ERR_FRAME is the frame errors for which Linux drops a frame
	// (E1000_RXDEXT_ERR_FRAME_ERR_MASK).
	RXD_ERR_FRAME = RXD_ERR_CE | RXD_ERR_SE | RXD_ERR_SEQ | RXD_ERR_CXE | RXD_ERR_RXE
)

// Info is dword 0: RSS type, packet type, header length, SPH.
func (d RxWB) Info() uint32 { return binary.LittleEndian.Uint32(d[RxWBInfo:]) }

// RSSType is the RSS type (RSSType*).
func (d RxWB) RSSType() uint8 { return uint8(d.Info() & RXDADV_RSSTYPE_MASK) }

// PacketType is the packet type (PKTTYPE_*).
func (d RxWB) PacketType() uint16 {
	return uint16(d.Info() & RXDADV_PKTTYPE_MASK >> RXDADV_PKTTYPE_SHIFT)
}

// HdrLen is the header length written to the header buffer (split only).
func (d RxWB) HdrLen() uint16 { return uint16(d.Info() & RXDADV_HDRLEN_MASK >> RXDADV_HDRLEN_SHIFT) }

// RSSHash is the RSS hash (valid with RXCSUM.PCSD set).
func (d RxWB) RSSHash() uint32 { return binary.LittleEndian.Uint32(d[RxWBRSSHash:]) }

// IPID is the IP identification (with RXCSUM.PCSD clear).
func (d RxWB) IPID() uint16 { return binary.LittleEndian.Uint16(d[RxWBIPID:]) }

// Csum is the fragment checksum (with RXCSUM.PCSD clear).
func (d RxWB) Csum() uint16 { return binary.LittleEndian.Uint16(d[RxWBCsum:]) }

// StatusError is dword 2: extended status (RXD_STAT_*) and errors (RXD_ERR_*).
func (d RxWB) StatusError() uint32 { return binary.LittleEndian.Uint32(d[RxWBStatusError:]) }

// Length is the number of bytes written to the packet buffer.
func (d RxWB) Length() uint16 { return binary.LittleEndian.Uint16(d[RxWBLength:]) }

// VLAN is the stripped 802.1Q tag control information.
func (d RxWB) VLAN() uint16 { return binary.LittleEndian.Uint16(d[RxWBVLAN:]) }

// RxInfo builds dword 0 from its fields.
func RxInfo(rssType uint8, pktType uint16, hdrLen uint16, sph bool) uint32 {
	v := uint32(rssType)&RXDADV_RSSTYPE_MASK | uint32(pktType)<<RXDADV_PKTTYPE_SHIFT&RXDADV_PKTTYPE_MASK |
		uint32(hdrLen)<<RXDADV_HDRLEN_SHIFT&RXDADV_HDRLEN_MASK
	if sph {
		v |= RXDADV_SPH
	}
	return v
}

// WriteBack stores the whole write-back format: info (RxInfo), the hash or
// IP ID/checksum dword, status and errors, length and VLAN. The status
// dword, which holds DD, is written last, after the other fields, so that a
// reader seeing DD sees the rest (the model writes the 16 bytes to DMA
// memory in one copy after building them).
func (d RxWB) WriteBack(info, hashOrCsum, statusError uint32, length, vlan uint16) {
	_ = d[15]
	binary.LittleEndian.PutUint32(d[RxWBInfo:], info)
	binary.LittleEndian.PutUint32(d[RxWBRSSHash:], hashOrCsum)
	binary.LittleEndian.PutUint16(d[RxWBLength:], length)
	binary.LittleEndian.PutUint16(d[RxWBVLAN:], vlan)
	binary.LittleEndian.PutUint32(d[RxWBStatusError:], statusError)
}

// TxData is an advanced transmit data descriptor (7.2.2.3):
//
//	 31      24 23  20 19 18 17 16 15                    0
//	+----------------------------------------------------+
//	|               Address [31:0]                       |  0
//	|               Address [63:32]                      |  4
//	+--------+------+-----+-----+------------------------+
//	|  DCMD  | DTYP | MAC | rsv |        DTALEN          |  8
//	+--------+------+-----+-----+--+----+-----+----------+
//	|     PAYLEN (31:14)    | POPTS |CC| IDX | STA (3:0)  |  12
//	+-----------------------+-------+--+-----+-----------+
//
// DTYP is 0011 and DCMD.DEXT is set. STA.DD is written back; CC is bit 7,
// IDX bits 6:4, POPTS bits 13:8.
type TxData []byte

// TxData field offsets.
const (
	TxDataAddr       = 0
	TxDataCmdTypeLen = 8
	TxDataOlinfo     = 12
)

// Dword 2 fields of data and context descriptors.
const (
	TXD_DTALEN_MASK = 0xFFFF
	TXD_MAC_TSTAMP  = 1 << 19
	TXD_DTYP_SHIFT  = 20
	TXD_DTYP_MASK   = 0xF << TXD_DTYP_SHIFT
	TXD_DTYP_CTXT   = 2 << TXD_DTYP_SHIFT // context descriptor
	TXD_DTYP_DATA   = 3 << TXD_DTYP_SHIFT // data descriptor
	TXD_DCMD_EOP    = 1 << 24             // End of Packet
	TXD_DCMD_IFCS   = 1 << 25             // Insert FCS
	TXD_DCMD_RS     = 1 << 27             // Report Status
	TXD_DCMD_DEXT   = 1 << 29             // Descriptor extension (1 = advanced)
	TXD_DCMD_VLE    = 1 << 30             // VLAN insertion
	TXD_DCMD_TSE    = 1 << 31             // TCP segmentation
)

// Dword 3 fields of data descriptors.
const (
	TXD_STA_DD       = 1 << 0
	TXD_IDX_SHIFT    = 4
	TXD_IDX_MASK     = 7 << TXD_IDX_SHIFT
	TXD_CC           = 1 << 7
	TXD_POPTS_IXSM   = 1 << 8 // insert IPv4 checksum
	TXD_POPTS_TXSM   = 1 << 9 // insert TCP/UDP checksum
	TXD_PAYLEN_SHIFT = 14
	TXD_PAYLEN_MASK  = 0x3FFFF << TXD_PAYLEN_SHIFT
)

// Addr is the data buffer address.
func (d TxData) Addr() uint64 { return binary.LittleEndian.Uint64(d[TxDataAddr:]) }

// CmdTypeLen is dword 2.
func (d TxData) CmdTypeLen() uint32 { return binary.LittleEndian.Uint32(d[TxDataCmdTypeLen:]) }

// Olinfo is dword 3 (olinfo_status).
func (d TxData) Olinfo() uint32 { return binary.LittleEndian.Uint32(d[TxDataOlinfo:]) }

// DTALEN is the data length of this buffer.
func (d TxData) DTALEN() uint16 { return uint16(d.CmdTypeLen() & TXD_DTALEN_MASK) }

// DTYP is the descriptor type (TXD_DTYP_DATA, unshifted form).
func (d TxData) DTYP() uint32 { return d.CmdTypeLen() & TXD_DTYP_MASK }

// DCMD is the command bits (TXD_DCMD_*) in place.
func (d TxData) DCMD() uint32 { return d.CmdTypeLen() & 0xFF000000 }

// PAYLEN is the packet's payload length (whole frame, or TCP payload with TSE).
func (d TxData) PAYLEN() uint32 { return d.Olinfo() & TXD_PAYLEN_MASK >> TXD_PAYLEN_SHIFT }

// POPTS is the offload options (TXD_POPTS_*) in place.
func (d TxData) POPTS() uint32 { return d.Olinfo() & (TXD_POPTS_IXSM | TXD_POPTS_TXSM) }

// IDX is the context index.
func (d TxData) IDX() int { return int(d.Olinfo() & TXD_IDX_MASK >> TXD_IDX_SHIFT) }

// DD reports the written-back Descriptor Done.
func (d TxData) DD() bool { return d.Olinfo()&TXD_STA_DD != 0 }

// Set fills a data descriptor: address, length and command bits (DTYP and
// DEXT are added), and olinfo's payload length, offload options and context
// index; STA is cleared.
func (d TxData) Set(addr uint64, length uint16, dcmd uint32, paylen uint32, popts uint32, idx int) {
	_ = d[15]
	binary.LittleEndian.PutUint64(d[TxDataAddr:], addr)
	binary.LittleEndian.PutUint32(d[TxDataCmdTypeLen:], uint32(length)|TXD_DTYP_DATA|TXD_DCMD_DEXT|dcmd&0xFF000000)
	binary.LittleEndian.PutUint32(d[TxDataOlinfo:], paylen<<TXD_PAYLEN_SHIFT&TXD_PAYLEN_MASK|
		popts&(TXD_POPTS_IXSM|TXD_POPTS_TXSM)|uint32(idx)<<TXD_IDX_SHIFT&TXD_IDX_MASK)
}

// SetDD writes back Descriptor Done (STA.DD), leaving the rest of dword 3.
func (d TxData) SetDD() {
	binary.LittleEndian.PutUint32(d[TxDataOlinfo:], d.Olinfo()|TXD_STA_DD)
}

// TxContext is an advanced transmit context descriptor (7.2.2.2):
//
//	 31            16 15        9 8         0
//	+----------------+-----------+-----------+
//	|      VLAN      |  MACLEN   |   IPLEN   |  0: vlan_macip_lens
//	+----------------+-----------+-----------+
//	|         IPsec SA / seqnum seed         |  4
//	+------+------+------+-------------------+
//	| DCMD | DTYP |  TUCMD (19:9)  | IPsec   |  8: type_tucmd_mlhl
//	+------+------+------+-------------------+
//	|      MSS       |   L4LEN   | IDX | rsv |  12: mss_l4len_idx
//	+----------------+-----------+-----+-----+
type TxContext []byte

// TxContext field offsets.
const (
	TxCtxVLANMACIPLens = 0
	TxCtxSeqnumSeed    = 4
	TxCtxTypeTUCMD     = 8
	TxCtxMSSL4LenIdx   = 12
)

// Context descriptor fields.
const (
	TXCTX_IPLEN_MASK   = 0x1FF
	TXCTX_MACLEN_SHIFT = 9
	TXCTX_MACLEN_MASK  = 0x7F << TXCTX_MACLEN_SHIFT
	TXCTX_VLAN_SHIFT   = 16

	TXCTX_TUCMD_IPV4     = 1 << 10 // IPv4 (0 = IPv6)
	TXCTX_TUCMD_L4T_MASK = 3 << 11 // L4 type
	TXCTX_TUCMD_L4T_UDP  = 0 << 11
	TXCTX_TUCMD_L4T_TCP  = 1 << 11
	TXCTX_TUCMD_L4T_SCTP = 2 << 11

	TXCTX_IDX_SHIFT   = 4
	TXCTX_IDX_MASK    = 7 << TXCTX_IDX_SHIFT
	TXCTX_L4LEN_SHIFT = 8
	TXCTX_L4LEN_MASK  = 0xFF << TXCTX_L4LEN_SHIFT
	TXCTX_MSS_SHIFT   = 16
)

// NumTxContexts is the number of context slots per transmit queue (IDX).
const NumTxContexts = 2

func (d TxContext) dword(off int) uint32 { return binary.LittleEndian.Uint32(d[off:]) }

// IPLEN is the IP header length.
func (d TxContext) IPLEN() int { return int(d.dword(TxCtxVLANMACIPLens) & TXCTX_IPLEN_MASK) }

// MACLEN is the MAC header length (Ethernet and VLAN).
func (d TxContext) MACLEN() int {
	return int(d.dword(TxCtxVLANMACIPLens) & TXCTX_MACLEN_MASK >> TXCTX_MACLEN_SHIFT)
}

// VLAN is the VLAN tag to insert with DCMD.VLE.
func (d TxContext) VLAN() uint16 { return uint16(d.dword(TxCtxVLANMACIPLens) >> TXCTX_VLAN_SHIFT) }

// TypeTUCMD is dword 2: TUCMD, DTYP and DCMD.
func (d TxContext) TypeTUCMD() uint32 { return d.dword(TxCtxTypeTUCMD) }

// TUCMD is the TUCMD bits (TXCTX_TUCMD_*) in place.
func (d TxContext) TUCMD() uint32 { return d.TypeTUCMD() & 0x000FFE00 }

// DTYP is the descriptor type (TXD_DTYP_CTXT for a context descriptor).
func (d TxContext) DTYP() uint32 { return d.TypeTUCMD() & TXD_DTYP_MASK }

// IDX is the context slot this descriptor loads.
func (d TxContext) IDX() int {
	return int(d.dword(TxCtxMSSL4LenIdx) & TXCTX_IDX_MASK >> TXCTX_IDX_SHIFT)
}

// L4LEN is the TCP header length (TSO).
func (d TxContext) L4LEN() int {
	return int(d.dword(TxCtxMSSL4LenIdx) & TXCTX_L4LEN_MASK >> TXCTX_L4LEN_SHIFT)
}

// MSS is the TCP maximum segment size (TSO).
func (d TxContext) MSS() int { return int(d.dword(TxCtxMSSL4LenIdx) >> TXCTX_MSS_SHIFT) }

// Set fills a context descriptor (igb_tx_ctxtdesc's four dwords): DTYP and
// DEXT are added to tucmd.
func (d TxContext) Set(vlan uint16, maclen, iplen int, tucmd uint32, mss, l4len, idx int) {
	_ = d[15]
	binary.LittleEndian.PutUint32(d[TxCtxVLANMACIPLens:], uint32(vlan)<<TXCTX_VLAN_SHIFT|
		uint32(maclen)<<TXCTX_MACLEN_SHIFT&TXCTX_MACLEN_MASK|uint32(iplen)&TXCTX_IPLEN_MASK)
	binary.LittleEndian.PutUint32(d[TxCtxSeqnumSeed:], 0)
	binary.LittleEndian.PutUint32(d[TxCtxTypeTUCMD:], tucmd&0x000FFE00|TXD_DTYP_CTXT|TXD_DCMD_DEXT)
	binary.LittleEndian.PutUint32(d[TxCtxMSSL4LenIdx:], uint32(mss)<<TXCTX_MSS_SHIFT|
		uint32(l4len)<<TXCTX_L4LEN_SHIFT&TXCTX_L4LEN_MASK|uint32(idx)<<TXCTX_IDX_SHIFT&TXCTX_IDX_MASK)
}

// TxType reports a transmit descriptor's type from dword 2: whether DEXT is
// set (an advanced descriptor; the 82576 also takes legacy ones) and DTYP
// (TXD_DTYP_CTXT or TXD_DTYP_DATA, in place).
func TxType(d []byte) (dext bool, dtyp uint32) {
	v := binary.LittleEndian.Uint32(d[8:])
	return v&TXD_DCMD_DEXT != 0, v & TXD_DTYP_MASK
}
