package nvm

import (
	"errors"
	"fmt"
	"time"
)

// This file is the driver side: reading the image through EERD, checking
// its checksum and taking the Ethernet address from it, as Intel's shared
// code does for e1000 and igb (e1000_read_nvm_eerd,
// e1000_validate_nvm_checksum_generic, e1000_read_mac_addr_generic).

// Regs is what a driver reads and writes device registers through (a
// pci.BAR).
type Regs interface {
	Read32(off uint32) uint32
	Write32(off, v uint32)
}

// ErrTimeout is wrapped by ReadWord's error when DONE never comes.
var ErrTimeout = errors.New("EERD.DONE not set")

// ErrChecksum is wrapped by Validate's error when the image does not sum to
// Sum.
var ErrChecksum = errors.New("the EEPROM checksum is not valid")

// ErrInvalidMAC is wrapped by ReadMAC's error for a multicast or all-zero
// Ethernet address.
var ErrInvalidMAC = errors.New("invalid MAC address")

// ReadWord is e1000_read_nvm_eerd with e1000_poll_eerd_eewr_done: start a
// read of word through the EERD register at reg of r and look for DONE up
// to polls times, calling udelay(delay) after each look that finds it clear
// (Linux: udelay(5), 100000 times).
func (e EERD) ReadWord(r Regs, reg uint32, word, polls int, delay time.Duration, udelay func(time.Duration)) (uint16, error) {
	r.Write32(reg, uint32(word)<<e.AddrShift&e.AddrMask|e.Start)
	for range polls {
		if v := r.Read32(reg); v&e.Done != 0 {
			return uint16(v >> e.DataShift), nil
		}
		udelay(delay)
	}
	return 0, fmt.Errorf("EEPROM read of word %#x: %w after %v", word, ErrTimeout, time.Duration(polls)*delay)
}

// Validate is e1000_validate_nvm_checksum: the words 0x00–0x3F, read with
// read, must sum to Sum.
func Validate(read func(word int) (uint16, error)) error {
	var sum uint16
	for i := 0; i <= ChecksumWord; i++ {
		w, err := read(i)
		if err != nil {
			return err
		}
		sum += w
	}
	if sum != Sum {
		return fmt.Errorf("%w: words 0x00-0x3F sum to %#04x, want %#04x", ErrChecksum, sum, Sum)
	}
	return nil
}

// ReadMAC is e1000_read_mac_addr: the Ethernet address in words 0–2, low
// byte first; a multicast or all-zero address is an error wrapping
// ErrInvalidMAC (is_valid_ether_addr).
func ReadMAC(read func(word int) (uint16, error)) ([6]byte, error) {
	var w [3]uint16
	for i := range w {
		v, err := read(i)
		if err != nil {
			return [6]byte{}, err
		}
		w[i] = v
	}
	mac := MACAddr(w[:])
	if mac[0]&1 != 0 || mac == [6]byte{} {
		return [6]byte{}, fmt.Errorf("%w %02x:%02x:%02x:%02x:%02x:%02x", ErrInvalidMAC, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5])
	}
	return mac, nil
}
