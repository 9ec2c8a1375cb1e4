package driver

import (
	"fmt"
	"time"

	"github.com/nicbed/nicbed/hw/intelmac"
	"github.com/nicbed/nicbed/hw/mii"
	"github.com/nicbed/nicbed/hw/nvm"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
)

// This file is e1000_82575.c and the parts of Intel's shared code igb
// uses: reset, EEPROM, PHY and link setup of the 82576.

// ErrEEPROMChecksum is wrapped by the error Probe returns when the EEPROM's
// words do not sum to 0xBABA ("The NVM Checksum Is Not Valid").
var ErrEEPROMChecksum = nvm.ErrChecksum

// ErrInvalidMAC is wrapped by the error Probe returns when the EEPROM holds a
// multicast or all-zero Ethernet address.
var ErrInvalidMAC = nvm.ErrInvalidMAC

// IGP03E1000_E_PHY_ID: the 82576's internal PHY, revision bits masked.
const (
	igp03PHYID      = 0x02A80390
	phyRevisionMask = 0xFFFFFFF0
)

// Transmit defaults (E1000_COLLISION_THRESHOLD, E1000_COLLISION_DISTANCE).
const (
	collisionThreshold = 15
	collisionDistance  = 63
)

func (a *Adapter) rd(off uint32) uint32 { return a.hw.Read32(off) }
func (a *Adapter) wr(off, v uint32)     { a.hw.Write32(off, v) }

// writeFlush is wrfl(): a read of STATUS that pushes posted writes out.
func (a *Adapter) writeFlush() { a.hw.Read32(igb.STATUS) }

func (a *Adapter) msleep(t *kernelmodel.Task, d time.Duration) { a.k.Msleep(t, d) }
func (a *Adapter) udelay(t *kernelmodel.Task, d time.Duration) { a.k.Udelay(t, d) }

// resetHW is igb_reset_hw_82575: mask interrupts, stop receive and
// transmit, reset the MAC with CTRL.RST, wait for the EEPROM auto-read
// (igb_get_auto_rd_done: EECD.AUTO_RD within 10 ms), clear pending
// interrupts. Linux does not look at CTRL.RST; the datasheet says it
// self-clears, so a device that keeps it set is broken and fails here. An
// auto-read that does not complete is not an error, as in Linux (a device
// without an EEPROM; QEMU's igb never sets AUTO_RD): it is traced
// (igb_auto_rd_timeout) and counted in Adapter.AutoReadTimeouts.
func (a *Adapter) resetHW(t *kernelmodel.Task) error {
	a.wr(igb.IMC, 0xFFFFFFFF)
	a.wr(igb.RCTL, 0)
	a.wr(igb.TCTL, igb.TCTL_PSP)
	a.writeFlush()
	a.msleep(t, 10*time.Millisecond) // usleep_range(10000, 20000)
	a.wr(igb.CTRL, a.rd(igb.CTRL)|igb.CTRL_RST)
	for i := 0; a.rd(igb.CTRL)&igb.CTRL_RST != 0; i++ {
		if i >= resetPolls {
			return fmt.Errorf("igb: CTRL.RST did not clear %v after the reset", resetPolls*resetPollDelay)
		}
		a.msleep(t, resetPollDelay)
	}
	for i := 0; a.rd(igb.EECD)&igb.EECD_AUTO_RD == 0; i++ {
		if i >= resetPolls {
			// hw_dbg("Auto Read Done did not complete")
			a.autoReadTimeouts++
			a.k.TracePoint("igb_auto_rd_timeout", 0, int64(a.rd(igb.EECD)))
			break
		}
		a.msleep(t, resetPollDelay)
	}
	a.wr(igb.IMC, 0xFFFFFFFF)
	a.rd(igb.ICR)
	return nil
}

// eerd is the 82576's EERD layout.
var eerd = nvm.EERD{
	Start:     igb.EERD_START,
	Done:      igb.EERD_DONE,
	AddrShift: igb.EERD_ADDR_SHIFT,
	AddrMask:  igb.EERD_ADDR_MASK,
	DataShift: igb.EERD_DATA_SHIFT,
}

// eepromReader is igb_read_nvm_eerd in t: EERD, udelay(5) between looks,
// at most 0.5 s.
func (a *Adapter) eepromReader(t *kernelmodel.Task) func(int) (uint16, error) {
	return func(word int) (uint16, error) {
		return eerd.ReadWord(a.hw, igb.EERD, word, eerdPolls, eerdPollDelay, func(d time.Duration) { a.udelay(t, d) })
	}
}

// readEEPROM reads one EEPROM word.
func (a *Adapter) readEEPROM(t *kernelmodel.Task, word int) (uint16, error) {
	v, err := a.eepromReader(t)(word)
	if err != nil {
		return 0, fmt.Errorf("igb: %w", err)
	}
	return v, nil
}

// validateEEPROMChecksum is igb_validate_nvm_checksum: the words 0x00–0x3F
// must sum to 0xBABA.
func (a *Adapter) validateEEPROMChecksum(t *kernelmodel.Task) error {
	if err := nvm.Validate(a.eepromReader(t)); err != nil {
		return fmt.Errorf("igb: %w", err)
	}
	return nil
}

// readMACAddr is igb_read_mac_addr: the Ethernet address is EEPROM words
// 0–2, low byte first (port 0 of the 82576).
func (a *Adapter) readMACAddr(t *kernelmodel.Task) error {
	mac, err := nvm.ReadMAC(a.eepromReader(t))
	if err != nil {
		return fmt.Errorf("igb: %w", err)
	}
	a.mac = mac
	return nil
}

// mdic is the MAC's MDI control register for the internal PHY, its busy
// waits in t (nil: atomic context).
func (a *Adapter) mdic(t *kernelmodel.Task) mii.MDIC {
	return mii.MDIC{Regs: a.hw, Reg: igb.MDIC, PHY: igb.PHYAddr, Udelay: func(d time.Duration) { a.udelay(t, d) }}
}

// readPHY is igb_read_phy_reg_mdic.
func (a *Adapter) readPHY(t *kernelmodel.Task, reg uint32) (uint16, error) {
	v, err := a.mdic(t).Read(reg)
	if err != nil {
		return 0, fmt.Errorf("igb: %w", err)
	}
	return v, nil
}

// writePHY is igb_write_phy_reg_mdic.
func (a *Adapter) writePHY(t *kernelmodel.Task, reg uint32, v uint16) error {
	if err := a.mdic(t).Write(reg, v); err != nil {
		return fmt.Errorf("igb: %w", err)
	}
	return nil
}

// ReadPHY reads a register of the internal PHY through MDIC (any context:
// it busy-waits).
func (a *Adapter) ReadPHY(reg uint32) (uint16, error) { return a.readPHY(nil, reg) }

// phyHWReset is igb_phy_hw_reset: hold the PHY in reset with CTRL.PHY_RST
// for reset_delay_us (100 µs), then give it igb_get_phy_cfg_done's 10 ms.
func (a *Adapter) phyHWReset(t *kernelmodel.Task) {
	ctrl := a.rd(igb.CTRL)
	a.wr(igb.CTRL, ctrl|igb.CTRL_PHY_RST)
	a.writeFlush()
	a.udelay(t, 100*time.Microsecond)
	a.wr(igb.CTRL, ctrl)
	a.writeFlush()
	a.msleep(t, 10*time.Millisecond)
}

// getPHYID is igb_get_phy_id: PHY_ID1/PHY_ID2, checked for the 82576's
// IGP03E1000_E.
func (a *Adapter) getPHYID(t *kernelmodel.Task) error {
	id, err := a.mdic(t).PHYID()
	if err != nil {
		return fmt.Errorf("igb: %w", err)
	}
	a.phyID = id & phyRevisionMask
	if a.phyID != igp03PHYID {
		return fmt.Errorf("igb: PHY ID %#08x is not the 82576's (%#08x)", id, igp03PHYID)
	}
	return nil
}

// setupLink is igb_setup_link: flow control from the EEPROM
// (igb_set_default_fc), the copper link (igb_setup_copper_link_82575), the
// flow control registers.
func (a *Adapter) setupLink(t *kernelmodel.Task) error {
	fc, err := intelmac.SetupLink(a.hw, func() (uint16, error) { return a.readEEPROM(t, igb.EEPROM_ICW2) },
		func(fc mii.FlowControl) error { a.fc = fc; return a.setupCopperLink(t) }, a.fcLowWater, a.fcHighWater)
	a.originalFC = fc
	return err
}

// setupCopperLink is igb_setup_copper_link_82575 with
// igb_copper_link_setup_igp and igb_copper_link_autoneg: link up, no forced
// speed, PHY reset and identity, advertisement (igb_phy_setup_autoneg) and
// autonegotiation restarted. It does not wait for autonegotiation: the LSC
// interrupt reports the link.
func (a *Adapter) setupCopperLink(t *kernelmodel.Task) error {
	intelmac.CopperLinkPreconfig(a.hw)
	a.phyHWReset(t)
	if err := a.getPHYID(t); err != nil {
		return err
	}
	if a.autonegAdvertised&mii.AdvertiseDefault == 0 {
		a.autonegAdvertised = mii.AdvertiseDefault
	}
	m := a.mdic(t)
	if err := m.SetupAutoneg(a.autonegAdvertised, a.fc); err != nil {
		return fmt.Errorf("igb: %w", err)
	}
	if err := m.RestartAutoneg(); err != nil {
		return fmt.Errorf("igb: %w", err)
	}
	a.getLinkStatus = true
	return nil
}

// configFCAfterLinkUp is igb_config_fc_after_link_up: resolve pause from
// our advertisement and the partner's and program CTRL.RFCE/TFCE
// (igb_force_mac_fc).
func (a *Adapter) configFCAfterLinkUp() {
	a.fc = intelmac.ConfigFCAfterLinkUp(a.hw, a.mdic(nil), a.originalFC)
}

// initHW is igb_init_hw_82575: VLAN filter table, receive addresses,
// multicast table, link setup, statistics cleared.
func (a *Adapter) initHW(t *kernelmodel.Task) error {
	for i := uint32(0); i < igb.NumVFTA; i++ {
		a.wr(igb.VFTA+4*i, 0)
	}
	a.initRxAddrs()
	for i := uint32(0); i < igb.NumMTA; i++ {
		a.wr(igb.MTA+4*i, 0)
	}
	if err := a.setupLink(t); err != nil {
		return err
	}
	a.clearHWCounters()
	return nil
}

// initRxAddrs is igb_init_rx_addrs: our address in RA[0], the rest empty.
func (a *Adapter) initRxAddrs() {
	intelmac.InitRxAddrs(a.hw, a.mac, igb.NumRA, igb.RAL, igb.RAH)
}

// checkForLink is igb_check_for_link (e1000_check_for_copper_link): the
// MAC's STATUS.LU says whether the link is up; on a change flow control is
// configured for it.
func (a *Adapter) checkForLink() bool {
	up := a.rd(igb.STATUS)&igb.STATUS_LU != 0
	if up && a.getLinkStatus {
		a.getLinkStatus = false
		a.configFCAfterLinkUp()
	}
	if !up {
		a.getLinkStatus = true
	}
	return up
}

// getSpeedAndDuplex is igb_get_speed_and_duplex_copper from STATUS.
func (a *Adapter) getSpeedAndDuplex() (int, bool) {
	return intelmac.SpeedDuplex(a.rd(igb.STATUS))
}

// powerUpLink is igb_power_up_link: clear BMCR power down.
func (a *Adapter) powerUpLink(t *kernelmodel.Task) { a.mdic(t).PowerUp() }

// powerDownLink is igb_power_down_link: set BMCR power down.
func (a *Adapter) powerDownLink(t *kernelmodel.Task) {
	if a.mdic(t).PowerDown() {
		a.msleep(t, time.Millisecond)
	}
}

// AutoReadTimeouts is the number of resets after which EECD.AUTO_RD did not
// come within 10 ms (Linux's "Auto Read Done did not complete"): every reset
// on QEMU's igb, none on the datasheet's.
func (a *Adapter) AutoReadTimeouts() uint64 { return a.autoReadTimeouts }
