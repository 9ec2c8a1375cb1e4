// Package igb is the hardware interface of the Intel 82576 Gigabit Ethernet
// Controller (PCI 8086:10C9), as the Intel 82576EB Gigabit Ethernet Controller
// Datasheet (revision 2.x) describes it: the register map of chapter 8
// (Programming Interface) as one table, Registers, with offsets, reset values
// and access types; the bit fields of the registers the model and the driver
// use; the advanced receive descriptor (read and write-back formats) and the
// advanced transmit context and data descriptors of chapter 7 as byte-slice
// views.
//
// The device model (igb/model) and the driver (igb/driver) both use these
// names, so that a reader can hold either against the datasheet. Offsets are
// byte offsets into BAR0 (128 KiB of memory-mapped registers); every
// register is 32 bits wide and accessed with aligned 32-bit reads and writes.
//
// Queue registers live at 0xC000 + 0x40·n (receive) and 0xE000 + 0x40·n
// (transmit) for the 16 queues; queues 0–3 are also reachable at the
// 82575-compatible aliases 0x2800 + 0x100·n and 0x3800 + 0x100·n, which
// Linux's igb uses for them. Lookup resolves either address to the same
// register.
package igb

// PCI identity of the 82576 (datasheet 9.x; EEPROM words 0x0D, 0x0E).
const (
	VendorID    = 0x8086
	DeviceID    = 0x10C9 // 82576, copper
	SubVendorID = 0x8086
	SubSystemID = 0x0000 // as the default EEPROM image has it
	RevisionID  = 0x01
	ClassCode   = 0x020000
	BAR0Size    = 128 << 10 // memory-mapped registers
	BAR3Size    = 16 << 10  // MSI-X table and PBA
	// MSI-X: the table at offset 0 of BAR3, the PBA at 0x2000 (datasheet
	// 8.9, 9.x MSI-X capability). A physical function has 10 vectors.
	MSIXVectors     = 10
	MSIXTableOffset = 0x0000
	MSIXPBAOffset   = 0x2000
	MSIVectors      = 1 // MSI: one message (Multiple Message Capable 0)

	NumQueues  = 16  // receive and transmit queues each
	NumEITR    = 25  // EITR0–EITR24 (a PF with MSI-X uses 0..9)
	NumIVAR    = 8   // IVAR0–IVAR7
	NumRA      = 24  // receive address registers: 16 at RA, 8 at RA2
	NumMTA     = 128 // multicast table array entries
	NumVFTA    = 128 // VLAN filter table array entries
	NumRETA    = 32  // redirection table registers, 4 entries each
	RETAWidth  = 128 // redirection table entries
	NumRSSRK   = 10  // RSS random key registers, 40 bytes
	RSSKeySize = 4 * NumRSSRK

	EEPROMWords = 64 // words 0x00–0x3F sum to EEPROM_SUM
	EEPROM_SUM  = 0xBABA
	PHYAddr     = 1 // the internal PHY's MDIO address

	DescSize   = 16      // every descriptor is 16 bytes
	RingAlign  = 128     // RDLEN/TDLEN are multiples of 128 bytes
	MaxRingLen = 0xFFF80 // RDLEN/TDLEN bits 19:7
)

// Access is how software may access a register.
type Access uint8

const (
	RW   Access = iota // read/write
	RO                 // read only; writes are ignored
	WO                 // write only; reads return 0
	RC                 // read to clear (statistics)
	RCW1 Access = 4    // read to clear and write 1 to clear (ICR, EICR)
	RW1S Access = 5    // write 1 to set, read returns the value (IMS, EIMS)
	WO1C Access = 6    // write 1 to clear another register's bits (IMC, EIMC)
)

func (a Access) String() string {
	switch a {
	case RW:
		return "RW"
	case RO:
		return "RO"
	case WO:
		return "WO"
	case RC:
		return "RC"
	case RCW1:
		return "RC/W1C"
	case RW1S:
		return "RW1S"
	case WO1C:
		return "WO/W1C"
	}
	return "?"
}

// Reg is one register, or an array of identical registers, of BAR0.
type Reg struct {
	Name    string
	Offset  uint32 // of instance 0
	Count   int    // instances; 1 for a single register
	Stride  uint32 // bytes between instances
	Section string // datasheet section describing the register's group
	Reset   uint32 // value of every instance after reset ...
	Reset0  uint32 // ... except instance 0 when HasReset0
	Access  Access
	// HasReset0 says instance 0 resets to Reset0 rather than Reset
	// (RXDCTL0 and TXDCTL0 come out of reset enabled).
	HasReset0 bool
	// Alias is the 82575-compatible address of instance 0 of a queue
	// register, 0 if none; AliasCount instances AliasStride apart.
	Alias       uint32
	AliasCount  int
	AliasStride uint32
}

// At is the offset of instance i.
func (r *Reg) At(i int) uint32 { return r.Offset + uint32(i)*r.Stride }

// ResetOf is the reset value of instance i.
func (r *Reg) ResetOf(i int) uint32 {
	if i == 0 && r.HasReset0 {
		return r.Reset0
	}
	return r.Reset
}

// Register offsets (instance 0 of arrays; see the functions below for
// instance n). Sections name the datasheet's register description groups:
// 8.2 general, 8.4 EEPROM/flash, 8.8 interrupts, 8.10 receive, 8.12
// transmit, 8.19 statistics.
const (
	CTRL     = 0x0000
	STATUS   = 0x0008
	EECD     = 0x0010 // EEC in the datasheet; Linux's E1000_EECD
	EERD     = 0x0014
	CTRL_EXT = 0x0018
	MDIC     = 0x0020
	FCAL     = 0x0028
	FCAH     = 0x002C
	FCT      = 0x0030
	VET      = 0x0038
	ICR      = 0x00C0
	ICS      = 0x00C8
	IMS      = 0x00D0
	IMC      = 0x00D8
	IAM      = 0x00E0
	RCTL     = 0x0100
	FCTTV    = 0x0170
	TCTL     = 0x0400
	TCTL_EXT = 0x0404
	TIPG     = 0x0410
	LEDCTL   = 0x0E00
	GPIE     = 0x1514
	EICS     = 0x1520
	EIMS     = 0x1524
	EIMC     = 0x1528
	EIAC     = 0x152C
	EIAM     = 0x1530
	EICR     = 0x1580
	EITR0    = 0x1680
	IVAR0    = 0x1700
	IVARMISC = 0x1740 // IVAR_MISC
	FCRTL    = 0x2160
	FCRTH    = 0x2168
	RXPBS    = 0x2404
	TXPBS    = 0x3404
	DTXCTL   = 0x3590
	RXCSUM   = 0x5000
	RLPML    = 0x5004
	RFCTL    = 0x5008
	MTA      = 0x5200
	RA       = 0x5400 // RAL0/RAH0 … RAL15/RAH15
	PSRTYPE0 = 0x5480
	RA2      = 0x54E0 // RAL16/RAH16 … RAL23/RAH23
	VFTA     = 0x5600
	WUC      = 0x5800
	WUFC     = 0x5808
	WUS      = 0x5810
	MRQC     = 0x5818
	MANC     = 0x5820
	SWSM     = 0x5B50
	FWSM     = 0x5B54
	SWFWSYNC = 0x5B5C // SW_FW_SYNC
	PBACLR   = 0x5B68 // MSI-X PBA Clear
	RETA     = 0x5C00
	RSSRK    = 0x5C80

	// Queue registers, queue 0 at its primary address.
	RDBAL0  = 0xC000
	RDBAH0  = 0xC004
	RDLEN0  = 0xC008
	SRRCTL0 = 0xC00C
	RDH0    = 0xC010
	RXCTL0  = 0xC014 // DCA receive control
	RDT0    = 0xC018
	RXDCTL0 = 0xC028
	RQDPC0  = 0xC030
	TDBAL0  = 0xE000
	TDBAH0  = 0xE004
	TDLEN0  = 0xE008
	TDH0    = 0xE010
	TXCTL0  = 0xE014 // DCA transmit control
	TDT0    = 0xE018
	TXDCTL0 = 0xE028
	TDWBAL0 = 0xE038
	TDWBAH0 = 0xE03C

	QueueStride      = 0x40  // between queues at the primary addresses
	AliasQueueStride = 0x100 // between queues 0–3 at the 82575 aliases
	RxAliasBase      = 0x2800
	TxAliasBase      = 0x3800

	// Per-queue statistics (8.19).
	PQGPRC0  = 0x10010 // good packets received, per queue
	PQGPTC0  = 0x10014 // good packets transmitted, per queue
	PQGORC0  = 0x10018 // good octets received, per queue
	PQGOTC0  = 0x10034 // good octets transmitted, per queue
	PQMPRC0  = 0x1003C // multicast packets received, per queue
	PQStride = 0x100
)

// Statistics (8.19): every one read-to-clear; 64-bit counters are a low and
// a high register, the high one cleared when read.
const (
	CRCERRS  = 0x4000
	ALGNERRC = 0x4004
	SYMERRS  = 0x4008
	RXERRC   = 0x400C
	MPC      = 0x4010
	SCC      = 0x4014
	ECOL     = 0x4018
	MCC      = 0x401C
	LATECOL  = 0x4020
	COLC     = 0x4028
	DC       = 0x4030
	TNCRS    = 0x4034
	HTDPMC   = 0x403C
	RLEC     = 0x4040
	XONRXC   = 0x4048
	XONTXC   = 0x404C
	XOFFRXC  = 0x4050
	XOFFTXC  = 0x4054
	FCRUC    = 0x4058
	PRC64    = 0x405C
	PRC127   = 0x4060
	PRC255   = 0x4064
	PRC511   = 0x4068
	PRC1023  = 0x406C
	PRC1522  = 0x4070
	GPRC     = 0x4074
	BPRC     = 0x4078
	MPRC     = 0x407C
	GPTC     = 0x4080
	GORCL    = 0x4088
	GORCH    = 0x408C
	GOTCL    = 0x4090
	GOTCH    = 0x4094
	RNBC     = 0x40A0
	RUC      = 0x40A4
	RFC      = 0x40A8
	ROC      = 0x40AC
	RJC      = 0x40B0
	MGTPRC   = 0x40B4
	MGTPDC   = 0x40B8
	MGTPTC   = 0x40BC
	TORL     = 0x40C0
	TORH     = 0x40C4
	TOTL     = 0x40C8
	TOTH     = 0x40CC
	TPR      = 0x40D0
	TPT      = 0x40D4
	PTC64    = 0x40D8
	PTC127   = 0x40DC
	PTC255   = 0x40E0
	PTC511   = 0x40E4
	PTC1023  = 0x40E8
	PTC1522  = 0x40EC
	MPTC     = 0x40F0
	BPTC     = 0x40F4
	TSCTC    = 0x40F8
	TSCTFC   = 0x40FC
	IAC      = 0x4100
	RPTHC    = 0x4104
	HGPTC    = 0x4118
	RXDMTC   = 0x4120 // ICRXDMTC
	HTCBDPC  = 0x4124
	HGORCL   = 0x4128
	HGORCH   = 0x412C
	HGOTCL   = 0x4130
	HGOTCH   = 0x4134
	LENERRS  = 0x4138
)

// Queue register offsets of queue n (0..15), at the primary addresses.
func RDBAL(n int) uint32  { return RDBAL0 + QueueStride*uint32(n) }
func RDBAH(n int) uint32  { return RDBAH0 + QueueStride*uint32(n) }
func RDLEN(n int) uint32  { return RDLEN0 + QueueStride*uint32(n) }
func SRRCTL(n int) uint32 { return SRRCTL0 + QueueStride*uint32(n) }
func RDH(n int) uint32    { return RDH0 + QueueStride*uint32(n) }
func RDT(n int) uint32    { return RDT0 + QueueStride*uint32(n) }
func RXDCTL(n int) uint32 { return RXDCTL0 + QueueStride*uint32(n) }
func RQDPC(n int) uint32  { return RQDPC0 + QueueStride*uint32(n) }
func TDBAL(n int) uint32  { return TDBAL0 + QueueStride*uint32(n) }
func TDBAH(n int) uint32  { return TDBAH0 + QueueStride*uint32(n) }
func TDLEN(n int) uint32  { return TDLEN0 + QueueStride*uint32(n) }
func TDH(n int) uint32    { return TDH0 + QueueStride*uint32(n) }
func TDT(n int) uint32    { return TDT0 + QueueStride*uint32(n) }
func TXDCTL(n int) uint32 { return TXDCTL0 + QueueStride*uint32(n) }
func TDWBAL(n int) uint32 { return TDWBAL0 + QueueStride*uint32(n) }
func TDWBAH(n int) uint32 { return TDWBAH0 + QueueStride*uint32(n) }

// Per-queue statistics of queue n.
func PQGPRC(n int) uint32 { return PQGPRC0 + PQStride*uint32(n) }
func PQGPTC(n int) uint32 { return PQGPTC0 + PQStride*uint32(n) }
func PQGORC(n int) uint32 { return PQGORC0 + PQStride*uint32(n) }
func PQGOTC(n int) uint32 { return PQGOTC0 + PQStride*uint32(n) }
func PQMPRC(n int) uint32 { return PQMPRC0 + PQStride*uint32(n) }

// EITR is the offset of EITR n (0..24).
func EITR(n int) uint32 { return EITR0 + 4*uint32(n) }

// IVAR is the offset of IVAR n (0..7).
func IVAR(n int) uint32 { return IVAR0 + 4*uint32(n) }

// RETAReg is the offset of RETA register n (0..31), entries 4n..4n+3.
func RETAReg(n int) uint32 { return RETA + 4*uint32(n) }

// RSSRKReg is the offset of RSSRK register n (0..9), key bytes 4n..4n+3.
func RSSRKReg(n int) uint32 { return RSSRK + 4*uint32(n) }

// RAL is the offset of Receive Address Low n (0..23).
func RAL(n int) uint32 {
	if n < 16 {
		return RA + 8*uint32(n)
	}
	return RA2 + 8*uint32(n-16)
}

// RAH is the offset of Receive Address High n (0..23).
func RAH(n int) uint32 { return RAL(n) + 4 }

const (
	secGeneral = "8.2"
	secEEPROM  = "8.4"
	secIntr    = "8.8"
	secRx      = "8.10"
	secTx      = "8.12"
	secWakeMng = "8.14"
	secStats   = "8.19"
)

// Registers is the 82576 register map as the model implements it: every
// register, in offset order within each group, with its reset value and
// access type. A register not in this table reads 0 and ignores writes.
var Registers = []Reg{
	// General (8.2) and EEPROM (8.4).
	{Name: "CTRL", Offset: CTRL, Count: 1, Section: secGeneral, Reset: CTRL_RESET, Access: RW},
	{Name: "STATUS", Offset: STATUS, Count: 1, Section: secGeneral, Reset: STATUS_RESET, Access: RO},
	{Name: "EEC", Offset: EECD, Count: 1, Section: secEEPROM, Reset: EECD_RESET, Access: RW},
	{Name: "EERD", Offset: EERD, Count: 1, Section: secEEPROM, Access: RW},
	{Name: "CTRL_EXT", Offset: CTRL_EXT, Count: 1, Section: secGeneral, Access: RW},
	{Name: "MDIC", Offset: MDIC, Count: 1, Section: secGeneral, Access: RW},
	{Name: "FCAL", Offset: FCAL, Count: 1, Section: secGeneral, Access: RW},
	{Name: "FCAH", Offset: FCAH, Count: 1, Section: secGeneral, Access: RW},
	{Name: "FCT", Offset: FCT, Count: 1, Section: secGeneral, Access: RW},
	{Name: "VET", Offset: VET, Count: 1, Section: secGeneral, Reset: VET_RESET, Access: RW},
	{Name: "FCTTV", Offset: FCTTV, Count: 1, Section: secGeneral, Access: RW},
	{Name: "LEDCTL", Offset: LEDCTL, Count: 1, Section: secGeneral, Reset: LEDCTL_RESET, Access: RW},
	{Name: "SWSM", Offset: SWSM, Count: 1, Section: secGeneral, Access: RW},
	{Name: "FWSM", Offset: FWSM, Count: 1, Section: secGeneral, Access: RO},
	{Name: "SW_FW_SYNC", Offset: SWFWSYNC, Count: 1, Section: secGeneral, Access: RW},

	// Interrupts (8.8).
	{Name: "ICR", Offset: ICR, Count: 1, Section: secIntr, Access: RCW1},
	{Name: "ICS", Offset: ICS, Count: 1, Section: secIntr, Access: WO},
	{Name: "IMS", Offset: IMS, Count: 1, Section: secIntr, Access: RW1S},
	{Name: "IMC", Offset: IMC, Count: 1, Section: secIntr, Access: WO1C},
	{Name: "IAM", Offset: IAM, Count: 1, Section: secIntr, Access: RW},
	{Name: "GPIE", Offset: GPIE, Count: 1, Section: secIntr, Access: RW},
	{Name: "EICS", Offset: EICS, Count: 1, Section: secIntr, Access: WO},
	{Name: "EIMS", Offset: EIMS, Count: 1, Section: secIntr, Access: RW1S},
	{Name: "EIMC", Offset: EIMC, Count: 1, Section: secIntr, Access: WO1C},
	{Name: "EIAC", Offset: EIAC, Count: 1, Section: secIntr, Access: RW},
	{Name: "EIAM", Offset: EIAM, Count: 1, Section: secIntr, Access: RW},
	{Name: "EICR", Offset: EICR, Count: 1, Section: secIntr, Access: RCW1},
	{Name: "EITR", Offset: EITR0, Count: NumEITR, Stride: 4, Section: secIntr, Access: RW},
	{Name: "IVAR", Offset: IVAR0, Count: NumIVAR, Stride: 4, Section: secIntr, Access: RW},
	{Name: "IVAR_MISC", Offset: IVARMISC, Count: 1, Section: secIntr, Access: RW},
	// PBACLR: writing 1 to bit n clears MSI-X vector n's pending bit
	// (Linux's E1000_PBACLR; QEMU's igb_set_pbaclr).
	{Name: "PBACLR", Offset: PBACLR, Count: 1, Section: secIntr, Access: RW},

	// Receive (8.10).
	{Name: "RCTL", Offset: RCTL, Count: 1, Section: secRx, Access: RW},
	{Name: "FCRTL", Offset: FCRTL, Count: 1, Section: secRx, Access: RW},
	{Name: "FCRTH", Offset: FCRTH, Count: 1, Section: secRx, Access: RW},
	{Name: "RXPBS", Offset: RXPBS, Count: 1, Section: secRx, Reset: RXPBS_RESET, Access: RW},
	{Name: "RXCSUM", Offset: RXCSUM, Count: 1, Section: secRx, Reset: RXCSUM_RESET, Access: RW},
	{Name: "RLPML", Offset: RLPML, Count: 1, Section: secRx, Access: RW},
	{Name: "RFCTL", Offset: RFCTL, Count: 1, Section: secRx, Access: RW},
	{Name: "MTA", Offset: MTA, Count: NumMTA, Stride: 4, Section: secRx, Access: RW},
	{Name: "RA", Offset: RA, Count: 2 * 16, Stride: 4, Section: secRx, Access: RW},
	{Name: "PSRTYPE", Offset: PSRTYPE0, Count: 8, Stride: 4, Section: secRx, Access: RW},
	{Name: "RA2", Offset: RA2, Count: 2 * 8, Stride: 4, Section: secRx, Access: RW},
	{Name: "VFTA", Offset: VFTA, Count: NumVFTA, Stride: 4, Section: secRx, Access: RW},
	{Name: "MRQC", Offset: MRQC, Count: 1, Section: secRx, Access: RW},
	{Name: "RETA", Offset: RETA, Count: NumRETA, Stride: 4, Section: secRx, Access: RW},
	{Name: "RSSRK", Offset: RSSRK, Count: NumRSSRK, Stride: 4, Section: secRx, Access: RW},
	{Name: "RDBAL", Offset: RDBAL0, Count: NumQueues, Stride: QueueStride, Section: secRx, Access: RW,
		Alias: RxAliasBase + 0x00, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "RDBAH", Offset: RDBAH0, Count: NumQueues, Stride: QueueStride, Section: secRx, Access: RW,
		Alias: RxAliasBase + 0x04, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "RDLEN", Offset: RDLEN0, Count: NumQueues, Stride: QueueStride, Section: secRx, Access: RW,
		Alias: RxAliasBase + 0x08, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "SRRCTL", Offset: SRRCTL0, Count: NumQueues, Stride: QueueStride, Section: secRx, Reset: SRRCTL_RESET, Access: RW,
		Alias: RxAliasBase + 0x0C, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "RDH", Offset: RDH0, Count: NumQueues, Stride: QueueStride, Section: secRx, Access: RW,
		Alias: RxAliasBase + 0x10, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "RXCTL", Offset: RXCTL0, Count: NumQueues, Stride: QueueStride, Section: secRx, Access: RW,
		Alias: RxAliasBase + 0x14, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "RDT", Offset: RDT0, Count: NumQueues, Stride: QueueStride, Section: secRx, Access: RW,
		Alias: RxAliasBase + 0x18, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "RXDCTL", Offset: RXDCTL0, Count: NumQueues, Stride: QueueStride, Section: secRx,
		Reset: RXDCTL_RESET, Reset0: RXDCTL_RESET | XDCTL_ENABLE, HasReset0: true, Access: RW,
		Alias: RxAliasBase + 0x28, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "RQDPC", Offset: RQDPC0, Count: NumQueues, Stride: QueueStride, Section: secStats, Access: RC,
		Alias: RxAliasBase + 0x30, AliasCount: 4, AliasStride: AliasQueueStride},

	// Transmit (8.12).
	{Name: "TCTL", Offset: TCTL, Count: 1, Section: secTx, Reset: TCTL_RESET, Access: RW},
	{Name: "TCTL_EXT", Offset: TCTL_EXT, Count: 1, Section: secTx, Reset: TCTL_EXT_RESET, Access: RW},
	{Name: "TIPG", Offset: TIPG, Count: 1, Section: secTx, Reset: TIPG_RESET, Access: RW},
	{Name: "TXPBS", Offset: TXPBS, Count: 1, Section: secTx, Reset: TXPBS_RESET, Access: RW},
	{Name: "DTXCTL", Offset: DTXCTL, Count: 1, Section: secTx, Reset: DTXCTL_RESET, Access: RW},
	{Name: "TDBAL", Offset: TDBAL0, Count: NumQueues, Stride: QueueStride, Section: secTx, Access: RW,
		Alias: TxAliasBase + 0x00, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "TDBAH", Offset: TDBAH0, Count: NumQueues, Stride: QueueStride, Section: secTx, Access: RW,
		Alias: TxAliasBase + 0x04, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "TDLEN", Offset: TDLEN0, Count: NumQueues, Stride: QueueStride, Section: secTx, Access: RW,
		Alias: TxAliasBase + 0x08, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "TDH", Offset: TDH0, Count: NumQueues, Stride: QueueStride, Section: secTx, Access: RW,
		Alias: TxAliasBase + 0x10, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "TXCTL", Offset: TXCTL0, Count: NumQueues, Stride: QueueStride, Section: secTx, Reset: TXCTL_RESET, Access: RW,
		Alias: TxAliasBase + 0x14, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "TDT", Offset: TDT0, Count: NumQueues, Stride: QueueStride, Section: secTx, Access: RW,
		Alias: TxAliasBase + 0x18, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "TXDCTL", Offset: TXDCTL0, Count: NumQueues, Stride: QueueStride, Section: secTx,
		Reset0: XDCTL_ENABLE, HasReset0: true, Access: RW,
		Alias: TxAliasBase + 0x28, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "TDWBAL", Offset: TDWBAL0, Count: NumQueues, Stride: QueueStride, Section: secTx, Access: RW,
		Alias: TxAliasBase + 0x38, AliasCount: 4, AliasStride: AliasQueueStride},
	{Name: "TDWBAH", Offset: TDWBAH0, Count: NumQueues, Stride: QueueStride, Section: secTx, Access: RW,
		Alias: TxAliasBase + 0x3C, AliasCount: 4, AliasStride: AliasQueueStride},

	// Wake-up and manageability (8.14): plain storage.
	{Name: "WUC", Offset: WUC, Count: 1, Section: secWakeMng, Access: RW},
	{Name: "WUFC", Offset: WUFC, Count: 1, Section: secWakeMng, Access: RW},
	{Name: "WUS", Offset: WUS, Count: 1, Section: secWakeMng, Access: RW},
	{Name: "MANC", Offset: MANC, Count: 1, Section: secWakeMng, Access: RW},

	// Statistics (8.19), all read-to-clear.
	{Name: "CRCERRS", Offset: CRCERRS, Count: 1, Section: secStats, Access: RC},
	{Name: "ALGNERRC", Offset: ALGNERRC, Count: 1, Section: secStats, Access: RC},
	{Name: "SYMERRS", Offset: SYMERRS, Count: 1, Section: secStats, Access: RC},
	{Name: "RXERRC", Offset: RXERRC, Count: 1, Section: secStats, Access: RC},
	{Name: "MPC", Offset: MPC, Count: 1, Section: secStats, Access: RC},
	{Name: "SCC", Offset: SCC, Count: 1, Section: secStats, Access: RC},
	{Name: "ECOL", Offset: ECOL, Count: 1, Section: secStats, Access: RC},
	{Name: "MCC", Offset: MCC, Count: 1, Section: secStats, Access: RC},
	{Name: "LATECOL", Offset: LATECOL, Count: 1, Section: secStats, Access: RC},
	{Name: "COLC", Offset: COLC, Count: 1, Section: secStats, Access: RC},
	{Name: "DC", Offset: DC, Count: 1, Section: secStats, Access: RC},
	{Name: "TNCRS", Offset: TNCRS, Count: 1, Section: secStats, Access: RC},
	{Name: "HTDPMC", Offset: HTDPMC, Count: 1, Section: secStats, Access: RC},
	{Name: "RLEC", Offset: RLEC, Count: 1, Section: secStats, Access: RC},
	{Name: "XONRXC", Offset: XONRXC, Count: 1, Section: secStats, Access: RC},
	{Name: "XONTXC", Offset: XONTXC, Count: 1, Section: secStats, Access: RC},
	{Name: "XOFFRXC", Offset: XOFFRXC, Count: 1, Section: secStats, Access: RC},
	{Name: "XOFFTXC", Offset: XOFFTXC, Count: 1, Section: secStats, Access: RC},
	{Name: "FCRUC", Offset: FCRUC, Count: 1, Section: secStats, Access: RC},
	{Name: "PRC64", Offset: PRC64, Count: 1, Section: secStats, Access: RC},
	{Name: "PRC127", Offset: PRC127, Count: 1, Section: secStats, Access: RC},
	{Name: "PRC255", Offset: PRC255, Count: 1, Section: secStats, Access: RC},
	{Name: "PRC511", Offset: PRC511, Count: 1, Section: secStats, Access: RC},
	{Name: "PRC1023", Offset: PRC1023, Count: 1, Section: secStats, Access: RC},
	{Name: "PRC1522", Offset: PRC1522, Count: 1, Section: secStats, Access: RC},
	{Name: "GPRC", Offset: GPRC, Count: 1, Section: secStats, Access: RC},
	{Name: "BPRC", Offset: BPRC, Count: 1, Section: secStats, Access: RC},
	{Name: "MPRC", Offset: MPRC, Count: 1, Section: secStats, Access: RC},
	{Name: "GPTC", Offset: GPTC, Count: 1, Section: secStats, Access: RC},
	{Name: "GORCL", Offset: GORCL, Count: 1, Section: secStats, Access: RC},
	{Name: "GORCH", Offset: GORCH, Count: 1, Section: secStats, Access: RC},
	{Name: "GOTCL", Offset: GOTCL, Count: 1, Section: secStats, Access: RC},
	{Name: "GOTCH", Offset: GOTCH, Count: 1, Section: secStats, Access: RC},
	{Name: "RNBC", Offset: RNBC, Count: 1, Section: secStats, Access: RC},
	{Name: "RUC", Offset: RUC, Count: 1, Section: secStats, Access: RC},
	{Name: "RFC", Offset: RFC, Count: 1, Section: secStats, Access: RC},
	{Name: "ROC", Offset: ROC, Count: 1, Section: secStats, Access: RC},
	{Name: "RJC", Offset: RJC, Count: 1, Section: secStats, Access: RC},
	{Name: "MGTPRC", Offset: MGTPRC, Count: 1, Section: secStats, Access: RC},
	{Name: "MGTPDC", Offset: MGTPDC, Count: 1, Section: secStats, Access: RC},
	{Name: "MGTPTC", Offset: MGTPTC, Count: 1, Section: secStats, Access: RC},
	{Name: "TORL", Offset: TORL, Count: 1, Section: secStats, Access: RC},
	{Name: "TORH", Offset: TORH, Count: 1, Section: secStats, Access: RC},
	{Name: "TOTL", Offset: TOTL, Count: 1, Section: secStats, Access: RC},
	{Name: "TOTH", Offset: TOTH, Count: 1, Section: secStats, Access: RC},
	{Name: "TPR", Offset: TPR, Count: 1, Section: secStats, Access: RC},
	{Name: "TPT", Offset: TPT, Count: 1, Section: secStats, Access: RC},
	{Name: "PTC64", Offset: PTC64, Count: 1, Section: secStats, Access: RC},
	{Name: "PTC127", Offset: PTC127, Count: 1, Section: secStats, Access: RC},
	{Name: "PTC255", Offset: PTC255, Count: 1, Section: secStats, Access: RC},
	{Name: "PTC511", Offset: PTC511, Count: 1, Section: secStats, Access: RC},
	{Name: "PTC1023", Offset: PTC1023, Count: 1, Section: secStats, Access: RC},
	{Name: "PTC1522", Offset: PTC1522, Count: 1, Section: secStats, Access: RC},
	{Name: "MPTC", Offset: MPTC, Count: 1, Section: secStats, Access: RC},
	{Name: "BPTC", Offset: BPTC, Count: 1, Section: secStats, Access: RC},
	{Name: "TSCTC", Offset: TSCTC, Count: 1, Section: secStats, Access: RC},
	{Name: "TSCTFC", Offset: TSCTFC, Count: 1, Section: secStats, Access: RC},
	{Name: "IAC", Offset: IAC, Count: 1, Section: secStats, Access: RC},
	{Name: "RPTHC", Offset: RPTHC, Count: 1, Section: secStats, Access: RC},
	{Name: "HGPTC", Offset: HGPTC, Count: 1, Section: secStats, Access: RC},
	{Name: "RXDMTC", Offset: RXDMTC, Count: 1, Section: secStats, Access: RC},
	{Name: "HTCBDPC", Offset: HTCBDPC, Count: 1, Section: secStats, Access: RC},
	{Name: "HGORCL", Offset: HGORCL, Count: 1, Section: secStats, Access: RC},
	{Name: "HGORCH", Offset: HGORCH, Count: 1, Section: secStats, Access: RC},
	{Name: "HGOTCL", Offset: HGOTCL, Count: 1, Section: secStats, Access: RC},
	{Name: "HGOTCH", Offset: HGOTCH, Count: 1, Section: secStats, Access: RC},
	{Name: "LENERRS", Offset: LENERRS, Count: 1, Section: secStats, Access: RC},
	{Name: "PQGPRC", Offset: PQGPRC0, Count: NumQueues, Stride: PQStride, Section: secStats, Access: RC},
	{Name: "PQGPTC", Offset: PQGPTC0, Count: NumQueues, Stride: PQStride, Section: secStats, Access: RC},
	{Name: "PQGORC", Offset: PQGORC0, Count: NumQueues, Stride: PQStride, Section: secStats, Access: RC},
	{Name: "PQGOTC", Offset: PQGOTC0, Count: NumQueues, Stride: PQStride, Section: secStats, Access: RC},
	{Name: "PQMPRC", Offset: PQMPRC0, Count: NumQueues, Stride: PQStride, Section: secStats, Access: RC},
}

// lookup maps every implemented word of BAR0 (primary and alias) to its
// register: index into Registers + 1 (0 = none) and the instance.
var lookup [BAR0Size / 4]struct {
	reg  uint16
	inst uint8
}

func init() {
	set := func(off uint32, r, inst int) {
		e := &lookup[off/4]
		if e.reg != 0 {
			panic("igb: register " + Registers[r].Name + " overlaps " + Registers[e.reg-1].Name)
		}
		e.reg, e.inst = uint16(r+1), uint8(inst)
	}
	for r := range Registers {
		reg := &Registers[r]
		for i := range reg.Count {
			set(reg.At(i), r, i)
		}
		for i := range reg.AliasCount {
			set(reg.Alias+uint32(i)*reg.AliasStride, r, i)
		}
	}
}

// Lookup finds the register at byte offset off of BAR0 (a primary or an
// alias address): the register and the instance. ok is false for an offset
// that is not 4-byte aligned, outside BAR0 or not implemented.
func Lookup(off uint32) (r *Reg, inst int, ok bool) {
	if off%4 != 0 || off >= BAR0Size {
		return nil, 0, false
	}
	e := lookup[off/4]
	if e.reg == 0 {
		return nil, 0, false
	}
	return &Registers[e.reg-1], int(e.inst), true
}

// Canonical is the primary address of the register at off: queue
// registers reached through an 82575 alias map to their 0xC000/0xE000
// address; any other offset is returned unchanged.
func Canonical(off uint32) uint32 {
	r, inst, ok := Lookup(off)
	if !ok {
		return off
	}
	return r.At(inst)
}
