// Package e1000 is the hardware interface of the Intel 82540EM Gigabit
// Ethernet Controller, as the Intel PCI/PCI-X Family of Gigabit Ethernet
// Controllers Software Developer's Manual (8254x, 82540EM) describes it: the
// register map (section 13), the legacy receive and transmit descriptors and
// the TCP/IP context and data descriptors (section 3), the PHY registers
// reached through MDIC (section 13.5) and the EEPROM layout (section 5).
//
// The device model (e1000/model) and the driver (e1000/driver) both use these
// names, so that a reader can hold either against the datasheet. Register
// offsets are byte offsets into BAR0 (128 KiB of memory-mapped registers);
// every register is 32 bits wide and is accessed with aligned 32-bit reads and
// writes.
package e1000

import "github.com/nicbed/nicbed/hw/mii"

// PCI identity of the 82540EM (section 4.1, table 4-2; EEPROM words 0x0B–0x0E).
const (
	VendorID       = 0x8086
	DeviceID       = 0x100E // 82540EM-A, desktop
	SubVendorID    = 0x8086
	SubSystemID    = 0x001E // PRO/1000 MT Desktop Adapter
	RevisionID     = 0x02   // 82540EM-A
	ClassCode      = 0x020000
	BAR0Size       = 128 << 10 // memory-mapped registers
	EEPROMWords    = 64        // 93C46 Microwire EEPROM, 1 Kbit
	NumRA          = 16        // receive address registers
	NumMTA         = 128       // multicast table array entries
	NumVFTA        = 128       // VLAN filter table array entries
	DescSize       = 16        // every descriptor is 16 bytes
	RingAlign      = 128       // RDLEN/TDLEN are multiples of 128 bytes
	MaxRingLen     = 0xFFF80   // RDLEN/TDLEN bits 19:7
	PHYAddr        = 1         // the internal PHY's MDIO address
	PacketBufferKB = 64        // on-chip packet buffer shared by RX and TX (PBA)
)

// General registers (section 13.4, table 13-2).
const (
	CTRL     = 0x0000 // Device Control, RW
	STATUS   = 0x0008 // Device Status, RO
	EECD     = 0x0010 // EEPROM/Flash Control and Data, RW
	EERD     = 0x0014 // EEPROM Read, RW
	CTRL_EXT = 0x0018 // Extended Device Control, RW
	FLA      = 0x001C // Flash Access, RW
	MDIC     = 0x0020 // MDI Control, RW
	FCAL     = 0x0028 // Flow Control Address Low, RW
	FCAH     = 0x002C // Flow Control Address High, RW
	FCT      = 0x0030 // Flow Control Type, RW
	VET      = 0x0038 // VLAN EtherType, RW
	FCTTV    = 0x0170 // Flow Control Transmit Timer Value, RW
	TXCW     = 0x0178 // Transmit Configuration Word, RW
	RXCW     = 0x0180 // Receive Configuration Word, RO
	LEDCTL   = 0x0E00 // LED Control, RW
	PBA      = 0x1000 // Packet Buffer Allocation, RW
)

// Interrupt registers (section 13.4).
const (
	ICR = 0x00C0 // Interrupt Cause Read, RC/W1C
	ITR = 0x00C4 // Interrupt Throttling, RW
	ICS = 0x00C8 // Interrupt Cause Set, WO
	IMS = 0x00D0 // Interrupt Mask Set/Read, RW
	IMC = 0x00D8 // Interrupt Mask Clear, WO
)

// Receive registers (section 13.4).
const (
	RCTL   = 0x0100 // Receive Control, RW
	FCRTL  = 0x2160 // Flow Control Receive Threshold Low, RW
	FCRTH  = 0x2168 // Flow Control Receive Threshold High, RW
	RDBAL  = 0x2800 // Receive Descriptor Base Address Low, RW
	RDBAH  = 0x2804 // Receive Descriptor Base Address High, RW
	RDLEN  = 0x2808 // Receive Descriptor Length, RW
	RDH    = 0x2810 // Receive Descriptor Head, RW
	RDT    = 0x2818 // Receive Descriptor Tail, RW
	RDTR   = 0x2820 // Receive Delay Timer, RW
	RXDCTL = 0x2828 // Receive Descriptor Control, RW
	RADV   = 0x282C // Receive Interrupt Absolute Delay Timer, RW
	RSRPD  = 0x2C00 // Receive Small Packet Detect Interrupt, RW
	RXCSUM = 0x5000 // Receive Checksum Control, RW
	MTA    = 0x5200 // Multicast Table Array, 128 × 32 bits, RW
	RA     = 0x5400 // Receive Address RAL0/RAH0 … RAL15/RAH15, RW
	RAL0   = RA     // Receive Address Low, entry n at RA + 8n
	RAH0   = RA + 4 // Receive Address High, entry n at RA + 8n + 4
	VFTA   = 0x5600 // VLAN Filter Table Array, 128 × 32 bits, RW
)

// Transmit registers (section 13.4).
const (
	TCTL   = 0x0400 // Transmit Control, RW
	TIPG   = 0x0410 // Transmit Inter-Packet Gap, RW
	AIFS   = 0x0458 // Adaptive IFS Throttle, RW
	TDFH   = 0x3410 // Transmit Data FIFO Head, RW (diagnostic)
	TDFT   = 0x3418 // Transmit Data FIFO Tail, RW (diagnostic)
	TDBAL  = 0x3800 // Transmit Descriptor Base Address Low, RW
	TDBAH  = 0x3804 // Transmit Descriptor Base Address High, RW
	TDLEN  = 0x3808 // Transmit Descriptor Length, RW
	TDH    = 0x3810 // Transmit Descriptor Head, RW
	TDT    = 0x3818 // Transmit Descriptor Tail, RW
	TIDV   = 0x3820 // Transmit Interrupt Delay Value, RW
	TXDCTL = 0x3828 // Transmit Descriptor Control, RW
	TADV   = 0x382C // Transmit Absolute Interrupt Delay Value, RW
	TSPMT  = 0x3830 // TCP Segmentation Pad and Minimum Threshold, RW
)

// Wake-up and manageability registers (section 13.6); kept as plain storage.
const (
	WUC  = 0x5800 // Wake Up Control
	WUFC = 0x5808 // Wake Up Filter Control
	WUS  = 0x5810 // Wake Up Status
	MANC = 0x5820 // Management Control
	IPAV = 0x5838 // IP Address Valid
)

// RAL returns the offset of Receive Address Low entry n (0..15).
func RAL(n int) uint32 { return RA + 8*uint32(n) }

// RAH returns the offset of Receive Address High entry n (0..15).
func RAH(n int) uint32 { return RA + 8*uint32(n) + 4 }

// CTRL bits (section 13.4).
const (
	CTRL_FD         = 1 << 0  // Full Duplex
	CTRL_LRST       = 1 << 3  // Link Reset (TBI mode)
	CTRL_ASDE       = 1 << 5  // Auto-Speed Detection Enable
	CTRL_SLU        = 1 << 6  // Set Link Up
	CTRL_ILOS       = 1 << 7  // Invert Loss-of-Signal
	CTRL_SPEED_MASK = 3 << 8  // Speed selection
	CTRL_SPEED_10   = 0 << 8  //
	CTRL_SPEED_100  = 1 << 8  //
	CTRL_SPEED_1000 = 2 << 8  //
	CTRL_FRCSPD     = 1 << 11 // Force Speed
	CTRL_FRCDPLX    = 1 << 12 // Force Duplex
	CTRL_SDP0_DATA  = 1 << 18 // Software-definable pin 0 data
	CTRL_SDP1_DATA  = 1 << 19 // Software-definable pin 1 data
	CTRL_ADVD3WUC   = 1 << 20 // D3cold wake-up capability advertisement
	CTRL_EN_PHY_PWR = 1 << 21 // PHY power-management enable
	CTRL_SDP0_IODIR = 1 << 22 // SDP0 pin direction
	CTRL_SDP1_IODIR = 1 << 23 // SDP1 pin direction
	CTRL_RST        = 1 << 26 // Device Reset, self-clearing
	CTRL_RFCE       = 1 << 27 // Receive Flow Control Enable
	CTRL_TFCE       = 1 << 28 // Transmit Flow Control Enable
	CTRL_VME        = 1 << 30 // VLAN Mode Enable
	CTRL_PHY_RST    = 1 << 31 // PHY Reset
)

// STATUS bits (section 13.4).
const (
	STATUS_FD         = 1 << 0  // Full Duplex
	STATUS_LU         = 1 << 1  // Link Up
	STATUS_FUNC_MASK  = 3 << 2  // Function ID
	STATUS_TXOFF      = 1 << 4  // Transmission paused (flow control)
	STATUS_TBIMODE    = 1 << 5  // TBI mode
	STATUS_SPEED_MASK = 3 << 6  // Link speed
	STATUS_SPEED_10   = 0 << 6  //
	STATUS_SPEED_100  = 1 << 6  //
	STATUS_SPEED_1000 = 2 << 6  //
	STATUS_ASDV_MASK  = 3 << 8  // Auto-speed detection value
	STATUS_ASDV_1000  = 2 << 8  //
	STATUS_PCI66      = 1 << 11 // PCI bus speed 66 MHz
	STATUS_BUS64      = 1 << 12 // 64-bit bus
	STATUS_PCIX_MODE  = 1 << 13 // PCI-X mode
)

// EECD bits (section 13.4). The 82540EM has a 93C46 Microwire EEPROM; software
// bit-bangs it through SK/CS/DI/DO after requesting access with EE_REQ.
const (
	EECD_SK       = 1 << 0 // clock input to the EEPROM
	EECD_CS       = 1 << 1 // chip select
	EECD_DI       = 1 << 2 // data input to the EEPROM
	EECD_DO       = 1 << 3 // data output from the EEPROM, RO
	EECD_FWE_MASK = 3 << 4 // Flash Write Enable
	EECD_FWE_DIS  = 1 << 4 // flash writes disabled (reset value)
	EECD_REQ      = 1 << 6 // request EEPROM access
	EECD_GNT      = 1 << 7 // EEPROM access granted, RO
	EECD_PRES     = 1 << 8 // EEPROM present, RO
	EECD_SIZE     = 1 << 9 // EEPROM size: 0 = 1 Kbit (64 words), 1 = 4 Kbit, RO
)

// Microwire opcodes (start bit included), shifted MSB first (5.3).
const (
	EEPROM_OPCODE_BITS  = 3
	EEPROM_ADDR_BITS    = 6   // 64-word part
	EEPROM_READ_OPCODE  = 0x6 // 1 10
	EEPROM_WRITE_OPCODE = 0x5 // 1 01
	EEPROM_ERASE_OPCODE = 0x7 // 1 11
	EEPROM_EWEN_OPCODE  = 0x4 // 1 00 11xxxx: erase/write enable
)

// EERD fields of the 82540EM (section 13.4).
const (
	EERD_START      = 1 << 0 // start a read, self-clearing
	EERD_DONE       = 1 << 4 // read done, RO
	EERD_ADDR_SHIFT = 8      // bits 15:8: word address
	EERD_ADDR_MASK  = 0xFF << EERD_ADDR_SHIFT
	EERD_DATA_SHIFT = 16 // bits 31:16: data, RO
)

// CTRL_EXT bits (section 13.4).
const (
	CTRL_EXT_GPI_EN_MASK = 0xF << 0 // general-purpose interrupt enables
	CTRL_EXT_SDP6_DATA   = 1 << 6
	CTRL_EXT_SDP7_DATA   = 1 << 7
	CTRL_EXT_ASDCHK      = 1 << 12 // ASD check
	CTRL_EXT_EE_RST      = 1 << 13 // EEPROM reset (reload), self-clearing
	CTRL_EXT_SPD_BYPS    = 1 << 15 // speed select bypass
	CTRL_EXT_RO_DIS      = 1 << 17 // relaxed ordering disabled
	CTRL_EXT_LINK_MODE   = 3 << 22 // 00 = internal PHY (copper)
)

// MDIC fields (section 13.4).
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
	MDIC_READY     = 1 << 28 // R: operation complete
	MDIC_INT_EN    = 1 << 29 // I: raise ICR.MDAC on completion
	MDIC_ERROR     = 1 << 30 // E: no PHY at the address / read failed
)

// Interrupt cause bits, the same in ICR, ICS, IMS and IMC (section 13.4).
const (
	ICR_TXDW    = 1 << 0  // Transmit Descriptor Written Back
	ICR_TXQE    = 1 << 1  // Transmit Queue Empty
	ICR_LSC     = 1 << 2  // Link Status Change
	ICR_RXSEQ   = 1 << 3  // Receive Sequence Error
	ICR_RXDMT0  = 1 << 4  // Receive Descriptor Minimum Threshold Reached
	ICR_RXO     = 1 << 6  // Receiver Overrun
	ICR_RXT0    = 1 << 7  // Receiver Timer Interrupt
	ICR_MDAC    = 1 << 9  // MDI/O Access Complete
	ICR_RXCFG   = 1 << 10 // Receiving /C/ ordered sets (TBI)
	ICR_GPI_EN0 = 1 << 11 // General Purpose Interrupt, SDP6 (82540: PHY interrupt)
	ICR_GPI_EN1 = 1 << 12 // General Purpose Interrupt, SDP7
	ICR_GPI_EN2 = 1 << 13 //
	ICR_GPI_EN3 = 1 << 14 //
	ICR_TXD_LOW = 1 << 15 // Transmit Descriptor Low Threshold hit
	ICR_SRPD    = 1 << 16 // Small Receive Packet Detected

	// ICR_VALID is every cause bit the 82540EM implements; the rest of ICR,
	// IMS, ICS and IMC is reserved and reads as 0.
	ICR_VALID = ICR_TXDW | ICR_TXQE | ICR_LSC | ICR_RXSEQ | ICR_RXDMT0 | ICR_RXO | ICR_RXT0 |
		ICR_MDAC | ICR_RXCFG | ICR_GPI_EN0 | ICR_GPI_EN1 | ICR_GPI_EN2 | ICR_GPI_EN3 | ICR_TXD_LOW | ICR_SRPD
)

// ITR (section 13.4): bits 15:0 are the minimum inter-interrupt interval in 256 ns
// units; 0 disables throttling.
const (
	ITR_INTERVAL_MASK = 0xFFFF
	ITRUnitNs         = 256
)

// RCTL bits (section 13.4).
const (
	RCTL_EN          = 1 << 1  // Receiver Enable
	RCTL_SBP         = 1 << 2  // Store Bad Packets
	RCTL_UPE         = 1 << 3  // Unicast Promiscuous Enable
	RCTL_MPE         = 1 << 4  // Multicast Promiscuous Enable
	RCTL_LPE         = 1 << 5  // Long Packet Reception Enable
	RCTL_LBM_MASK    = 3 << 6  // Loopback Mode
	RCTL_RDMTS_SHIFT = 8       // bits 9:8: descriptor minimum threshold size
	RCTL_RDMTS_MASK  = 3 << 8  //
	RCTL_RDMTS_HALF  = 0 << 8  // 1/2 of RDLEN
	RCTL_RDMTS_QUAT  = 1 << 8  // 1/4
	RCTL_RDMTS_EIGTH = 2 << 8  // 1/8
	RCTL_MO_SHIFT    = 12      // bits 13:12: multicast offset
	RCTL_MO_MASK     = 3 << 12 //
	RCTL_BAM         = 1 << 15 // Broadcast Accept Mode
	RCTL_BSIZE_SHIFT = 16      // bits 17:16: receive buffer size
	RCTL_BSIZE_MASK  = 3 << 16 //
	RCTL_BSIZE_2048  = 0 << 16 // with BSEX = 0
	RCTL_BSIZE_1024  = 1 << 16 //
	RCTL_BSIZE_512   = 2 << 16 //
	RCTL_BSIZE_256   = 3 << 16 //
	RCTL_BSIZE_16384 = 1 << 16 // with BSEX = 1
	RCTL_BSIZE_8192  = 2 << 16 //
	RCTL_BSIZE_4096  = 3 << 16 //
	RCTL_VFE         = 1 << 18 // VLAN Filter Enable
	RCTL_CFIEN       = 1 << 19 // Canonical Form Indicator Enable
	RCTL_CFI         = 1 << 20 // Canonical Form Indicator value
	RCTL_DPF         = 1 << 22 // Discard Pause Frames
	RCTL_PMCF        = 1 << 23 // Pass MAC Control Frames
	RCTL_BSEX        = 1 << 25 // Buffer Size Extension (×16)
	RCTL_SECRC       = 1 << 26 // Strip Ethernet CRC
)

// RXBufferSize is the receive buffer size RCTL.BSIZE/BSEX select (section 13.4),
// or 0 for the reserved encoding (BSEX = 1, BSIZE = 00).
func RXBufferSize(rctl uint32) int {
	size := 2048 >> ((rctl & RCTL_BSIZE_MASK) >> RCTL_BSIZE_SHIFT)
	if rctl&RCTL_BSEX != 0 {
		if rctl&RCTL_BSIZE_MASK == 0 {
			return 0
		}
		size *= 16
	}
	return size
}

// RDTR/RADV/TIDV/TADV (section 13.4): bits 15:0 count
// 1.024 µs units. RDTR bit 31 (FPD) flushes the partial descriptor block:
// writing it fires the receive timer at once; it self-clears.
const (
	DELAY_MASK     = 0xFFFF
	RDTR_FPD       = 1 << 31
	DelayUnitNs    = 1024
	RSRPD_SIZE_MSK = 0xFFF // bits 11:0: small packet size
)

// RXDCTL/TXDCTL fields (section 13.4).
const (
	XDCTL_PTHRESH_MASK  = 0x3F << 0
	XDCTL_HTHRESH_MASK  = 0x3F << 8
	XDCTL_WTHRESH_MASK  = 0x3F << 16
	XDCTL_GRAN          = 1 << 24
	TXDCTL_LWTHRESH_SFT = 25 // bits 31:25
)

// RXCSUM fields (section 13.4).
const (
	RXCSUM_PCSS_MASK = 0xFF   // packet checksum start
	RXCSUM_IPOFLD    = 1 << 8 // IP checksum offload enable
	RXCSUM_TUOFLD    = 1 << 9 // TCP/UDP checksum offload enable
)

// RAH bits (section 13.4).
const (
	RAH_ADDR_MASK = 0xFFFF  // bytes 4 and 5 of the address
	RAH_AS_MASK   = 3 << 16 // Address Select: 00 = destination address
	RAH_AV        = 1 << 31 // Address Valid
)

// TCTL bits (section 13.4).
const (
	TCTL_EN         = 1 << 1 // Transmit Enable
	TCTL_PSP        = 1 << 3 // Pad Short Packets
	TCTL_CT_SHIFT   = 4      // bits 11:4: collision threshold
	TCTL_CT_MASK    = 0xFF << 4
	TCTL_COLD_SHIFT = 12 // bits 21:12: collision distance
	TCTL_COLD_MASK  = 0x3FF << 12
	TCTL_SWXOFF     = 1 << 22 // Software XOFF transmission
	TCTL_RTLC       = 1 << 24 // Re-transmit on late collision
)

// TIPG fields (section 13.4).
const (
	TIPG_IPGT_MASK   = 0x3FF
	TIPG_IPGR1_SHIFT = 10
	TIPG_IPGR2_SHIFT = 20
)

// PBA (section 13.4): bits 15:0 are the receive share of the 64 KB packet buffer in
// KB; the transmit FIFO gets the rest.
const PBA_RXA_MASK = 0xFFFF

// Reset values of the registers that are not zero after reset, as the model
// has them (section 13.4; bits loaded from the EEPROM as the default image in
// e1000/model has them).
const (
	CTRL_RESET   = CTRL_FD | CTRL_SLU | CTRL_SPEED_1000 | CTRL_ADVD3WUC
	EECD_RESET   = EECD_FWE_DIS | EECD_PRES
	VET_RESET    = 0x8100
	LEDCTL_RESET = 0x07068302
	PBA_RESET    = 0x00000030 // 48 KB RX, 16 KB TX
	RXDCTL_RESET = 1 << 16    // WTHRESH = 1
	TXDCTL_RESET = 0
	RXCSUM_RESET = RXCSUM_IPOFLD
	TIPG_RESET   = 8 | 8<<TIPG_IPGR1_SHIFT | 6<<TIPG_IPGR2_SHIFT
)

// Statistics registers (section 13.7). Every one is read-to-clear. The
// 64-bit octet counters are a low/high pair: read the low half first; reading
// the high half clears the whole counter.
const (
	CRCERRS  = 0x4000 // CRC Error Count
	ALGNERRC = 0x4004 // Alignment Error Count
	SYMERRS  = 0x4008 // Symbol Error Count
	RXERRC   = 0x400C // RX Error Count
	MPC      = 0x4010 // Missed Packets Count
	SCC      = 0x4014 // Single Collision Count
	ECOL     = 0x4018 // Excessive Collisions Count
	MCC      = 0x401C // Multiple Collision Count
	LATECOL  = 0x4020 // Late Collisions Count
	COLC     = 0x4028 // Collision Count
	DC       = 0x4030 // Defer Count
	TNCRS    = 0x4034 // Transmit with No CRS
	SEC      = 0x4038 // Sequence Error Count
	CEXTERR  = 0x403C // Carrier Extension Error Count
	RLEC     = 0x4040 // Receive Length Error Count
	XONRXC   = 0x4048 // XON Received Count
	XONTXC   = 0x404C // XON Transmitted Count
	XOFFRXC  = 0x4050 // XOFF Received Count
	XOFFTXC  = 0x4054 // XOFF Transmitted Count
	FCRUC    = 0x4058 // FC Received Unsupported Count
	PRC64    = 0x405C // Packets Received (64 Bytes) Count
	PRC127   = 0x4060 // Packets Received (65–127 Bytes) Count
	PRC255   = 0x4064 // Packets Received (128–255 Bytes) Count
	PRC511   = 0x4068 // Packets Received (256–511 Bytes) Count
	PRC1023  = 0x406C // Packets Received (512–1023 Bytes) Count
	PRC1522  = 0x4070 // Packets Received (1024 to Max Bytes) Count
	GPRC     = 0x4074 // Good Packets Received Count
	BPRC     = 0x4078 // Broadcast Packets Received Count
	MPRC     = 0x407C // Multicast Packets Received Count
	GPTC     = 0x4080 // Good Packets Transmitted Count
	GORCL    = 0x4088 // Good Octets Received Count (Low)
	GORCH    = 0x408C // Good Octets Received Count (High)
	GOTCL    = 0x4090 // Good Octets Transmitted Count (Low)
	GOTCH    = 0x4094 // Good Octets Transmitted Count (High)
	RNBC     = 0x40A0 // Receive No Buffers Count
	RUC      = 0x40A4 // Receive Undersize Count
	RFC      = 0x40A8 // Receive Fragment Count
	ROC      = 0x40AC // Receive Oversize Count
	RJC      = 0x40B0 // Receive Jabber Count
	MGTPRC   = 0x40B4 // Management Packets Received Count
	MGTPDC   = 0x40B8 // Management Packets Dropped Count
	MGTPTC   = 0x40BC // Management Packets Transmitted Count
	TORL     = 0x40C0 // Total Octets Received (Low)
	TORH     = 0x40C4 // Total Octets Received (High)
	TOTL     = 0x40C8 // Total Octets Transmitted (Low)
	TOTH     = 0x40CC // Total Octets Transmitted (High)
	TPR      = 0x40D0 // Total Packets Received
	TPT      = 0x40D4 // Total Packets Transmitted
	PTC64    = 0x40D8 // Packets Transmitted (64 Bytes) Count
	PTC127   = 0x40DC // Packets Transmitted (65–127 Bytes) Count
	PTC255   = 0x40E0 // Packets Transmitted (128–255 Bytes) Count
	PTC511   = 0x40E4 // Packets Transmitted (256–511 Bytes) Count
	PTC1023  = 0x40E8 // Packets Transmitted (512–1023 Bytes) Count
	PTC1522  = 0x40EC // Packets Transmitted (1024 Bytes or Greater) Count
	MPTC     = 0x40F0 // Multicast Packets Transmitted Count
	BPTC     = 0x40F4 // Broadcast Packets Transmitted Count
	TSCTC    = 0x40F8 // TCP Segmentation Context Transmitted Count
	TSCTFC   = 0x40FC // TCP Segmentation Context Transmit Fail Count

	StatsStart = 0x4000
	StatsEnd   = 0x4100 // exclusive
)

// Stats lists the statistics registers with their datasheet names, in
// register order, for printing.
var Stats = []struct {
	Off  uint32
	Name string
}{
	{CRCERRS, "CRCERRS"},
	{ALGNERRC, "ALGNERRC"},
	{SYMERRS, "SYMERRS"},
	{RXERRC, "RXERRC"},
	{MPC, "MPC"},
	{SCC, "SCC"},
	{ECOL, "ECOL"},
	{MCC, "MCC"},
	{LATECOL, "LATECOL"},
	{COLC, "COLC"},
	{DC, "DC"},
	{TNCRS, "TNCRS"},
	{SEC, "SEC"},
	{CEXTERR, "CEXTERR"},
	{RLEC, "RLEC"},
	{XONRXC, "XONRXC"},
	{XONTXC, "XONTXC"},
	{XOFFRXC, "XOFFRXC"},
	{XOFFTXC, "XOFFTXC"},
	{FCRUC, "FCRUC"},
	{PRC64, "PRC64"},
	{PRC127, "PRC127"},
	{PRC255, "PRC255"},
	{PRC511, "PRC511"},
	{PRC1023, "PRC1023"},
	{PRC1522, "PRC1522"},
	{GPRC, "GPRC"},
	{BPRC, "BPRC"},
	{MPRC, "MPRC"},
	{GPTC, "GPTC"},
	{GORCL, "GORCL"},
	{GORCH, "GORCH"},
	{GOTCL, "GOTCL"},
	{GOTCH, "GOTCH"},
	{RNBC, "RNBC"},
	{RUC, "RUC"},
	{RFC, "RFC"},
	{ROC, "ROC"},
	{RJC, "RJC"},
	{MGTPRC, "MGTPRC"},
	{MGTPDC, "MGTPDC"},
	{MGTPTC, "MGTPTC"},
	{TORL, "TORL"},
	{TORH, "TORH"},
	{TOTL, "TOTL"},
	{TOTH, "TOTH"},
	{TPR, "TPR"},
	{TPT, "TPT"},
	{PTC64, "PTC64"},
	{PTC127, "PTC127"},
	{PTC255, "PTC255"},
	{PTC511, "PTC511"},
	{PTC1023, "PTC1023"},
	{PTC1522, "PTC1522"},
	{MPTC, "MPTC"},
	{BPTC, "BPTC"},
	{TSCTC, "TSCTC"},
	{TSCTFC, "TSCTFC"},
}

// PHY registers of the 82540EM's internal M88E1011-compatible PHY, reached
// through MDIC at PHY address 1 (section 13.5).
const (
	PHY_BMCR         = mii.PHY_BMCR
	PHY_BMSR         = mii.PHY_BMSR
	PHY_ID1          = mii.PHY_ID1
	PHY_ID2          = mii.PHY_ID2
	PHY_ANAR         = mii.PHY_ANAR
	PHY_ANLPAR       = mii.PHY_ANLPAR
	PHY_ANER         = mii.PHY_ANER
	PHY_NPTX         = mii.PHY_NPTX
	PHY_LPRNPG       = mii.PHY_LPRNPG
	PHY_1000T_CTRL   = mii.PHY_1000T_CTRL
	PHY_1000T_STATUS = mii.PHY_1000T_STATUS
	PHY_EXT_STATUS   = mii.PHY_EXT_STATUS
	M88_PSCR         = 0x10 // PHY Specific Control
	M88_PSSR         = 0x11 // PHY Specific Status, RO
	M88_PIER         = 0x12 // PHY Interrupt Enable
	M88_PISR         = 0x13 // PHY Interrupt Status, RC
	M88_EPSCR        = 0x14 // Extended PHY Specific Control
	M88_RXERR        = 0x15 // Receive Error Counter, RC

	PHY_ID1_82540EM = 0x0141 // Marvell OUI bits
	PHY_ID2_82540EM = 0x0C20 // M88E1011, revision 0
)

// The standard (clause 22) PHY registers and bits, named as in hw/mii.
const (
	BMCR_SPEED1000     = mii.BMCR_SPEED1000
	BMCR_FULLDPLX      = mii.BMCR_FULLDPLX
	BMCR_ANRESTART     = mii.BMCR_ANRESTART
	BMCR_ISOLATE       = mii.BMCR_ISOLATE
	BMCR_PDOWN         = mii.BMCR_PDOWN
	BMCR_ANENABLE      = mii.BMCR_ANENABLE
	BMCR_SPEED100      = mii.BMCR_SPEED100
	BMCR_LOOPBACK      = mii.BMCR_LOOPBACK
	BMCR_RESET         = mii.BMCR_RESET
	BMCR_RESET_VALUE   = mii.BMCR_RESET_VALUE
	BMSR_ERCAP         = mii.BMSR_ERCAP
	BMSR_JCD           = mii.BMSR_JCD
	BMSR_LSTATUS       = mii.BMSR_LSTATUS
	BMSR_ANEGCAPABLE   = mii.BMSR_ANEGCAPABLE
	BMSR_RFAULT        = mii.BMSR_RFAULT
	BMSR_ANEGCOMPLETE  = mii.BMSR_ANEGCOMPLETE
	BMSR_MFPS          = mii.BMSR_MFPS
	BMSR_ESTATEN       = mii.BMSR_ESTATEN
	BMSR_10HALF        = mii.BMSR_10HALF
	BMSR_10FULL        = mii.BMSR_10FULL
	BMSR_100HALF       = mii.BMSR_100HALF
	BMSR_100FULL       = mii.BMSR_100FULL
	BMSR_CAPS          = mii.BMSR_CAPS
	ANAR_SELECTOR_8023 = mii.ANAR_SELECTOR_8023
	ANAR_10HALF        = mii.ANAR_10HALF
	ANAR_10FULL        = mii.ANAR_10FULL
	ANAR_100HALF       = mii.ANAR_100HALF
	ANAR_100FULL       = mii.ANAR_100FULL
	ANAR_100T4         = mii.ANAR_100T4
	ANAR_PAUSE         = mii.ANAR_PAUSE
	ANAR_ASM_DIR       = mii.ANAR_ASM_DIR
	ANAR_RFAULT        = mii.ANAR_RFAULT
	ANLPAR_ACK         = mii.ANLPAR_ACK
	ANAR_NPAGE         = mii.ANAR_NPAGE
	ANAR_RESET_VALUE   = mii.ANAR_RESET_VALUE
	ANER_LPANABLE      = mii.ANER_LPANABLE
	ANER_PAGERX        = mii.ANER_PAGERX
	ANER_NPABLE        = mii.ANER_NPABLE
	GCR_1000T_HD       = mii.GCR_1000T_HD
	GCR_1000T_FD       = mii.GCR_1000T_FD
	GCR_PORT_TYPE      = mii.GCR_PORT_TYPE
	GCR_MS_VALUE       = mii.GCR_MS_VALUE
	GCR_MS_ENABLE      = mii.GCR_MS_ENABLE
	GCR_1000T_RESET_V  = mii.GCR_1000T_RESET_V
	GSR_IDLE_ERR_MASK  = mii.GSR_IDLE_ERR_MASK
	GSR_LP_1000T_HD    = mii.GSR_LP_1000T_HD
	GSR_LP_1000T_FD    = mii.GSR_LP_1000T_FD
	GSR_REMOTE_RX_OK   = mii.GSR_REMOTE_RX_OK
	GSR_LOCAL_RX_OK    = mii.GSR_LOCAL_RX_OK
	GSR_MS_RESOLUTION  = mii.GSR_MS_RESOLUTION
	GSR_MS_FAULT       = mii.GSR_MS_FAULT
	ESTATUS_1000T_HD   = mii.ESTATUS_1000T_HD
	ESTATUS_1000T_FD   = mii.ESTATUS_1000T_FD
)

// M88_PSSR bits.
const (
	PSSR_JABBER       = 1 << 0
	PSSR_POLARITY     = 1 << 1
	PSSR_DOWNSHIFT    = 1 << 5
	PSSR_MDIX         = 1 << 6
	PSSR_LINK         = 1 << 10 // real-time link status
	PSSR_SPD_DPLX_RES = 1 << 11 // speed and duplex resolved
	PSSR_PAGE_RCVD    = 1 << 12
	PSSR_DPLX         = 1 << 13 // full duplex
	PSSR_SPEED_MASK   = 3 << 14
	PSSR_SPEED_1000   = 2 << 14
)

// M88 PHY specific control defaults.
const (
	M88_PSCR_AUTO_X_MODE = 3 << 5 // automatic MDI/MDI-X crossover
	M88_PSCR_RESET_VALUE = M88_PSCR_AUTO_X_MODE
	M88_EPSCR_RESET_VAL  = 0x0C60
)

// EEPROM layout (section 5.6, table 5-2). The checksum word makes the sum of
// words 0x00–0x3F equal EEPROM_SUM.
const (
	EEPROM_MAC0         = 0x00 // Ethernet address bytes 1:0
	EEPROM_MAC1         = 0x01 // bytes 3:2
	EEPROM_MAC2         = 0x02 // bytes 5:4
	EEPROM_COMPAT       = 0x03 // compatibility
	EEPROM_LED          = 0x04 // LED settings (0xFFFF / 0x0000 = default)
	EEPROM_PBA0         = 0x08 // printed board assembly number
	EEPROM_PBA1         = 0x09
	EEPROM_ICW1         = 0x0A // initialization control word 1
	EEPROM_SUBSYSTEM    = 0x0B // subsystem ID
	EEPROM_SUBVENDOR    = 0x0C // subsystem vendor ID
	EEPROM_DEVICE       = 0x0D // device ID
	EEPROM_VENDOR       = 0x0E // vendor ID
	EEPROM_ICW2         = 0x0F // initialization control word 2
	EEPROM_ICW3_PORT_A  = 0x24 // initialization control word 3 (APM, port A)
	EEPROM_CHECKSUM_REG = 0x3F // checksum word
	EEPROM_SUM          = 0xBABA

	EEPROM_ICW2_PAUSE_MASK = 0x3000 // bits 13:12: pause capability advertised
	EEPROM_ICW2_ASM_DIR    = 0x2000
)
