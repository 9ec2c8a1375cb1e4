package model

import (
	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/nvm"
)

// DefaultEEPROM is the 64-word EEPROM image of an 82540EM on a PRO/1000 MT
// Desktop adapter with the given Ethernet address (datasheet 5.6): the
// address in words 0–2, the IDs in words 0x0B–0x0E, initialization control
// words, unused words erased to 0xFFFF, and the checksum in word 0x3F so that
// words 0x00–0x3F sum to 0xBABA.
func DefaultEEPROM(mac [6]byte) [e1000.EEPROMWords]uint16 {
	var w [e1000.EEPROMWords]uint16
	for i := range w {
		w[i] = 0xFFFF
	}
	nvm.PutMACAddr(w[:], mac) // words 0–2 (EEPROM_MAC0..2)
	w[e1000.EEPROM_COMPAT] = 0x0000
	w[e1000.EEPROM_LED] = 0xFFFF // default LED behaviour
	w[0x05], w[0x06], w[0x07] = 0x0000, 0x0000, 0x0000
	w[e1000.EEPROM_PBA0], w[e1000.EEPROM_PBA1] = 0x3000, 0x1000 // part number
	w[e1000.EEPROM_ICW1] = 0x6403                               // load subsystem IDs, PHY power-up, ...
	w[e1000.EEPROM_SUBSYSTEM] = e1000.SubSystemID
	w[e1000.EEPROM_SUBVENDOR] = e1000.SubVendorID
	w[e1000.EEPROM_DEVICE] = e1000.DeviceID
	w[e1000.EEPROM_VENDOR] = e1000.VendorID
	w[e1000.EEPROM_ICW2] = 0x3040 // symmetric and asymmetric pause advertised
	w[e1000.EEPROM_ICW3_PORT_A] = 0x0000
	FixEEPROMChecksum(&w)
	return w
}

// EEPROMSum is the sum of words 0x00–0x3F, which is 0xBABA in a valid image.
func EEPROMSum(w *[e1000.EEPROMWords]uint16) uint16 { return nvm.ImageSum(w[:]) }

// FixEEPROMChecksum sets word 0x3F so that the image sums to 0xBABA.
func FixEEPROMChecksum(w *[e1000.EEPROMWords]uint16) { nvm.FixChecksum(w[:]) }

// EEPROM returns the device's EEPROM image (including what software wrote
// through EECD).
func (d *Device) EEPROM() [e1000.EEPROMWords]uint16 { return d.eeprom }

// eerdWrite is EERD (13.4.4): writing START reads the word at ADDR at once,
// sets DONE and the data; a write without START clears DONE. Addresses wrap
// at the 64-word part's 6 address bits.
func (d *Device) eerdWrite(v uint32) {
	reg, read := eerd.Write(v, d.eeprom[:])
	d.regs[e1000.EERD/4] = reg
	if read {
		d.ctr.EERDReads++
	}
}

// eerd is the 82540EM's EERD layout.
var eerd = nvm.EERD{
	Start:     e1000.EERD_START,
	Done:      e1000.EERD_DONE,
	AddrShift: e1000.EERD_ADDR_SHIFT,
	AddrMask:  e1000.EERD_ADDR_MASK,
	DataShift: e1000.EERD_DATA_SHIFT,
}

// eepromState is the 93C46 Microwire EEPROM's serial interface, driven by
// software through EECD SK/CS/DI and read back on DO (datasheet 5.3). With CS
// high, the part ignores zeros until a start bit, then shifts in a 2-bit
// opcode and 6 address bits on rising SK edges. READ then drives a dummy 0 on
// DO, and each following rising edge the next data bit, MSB first, running on
// into the next word; WRITE shifts in 16 data bits; CS low ends any command.
type eepromState struct {
	phase  uint8
	nbits  int
	shift  uint32
	addr   int
	bitpos int // READ: the bit now on DO, counting from word 0's MSB
	do     bool
	ewen   bool // erase/write enabled (EWEN)
	eecd   uint32
}

const (
	eeIdle uint8 = iota
	eeCommand
	eeRead
	eeWriteData
	eeDone
)

func (d *Device) eecdRead() uint32 {
	v := d.ee.eecd | e1000.EECD_PRES
	if d.ee.eecd&e1000.EECD_REQ != 0 {
		v |= e1000.EECD_GNT
	}
	if d.ee.do {
		v |= e1000.EECD_DO
	}
	return v
}

func (d *Device) eecdWrite(v uint32) {
	e := &d.ee
	old := e.eecd
	e.eecd = v
	if v&e1000.EECD_CS == 0 {
		e.phase, e.do = eeIdle, false
		return
	}
	if old&e1000.EECD_CS == 0 {
		// Chip select rising: the part is ready (DO high) until a start bit.
		e.phase, e.do = eeIdle, true
	}
	if v&e1000.EECD_SK == 0 || old&e1000.EECD_SK != 0 {
		return // only rising clock edges move data
	}
	di := uint32(0)
	if v&e1000.EECD_DI != 0 {
		di = 1
	}
	switch e.phase {
	case eeIdle, eeDone:
		if di == 1 {
			e.phase, e.nbits, e.shift, e.do = eeCommand, 0, 0, false
		}
	case eeCommand:
		e.shift = e.shift<<1 | di
		e.nbits++
		if e.nbits < 2+e1000.EEPROM_ADDR_BITS {
			return
		}
		op, addr := e.shift>>e1000.EEPROM_ADDR_BITS, int(e.shift&(e1000.EEPROMWords-1))
		e.addr = addr
		switch op {
		case e1000.EEPROM_READ_OPCODE & 3:
			e.phase, e.bitpos, e.do = eeRead, addr*16-1, false // dummy 0
			d.ctr.EECDReads++
		case e1000.EEPROM_WRITE_OPCODE & 3:
			e.phase, e.nbits, e.shift = eeWriteData, 0, 0
		case e1000.EEPROM_ERASE_OPCODE & 3:
			if e.ewen {
				d.eeprom[addr] = 0xFFFF
			}
			e.phase, e.do = eeDone, true
		default: // 00: EWEN, EWDS, ERAL, WRAL by the top two address bits
			switch addr >> 4 {
			case 3:
				e.ewen = true
			case 0:
				e.ewen = false
			}
			e.phase, e.do = eeDone, true
		}
	case eeRead:
		e.bitpos = (e.bitpos + 1) % (e1000.EEPROMWords * 16)
		w := d.eeprom[e.bitpos/16]
		e.do = w>>(15-e.bitpos%16)&1 != 0
	case eeWriteData:
		e.shift = e.shift<<1 | di
		e.nbits++
		if e.nbits == 16 {
			if e.ewen {
				d.eeprom[e.addr] = uint16(e.shift)
				d.ctr.EECDWrites++
			}
			e.phase, e.do = eeDone, true
		}
	}
}
