package igb

// CTRL bits (8.2).
const (
	CTRL_FD         = 1 << 0  // Full Duplex
	CTRL_LRST       = 1 << 3  // Link Reset
	CTRL_SLU        = 1 << 6  // Set Link Up
	CTRL_SPEED_MASK = 3 << 8  // Speed selection
	CTRL_SPEED_1000 = 2 << 8  //
	CTRL_FRCSPD     = 1 << 11 // Force Speed
	CTRL_FRCDPLX    = 1 << 12 // Force Duplex
	CTRL_ADVD3WUC   = 1 << 20 // D3cold wake-up capability advertisement
	CTRL_RST        = 1 << 26 // Device Reset, self-clearing
	CTRL_RFCE       = 1 << 27 // Receive Flow Control Enable
	CTRL_TFCE       = 1 << 28 // Transmit Flow Control Enable
	CTRL_DEV_RST    = 1 << 29 // Device Reset (82576: software reset of the port)
	CTRL_VME        = 1 << 30 // VLAN Mode Enable
	CTRL_PHY_RST    = 1 << 31 // PHY Reset
)

// STATUS bits (8.2).
const (
	STATUS_FD         = 1 << 0  // Full Duplex
	STATUS_LU         = 1 << 1  // Link Up
	STATUS_FUNC_MASK  = 3 << 2  // Function ID
	STATUS_TXOFF      = 1 << 4  // Transmission paused
	STATUS_SPEED_MASK = 3 << 6  // Link speed
	STATUS_SPEED_1000 = 2 << 6  //
	STATUS_PHYRA      = 1 << 10 // PHY Reset Asserted
	STATUS_GIO_MES    = 1 << 19 // GIO Master Enable Status
)

// CTRL_EXT bits (8.2).
const (
	CTRL_EXT_SDP2_DATA = 1 << 6
	CTRL_EXT_SDP3_DATA = 1 << 7
	CTRL_EXT_EE_RST    = 1 << 13 // EEPROM reload, self-clearing
	CTRL_EXT_PFRSTD    = 1 << 14 // PF Reset Done
	CTRL_EXT_RO_DIS    = 1 << 17 // Relaxed Ordering Disable
	CTRL_EXT_LINK_MODE = 3 << 22 // 00 = internal PHY (copper)
	CTRL_EXT_EIAME     = 1 << 24 // Extended Interrupt Auto Mask Enable (non-MSI-X)
	CTRL_EXT_IRCA      = 1 << 27 // Interrupt Rearm on Cause Assert
	CTRL_EXT_DRV_LOAD  = 1 << 28 // Driver Loaded
	CTRL_EXT_PBA_CLR   = 1 << 31 // PBA Clear: writing 1 clears the MSI-X PBA
)

// EEC (EECD) bits (8.4). The 82576 reads its SPI EEPROM on its own; software
// uses EERD.
const (
	EECD_SK              = 1 << 0
	EECD_CS              = 1 << 1
	EECD_DI              = 1 << 2
	EECD_DO              = 1 << 3
	EECD_FWE_DIS         = 1 << 4 // flash writes disabled
	EECD_REQ             = 1 << 6 // request EEPROM access
	EECD_GNT             = 1 << 7 // access granted, RO
	EECD_PRES            = 1 << 8 // EEPROM present, RO
	EECD_AUTO_RD         = 1 << 9 // EEPROM auto read done, RO
	EECD_SIZE_EX_SHIFT   = 11     // bits 14:11: EEPROM size, RO
	EECD_SIZE_EX_MASK    = 0xF << EECD_SIZE_EX_SHIFT
	EECD_SIZE_EX_DEFAULT = 2 << EECD_SIZE_EX_SHIFT
)

// EERD fields of the 82576 (8.4): unlike the 82540EM, DONE is bit 1 and the
// word address bits 15:2.
const (
	EERD_START      = 1 << 0 // start a read, self-clearing
	EERD_DONE       = 1 << 1 // read done, RO
	EERD_ADDR_SHIFT = 2      // bits 15:2: word address
	EERD_ADDR_MASK  = 0x3FFF << EERD_ADDR_SHIFT
	EERD_DATA_SHIFT = 16 // bits 31:16: data, RO
)

// EEPROM word addresses (datasheet 6.x).
const (
	EEPROM_MAC0      = 0x00 // Ethernet address bytes 0–1
	EEPROM_MAC1      = 0x01
	EEPROM_MAC2      = 0x02
	EEPROM_ICW1      = 0x0A // initialization control word 1
	EEPROM_SUBSYSTEM = 0x0B
	EEPROM_SUBVENDOR = 0x0C
	EEPROM_DEVICE    = 0x0D
	EEPROM_VENDOR    = 0x0E
	EEPROM_ICW2      = 0x0F
	EEPROM_CHECKSUM  = 0x3F // words 0x00–0x3F sum to EEPROM_SUM
)

// MDIC fields (8.2), laid out as on the 82540EM.
const (
	MDIC_DATA_MASK = 0xFFFF
	MDIC_REG_SHIFT = 16 // bits 20:16: PHY register
	MDIC_REG_MASK  = 0x1F << MDIC_REG_SHIFT
	MDIC_PHY_SHIFT = 21 // bits 25:21: PHY address
	MDIC_PHY_MASK  = 0x1F << MDIC_PHY_SHIFT
	MDIC_OP_SHIFT  = 26 // bits 27:26: opcode
	MDIC_OP_MASK   = 3 << MDIC_OP_SHIFT
	MDIC_OP_WRITE  = 1 << MDIC_OP_SHIFT
	MDIC_OP_READ   = 2 << MDIC_OP_SHIFT
	MDIC_READY     = 1 << 28 // operation complete
	MDIC_INT_EN    = 1 << 29 // raise ICR.MDAC on completion
	MDIC_ERROR     = 1 << 30 // no PHY at the address
)

// ICR/ICS/IMS/IMC cause bits, the "other" causes (8.8).
const (
	ICR_TXDW     = 1 << 0  // Transmit Descriptor Written Back (non-MSI-X)
	ICR_LSC      = 1 << 2  // Link Status Change
	ICR_RXDMT0   = 1 << 4  // Receive Descriptor Minimum Threshold
	ICR_RXO      = 1 << 6  // Receiver Overrun
	ICR_RXDW     = 1 << 7  // Receive Descriptor Write Back (RXT0 on e1000)
	ICR_VMMB     = 1 << 8  // VM mailbox
	ICR_MDAC     = 1 << 9  // MDI/O Access Complete
	ICR_GPI_SDP0 = 1 << 11 // General purpose interrupts
	ICR_GPI_SDP1 = 1 << 12
	ICR_GPI_SDP2 = 1 << 13
	ICR_GPI_SDP3 = 1 << 14
	ICR_MNG      = 1 << 18 // Management event
	ICR_TS       = 1 << 19 // Time sync
	ICR_OMED     = 1 << 20 // Other Media Energy Detected
	ICR_FER      = 1 << 22 // Fatal Error
	ICR_NFER     = 1 << 23 // Non-Fatal Error
	ICR_CSRTO    = 1 << 24 // CSR access time-out
	ICR_SCE      = 1 << 25 // Storm Control Event
	ICR_SW_WD    = 1 << 26 // Software watchdog
	ICR_DOUTSYNC = 1 << 28 // DMA out of sync
	ICR_DRSTA    = 1 << 30 // Device Reset Asserted
	// ICR_INT_ASSERTED reads 1 while any unmasked cause is pending.
	ICR_INT_ASSERTED = 1 << 31
	// ICR_VALID is every cause the model implements.
	ICR_VALID = ICR_TXDW | ICR_LSC | ICR_RXDMT0 | ICR_RXO | ICR_RXDW | ICR_VMMB | ICR_MDAC |
		ICR_GPI_SDP0 | ICR_GPI_SDP1 | ICR_GPI_SDP2 | ICR_GPI_SDP3 | ICR_MNG | ICR_TS | ICR_OMED |
		ICR_FER | ICR_NFER | ICR_CSRTO | ICR_SCE | ICR_SW_WD | ICR_DOUTSYNC | ICR_DRSTA
)

// EICR/EICS/EIMS/EIMC/EIAC/EIAM bits (8.8). In MSI-X mode (GPIE.MSIX_MODE)
// bit n is MSI-X vector n (bits 24:0); otherwise bits 15:0 are the RxTxQ
// causes IVAR assigns the queues to, bit 30 the TCP timer and bit 31 the
// other causes of ICR.
const (
	EICR_MSIX_MASK   = 0x01FFFFFF
	EICR_TCP_TIMER   = 1 << 30
	EICR_OTHER       = 1 << 31
	EICR_LEGACY_MASK = 0x0000FFFF | EICR_TCP_TIMER | EICR_OTHER
)

// GPIE bits (8.8).
const (
	GPIE_NSICR     = 1 << 0  // Non-Selective Interrupt Clear on Read
	GPIE_MSIX_MODE = 1 << 4  // Multiple MSI-X
	GPIE_EIAME     = 1 << 30 // Extended Interrupt Auto Mask Enable
	GPIE_PBA       = 1 << 31 // PBA support (MSI-X PBA bits as in EICR)
)

// EITR fields (8.8): the minimum interval between interrupts of a vector in
// microseconds in bits 14:2 (so the register value is 4 × µs), the ITR
// counter in bits 30:21, and CNT_IGNR: a write with it set leaves the
// counter running.
const (
	EITR_INTERVAL_SHIFT = 2
	EITR_INTERVAL_MASK  = 0x1FFF << EITR_INTERVAL_SHIFT
	EITR_LLI_EN         = 1 << 15
	EITR_COUNTER_SHIFT  = 21
	EITR_COUNTER_MASK   = 0x3FF << EITR_COUNTER_SHIFT
	EITR_CNT_IGNR       = 1 << 31
)

// EITRInterval is EITR's interval field in microseconds.
func EITRInterval(v uint32) uint32 { return v & EITR_INTERVAL_MASK >> EITR_INTERVAL_SHIFT }

// IVAR fields (8.8): IVAR n holds four allocation bytes, for RX queue n
// (bits 7:0), TX queue n (15:8), RX queue n+8 (23:16) and TX queue n+8
// (31:24). Each byte is a vector number in bits 4:0 and a valid bit 7.
// IVAR_MISC: bits 7:0 the TCP timer, bits 15:8 the other causes.
const (
	IVAR_VECTOR_MASK = 0x1F
	IVAR_VALID       = 0x80
	IVARMISC_TCP     = 0 // byte of IVAR_MISC for the TCP timer
	IVARMISC_OTHER   = 1 // byte of IVAR_MISC for the other causes
)

// IVARByte is where the allocation of RX (tx false) or TX queue q lives:
// the IVAR register index and the byte within it.
func IVARByte(q int, tx bool) (reg, byteIdx int) {
	reg, byteIdx = q%8, 0
	if q >= 8 {
		byteIdx = 2
	}
	if tx {
		byteIdx++
	}
	return reg, byteIdx
}

// RCTL bits (8.10).
const (
	RCTL_EN          = 1 << 1  // Receiver Enable
	RCTL_SBP         = 1 << 2  // Store Bad Packets
	RCTL_UPE         = 1 << 3  // Unicast Promiscuous
	RCTL_MPE         = 1 << 4  // Multicast Promiscuous
	RCTL_LPE         = 1 << 5  // Long Packet Enable
	RCTL_LBM_MASK    = 3 << 6  // Loopback Mode
	RCTL_MO_SHIFT    = 12      // bits 13:12: multicast offset
	RCTL_MO_MASK     = 3 << 12 //
	RCTL_BAM         = 1 << 15 // Broadcast Accept Mode
	RCTL_BSIZE_SHIFT = 16      // bits 17:16: buffer size when SRRCTL.BSIZEPACKET is 0
	RCTL_BSIZE_MASK  = 3 << 16 //
	RCTL_VFE         = 1 << 18 // VLAN Filter Enable
	RCTL_CFIEN       = 1 << 19 // CFI Enable
	RCTL_CFI         = 1 << 20 // CFI value
	RCTL_DPF         = 1 << 22 // Discard Pause Frames
	RCTL_PMCF        = 1 << 23 // Pass MAC Control Frames
	RCTL_SECRC       = 1 << 26 // Strip Ethernet CRC
)

// SRRCTL fields (8.10).
const (
	SRRCTL_BSIZEPKT_MASK   = 0x7F // bits 6:0: packet buffer size in KiB
	SRRCTL_BSIZEPKT_UNIT   = 1024
	SRRCTL_BSIZEHDR_SHIFT  = 8 // bits 11:8: header buffer size in 64-byte units
	SRRCTL_BSIZEHDR_MASK   = 0xF << SRRCTL_BSIZEHDR_SHIFT
	SRRCTL_BSIZEHDR_UNIT   = 64
	SRRCTL_RDMTS_SHIFT     = 20 // bits 24:20: descriptor minimum threshold, in 16 descriptors
	SRRCTL_RDMTS_MASK      = 0x1F << SRRCTL_RDMTS_SHIFT
	SRRCTL_DESCTYPE_SHIFT  = 25 // bits 27:25: descriptor type
	SRRCTL_DESCTYPE_MASK   = 7 << SRRCTL_DESCTYPE_SHIFT
	SRRCTL_DESCTYPE_LEGACY = 0 << SRRCTL_DESCTYPE_SHIFT
	SRRCTL_DESCTYPE_ADV1   = 1 << SRRCTL_DESCTYPE_SHIFT // advanced, one buffer
	SRRCTL_DESCTYPE_HSPLIT = 2 << SRRCTL_DESCTYPE_SHIFT // advanced, header splitting
	SRRCTL_DESCTYPE_HSALL  = 5 << SRRCTL_DESCTYPE_SHIFT // advanced, header split always
	SRRCTL_TIMESTAMP       = 1 << 30
	SRRCTL_DROP_EN         = 1 << 31 // drop when no descriptor is available
)

// SRRCTLPacketBuffer is the packet buffer size SRRCTL selects in bytes, or 0
// when BSIZEPACKET is 0 (RCTL.BSIZE then decides).
func SRRCTLPacketBuffer(v uint32) int { return int(v&SRRCTL_BSIZEPKT_MASK) * SRRCTL_BSIZEPKT_UNIT }

// SRRCTLHeaderBuffer is the header buffer size SRRCTL selects in bytes.
func SRRCTLHeaderBuffer(v uint32) int {
	return int(v&SRRCTL_BSIZEHDR_MASK>>SRRCTL_BSIZEHDR_SHIFT) * SRRCTL_BSIZEHDR_UNIT
}

// RXDCTL/TXDCTL fields (8.10, 8.12).
const (
	XDCTL_PTHRESH_MASK  = 0x1F << 0
	XDCTL_HTHRESH_MASK  = 0x1F << 8
	XDCTL_WTHRESH_SHIFT = 16
	XDCTL_WTHRESH_MASK  = 0x1F << XDCTL_WTHRESH_SHIFT
	XDCTL_ENABLE        = 1 << 25 // queue enable
	XDCTL_SWFLSH        = 1 << 26 // software flush (receive)
	TXDCTL_PRIORITY     = 1 << 27
)

// RXCSUM fields (8.10).
const (
	RXCSUM_PCSS_MASK = 0xFF    // packet checksum start
	RXCSUM_IPOFLD    = 1 << 8  // IPv4 checksum offload
	RXCSUM_TUOFLD    = 1 << 9  // TCP/UDP checksum offload
	RXCSUM_CRCOFL    = 1 << 11 // SCTP CRC offload
	RXCSUM_IPPCSE    = 1 << 12 // IP payload checksum enable
	RXCSUM_PCSD      = 1 << 13 // packet checksum disable: the write-back carries the RSS hash
)

// MRQC fields (8.10).
const (
	MRQC_ENABLE_MASK     = 7 // bits 2:0: multiple receive queues
	MRQC_ENABLE_NONE     = 0
	MRQC_ENABLE_RSS      = 2 // RSS only
	MRQC_ENABLE_VMDQ     = 3
	MRQC_ENABLE_VMDQ_RSS = 5
	MRQC_DEF_Q_SHIFT     = 3 // bits 5:3: default queue (VMDq)

	MRQC_RSS_FIELD_IPV4_TCP    = 1 << 16
	MRQC_RSS_FIELD_IPV4        = 1 << 17
	MRQC_RSS_FIELD_IPV6_TCP_EX = 1 << 18
	MRQC_RSS_FIELD_IPV6_EX     = 1 << 19
	MRQC_RSS_FIELD_IPV6        = 1 << 20
	MRQC_RSS_FIELD_IPV6_TCP    = 1 << 21
	MRQC_RSS_FIELD_IPV4_UDP    = 1 << 22
	MRQC_RSS_FIELD_IPV6_UDP    = 1 << 23
	MRQC_RSS_FIELD_IPV6_UDP_EX = 1 << 24
)

// RAH bits (8.10).
const (
	RAH_ADDR_MASK = 0xFFFF  // address bytes 4 and 5
	RAH_AS_MASK   = 3 << 16 // Address Select: 00 = destination
	RAH_POOL_MASK = 0xFF << 18
	RAH_AV        = 1 << 31 // Address Valid
)

// TCTL bits (8.12).
const (
	TCTL_EN         = 1 << 1 // Transmit Enable
	TCTL_PSP        = 1 << 3 // Pad Short Packets
	TCTL_CT_SHIFT   = 4      // bits 11:4: collision threshold
	TCTL_CT_MASK    = 0xFF << TCTL_CT_SHIFT
	TCTL_COLD_SHIFT = 12 // bits 21:12: collision distance
	TCTL_COLD_MASK  = 0x3FF << TCTL_COLD_SHIFT
	TCTL_SWXOFF     = 1 << 22
	TCTL_RTLC       = 1 << 24 // re-transmit on late collision
)

// TDWBAL bits (8.12): bit 0 enables head write-back; bits 31:2 are the
// address (DWORD aligned).
const (
	TDWBAL_HEAD_WB_EN = 1 << 0
	TDWBAL_ADDR_MASK  = 0xFFFFFFFC
)

// Reset values of the registers that are not zero after reset (8.x
// "Initial Value" columns; the fields loaded from the EEPROM as the default
// image in igb/model has them).
const (
	CTRL_RESET     = CTRL_FD | CTRL_LRST | CTRL_SPEED_1000 | CTRL_ADVD3WUC
	STATUS_RESET   = STATUS_PHYRA
	EECD_RESET     = EECD_FWE_DIS | EECD_PRES | EECD_AUTO_RD | EECD_SIZE_EX_DEFAULT
	VET_RESET      = 0x81008100 // outer and inner VLAN EtherType 0x8100
	LEDCTL_RESET   = 0x07068302
	RXPBS_RESET    = 0x40 // 64 KB receive packet buffer
	TXPBS_RESET    = 0x28 // 40 KB transmit packet buffer
	RXCSUM_RESET   = RXCSUM_IPOFLD | RXCSUM_TUOFLD
	SRRCTL_RESET   = 2 | 4<<SRRCTL_BSIZEHDR_SHIFT // BSIZEPACKET 2 KiB, BSIZEHEADER 256 B, legacy descriptors
	RXDCTL_RESET   = 1 << XDCTL_WTHRESH_SHIFT
	TCTL_RESET     = TCTL_PSP | 0xF<<TCTL_CT_SHIFT | 0x40<<TCTL_COLD_SHIFT | 1<<26 | 0xA<<28
	TCTL_EXT_RESET = 0x40 | 0x42<<10
	TIPG_RESET     = 0x08 | 0x04<<10 | 0x06<<20
	DTXCTL_RESET   = 0x04 | 0x40 // 802.3 length/type, spoof interrupt
	// TXCTL_RESET: relaxed ordering of descriptor reads, write-backs and
	// data reads (bits 9, 11, 13).
	TXCTL_RESET = 1<<9 | 1<<11 | 1<<13
)
