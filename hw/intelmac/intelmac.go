// Package intelmac is the part of Intel's shared MAC code (e1000_mac.c)
// that the e1000 and igb drivers both run: the registers and bits the
// 82540EM and the 82576 have at the same offsets, flow control setup and
// its resolution after link up, the receive address table, speed and
// duplex from STATUS, promiscuity and VLAN mode. Each function names the
// shared-code function it models.
package intelmac

import (
	"github.com/nicbed/nicbed/hw/mii"
)

// Registers at the same offset on the 82540EM and the 82576.
const (
	CTRL   = 0x0000
	STATUS = 0x0008
	FCAL   = 0x0028
	FCAH   = 0x002C
	FCT    = 0x0030
	RCTL   = 0x0100
	FCTTV  = 0x0170
	FCRTL  = 0x2160
	FCRTH  = 0x2168
)

// Bits the two share.
const (
	CTRL_RFCE         = 1 << 27
	CTRL_TFCE         = 1 << 28
	CTRL_VME          = 1 << 30
	STATUS_FD         = 1 << 0
	STATUS_LU         = 1 << 1
	STATUS_SPEED_MASK = 3 << 6
	STATUS_SPEED_100  = 1 << 6
	STATUS_SPEED_1000 = 2 << 6
	RCTL_UPE          = 1 << 3
	RCTL_MPE          = 1 << 4
	RCTL_VFE          = 1 << 18
	RAH_AV            = 1 << 31
	FCRTL_XONE        = 1 << 31
)

// Flow control defaults (e1000_defines.h): the MAC control frame address
// and type, the pause time; the pause bits of the NVM's initialization
// control word 2 (NVM_WORD0F_PAUSE_MASK, NVM_WORD0F_ASM_DIR).
const (
	FlowControlAddressLow  = 0x00C28001
	FlowControlAddressHigh = 0x00000100
	FlowControlType        = 0x8808
	FCPauseTime            = 0xFFFF
	nvmPauseMask           = 0x3000
	nvmAsmDir              = 0x2000
)

// Regs is what a driver reads and writes device registers through (a
// pci.BAR).
type Regs interface {
	Read32(off uint32) uint32
	Write32(off, v uint32)
}

// FCFromNVM is the pause part of e1000_set_default_fc: the flow control
// mode the NVM's initialization control word 2 (word 0x0F) asks for.
func FCFromNVM(icw2 uint16) mii.FlowControl {
	switch icw2 & nvmPauseMask {
	case 0:
		return mii.FCNone
	case nvmAsmDir:
		return mii.FCTxPause
	}
	return mii.FCFull
}

// SetupFlowControl is the register part of e1000_setup_link: the MAC
// control frame's type, address and pause time, and the receive
// thresholds (with XON) only when we send pause frames.
func SetupFlowControl(r Regs, fc mii.FlowControl, lowWater, highWater uint32) {
	r.Write32(FCT, FlowControlType)
	r.Write32(FCAH, FlowControlAddressHigh)
	r.Write32(FCAL, FlowControlAddressLow)
	r.Write32(FCTTV, FCPauseTime)
	if fc == mii.FCTxPause || fc == mii.FCFull {
		r.Write32(FCRTL, lowWater|FCRTL_XONE)
		r.Write32(FCRTH, highWater)
	} else {
		r.Write32(FCRTL, 0)
		r.Write32(FCRTH, 0)
	}
}

// ConfigFCAfterLinkUp is e1000_config_fc_after_link_up for copper with
// autonegotiation: resolve pause from our advertisement and the partner's,
// read through m (mii.ResolvePause), and program CTRL.RFCE/TFCE
// (e1000_force_mac_fc). A PHY that does not answer gets no pause.
func ConfigFCAfterLinkUp(r Regs, m mii.MDIC, asked mii.FlowControl) mii.FlowControl {
	anar, err1 := m.Read(mii.PHY_ANAR)
	lpar, err2 := m.Read(mii.PHY_ANLPAR)
	fc := mii.FCNone
	if err1 == nil && err2 == nil {
		fc = mii.ResolvePause(anar, lpar, asked)
	}
	ctrl := r.Read32(CTRL) &^ (CTRL_RFCE | CTRL_TFCE)
	switch fc {
	case mii.FCRxPause:
		ctrl |= CTRL_RFCE
	case mii.FCTxPause:
		ctrl |= CTRL_TFCE
	case mii.FCFull:
		ctrl |= CTRL_RFCE | CTRL_TFCE
	}
	r.Write32(CTRL, ctrl)
	return fc
}

// InitRxAddrs is e1000_init_rx_addrs: our address in receive address 0
// (valid), the other n-1 cleared; ral and rah give entry i's registers.
func InitRxAddrs(r Regs, mac [6]byte, n int, ral, rah func(int) uint32) {
	r.Write32(ral(0), uint32(mac[0])|uint32(mac[1])<<8|uint32(mac[2])<<16|uint32(mac[3])<<24)
	r.Write32(rah(0), uint32(mac[4])|uint32(mac[5])<<8|RAH_AV)
	for i := 1; i < n; i++ {
		r.Write32(ral(i), 0)
		r.Write32(rah(i), 0)
	}
}

// SpeedDuplex is e1000_get_speed_and_duplex_copper: speed in Mb/s and
// duplex from a STATUS value.
func SpeedDuplex(status uint32) (int, bool) {
	speed := 10
	switch status & STATUS_SPEED_MASK {
	case STATUS_SPEED_1000, STATUS_SPEED_MASK:
		speed = 1000
	case STATUS_SPEED_100:
		speed = 100
	}
	return speed, status&STATUS_FD != 0
}

// SetRxMode is the filter part of e1000_set_rx_mode as nicbed's net_device
// has it (no address lists, no VLAN devices): unicast and multicast
// promiscuity, the VLAN filter off.
func SetRxMode(r Regs, promisc bool) {
	rctl := r.Read32(RCTL)
	if promisc {
		rctl |= RCTL_UPE | RCTL_MPE
	} else {
		rctl &^= RCTL_UPE | RCTL_MPE
	}
	rctl &^= RCTL_VFE
	r.Write32(RCTL, rctl)
}

// VLANMode is e1000_vlan_mode / igb_vlan_mode: CTRL.VME, so the MAC strips
// a received tag into the descriptor and inserts a transmitted one.
func VLANMode(r Regs, on bool) {
	ctrl := r.Read32(CTRL)
	if on {
		ctrl |= CTRL_VME
	} else {
		ctrl &^= CTRL_VME
	}
	r.Write32(CTRL, ctrl)
}

// CTRL bits of the copper link setup.
const (
	CTRL_SLU     = 1 << 6
	CTRL_FRCSPD  = 1 << 11
	CTRL_FRCDPLX = 1 << 12
)

// CopperLinkPreconfig is the MAC half of e1000_copper_link_preconfig: set
// link up, speed and duplex from autonegotiation (not forced).
func CopperLinkPreconfig(r Regs) {
	ctrl := r.Read32(CTRL)
	ctrl |= CTRL_SLU
	ctrl &^= CTRL_FRCSPD | CTRL_FRCDPLX
	r.Write32(CTRL, ctrl)
}

// SetupLink is e1000_setup_link: the flow control mode from the NVM's word
// 0x0F (readICW2), the copper link (setupCopper, the MAC's own), then the
// flow control registers with the receive thresholds low and high. It
// returns the mode asked for.
func SetupLink(r Regs, readICW2 func() (uint16, error), setupCopper func(fc mii.FlowControl) error, low, high uint32) (mii.FlowControl, error) {
	w, err := readICW2()
	if err != nil {
		return mii.FCNone, err
	}
	fc := FCFromNVM(w)
	if err := setupCopper(fc); err != nil {
		return fc, err
	}
	SetupFlowControl(r, fc, low, high)
	return fc, nil
}
