package model

import (
	"github.com/nicbed/nicbed/hw/nvm"
	"github.com/nicbed/nicbed/igb"
)

// DefaultEEPROM is the 64-word EEPROM image of an 82576 port with the given
// Ethernet address: the address in words 0–2, the PCI IDs in words
// 0x0B–0x0E, unused words erased to 0xFFFF, and the checksum in word 0x3F
// so that words 0x00–0x3F sum to 0xBABA (datasheet 6.x).
func DefaultEEPROM(mac [6]byte) [igb.EEPROMWords]uint16 {
	var w [igb.EEPROMWords]uint16
	for i := range w {
		w[i] = 0xFFFF
	}
	nvm.PutMACAddr(w[:], mac) // words 0–2 (EEPROM_MAC0..2)
	w[igb.EEPROM_SUBSYSTEM] = igb.SubSystemID
	w[igb.EEPROM_SUBVENDOR] = igb.SubVendorID
	w[igb.EEPROM_DEVICE] = igb.DeviceID
	w[igb.EEPROM_VENDOR] = igb.VendorID
	nvm.FixChecksum(w[:])
	return w
}

// eerd is the 82576's EERD layout (8.4): DONE bit 1, address bits 15:2.
var eerd = nvm.EERD{
	Start:     igb.EERD_START,
	Done:      igb.EERD_DONE,
	AddrShift: igb.EERD_ADDR_SHIFT,
	AddrMask:  igb.EERD_ADDR_MASK,
	DataShift: igb.EERD_DATA_SHIFT,
}

// eerdWrite is EERD: START reads the word at once (addresses wrap at the
// image's 64 words); a write without START clears DONE.
func (d *Device) eerdWrite(v uint32) {
	reg, read := eerd.Write(v, d.eeprom[:])
	d.regs[igb.EERD/4] = reg
	if read {
		d.ctr.EERDReads++
	}
}
