// Package model is a device model of the Intel 82576 Gigabit Ethernet
// Controller (PCI 8086:10C9), after the 82576EB datasheet: PCI configuration
// space with BAR0 (128 KiB of registers), BAR3 (the MSI-X table of 10
// vectors and its PBA) and MSI and MSI-X capabilities; the register file of
// igb.Registers with reset values and access semantics; the EEPROM behind
// EERD; the internal PHY behind MDIC; and the interrupt block —
// ICR/ICS/IMS/IMC for the "other" causes, GPIE, EICR/EICS/EIMS/EIMC/EIAC/EIAM, IVAR0–7
// and IVAR_MISC, EITR per vector, MSI-X delivery with per-vector mask and
// PBA (see intr.go).
//
// Receive queues take frames into advanced one-buffer descriptors with RSS,
// behind a receive packet buffer of RXPBS KB where frames that find no
// descriptor wait (rx.go); transmit queues send advanced context and data
// descriptors with checksum offload, TSO and head write-back, paced by the
// wire: the DMA runs at most TXPBS KB of line time ahead of what the link
// has sent (tx.go).
//
// The model runs on a hw.Clock loop: register accesses and timer callbacks
// arrive one at a time, so it takes no locks. It reaches host memory only
// through dma.Memory, and only while bus mastering is enabled.
//
// The model treats the driver as hostile: no register value makes it panic,
// loop without bound or reach memory other than through dma.Memory; what it
// refuses is counted in Counters. FuzzIGBModel checks this, on both
// profiles.
//
// # QEMU profile
//
// Config.Profile = ProfileQEMU makes the model behave like QEMU's own igb
// (hw/net/igb_core.c as released before the April 2025 series "hw/e1000e|igb:
// interrupts and qtests fixes"), the device a driver meets on the VFIO
// path, where that differs from the datasheet. Each difference has a test
// that runs both profiles (TestProfileXxx, or a test looping over
// profiles):
//
//   - Throttling (igb_intrmgr_rearm_timer, igb_send_msix): EITR's bits
//     14:1 (igb_set_eitr keeps val & 0x7FFE) times e1000e's 256 ns unit, so
//     an interval of n µs written as n << 2 throttles for 1.024·n µs; only
//     in MSI-X mode. An event while the vector's timer runs is dropped, and
//     the timer's expiry sends the vector's message whether or not an event
//     waited, whatever EICR and EIMS say, without restarting the interval:
//     under steady load a vector fires twice per interval plus the gap to
//     the next event (about 1.8× the programmed rate with an event every
//     10 µs and EITR 100 µs). TestProfileEITR, TestProfileEITRLoneCause.
//   - EITR reads back what was written (without CNT_IGNR); a write never
//     loads the counter, so CNT_IGNR changes nothing (igb_set_eitr,
//     igb_mac_eitr_read). TestProfileEITRRegister.
//   - No auto-mask: GPIE.EIAME and EIAM are never used, and an EIAM write
//     ORs in the complement of the value (igb_set_eiam). EIAC only gains
//     bits and ignores writes outside MSI-X mode (igb_set_eiac). EIAC
//     auto-clear at emission is as the datasheet's. TestProfileEIAM,
//     TestEIAC, TestMSIXMaskPBA.
//   - ICR read (igb_mac_icr_read): clears only with GPIE.NSICR, IMS zero,
//     INT_ASSERTED, or MSI-X off in configuration space — in MSI-X mode with
//     IMS set and no NSICR the causes stay. With NSICR (or IMS set and
//     INT_ASSERTED) a read or write of ICR clears IAM's bits in IMS
//     (igb_nsicr). Outside MSI-X mode INT_ASSERTED follows any ICR bit,
//     masked or not (igb_fix_icr_asserted). TestProfileICRRead.
//   - Outside MSI-X mode, queue events reach the CPU as ICR.RXDW (every
//     frame stored) and ICR.TXDW (a run that reported), unthrottled: a
//     rising ICR & IMS sends MSI-X vector 0, MSI or INTA# at once
//     (igb_raise_interrupts). TestProfileLegacyRx.
//   - CTRL.RST (igb_set_ctrl, igb_reset with sw): every register but EITR,
//     RXPBS and TXPBS to its reset value, the PHY to QEMU's initial values,
//     STATUS.LU down without LSC until an autonegotiation restart (a BMCR
//     write with restart and enable) brings it up 500 ms later with LSC; a
//     vector whose throttle timer runs gets its message at once
//     (igb_intrmgr_reset). CTRL.PHY_RST only sets STATUS.PHYRA, DEV_RST
//     does nothing. RXDCTL0 and TXDCTL0 come out of reset enabled on both
//     profiles. EECD has FWE_DIS, PRES and its size but never AUTO_RD
//     (the EEPROM auto-read done), at power-on or after a reset: Linux
//     only logs "Auto Read Done did not complete" and goes on.
//     TestProfileReset, TestProfileEECD.
//   - Link: at power-on the first cable starts autonegotiation, and the
//     link comes up 500 ms later (igb_core_set_link_status,
//     e1000x_restart_autoneg, igb_autoneg_timer), where the datasheet model
//     takes DefaultAutonegDelay. QEMU's BMSR claims the link at power-on
//     while STATUS.LU is clear; its PHY ID2 has revision 1.
//     TestProfileLinkUp.
//   - MDIC (igb_set_mdic, igb_phy_regcap): a PHY register outside QEMU's
//     table completes with ERROR; a BMCR reset does nothing.
//     TestProfileMDIC.
//   - Statistics: only those on QEMU's read-to-clear lists clear when read
//     (size bins, GPRC/GPTC, TPR/TPT, RUC/ROC, BPRC/MPRC/BPTC/MPTC, TSCTC,
//     IAC, HTCBDPC, RQDPC; an octet counter's high half clears both
//     halves, its low half clears nothing); MPC, RNBC and the rest keep
//     their values. The per-queue PQGPRC/PQGPTC/PQGORC/PQGOTC/PQMPRC are not
//     implemented (read 0); RQDPC, MPC and RNBC never count. TPR and TOR
//     count frames stored, not frames seen. A frame shorter than 60 bytes is
//     padded and counted in RUC. TestProfileStats.
//   - Receive back-pressure instead of a packet buffer: while no enabled
//     queue has a free descriptor (or the link is down, RCTL.EN clear, bus
//     mastering off) QEMU's net layer holds frames (net/queue.c, at most
//     10000; the model also bounds their bytes to 64 MiB) and delivers them
//     in order on an RDT or RCTL.EN write, bus mastering or link up
//     (igb_can_receive, igb_start_recv); nothing is counted. A frame whose
//     queue has some but too few descriptors is lost with RXO, uncounted
//     (igb_has_rxbufs). RxReady reports the hold. TestProfileRxBackPressure.
//   - Receive queues: SRRCTL's descriptor type is ignored (always advanced
//     one-buffer, igb_rx_use_legacy_descriptor), as is DROP_EN; a disabled
//     queue's frames vanish without RQDPC; RSS needs RXCSUM.PCSD as well as
//     MRQC (igb_rss_enabled). RXDMT0 is raised when the free descriptors
//     left equal SRRCTL.RDMTS × 16 (igb_rx_descr_threshold_hit).
//     TestProfileRxQueueSetup.
//   - Receive write-back (igb_build_rx_metadata, igb_write_packet_to_guest):
//     descriptors before the last get DD only; UDP gets TCPCS and UDPCS; the
//     packet type never has IPV4E; the FCS (without SECRC) is four zero
//     bytes. TestProfileRxWriteBack.
//   - Transmit (igb_set_tdt, igb_start_xmit, igb_tx_enabled): a queue runs
//     only on a TDT write — not on TXDCTL.ENABLE, TCTL.EN, link up or bus
//     mastering — and runs to TDT whatever the link does: with the link
//     down the descriptors complete and the frames count as sent (they are
//     lost). DD is written back for every descriptor with RS,
//     context descriptors too, and the head write-back after every RS
//     descriptor (igb_txdesc_writeback). TestProfileTxStart,
//     TestProfileTxHeadWriteBack.
//   - PBACLR clears MSI-X pending bits only with MSI-X on; CTRL_EXT.PBA_CLR
//     is plain storage (igb_set_pbaclr, igb_set_ctrlext). TestMSIXMaskPBA.
//
// Deliberate departures from QEMU: QEMU's igb sends a whole ring at once
// (its hub has no line rate), but the QEMU profile keeps the datasheet
// model's pacing by the wire (TestTxPacing runs both profiles), as e1000's
// QEMU profile does: an unpaced device in front of a 1 Gb/s cable would
// only measure the cable's queue. Where QEMU's behaviour would let a
// hostile driver reach outside the ring
// (TDT or RDT beyond the ring, TDH wrapping by QEMU's own rule) the QEMU
// profile keeps the datasheet model's checks and counts; legacy transmit
// descriptors, which QEMU sends as plain data, are skipped and counted on
// both profiles.
//
// # Not modelled yet
//
// Legacy descriptors (SRRCTL DESCTYPE 000, DEXT clear: counted and
// skipped on the datasheet profile), header splitting (taken as
// one-buffer), the IPv6 extension-header RSS types, receive checksums of
// IPv6, IAM on the datasheet profile, GPIE.PBA_SUPPORT and low-latency
// interrupts (stored only), VMDq and SR-IOV, ICR.RXDW/TXDW on the
// datasheet profile (queue causes reach EICR only).
package model

import (
	"time"

	"github.com/nicbed/nicbed/hw"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/fifo"
	"github.com/nicbed/nicbed/hw/irq"
	"github.com/nicbed/nicbed/hw/nvm"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/hw/rss"
	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/igb"
)

// Profile selects whose behaviour the model follows where QEMU's igb
// differs from the datasheet (see the package documentation, "QEMU
// profile").
type Profile uint8

const (
	// ProfileDatasheet follows the 82576EB datasheet.
	ProfileDatasheet Profile = iota
	// ProfileQEMU behaves like QEMU's emulated igb (hw/net/igb_core.c
	// before the April 2025 interrupt-throttling fixes), the device the
	// VFIO path meets.
	ProfileQEMU
)

func (p Profile) String() string {
	if p == ProfileQEMU {
		return "qemu"
	}
	return "datasheet"
}

// DefaultAutonegDelay is how long autonegotiation takes in model time from
// a PHY reset, a restart or a cable plugged in, to link up (as e1000's
// model: quick, but long enough that a driver must wait or take LSC).
const DefaultAutonegDelay = 2 * time.Millisecond

// Config describes a Device.
type Config struct {
	// MAC is the Ethernet address the default EEPROM image holds.
	MAC [6]byte
	// Clock is the loop the model keeps time with.
	Clock hw.Clock
	// Mem is the host memory the device reaches by DMA.
	Mem dma.Memory
	// INTx is the interrupt line (INTA#). nil means irq.NoLine.
	INTx irq.Line
	// MSI receives MSI and MSI-X messages. nil drops them.
	MSI irq.MessageSink
	// EEPROM, if not nil, replaces the default EEPROM image word for word.
	EEPROM *[igb.EEPROMWords]uint16
	// AutonegDelay overrides DefaultAutonegDelay when positive.
	AutonegDelay time.Duration
	// Profile picks the datasheet's behaviour (the zero value) or QEMU's.
	Profile Profile
	// TxFIFO, if positive, overrides how many bytes of line time the
	// transmit DMA may run ahead of the wire (TXPBS, 40 KB after reset).
	TxFIFO int
}

// Device is one 82576 port. It implements pci.Function and wire.Endpoint.
type Device struct {
	clk  hw.Clock
	mem  dma.Memory
	intx irq.Line
	pcfg *pci.Config
	fn   pci.Function
	msi  *pci.MSI
	msix *pci.MSIX
	link wire.Link

	autonegDelay time.Duration
	qemu         bool // ProfileQEMU
	txFIFOCfg    int

	regs   [igb.BAR0Size / 4]uint32 // register storage, by canonical offset / 4
	eeprom [igb.EEPROMWords]uint16
	phy    phyState

	busMaster bool
	resetDone bool // reset ran once (power-on)
	cableUp   bool
	linkUp    bool // STATUS.LU

	rss      rss.Hasher // the RSSRK key's tables, rebuilt when rssDirty
	rssDirty bool
	rxBuf    []byte // a frame with its tag stripped or CRC appended
	rxOut    []byte // a frame taken out of rxFIFO or held
	rxPad    [minRxFrame]byte
	rxDesc   [igb.DescSize]byte
	rxFIFO   fifo.Frames[rxMeta]   // the receive packet buffer (datasheet)
	held     fifo.Frames[struct{}] // frames QEMU's net layer holds back (QEMU)

	tx     [igb.NumQueues]txQueue
	txDesc [igb.DescSize]byte
	txHead [4]byte
	txOut  []byte       // a frame with its VLAN tag inserted
	segBuf []byte       // one TSO segment
	sendFn func([]byte) // d.send, made once: a method value would allocate per use
	txQ    int          // the queue, VLE and tag of the packet being sent
	txVLE  bool
	txVLAN uint16

	txBusyUntil time.Duration // when the wire will have sent what it has
	txTimer     hw.Timer      // resumes transmit DMA when the wire drained
	txRunning   bool          // txKick reentrancy
	txAgain     uint32        // queues to (re)run

	intr  intrState
	depth int // nesting of entry points; interrupt delivery waits for 0
	dirty bool

	ctr Counters
}

var (
	_ pci.Function  = (*Device)(nil)
	_ wire.Endpoint = (*Device)(nil)
)

// New makes an 82576 in its power-on state: registers at their reset
// values, the EEPROM loaded, the PHY starting autonegotiation as soon as a
// cable is connected, bus mastering and memory decoding off, every MSI-X
// vector masked.
func New(cfg Config) *Device {
	if cfg.Clock == nil || cfg.Mem == nil {
		panic("igb/model: Config needs a Clock and Mem")
	}
	d := &Device{clk: cfg.Clock, mem: cfg.Mem, intx: cfg.INTx, autonegDelay: cfg.AutonegDelay,
		qemu: cfg.Profile == ProfileQEMU, txFIFOCfg: cfg.TxFIFO}
	if d.intx == nil {
		d.intx = irq.NoLine{}
	}
	sink := cfg.MSI
	if sink == nil {
		sink = dropMSI{}
	}
	if d.autonegDelay <= 0 {
		d.autonegDelay = DefaultAutonegDelay
		if d.qemu {
			d.autonegDelay = QEMUAutonegDelay
		}
	}
	if cfg.EEPROM != nil {
		d.eeprom = *cfg.EEPROM
	} else {
		d.eeprom = DefaultEEPROM(cfg.MAC)
	}
	d.pcfg = pci.NewConfig(pci.ID{
		Vendor:       igb.VendorID,
		Device:       igb.DeviceID,
		SubVendor:    d.eeprom[igb.EEPROM_SUBVENDOR],
		SubSystem:    d.eeprom[igb.EEPROM_SUBSYSTEM],
		Revision:     igb.RevisionID,
		Class:        igb.ClassCode,
		InterruptPin: 1,
	})
	d.pcfg.SetBAR(0, igb.BAR0Size)
	d.pcfg.SetBAR(3, igb.BAR3Size)
	d.msi = d.pcfg.AddMSI(igb.MSIVectors, sink)
	d.msix = d.pcfg.AddMSIX(pci.MSIXLayout{
		Vectors:     igb.MSIXVectors,
		TableBAR:    3,
		TableOffset: igb.MSIXTableOffset,
		PBABAR:      3,
		PBAOffset:   igb.MSIXPBAOffset,
	}, sink)
	d.fn = pci.NewFunction(d.pcfg, [pci.NumBARs]pci.BAR{0: (*bar0)(d), 3: (*bar3)(d)})
	d.intr.init(d)
	d.rxBuf = make([]byte, 0, maxRxFrame+8)
	d.rxOut = make([]byte, maxRxFrame+8)
	if d.qemu {
		d.held = fifo.New[struct{}](rxBufferMax, 64, qemuHeldBytes, qemuHeldFrames)
	} else {
		d.rxFIFO = fifo.New[rxMeta](rxBufferMax, 64, rxBufferMax, rxBufferMax/(minRxFrame+4))
	}
	d.txTimer = d.clk.NewTimer(d.onTxResume)
	d.txOut = make([]byte, 0, maxTxFrame+8)
	d.segBuf = make([]byte, maxTxFrame)
	d.sendFn = d.send
	d.phy.timer = d.clk.NewTimer(d.onAutoneg)
	d.phyReset()
	d.reset()
	return d
}

type dropMSI struct{}

func (dropMSI) WriteMSI(uint64, uint32) {}

// Connect attaches the device's port to a link; nil disconnects.
func (d *Device) Connect(link wire.Link) {
	d.enter()
	defer d.exit()
	d.link = link
	d.setCable(link != nil && link.Up())
}

// Port is the device's receive side, to attach to a cable.
func (d *Device) Port() wire.Endpoint { return d }

// LinkChange implements wire.Endpoint: the cable was plugged in or pulled.
func (d *Device) LinkChange(up bool) {
	d.enter()
	defer d.exit()
	d.setCable(up)
}

// txFIFO is how many bytes of line time the transmit DMA may run ahead of
// the wire: Config.TxFIFO, else TXPBS (KB, bits 5:0).
func (d *Device) txFIFO() int {
	if d.txFIFOCfg > 0 {
		return d.txFIFOCfg
	}
	if kb := d.regs[igb.TXPBS/4] & 0x3F; kb != 0 {
		return int(kb) << 10
	}
	return igb.TXPBS_RESET << 10
}

// MAC is the Ethernet address in the EEPROM image (words 0–2).
func (d *Device) MAC() [6]byte { return nvm.MACAddr(d.eeprom[:]) }

// EEPROM is the device's EEPROM image.
func (d *Device) EEPROM() [igb.EEPROMWords]uint16 { return d.eeprom }

// Counters returns the model's own counters (not device registers).
func (d *Device) Counters() Counters { return d.ctr }

// MSIX is the function's MSI-X capability (table, PBA), for tests.
func (d *Device) MSIX() *pci.MSIX { return d.msix }

// IRQ reports whether the device is asserting INTA#.
func (d *Device) IRQ() bool { return d.intr.lineOut }

// ConfigRead implements pci.Function.
func (d *Device) ConfigRead(off, size int) uint32 { return d.fn.ConfigRead(off, size) }

// ConfigWrite implements pci.Function. Interrupt Disable, MSI and MSI-X
// enables change how interrupts leave.
func (d *Device) ConfigWrite(off, size int, val uint32) {
	d.enter()
	defer d.exit()
	d.fn.ConfigWrite(off, size, val)
	bm := d.pcfg.BusMaster()
	if bm && !d.busMaster {
		d.busMaster = true
		if d.qemu {
			d.qemuFlush() // igb_write_config: igb_start_recv
		} else {
			d.txKick()
			d.rxDrain()
		}
	}
	d.busMaster = bm
	d.dirty = true
}

// BAR implements pci.Function: BAR0 is the register window, BAR3 the MSI-X
// table and PBA.
func (d *Device) BAR(i int) pci.BAR { return d.fn.BAR(i) }

type bar0 Device

func (b *bar0) Read32(off uint32) uint32 {
	d := (*Device)(b)
	d.enter()
	defer d.exit()
	return d.readReg(off)
}

func (b *bar0) Write32(off uint32, v uint32) {
	d := (*Device)(b)
	d.enter()
	defer d.exit()
	d.writeReg(off, v)
}

type bar3 Device

func (b *bar3) Read32(off uint32) uint32 {
	v, ok := (*Device)(b).msix.Read32(3, off)
	if !ok {
		return 0
	}
	return v
}

func (b *bar3) Write32(off uint32, v uint32) {
	d := (*Device)(b)
	d.enter()
	defer d.exit()
	if !d.msix.Write32(3, off, v) {
		d.ctr.BadRegWrites++
	}
}

// enter and exit bracket every entry point. Interrupt delivery is decided
// once, at the outermost exit, so that a driver called synchronously from a
// message sees consistent state.
func (d *Device) enter() { d.depth++ }

func (d *Device) exit() {
	d.depth--
	if d.depth == 0 && d.dirty {
		d.dirty = false
		d.intr.update()
	}
}

func (d *Device) now() time.Duration { return d.clk.Now() }

// reset is CTRL.RST, CTRL.DEV_RST and power-on: every register to its reset
// value except the PHY, PCI configuration space, the EEPROM, and — as the
// datasheet says of the interrupt block — EITR and the MSI-X table;
// pending interrupt causes and statistics cleared; RAL0/RAH0 loaded from
// the EEPROM.
func (d *Device) reset() {
	if d.qemu {
		d.intr.qemuFlushEITR()
	}
	eitr := d.intr.saveEITR()
	rxpbs, txpbs := d.regs[igb.RXPBS/4], d.regs[igb.TXPBS/4]
	d.regs = [igb.BAR0Size / 4]uint32{}
	for i := range igb.Registers {
		r := &igb.Registers[i]
		for n := range r.Count {
			d.regs[r.At(n)/4] = r.ResetOf(n)
		}
	}
	m := d.MAC()
	d.regs[igb.RAL(0)/4] = uint32(m[0]) | uint32(m[1])<<8 | uint32(m[2])<<16 | uint32(m[3])<<24
	d.regs[igb.RAH(0)/4] = uint32(m[4]) | uint32(m[5])<<8 | igb.RAH_AV
	d.intr.reset(eitr)
	if d.qemu {
		// QEMU's EECD (igb_mac_reg_init) never reports the EEPROM
		// auto-read done.
		d.regs[igb.EECD/4] &^= igb.EECD_AUTO_RD
	}
	if d.qemu && d.resetDone {
		// igb_reset(core, sw=true) keeps RXPBS and TXPBS too.
		d.regs[igb.RXPBS/4], d.regs[igb.TXPBS/4] = rxpbs, txpbs
	}
	d.resetDone = true
	d.ctr.RxFIFOFlushed += uint64(d.rxFIFO.Clear())
	d.txTimer.Stop()
	d.rssDirty = true
	for q := range d.tx {
		d.tx[q].inPkt, d.tx[q].bad = false, false
		d.tx[q].ctxMem = [igb.NumTxContexts][igb.DescSize]byte{}
	}
	if d.qemu {
		d.qemuResetLink()
	} else {
		d.updateLink()
	}
	d.dirty = true
}

// statInc adds one to a statistics register, saturating (8.19).
func (d *Device) statInc(off uint32) {
	if v := d.regs[off/4]; v != 0xFFFFFFFF {
		d.regs[off/4] = v + 1
	}
}
