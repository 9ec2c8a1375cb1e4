package e1000

import "encoding/binary"

// Descriptors are 16 bytes in little-endian byte order. Each type below is a
// view over such 16 bytes (a slice of a descriptor ring, by DMA or in the
// driver's memory) with accessor methods, in the style of gVisor's header
// package: no copy, no allocation. Methods panic if the slice is shorter than
// DescSize, as an index out of range would; callers hand them exactly 16 bytes.

// RxDesc is a legacy receive descriptor (section 3.2.3, figure 3-1).
//
//	 63                    48 47      40 39      32 31            16 15             0
//	+------------------------------------------------------------------------------+
//	|                         Buffer Address [63:0]                                  |  0
//	+------------------------+----------+----------+----------------+----------------+
//	|        Special         |  Errors  |  Status  | Packet Checksum|     Length     |  8
//	+------------------------+----------+----------+----------------+----------------+
//
// Software writes the buffer address and clears the status; hardware writes
// back length, checksum, status, errors and special.
type RxDesc []byte

// RxDesc field offsets.
const (
	RxDescAddr     = 0
	RxDescLength   = 8
	RxDescChecksum = 10
	RxDescStatus   = 12
	RxDescErrors   = 13
	RxDescSpecial  = 14
)

// RxDesc status bits (3.2.3.1).
const (
	RXD_STAT_DD    = 1 << 0 // Descriptor Done
	RXD_STAT_EOP   = 1 << 1 // End of Packet
	RXD_STAT_IXSM  = 1 << 2 // Ignore Checksum Indication
	RXD_STAT_VP    = 1 << 3 // Packet is 802.1Q (matched VET)
	RXD_STAT_TCPCS = 1 << 5 // TCP/UDP checksum calculated on packet
	RXD_STAT_IPCS  = 1 << 6 // IPv4 checksum calculated on packet
	RXD_STAT_PIF   = 1 << 7 // Passed in-exact filter
)

// RxDesc error bits (3.2.3.2).
const (
	RXD_ERR_CE   = 1 << 0 // CRC or alignment error
	RXD_ERR_SE   = 1 << 1 // Symbol error (TBI)
	RXD_ERR_SEQ  = 1 << 2 // Sequence error (TBI)
	RXD_ERR_CXE  = 1 << 4 // Carrier extension error
	RXD_ERR_TCPE = 1 << 5 // TCP/UDP checksum error
	RXD_ERR_IPE  = 1 << 6 // IP checksum error
	RXD_ERR_RXE  = 1 << 7 // RX data error
)

// Addr is the buffer's physical address.
func (d RxDesc) Addr() uint64 { return binary.LittleEndian.Uint64(d[RxDescAddr:]) }

// Length is the number of bytes written into the buffer.
func (d RxDesc) Length() uint16 { return binary.LittleEndian.Uint16(d[RxDescLength:]) }

// Checksum is the packet checksum (from RXCSUM.PCSS to the end of the packet).
func (d RxDesc) Checksum() uint16 { return binary.LittleEndian.Uint16(d[RxDescChecksum:]) }

// Status is the status byte (RXD_STAT_*).
func (d RxDesc) Status() uint8 { return d[RxDescStatus] }

// Errors is the errors byte (RXD_ERR_*).
func (d RxDesc) Errors() uint8 { return d[RxDescErrors] }

// Special is the 802.1Q tag control information of a stripped VLAN tag.
func (d RxDesc) Special() uint16 { return binary.LittleEndian.Uint16(d[RxDescSpecial:]) }

// SetAddr sets the buffer address.
func (d RxDesc) SetAddr(a uint64) { binary.LittleEndian.PutUint64(d[RxDescAddr:], a) }

// SetLength sets the length.
func (d RxDesc) SetLength(n uint16) { binary.LittleEndian.PutUint16(d[RxDescLength:], n) }

// SetChecksum sets the packet checksum.
func (d RxDesc) SetChecksum(c uint16) { binary.LittleEndian.PutUint16(d[RxDescChecksum:], c) }

// SetStatus sets the status byte.
func (d RxDesc) SetStatus(s uint8) { d[RxDescStatus] = s }

// SetErrors sets the errors byte.
func (d RxDesc) SetErrors(e uint8) { d[RxDescErrors] = e }

// SetSpecial sets the special field.
func (d RxDesc) SetSpecial(s uint16) { binary.LittleEndian.PutUint16(d[RxDescSpecial:], s) }

// WriteBack stores everything hardware writes back in one go: bytes 8–15.
func (d RxDesc) WriteBack(length, csum uint16, status, errors uint8, special uint16) {
	_ = d[15]
	binary.LittleEndian.PutUint16(d[RxDescLength:], length)
	binary.LittleEndian.PutUint16(d[RxDescChecksum:], csum)
	d[RxDescStatus] = status
	d[RxDescErrors] = errors
	binary.LittleEndian.PutUint16(d[RxDescSpecial:], special)
}

// TxDesc is a legacy transmit descriptor (section 3.3.3, figure 3-3):
// TxDesc.Cmd()&TXD_CMD_DEXT == 0.
//
//	 63            48 47     40 39   36 35   32 31     24 23     16 15             0
//	+----------------+---------+-------+-------+---------+---------+----------------+
//	|                         Buffer Address [63:0]                                   |  0
//	+----------------+---------+-------+-------+---------+---------+----------------+
//	|    Special     |   CSS   |  RSV  |  STA  |   CMD   |   CSO   |     Length     |  8
//	+----------------+---------+-------+-------+---------+---------+----------------+
type TxDesc []byte

// TxDesc field offsets.
const (
	TxDescAddr    = 0
	TxDescLength  = 8
	TxDescCSO     = 10
	TxDescCmd     = 11
	TxDescStatus  = 12 // STA in bits 3:0, reserved bits 7:4
	TxDescCSS     = 13
	TxDescSpecial = 14
)

// Transmit command bits, legacy CMD and data descriptor DCMD (3.3.3.1,
// 3.3.7.1). TSE is DCMD only; IC is legacy only.
const (
	TXD_CMD_EOP  = 1 << 0 // End of Packet
	TXD_CMD_IFCS = 1 << 1 // Insert FCS
	TXD_CMD_IC   = 1 << 2 // Insert Checksum (legacy)
	TXD_CMD_TSE  = 1 << 2 // TCP Segmentation Enable (data descriptor)
	TXD_CMD_RS   = 1 << 3 // Report Status
	TXD_CMD_RPS  = 1 << 4 // Report Packet Sent
	TXD_CMD_DEXT = 1 << 5 // Descriptor Extension (0 = legacy)
	TXD_CMD_VLE  = 1 << 6 // VLAN Packet Enable
	TXD_CMD_IDE  = 1 << 7 // Interrupt Delay Enable
)

// Transmit status bits, all descriptor types (3.3.3.2).
const (
	TXD_STAT_DD = 1 << 0 // Descriptor Done
	TXD_STAT_EC = 1 << 1 // Excess Collisions
	TXD_STAT_LC = 1 << 2 // Late Collision
	TXD_STAT_TU = 1 << 3 // Transmit Underrun
)

// Addr is the buffer's physical address.
func (d TxDesc) Addr() uint64 { return binary.LittleEndian.Uint64(d[TxDescAddr:]) }

// Length is the number of bytes in the buffer.
func (d TxDesc) Length() uint16 { return binary.LittleEndian.Uint16(d[TxDescLength:]) }

// CSO is the checksum offset: where to insert the checksum (IC).
func (d TxDesc) CSO() uint8 { return d[TxDescCSO] }

// Cmd is the command byte (TXD_CMD_*).
func (d TxDesc) Cmd() uint8 { return d[TxDescCmd] }

// Status is the status nibble (TXD_STAT_*).
func (d TxDesc) Status() uint8 { return d[TxDescStatus] & 0xF }

// CSS is the checksum start: where checksumming begins (IC).
func (d TxDesc) CSS() uint8 { return d[TxDescCSS] }

// Special is the 802.1Q tag control information to insert (VLE).
func (d TxDesc) Special() uint16 { return binary.LittleEndian.Uint16(d[TxDescSpecial:]) }

// SetAddr sets the buffer address.
func (d TxDesc) SetAddr(a uint64) { binary.LittleEndian.PutUint64(d[TxDescAddr:], a) }

// SetLength sets the length.
func (d TxDesc) SetLength(n uint16) { binary.LittleEndian.PutUint16(d[TxDescLength:], n) }

// SetCSO sets the checksum offset.
func (d TxDesc) SetCSO(o uint8) { d[TxDescCSO] = o }

// SetCmd sets the command byte.
func (d TxDesc) SetCmd(c uint8) { d[TxDescCmd] = c }

// SetStatus sets the status nibble, keeping the reserved bits.
func (d TxDesc) SetStatus(s uint8) { d[TxDescStatus] = d[TxDescStatus]&0xF0 | s&0xF }

// SetCSS sets the checksum start.
func (d TxDesc) SetCSS(s uint8) { d[TxDescCSS] = s }

// SetSpecial sets the special field.
func (d TxDesc) SetSpecial(s uint16) { binary.LittleEndian.PutUint16(d[TxDescSpecial:], s) }

// Extended transmit descriptors (DEXT = 1) carry their type in bits 23:20 of
// the second quadword's low dword (3.3.5).
const (
	TxDescDTYPShift   = 20
	TxDescDTYPMask    = 0xF << TxDescDTYPShift
	TXD_DTYP_CONTEXT  = 0x0
	TXD_DTYP_DATA     = 0x1
	TxDescTypeLenWord = 8 // the dword holding length/PAYLEN, DTYP and CMD
)

// TxType reports how to read the 16 bytes d at a transmit ring slot: legacy
// (DEXT = 0), context (DEXT = 1, DTYP = 0) or data (DEXT = 1, DTYP = 1);
// other DTYP values are reserved.
func TxType(d []byte) (dext bool, dtyp uint8) {
	_ = d[15]
	dw := binary.LittleEndian.Uint32(d[TxDescTypeLenWord:])
	return dw>>24&TXD_CMD_DEXT != 0, uint8(dw >> TxDescDTYPShift & 0xF)
}

// TxContextDesc is a TCP/IP context descriptor (section 3.3.6, figure 3-10):
// offload parameters for the data descriptors that follow.
//
//	 63          48 47       40 39       32 31             16 15        8 7         0
//	+--------------+-----------+-----------+-----------------+-----------+-----------+
//	|    TUCSE     |   TUCSO   |   TUCSS   |      IPCSE      |   IPCSO   |   IPCSS   |  0
//	+--------------+-----------+-----------+-----------------+-----------+-----------+
//	|     MSS      |  HDRLEN   | RSV | STA |  TUCMD   | DTYP |        PAYLEN         |  8
//	+--------------+-----------+-----------+-----------------+-----------+-----------+
//	 63          48 47       40 39 36 35 32 31     24 23  20 19                    0
//
// Offsets (CSS/CSO/CSE) count bytes from the start of the packet; an *CSE of
// 0 means "to the end of the packet". PAYLEN is 20 bits; DTYP is 0000.
type TxContextDesc []byte

// TxContextDesc field offsets.
const (
	TxCtxIPCSS  = 0
	TxCtxIPCSO  = 1
	TxCtxIPCSE  = 2  // 16 bits
	TxCtxTUCSS  = 4  //
	TxCtxTUCSO  = 5  //
	TxCtxTUCSE  = 6  // 16 bits
	TxCtxPAYLEN = 8  // bits 19:0 of the dword at 8
	TxCtxTUCMD  = 11 //
	TxCtxStatus = 12 // STA in bits 3:0
	TxCtxHDRLEN = 13 //
	TxCtxMSS    = 14 // 16 bits
)

// TUCMD bits (3.3.6.1).
const (
	TXD_TUCMD_TCP  = 1 << 0 // packet is TCP (0: UDP)
	TXD_TUCMD_IP   = 1 << 1 // packet is IPv4 (0: IPv6)
	TXD_TUCMD_TSE  = 1 << 2 // TCP segmentation enable
	TXD_TUCMD_RS   = 1 << 3 // Report Status
	TXD_TUCMD_DEXT = 1 << 5 // Descriptor Extension (1)
	TXD_TUCMD_IDE  = 1 << 7 // Interrupt Delay Enable
)

// IPCSS is where the IP header starts.
func (d TxContextDesc) IPCSS() uint8 { return d[TxCtxIPCSS] }

// IPCSO is where the IP header checksum goes.
func (d TxContextDesc) IPCSO() uint8 { return d[TxCtxIPCSO] }

// IPCSE is the last byte of the IP header checksum range (0: end of packet).
func (d TxContextDesc) IPCSE() uint16 { return binary.LittleEndian.Uint16(d[TxCtxIPCSE:]) }

// TUCSS is where the TCP/UDP header starts.
func (d TxContextDesc) TUCSS() uint8 { return d[TxCtxTUCSS] }

// TUCSO is where the TCP/UDP checksum goes.
func (d TxContextDesc) TUCSO() uint8 { return d[TxCtxTUCSO] }

// TUCSE is the last byte of the TCP/UDP checksum range (0: end of packet).
func (d TxContextDesc) TUCSE() uint16 { return binary.LittleEndian.Uint16(d[TxCtxTUCSE:]) }

// PAYLEN is the TCP payload length of a TSO packet (headers excluded).
func (d TxContextDesc) PAYLEN() uint32 {
	return binary.LittleEndian.Uint32(d[TxCtxPAYLEN:]) & 0xFFFFF
}

// TUCMD is the command byte (TXD_TUCMD_*).
func (d TxContextDesc) TUCMD() uint8 { return d[TxCtxTUCMD] }

// Status is the status nibble (TXD_STAT_*).
func (d TxContextDesc) Status() uint8 { return d[TxCtxStatus] & 0xF }

// HDRLEN is the length of the headers (MAC, IP, TCP) of a TSO packet.
func (d TxContextDesc) HDRLEN() uint8 { return d[TxCtxHDRLEN] }

// MSS is the maximum segment size (TCP payload per segment) of TSO.
func (d TxContextDesc) MSS() uint16 { return binary.LittleEndian.Uint16(d[TxCtxMSS:]) }

// SetIPCSS sets IPCSS.
func (d TxContextDesc) SetIPCSS(v uint8) { d[TxCtxIPCSS] = v }

// SetIPCSO sets IPCSO.
func (d TxContextDesc) SetIPCSO(v uint8) { d[TxCtxIPCSO] = v }

// SetIPCSE sets IPCSE.
func (d TxContextDesc) SetIPCSE(v uint16) { binary.LittleEndian.PutUint16(d[TxCtxIPCSE:], v) }

// SetTUCSS sets TUCSS.
func (d TxContextDesc) SetTUCSS(v uint8) { d[TxCtxTUCSS] = v }

// SetTUCSO sets TUCSO.
func (d TxContextDesc) SetTUCSO(v uint8) { d[TxCtxTUCSO] = v }

// SetTUCSE sets TUCSE.
func (d TxContextDesc) SetTUCSE(v uint16) { binary.LittleEndian.PutUint16(d[TxCtxTUCSE:], v) }

// SetTypeLen sets PAYLEN, DTYP = context and TUCMD (with DEXT forced on).
func (d TxContextDesc) SetTypeLen(paylen uint32, tucmd uint8) {
	binary.LittleEndian.PutUint32(d[TxCtxPAYLEN:],
		paylen&0xFFFFF|TXD_DTYP_CONTEXT<<TxDescDTYPShift|uint32(tucmd|TXD_TUCMD_DEXT)<<24)
}

// SetStatus sets the status nibble, keeping the reserved bits.
func (d TxContextDesc) SetStatus(s uint8) { d[TxCtxStatus] = d[TxCtxStatus]&0xF0 | s&0xF }

// SetHDRLEN sets HDRLEN.
func (d TxContextDesc) SetHDRLEN(v uint8) { d[TxCtxHDRLEN] = v }

// SetMSS sets MSS.
func (d TxContextDesc) SetMSS(v uint16) { binary.LittleEndian.PutUint16(d[TxCtxMSS:], v) }

// TxDataDesc is a TCP/IP data descriptor (section 3.3.7, figure 3-11).
//
//	 63            48 47            40 39      36 35   32 31         24 23  20 19             0
//	+----------------+----------------+----------+-------+-------------+------+----------------+
//	|                              Buffer Address [63:0]                                       |  0
//	+----------------+----------------+----------+-------+-------------+------+----------------+
//	|    Special     |     POPTS      |   RSV    |  STA  |    DCMD     | DTYP |     DTALEN     |  8
//	+----------------+----------------+----------+-------+-------------+------+----------------+
//
// DTALEN is 20 bits; DTYP is 0001. POPTS is read from the first descriptor of
// a packet only.
type TxDataDesc []byte

// TxDataDesc field offsets.
const (
	TxDataAddr    = 0
	TxDataDTALEN  = 8  // bits 19:0 of the dword at 8
	TxDataDCMD    = 11 //
	TxDataStatus  = 12 // STA in bits 3:0
	TxDataPOPTS   = 13 //
	TxDataSpecial = 14 // 16 bits
)

// POPTS bits (3.3.7.2).
const (
	TXD_POPTS_IXSM = 1 << 0 // insert IP checksum
	TXD_POPTS_TXSM = 1 << 1 // insert TCP/UDP checksum
)

// Addr is the buffer's physical address.
func (d TxDataDesc) Addr() uint64 { return binary.LittleEndian.Uint64(d[TxDataAddr:]) }

// DTALEN is the number of bytes in the buffer.
func (d TxDataDesc) DTALEN() uint32 {
	return binary.LittleEndian.Uint32(d[TxDataDTALEN:]) & 0xFFFFF
}

// DCMD is the command byte (TXD_CMD_*, with TSE in place of IC).
func (d TxDataDesc) DCMD() uint8 { return d[TxDataDCMD] }

// Status is the status nibble (TXD_STAT_*).
func (d TxDataDesc) Status() uint8 { return d[TxDataStatus] & 0xF }

// POPTS is the packet options byte (TXD_POPTS_*).
func (d TxDataDesc) POPTS() uint8 { return d[TxDataPOPTS] }

// Special is the 802.1Q tag control information to insert (VLE).
func (d TxDataDesc) Special() uint16 { return binary.LittleEndian.Uint16(d[TxDataSpecial:]) }

// SetAddr sets the buffer address.
func (d TxDataDesc) SetAddr(a uint64) { binary.LittleEndian.PutUint64(d[TxDataAddr:], a) }

// SetTypeLen sets DTALEN, DTYP = data and DCMD (with DEXT forced on).
func (d TxDataDesc) SetTypeLen(dtalen uint32, dcmd uint8) {
	binary.LittleEndian.PutUint32(d[TxDataDTALEN:],
		dtalen&0xFFFFF|TXD_DTYP_DATA<<TxDescDTYPShift|uint32(dcmd|TXD_CMD_DEXT)<<24)
}

// SetStatus sets the status nibble, keeping the reserved bits.
func (d TxDataDesc) SetStatus(s uint8) { d[TxDataStatus] = d[TxDataStatus]&0xF0 | s&0xF }

// SetPOPTS sets the packet options.
func (d TxDataDesc) SetPOPTS(p uint8) { d[TxDataPOPTS] = p }

// SetSpecial sets the special field.
func (d TxDataDesc) SetSpecial(s uint16) { binary.LittleEndian.PutUint16(d[TxDataSpecial:], s) }
