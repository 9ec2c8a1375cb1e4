// Package model is a device model of the Intel 82540EM Gigabit Ethernet
// Controller (PCI 8086:100E), after the 8254x Software Developer's Manual: the
// register file with reset values and access semantics, the EEPROM (EERD and
// EECD bit-bang), the PHY behind MDIC with autonegotiation, receive filtering
// and legacy receive descriptors, legacy and TCP/IP context/data transmit
// descriptors with checksum offload and TCP segmentation, interrupt causes and
// the four delay timers plus ITR, the receive FIFO, and the statistics block.
//
// The model runs on a hw.Clock loop: register accesses, frames from the wire
// and timer callbacks all arrive one at a time, so it takes no locks. It
// reaches host memory only through dma.Memory, and only while bus mastering is
// enabled in its configuration space.
//
// The model treats the driver as hostile. Ring indices and lengths outside
// the ring, zero-length and never-ending descriptor chains, TSO header and MSS
// values that would underflow, and buffer addresses outside DMA memory are
// each bounded (one doorbell never processes more than one ring's worth of
// descriptors), counted in Counters, and never cause a panic or an access
// other than through dma.Memory. QEMU's CVE-2016-1981 (head beyond the ring)
// and CVE-2021-20257 (TSO length underflow) are regression seeds of
// FuzzE1000Model (which runs every input against both profiles).
//
// # QEMU profile
//
// Config.Profile = ProfileQEMU makes the model behave like QEMU's own e1000
// (hw/net/e1000.c and hw/net/e1000x_common.c in QEMU 10), the device a
// driver meets on the VFIO path, where that differs from the datasheet.
// Each difference has a test that runs both profiles (TestProfileXxx):
//
//   - CTRL.RST resets nothing (e1000.c set_ctrl only stores the value with
//     RST cleared; QEMU resets the device state only on a PCI/system reset,
//     e1000_reset_hold). CTRL.PHY_RST and a BMCR reset do nothing either, and
//     CTRL.SLU does not gate the link. TestProfileCTRLReset.
//   - Every RCTL write holds receive for one second (set_rx_control arms
//     flush_queue_timer 1000 ms ahead and e1000_can_receive refuses frames
//     while it is pending); the held frames are delivered when it fires.
//     TestProfileRxHoldAfterRCTL.
//   - The link is up at power-on without autonegotiation; autonegotiation
//     happens only on a BMCR write with restart and enable set
//     (set_phy_ctrl, e1000x_restart_autoneg) or when a link comes back, takes
//     500 ms, drops the link without LSC and raises LSC when done
//     (e1000_autoneg_timer). TestProfileAutoneg.
//   - One mitigation timer instead of ITR and the four delay timers
//     (set_interrupt_cause, e1000_mit_timer): a rising edge of ICR & IMS
//     asserts at once and opens a window of the smallest non-zero of ITR,
//     RADV (if RDTR is set and RXT0 pending) and TADV (if a descriptor had
//     IDE), never under 500 × 256 ns = 128 µs; edges inside it wait for it.
//     RXT0 and TXDW are raised at once: RDTR and TIDV delay nothing.
//     TestProfileMitigation.
//   - No receive checksum offload: the last descriptor of a frame gets IXSM,
//     never IPCS/TCPCS/IPE/TCPE, and the checksum and error fields keep
//     whatever the descriptor held (e1000_receive_iov).
//     TestProfileRxChecksum.
//   - Statistics clear on read only for the counters in QEMU's
//     mac_read_clr4/mac_read_clr8 lists (packet size bins, GPRC/GPTC,
//     TPR/TPT, RUC/ROC, BPRC/MPRC/BPTC/MPTC, TSCTC, the octet counters'
//     high halves); MPC, RNBC and the rest keep their values.
//     TestProfileStatsClearOnRead. (Both profiles saturate: TestStatsSaturate.)
//   - MDIC completes with ERROR for a PHY register outside QEMU's
//     phy_regcap table (BMCR, BMSR, ID1/2, ANAR, ANLPAR, ANER, 1000T
//     control/status, M88 PSCR/PSSR/EPSCR/RX error counter) and for a write
//     to a read-only one (set_mdic). TestProfileMDIC.
//   - Transmit runs with the link down (start_xmit does not look at it): the
//     descriptors complete with DD and the statistics count the frames, which
//     are lost. TestProfileTxLinkDown. TXQE is raised at the end of every
//     transmit run, even one that found nothing to send (every TCTL or TDT
//     write runs start_xmit). TestProfileTXQE.
//   - Receive back-pressure instead of a FIFO: while the device cannot
//     receive (ring empty, RX hold, RCTL.EN clear, link down, no bus
//     mastering) QEMU's net layer keeps frames for it (net/queue.c, at most
//     10000; the model also bounds their bytes to 64 MiB) and delivers them in
//     order when descriptors arrive (set_rdt) or the condition ends, counting
//     nothing; only a frame that finds some but too few descriptors is an
//     overrun (e1000_receiver_overrun: RNBC, MPC, RXO).
//     TestProfileRxBackPressure.
package model

import (
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/fifo"
	"github.com/nicbed/nicbed/hw/irq"
	"github.com/nicbed/nicbed/hw/nvm"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/hw/wire"
)

// DefaultAutonegDelay is how long autonegotiation takes in model time from a
// PHY reset, an autonegotiation restart or a cable plugged in, to link up.
// Real 1000BASE-T autonegotiation takes seconds; the model is quicker so that
// tests and demos do not idle, but still long enough that a driver must wait
// for it (or for LSC).
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
	// EEPROM, if not nil, replaces the default EEPROM image (built from MAC
	// with a correct checksum) word for word, bad checksum and all.
	EEPROM *[e1000.EEPROMWords]uint16
	// AutonegDelay overrides DefaultAutonegDelay (QEMUAutonegDelay in the
	// QEMU profile) when positive.
	AutonegDelay time.Duration
	// Profile picks whose behaviour the model follows where QEMU's e1000
	// differs from the datasheet: ProfileDatasheet (the zero value) or
	// ProfileQEMU.
	Profile Profile
	// TxFIFO, when positive, overrides the transmit FIFO size in bytes
	// (otherwise 64 KB minus PBA's receive share: 16 KiB after reset). The
	// transmit DMA stops fetching descriptors while the wire is more than
	// this far behind.
	TxFIFO int
}

// Device is one 82540EM. It implements pci.Function (configuration space and
// BAR0) and wire.Endpoint (the receive side of its port).
type Device struct {
	clk  hw.Clock
	mem  dma.Memory
	intx irq.Line
	pcfg *pci.Config
	fn   pci.Function
	link wire.Link

	autonegDelay time.Duration
	txFIFOCfg    int
	qemu         bool // ProfileQEMU

	regs   [regWords]uint32 // register storage, indexed by offset / 4
	eeprom [e1000.EEPROMWords]uint16
	ee     eepromState
	phy    phyState
	st     stats
	ra     [e1000.NumRA]uint64 // receive addresses as 48-bit values, valid ones first
	nra    int                 // valid entries in ra

	busMaster bool
	cableUp   bool
	linkUp    bool // STATUS.LU

	// Interrupts.
	icr, ims    uint32
	level       bool // the device wants INTA# asserted (ICR & IMS, after ITR)
	lineOut     bool // what the line was last driven to
	statusINTx  bool // what configuration Status.Interrupt says
	asserted    bool // an interrupt has been asserted at least once
	lastAssert  time.Duration
	depth       int // nesting of entry points; IRQ updates wait for 0
	irqDirty    bool
	itrTimer    hw.Timer
	rdtrTimer   hw.Timer
	radvTimer   hw.Timer
	tidvTimer   hw.Timer
	tadvTimer   hw.Timer
	anTimer     hw.Timer
	txTimer     hw.Timer
	mitTimer    hw.Timer      // QEMU profile: the one mitigation timer
	rxHoldTimer hw.Timer      // QEMU profile: RX held after an RCTL write
	mitIDE      bool          // QEMU profile: a TX descriptor with IDE since the mitigation timer started
	txBusyUntil time.Duration // when the wire finishes what was transmitted

	rx  rxState
	tx  txState
	ctr Counters
}

const regWords = e1000.BAR0Size / 4

var (
	_ pci.Function  = (*Device)(nil)
	_ wire.Endpoint = (*Device)(nil)
)

// New makes an 82540EM in its power-on state: registers at their reset
// values, the EEPROM loaded, the PHY starting autonegotiation as soon as a
// cable is connected, bus mastering and memory decoding off.
func New(cfg Config) *Device {
	if cfg.Clock == nil || cfg.Mem == nil {
		panic("e1000/model: Config needs a Clock and Mem")
	}
	d := &Device{
		clk:          cfg.Clock,
		mem:          cfg.Mem,
		intx:         cfg.INTx,
		autonegDelay: cfg.AutonegDelay,
		txFIFOCfg:    cfg.TxFIFO,
		qemu:         cfg.Profile == ProfileQEMU,
	}
	if d.intx == nil {
		d.intx = irq.NoLine{}
	}
	if d.autonegDelay <= 0 {
		d.autonegDelay = DefaultAutonegDelay
	}
	if cfg.EEPROM != nil {
		d.eeprom = *cfg.EEPROM
	} else {
		d.eeprom = DefaultEEPROM(cfg.MAC)
	}
	d.pcfg = pci.NewConfig(pci.ID{
		Vendor:       e1000.VendorID,
		Device:       e1000.DeviceID,
		SubVendor:    d.eeprom[e1000.EEPROM_SUBVENDOR],
		SubSystem:    d.eeprom[e1000.EEPROM_SUBSYSTEM],
		Revision:     e1000.RevisionID,
		Class:        e1000.ClassCode,
		InterruptPin: 1, // INTA#
	})
	d.pcfg.SetBAR(0, e1000.BAR0Size)
	d.fn = pci.NewFunction(d.pcfg, [pci.NumBARs]pci.BAR{0: (*bar0)(d)})

	d.itrTimer = d.clk.NewTimer(d.onITR)
	d.rdtrTimer = d.clk.NewTimer(d.onRxTimer)
	d.radvTimer = d.clk.NewTimer(d.onRxTimer)
	d.tidvTimer = d.clk.NewTimer(d.onTxTimer)
	d.tadvTimer = d.clk.NewTimer(d.onTxTimer)
	d.anTimer = d.clk.NewTimer(d.onAutoneg)
	d.txTimer = d.clk.NewTimer(d.onTxResume)
	d.tx.buf = make([]byte, txBufSize)
	d.rx.scratch = make([]byte, maxRxFrame+8)
	d.rx.out = make([]byte, maxRxFrame+8)
	if d.qemu {
		d.rx.held = fifo.New[struct{}](rxFIFOMax, rxFIFOEntries, qemuHeldBytes, qemuHeldFrames)
		d.mitTimer = d.clk.NewTimer(d.onMitTimer)
		d.rxHoldTimer = d.clk.NewTimer(d.onRxHold)
		if cfg.AutonegDelay <= 0 {
			d.autonegDelay = QEMUAutonegDelay
		}
	} else {
		d.rx.fifo = fifo.New[queued](rxFIFOMax, rxFIFOEntries, rxFIFOMax, rxFIFOEntries)
	}

	d.phyReset()
	d.reset()
	return d
}

// Connect attaches the device's port to a link (one end of a cable, a TAP,
// ...): frames the device transmits go to link, and the link's state is
// read at once (a cable reports later changes with LinkChange). nil
// disconnects.
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

// MAC is the Ethernet address in the EEPROM image (words 0–2).
func (d *Device) MAC() [6]byte { return nvm.MACAddr(d.eeprom[:]) }

// Counters returns the model's own counters: what the device did and every
// hostile or impossible request it refused. They are not device registers and
// reading them clears nothing.
func (d *Device) Counters() Counters { return d.ctr }

// IRQ reports whether the device is asserting INTA#.
func (d *Device) IRQ() bool { return d.lineOut }

// ConfigRead implements pci.Function.
func (d *Device) ConfigRead(off, size int) uint32 { return d.fn.ConfigRead(off, size) }

// ConfigWrite implements pci.Function. Enabling bus mastering lets pending
// transmit work start; Interrupt Disable masks INTA#.
func (d *Device) ConfigWrite(off, size int, val uint32) {
	d.enter()
	defer d.exit()
	d.fn.ConfigWrite(off, size, val)
	bm := d.pcfg.BusMaster()
	if bm && !d.busMaster {
		d.busMaster = true
		d.txKick()
		d.rxPosted() // e1000_write_config flushes QEMU's queue; the FIFO drains
	}
	d.busMaster = bm
	d.irqDirty = true
}

// BAR implements pci.Function: BAR0 is the 128 KiB register window; it
// answers only with memory decoding enabled, to aligned in-range accesses.
func (d *Device) BAR(i int) pci.BAR { return d.fn.BAR(i) }

// bar0 is the register window behind the PCI function's gate.
type bar0 Device

func (b *bar0) Read32(off uint32) uint32     { return (*Device)(b).readReg(off) }
func (b *bar0) Write32(off uint32, v uint32) { (*Device)(b).writeReg(off, v) }

// enter and exit bracket every entry point (register access, frame arrival,
// timer). Interrupt line changes are made once, at the outermost exit, so
// that a driver called synchronously from SetLevel sees consistent state.
func (d *Device) enter() { d.depth++ }

func (d *Device) exit() {
	d.depth--
	if d.depth == 0 && d.irqDirty {
		d.irqDirty = false
		d.updateIRQ()
	}
}

func (d *Device) now() time.Duration { return d.clk.Now() }

// reset is CTRL.RST (and power-on): every register to its reset value except
// the PHY, PCI configuration space and the EEPROM; receive and transmit
// stopped; pending interrupts, timers and statistics cleared; RAL0/RAH0
// loaded from the EEPROM.
func (d *Device) reset() {
	for _, t := range []hw.Timer{d.itrTimer, d.rdtrTimer, d.radvTimer, d.tidvTimer, d.tadvTimer, d.txTimer, d.mitTimer, d.rxHoldTimer} {
		if t != nil {
			t.Stop()
		}
	}
	d.mitIDE = false
	d.regs = [regWords]uint32{}
	for off, v := range resetValues {
		d.regs[off/4] = v
	}
	m := d.MAC()
	d.regs[e1000.RAL0/4] = uint32(m[0]) | uint32(m[1])<<8 | uint32(m[2])<<16 | uint32(m[3])<<24
	d.regs[e1000.RAH0/4] = uint32(m[4]) | uint32(m[5])<<8 | e1000.RAH_AV
	d.rebuildRA()
	d.icr, d.ims = 0, 0
	d.asserted = false
	d.irqDirty = true
	d.st = stats{}
	d.ee = eepromState{eecd: e1000.EECD_FWE_DIS}
	d.tx.reset()
	d.txBusyUntil = 0
	d.ctr.RxFIFOFlushed += uint64(d.rx.fifo.Clear())
	d.updateLink()
	// RST self-clears and a reset does not report a link change: software
	// clears ICR after reset anyway.
	d.icr = 0
}

// resetValues are the registers that are not zero after reset.
var resetValues = map[uint32]uint32{
	e1000.CTRL:   e1000.CTRL_RESET,
	e1000.EECD:   e1000.EECD_RESET,
	e1000.VET:    e1000.VET_RESET,
	e1000.LEDCTL: e1000.LEDCTL_RESET,
	e1000.PBA:    e1000.PBA_RESET,
	e1000.RXDCTL: e1000.RXDCTL_RESET,
	e1000.TXDCTL: e1000.TXDCTL_RESET,
	e1000.RXCSUM: e1000.RXCSUM_RESET,
	e1000.TIPG:   e1000.TIPG_RESET,
}

// rebuildRA caches the valid destination-address filters of RAL/RAH.
func (d *Device) rebuildRA() {
	d.nra = 0
	for i := range e1000.NumRA {
		lo, hi := d.regs[e1000.RAL(i)/4], d.regs[e1000.RAH(i)/4]
		if hi&e1000.RAH_AV == 0 || hi&e1000.RAH_AS_MASK != 0 {
			continue
		}
		d.ra[d.nra] = uint64(lo) | uint64(hi&0xFFFF)<<32
		d.nra++
	}
}

// txFIFO is how many bytes the transmit path may run ahead of the wire.
func (d *Device) txFIFO() int {
	if d.txFIFOCfg > 0 {
		return d.txFIFOCfg
	}
	rxa := int(d.regs[e1000.PBA/4] & e1000.PBA_RXA_MASK)
	kb := e1000.PacketBufferKB - min(rxa, e1000.PacketBufferKB-4)
	return kb << 10
}
