package mii

import (
	"errors"
	"fmt"
	"time"
)

// This file is the driver side of Intel's MDI control register (MDIC),
// which the 82540EM and the 82576 lay out alike, and the clause 22 work
// Intel's shared code does on any copper PHY: the autonegotiation
// advertisement (e1000_phy_setup_autoneg) and the pause resolution after
// link up (e1000_config_fc_after_link_up).

// MDIC fields (82540EM 13.4.x, 82576 8.2.x).
const (
	MDIC_DATA_MASK = 0xFFFF
	MDIC_REG_SHIFT = 16 // bits 20:16: PHY register
	MDIC_PHY_SHIFT = 21 // bits 25:21: PHY address
	MDIC_OP_WRITE  = 1 << 26
	MDIC_OP_READ   = 2 << 26
	MDIC_READY     = 1 << 28
	MDIC_ERROR     = 1 << 30
)

// Waits for MDIC.READY as Intel's shared code bounds them: a read looks 64
// times after udelay(50) each (3.2 ms, e1000_read_phy_reg_ex), a write 641
// times after udelay(5) (e1000_write_phy_reg_ex).
const (
	MDICReadPolls  = 64
	MDICReadDelay  = 50 * time.Microsecond
	MDICWritePolls = 641
	MDICWriteDelay = 5 * time.Microsecond
)

// Regs is what a driver reads and writes device registers through (a
// pci.BAR).
type Regs interface {
	Read32(off uint32) uint32
	Write32(off, v uint32)
}

// MDIC is one MAC's MDI control register: where it is, the PHY's address,
// and the busy wait between looks (udelay in the driver's context).
type MDIC struct {
	Regs   Regs
	Reg    uint32 // offset of MDIC
	PHY    uint32 // the PHY's MDIO address
	Udelay func(time.Duration)
}

// Read is e1000_read_phy_reg_ex: start the MDI read of PHY register reg
// and wait for READY.
func (m MDIC) Read(reg uint32) (uint16, error) {
	if reg > 0x1F {
		return 0, fmt.Errorf("PHY register %#x out of range", reg)
	}
	m.Regs.Write32(m.Reg, reg<<MDIC_REG_SHIFT|m.PHY<<MDIC_PHY_SHIFT|MDIC_OP_READ)
	v, err := m.wait(MDICReadPolls, MDICReadDelay)
	if err != nil {
		return 0, fmt.Errorf("MDI read of PHY register %#x: %w", reg, err)
	}
	return uint16(v & MDIC_DATA_MASK), nil
}

// Write is e1000_write_phy_reg_ex: start the MDI write and wait for READY.
func (m MDIC) Write(reg uint32, val uint16) error {
	if reg > 0x1F {
		return fmt.Errorf("PHY register %#x out of range", reg)
	}
	m.Regs.Write32(m.Reg, uint32(val)|reg<<MDIC_REG_SHIFT|m.PHY<<MDIC_PHY_SHIFT|MDIC_OP_WRITE)
	if _, err := m.wait(MDICWritePolls, MDICWriteDelay); err != nil {
		return fmt.Errorf("MDI write of PHY register %#x: %w", reg, err)
	}
	return nil
}

func (m MDIC) wait(polls int, delay time.Duration) (uint32, error) {
	for range polls {
		m.Udelay(delay)
		v := m.Regs.Read32(m.Reg)
		if v&MDIC_READY != 0 {
			if v&MDIC_ERROR != 0 {
				return 0, errors.New("MDIC error")
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("MDIC.READY not set after %v", time.Duration(polls)*delay)
}

// FlowControl is enum e1000_fc_mode.
type FlowControl int

// Flow control modes.
const (
	FCNone FlowControl = iota
	FCRxPause
	FCTxPause
	FCFull
)

func (f FlowControl) String() string {
	switch f {
	case FCNone:
		return "None"
	case FCRxPause:
		return "RX"
	case FCTxPause:
		return "TX"
	case FCFull:
		return "RX/TX"
	}
	return "?"
}

// Autonegotiation advertisement as Intel's drivers keep it
// (autoneg_advertised: ethtool ADVERTISED_* bits).
const (
	Advertise10Half   = 0x0001
	Advertise10Full   = 0x0002
	Advertise100Half  = 0x0004
	Advertise100Full  = 0x0008
	Advertise1000Full = 0x0020
	AdvertiseDefault  = Advertise10Half | Advertise10Full | Advertise100Half | Advertise100Full | Advertise1000Full
)

// Advertise is the register arithmetic of e1000_phy_setup_autoneg: the new
// ANAR and 1000BASE-T control values from the old ones, the speeds in adv
// and the pause bits of fc.
func Advertise(anar, gcr, adv uint16, fc FlowControl) (uint16, uint16) {
	anar &^= ANAR_10HALF | ANAR_10FULL | ANAR_100HALF | ANAR_100FULL | ANAR_100T4 | ANAR_PAUSE | ANAR_ASM_DIR
	anar |= ANAR_SELECTOR_8023
	gcr &^= GCR_1000T_HD | GCR_1000T_FD
	for _, b := range [...]struct{ adv, bit uint16 }{
		{Advertise10Half, ANAR_10HALF}, {Advertise10Full, ANAR_10FULL},
		{Advertise100Half, ANAR_100HALF}, {Advertise100Full, ANAR_100FULL},
	} {
		if adv&b.adv != 0 {
			anar |= b.bit
		}
	}
	if adv&Advertise1000Full != 0 {
		gcr |= GCR_1000T_FD
	}
	switch fc {
	case FCRxPause, FCFull:
		// Symmetric and asymmetric pause: we can take both.
		anar |= ANAR_PAUSE | ANAR_ASM_DIR
	case FCTxPause:
		anar |= ANAR_ASM_DIR
	}
	return anar, gcr
}

// ResolvePause is the copper autonegotiation case of
// e1000_config_fc_after_link_up: the flow control mode from our
// advertisement and the partner's (IEEE 802.3 annex 28B), given the mode
// asked for.
func ResolvePause(anar, lpar uint16, asked FlowControl) FlowControl {
	lp, lasm := lpar&ANAR_PAUSE != 0, lpar&ANAR_ASM_DIR != 0
	p, asm := anar&ANAR_PAUSE != 0, anar&ANAR_ASM_DIR != 0
	switch {
	case p && lp:
		if asked == FCFull {
			return FCFull
		}
		return FCRxPause
	case !p && asm && lp && lasm:
		return FCTxPause
	case p && asm && !lp && lasm:
		return FCRxPause
	}
	return FCNone
}

// PowerUp is e1000_power_up_phy: clear BMCR's power down.
func (m MDIC) PowerUp() {
	if bmcr, err := m.Read(PHY_BMCR); err == nil && bmcr&BMCR_PDOWN != 0 {
		m.Write(PHY_BMCR, bmcr&^BMCR_PDOWN)
	}
}

// PowerDown is e1000_power_down_phy (no Wake-on-LAN, no manageability):
// set BMCR's power down. It reports whether the PHY answered, after which
// the driver waits a millisecond.
func (m MDIC) PowerDown() bool {
	bmcr, err := m.Read(PHY_BMCR)
	if err != nil {
		return false
	}
	m.Write(PHY_BMCR, bmcr|BMCR_PDOWN)
	return true
}

// PHYID is e1000_get_phy_id: PHY_ID1 and PHY_ID2 as one 32-bit identifier
// (OUI, model, revision).
func (m MDIC) PHYID() (uint32, error) {
	id1, err := m.Read(PHY_ID1)
	if err != nil {
		return 0, err
	}
	id2, err := m.Read(PHY_ID2)
	if err != nil {
		return 0, err
	}
	return uint32(id1)<<16 | uint32(id2), nil
}

// SetupAutoneg is e1000_phy_setup_autoneg: read the advertisement
// registers, set them for the speeds in adv and the pause bits of fc
// (Advertise), write them back.
func (m MDIC) SetupAutoneg(adv uint16, fc FlowControl) error {
	anar, err := m.Read(PHY_ANAR)
	if err != nil {
		return err
	}
	gcr, err := m.Read(PHY_1000T_CTRL)
	if err != nil {
		return err
	}
	anar, gcr = Advertise(anar, gcr, adv, fc)
	if err := m.Write(PHY_ANAR, anar); err != nil {
		return err
	}
	return m.Write(PHY_1000T_CTRL, gcr)
}

// RestartAutoneg enables and restarts autonegotiation in BMCR, the end of
// e1000_copper_link_autoneg.
func (m MDIC) RestartAutoneg() error {
	bmcr, err := m.Read(PHY_BMCR)
	if err != nil {
		return err
	}
	return m.Write(PHY_BMCR, bmcr|BMCR_ANENABLE|BMCR_ANRESTART)
}
