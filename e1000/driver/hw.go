package driver

import (
	"fmt"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/intelmac"
	"github.com/nicbed/nicbed/hw/mii"
	"github.com/nicbed/nicbed/hw/nvm"
	"github.com/nicbed/nicbed/kernelmodel"
)

// This file is e1000_hw.c: the register-level work of reset, EEPROM, PHY
// and link setup.

// ErrEEPROMChecksum is wrapped by the error Probe returns when the EEPROM's
// words do not sum to 0xBABA (hw/nvm's ErrChecksum).
var ErrEEPROMChecksum = nvm.ErrChecksum

// ErrInvalidMAC is wrapped by the error Probe returns when the EEPROM holds a
// multicast or all-zero Ethernet address (hw/nvm's ErrInvalidMAC).
var ErrInvalidMAC = nvm.ErrInvalidMAC

// Waits for the hardware, as Linux's e1000 bounds them (e1000_hw.c). A
// device that never sets its done bit fails the operation after the bound,
// instead of hanging the driver.
const (
	// eerdPolls × eerdPollDelay bounds an EEPROM read through EERD
	// (e1000_poll_eerd_eewr_done: 100000 polls, udelay(5) between them,
	// 0.5 s in all).
	eerdPolls     = 100000
	eerdPollDelay = 5 * time.Microsecond
	// An MDI access waits as hw/mii's MDIC does (mii.MDICReadPolls ...).
	// resetPolls × resetPollDelay bounds the wait for CTRL.RST to clear
	// after the 5 ms e1000_get_auto_rd_done gives the 82540EM to reload its
	// EEPROM. Linux does not look at CTRL.RST at all; the datasheet says it
	// self-clears, so a device that keeps it set is broken.
	resetPolls     = 20
	resetPollDelay = time.Millisecond
)

// M88E1011 PHY identity and the bits of its specific control registers the
// driver programs (e1000_hw.h: M88E1011_I_PHY_ID, M88E1000_PSCR_*,
// M88E1000_EPSCR_*).
const (
	m88e1011PHYID           = 0x01410C20
	phyRevisionMask         = 0xFFFFFFF0
	m88PSCRPolarityReversal = 0x0002
	m88PSCRAutoXMode        = 0x0060
	m88PSCRAssertCRSOnTx    = 0x0800
	m88EPSCRMasterDownshift = 0x0C00 // master downshift counter: 1x
	m88EPSCRSlaveDownshift  = 0x0300 // slave downshift counter: 1x
	m88EPSCRDownshiftMask   = 0x0F00
)

// Autonegotiation advertisement (AUTONEG_ADVERTISE_SPEED_DEFAULT).
const advertiseDefault = mii.AdvertiseDefault

// Flow control modes (e1000_fc_type, hw/mii's FlowControl).
type flowControl = mii.FlowControl

const (
	fcNone    = mii.FCNone
	fcRxPause = mii.FCRxPause
	fcTxPause = mii.FCTxPause
	fcFull    = mii.FCFull
)

// The 82540EM's receive packet buffer share (E1000_PBA_48K); the flow
// control defaults are hw/intelmac's.
const pba48K = 48

// TIPG for copper (DEFAULT_82543_TIPG_IPGT_COPPER, IPGR1, IPGR2),
// collision threshold and distance (E1000_COLLISION_THRESHOLD,
// E1000_COLLISION_DISTANCE).
const (
	tipgIPGTCopper     = 8
	tipgIPGR1          = 8
	tipgIPGR2          = 6
	collisionThreshold = 15
	collisionDistance  = 63
)

// imsEnableMask is what e1000_irq_enable unmasks (IMS_ENABLE_MASK).
const imsEnableMask = e1000.ICR_RXT0 | e1000.ICR_TXDW | e1000.ICR_RXDMT0 | e1000.ICR_RXSEQ | e1000.ICR_LSC

func (a *Adapter) rd(off uint32) uint32 { return a.hw.Read32(off) }
func (a *Adapter) wr(off, v uint32)     { a.hw.Write32(off, v) }

// writeFlush is E1000_WRITE_FLUSH: a read of STATUS that pushes posted writes
// out.
func (a *Adapter) writeFlush() { a.hw.Read32(e1000.STATUS) }

// msleep is msleep() (kernelmodel's Msleep): t nil is atomic context,
// where the wait becomes a busy wait.
func (a *Adapter) msleep(t *kernelmodel.Task, d time.Duration) { a.k.Msleep(t, d) }

// udelay is udelay() (kernelmodel's Udelay): a busy wait of d, paid off at
// once in a task.
func (a *Adapter) udelay(t *kernelmodel.Task, d time.Duration) { a.k.Udelay(t, d) }

// resetHW is e1000_reset_hw: mask interrupts, stop receive and transmit,
// reset the MAC with CTRL.RST and wait for it to come back.
func (a *Adapter) resetHW(t *kernelmodel.Task) error {
	a.wr(e1000.IMC, 0xFFFFFFFF)
	a.wr(e1000.RCTL, 0)
	a.wr(e1000.TCTL, e1000.TCTL_PSP)
	a.writeFlush()
	// Let pending PCI transactions finish (msleep(10)).
	a.msleep(t, 10*time.Millisecond)
	ctrl := a.rd(e1000.CTRL)
	a.wr(e1000.CTRL, ctrl|e1000.CTRL_RST)
	// The 82540EM reloads its EEPROM after a reset
	// (e1000_get_auto_rd_done: msleep(5)).
	a.msleep(t, 5*time.Millisecond)
	for i := 0; a.rd(e1000.CTRL)&e1000.CTRL_RST != 0; i++ {
		if i >= resetPolls {
			return fmt.Errorf("e1000: CTRL.RST did not clear %v after the reset", 5*time.Millisecond+resetPolls*resetPollDelay)
		}
		a.msleep(t, resetPollDelay)
	}
	a.wr(e1000.IMC, 0xFFFFFFFF)
	a.rd(e1000.ICR)
	return nil
}

// eerd is the 82540EM's EERD layout.
var eerd = nvm.EERD{
	Start:     e1000.EERD_START,
	Done:      e1000.EERD_DONE,
	AddrShift: e1000.EERD_ADDR_SHIFT,
	AddrMask:  e1000.EERD_ADDR_MASK,
	DataShift: e1000.EERD_DATA_SHIFT,
}

// readEEPROM is e1000_read_eeprom through EERD (e1000_read_eeprom_eerd with
// e1000_poll_eerd_eewr_done, hw/nvm's ReadWord): start a read of one word and
// poll for DONE, udelay(5) between looks, for at most 0.5 s. (Linux's e1000
// reads the 82540EM's EEPROM by bit-banging EECD; EERD, which the 82540EM has
// too, is what Intel's shared code uses on the parts that offer it.)
func (a *Adapter) readEEPROM(t *kernelmodel.Task, word int) (uint16, error) {
	v, err := a.eepromReader(t)(word)
	if err != nil {
		return 0, fmt.Errorf("e1000: %w", err)
	}
	return v, nil
}

// eepromReader reads words through EERD in t (unwrapped errors).
func (a *Adapter) eepromReader(t *kernelmodel.Task) func(int) (uint16, error) {
	return func(word int) (uint16, error) {
		return eerd.ReadWord(a.hw, e1000.EERD, word, eerdPolls, eerdPollDelay, func(d time.Duration) { a.udelay(t, d) })
	}
}

// validateEEPROMChecksum is e1000_validate_eeprom_checksum: the words
// 0x00–0x3F must sum to 0xBABA.
func (a *Adapter) validateEEPROMChecksum(t *kernelmodel.Task) error {
	if err := nvm.Validate(a.eepromReader(t)); err != nil {
		return fmt.Errorf("e1000: %w", err)
	}
	return nil
}

// readMACAddr is e1000_read_mac_addr: the Ethernet address is EEPROM words
// 0–2, low byte first.
func (a *Adapter) readMACAddr(t *kernelmodel.Task) error {
	mac, err := nvm.ReadMAC(a.eepromReader(t))
	if err != nil {
		return fmt.Errorf("e1000: %w", err)
	}
	a.mac = mac
	return nil
}

// ReadPHY is e1000_read_phy_reg: read a register of the internal PHY through
// MDIC and poll for READY. It busy-waits (udelay), as Linux does, so it may
// be called from any context; see readPHY.
func (a *Adapter) ReadPHY(reg uint32) (uint16, error) { return a.readPHY(nil, reg) }

// WritePHY is e1000_write_phy_reg: write a register of the internal PHY
// through MDIC and poll for READY.
func (a *Adapter) WritePHY(reg uint32, val uint16) error { return a.writePHY(nil, reg, val) }

// mdic is the MAC's MDI control register (hw/mii's MDIC) for the PHY at
// address 1, its busy waits in t (nil: atomic context).
func (a *Adapter) mdic(t *kernelmodel.Task) mii.MDIC {
	return mii.MDIC{Regs: a.hw, Reg: e1000.MDIC, PHY: e1000.PHYAddr, Udelay: func(d time.Duration) { a.udelay(t, d) }}
}

// readPHY is e1000_read_phy_reg_ex for the M88: start the MDI read, then
// udelay(50) and look at MDIC, at most 64 times. t is the task when called
// from process context (nil in atomic context): see udelay.
func (a *Adapter) readPHY(t *kernelmodel.Task, reg uint32) (uint16, error) {
	v, err := a.mdic(t).Read(reg)
	if err != nil {
		return 0, fmt.Errorf("e1000: %w", err)
	}
	return v, nil
}

// writePHY is e1000_write_phy_reg_ex for the M88: start the MDI write, then
// udelay(5) and look at MDIC, at most 641 times.
func (a *Adapter) writePHY(t *kernelmodel.Task, reg uint32, val uint16) error {
	if err := a.mdic(t).Write(reg, val); err != nil {
		return fmt.Errorf("e1000: %w", err)
	}
	return nil
}

// phyHWReset is e1000_phy_hw_reset: hold the PHY in reset with CTRL.PHY_RST
// for 10 ms, then give it 150 µs.
func (a *Adapter) phyHWReset(t *kernelmodel.Task) {
	ctrl := a.rd(e1000.CTRL)
	a.wr(e1000.CTRL, ctrl|e1000.CTRL_PHY_RST)
	a.writeFlush()
	a.msleep(t, 10*time.Millisecond)
	a.wr(e1000.CTRL, ctrl&^e1000.CTRL_PHY_RST)
	a.writeFlush()
	a.udelay(t, 150*time.Microsecond)
}

// phyReset is e1000_phy_reset for the M88: a software reset through BMCR,
// which also commits PHY specific control changes, and udelay(1). As in
// Linux, the driver does not wait for BMCR.RESET to clear: the next MDI
// access waits for the PHY.
func (a *Adapter) phyReset(t *kernelmodel.Task) error {
	bmcr, err := a.readPHY(t, e1000.PHY_BMCR)
	if err != nil {
		return err
	}
	if err := a.writePHY(t, e1000.PHY_BMCR, bmcr|e1000.BMCR_RESET); err != nil {
		return err
	}
	a.udelay(t, time.Microsecond)
	return nil
}

// detectGigPHY is e1000_detect_gig_phy: read PHY_ID1/PHY_ID2 and check for
// the 82540EM's M88E1011.
func (a *Adapter) detectGigPHY(t *kernelmodel.Task) error {
	id, err := a.mdic(t).PHYID()
	if err != nil {
		return fmt.Errorf("e1000: %w", err)
	}
	a.phyID = id & phyRevisionMask
	if a.phyID != m88e1011PHYID {
		return fmt.Errorf("e1000: PHY ID %#08x is not an M88E1011 (%#08x)", id, m88e1011PHYID)
	}
	return nil
}

// setupLink is e1000_setup_link: pick flow control from the EEPROM, set up
// the copper link (PHY and autonegotiation) and program the flow control
// registers.
func (a *Adapter) setupLink(t *kernelmodel.Task) error {
	fc, err := intelmac.SetupLink(a.hw, func() (uint16, error) { return a.readEEPROM(t, e1000.EEPROM_ICW2) },
		func(fc flowControl) error { a.fc = fc; return a.setupCopperLink(t) }, a.fcLowWater, a.fcHighWater)
	a.originalFC = fc
	return err
}

// setupCopperLink is e1000_setup_copper_link: e1000_copper_link_preconfig
// (link up, no forced speed, PHY hardware reset, PHY ID),
// e1000_copper_link_mgp_setup (M88 MDI-X and downshift) and
// e1000_copper_link_autoneg (advertise and restart autonegotiation). It does
// not wait for autonegotiation: the LSC interrupt reports the link.
func (a *Adapter) setupCopperLink(t *kernelmodel.Task) error {
	intelmac.CopperLinkPreconfig(a.hw)
	a.phyHWReset(t)
	if err := a.detectGigPHY(t); err != nil {
		return err
	}
	// e1000_copper_link_mgp_setup: automatic MDI/MDI-X, polarity
	// correction, CRS on transmit; downshift after one try.
	pscr, err := a.readPHY(t, e1000.M88_PSCR)
	if err != nil {
		return err
	}
	pscr |= m88PSCRAssertCRSOnTx | m88PSCRAutoXMode
	pscr &^= m88PSCRPolarityReversal
	if err := a.writePHY(t, e1000.M88_PSCR, pscr); err != nil {
		return err
	}
	epscr, err := a.readPHY(t, e1000.M88_EPSCR)
	if err != nil {
		return err
	}
	epscr = epscr&^m88EPSCRDownshiftMask | m88EPSCRMasterDownshift | m88EPSCRSlaveDownshift
	if err := a.writePHY(t, e1000.M88_EPSCR, epscr); err != nil {
		return err
	}
	if err := a.phyReset(t); err != nil {
		return err
	}
	// e1000_copper_link_autoneg.
	a.autonegAdvertised &= advertiseDefault
	if a.autonegAdvertised == 0 {
		a.autonegAdvertised = advertiseDefault
	}
	if err := a.phySetupAutoneg(t); err != nil {
		return err
	}
	if err := a.mdic(t).RestartAutoneg(); err != nil {
		return fmt.Errorf("e1000: %w", err)
	}
	a.getLinkStatus = true
	return nil
}

// phySetupAutoneg is e1000_phy_setup_autoneg: write the advertisement
// registers (ANAR with the pause bits of the flow control mode, and
// 1000BASE-T control).
func (a *Adapter) phySetupAutoneg(t *kernelmodel.Task) error {
	if err := a.mdic(t).SetupAutoneg(a.autonegAdvertised, a.fc); err != nil {
		return fmt.Errorf("e1000: %w", err)
	}
	return nil
}

// configFCAfterLinkUp is e1000_config_fc_after_link_up for copper with
// autonegotiation: resolve pause from our advertisement and the partner's
// (IEEE 802.3 annex 28B) and program CTRL.RFCE/TFCE (e1000_force_mac_fc).
func (a *Adapter) configFCAfterLinkUp() {
	a.fc = intelmac.ConfigFCAfterLinkUp(a.hw, a.mdic(nil), a.originalFC)
}

// initHW is e1000_init_hw: VLAN filter table, receive addresses, multicast
// table, link setup, statistics cleared.
func (a *Adapter) initHW(t *kernelmodel.Task) error {
	for i := uint32(0); i < e1000.NumVFTA; i++ {
		a.wr(e1000.VFTA+4*i, 0)
	}
	a.wr(e1000.VET, 0x8100)
	a.initRxAddrs()
	for i := uint32(0); i < e1000.NumMTA; i++ {
		a.wr(e1000.MTA+4*i, 0)
	}
	if err := a.setupLink(t); err != nil {
		return err
	}
	a.clearHWCounters()
	return nil
}

// initRxAddrs is e1000_init_rx_addrs: our address in RA[0], the rest empty.
func (a *Adapter) initRxAddrs() {
	intelmac.InitRxAddrs(a.hw, a.mac, e1000.NumRA, e1000.RAL, e1000.RAH)
}

// clearHWCounters is e1000_clear_hw_cntrs: read every statistics register
// to clear it.
func (a *Adapter) clearHWCounters() {
	for _, s := range e1000.Stats {
		a.rd(s.Off)
	}
}

// checkForLink is e1000_check_for_link for copper: the MAC's STATUS.LU says
// whether the link is up; on a change the collision distance and flow
// control are configured for it.
func (a *Adapter) checkForLink() bool {
	up := a.rd(e1000.STATUS)&e1000.STATUS_LU != 0
	if up && a.getLinkStatus {
		a.getLinkStatus = false
		a.configFCAfterLinkUp()
	}
	if !up {
		a.getLinkStatus = true
	}
	return up
}

// getSpeedAndDuplex is e1000_get_speed_and_duplex from STATUS.
func (a *Adapter) getSpeedAndDuplex() (int, bool) {
	return intelmac.SpeedDuplex(a.rd(e1000.STATUS))
}

// powerUpPHY is e1000_power_up_phy: clear BMCR power down.
func (a *Adapter) powerUpPHY(t *kernelmodel.Task) { a.mdic(t).PowerUp() }

// powerDownPHY is e1000_power_down_phy: set BMCR power down (no
// Wake-on-LAN, no manageability).
func (a *Adapter) powerDownPHY(t *kernelmodel.Task) {
	if a.mdic(t).PowerDown() {
		a.msleep(t, time.Millisecond)
	}
}
