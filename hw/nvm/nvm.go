// Package nvm is what Intel NIC models share of their EEPROM (NVM): the
// image checksum (words 0x00–0x3F sum to 0xBABA) and the EERD register,
// through which software reads one word at a time. The 82540EM and the
// 82576 place EERD's fields differently; an EERD value says where.
package nvm

// Checksum words: words 0 through ChecksumWord sum to Sum in a valid image.
const (
	Sum          = 0xBABA
	ChecksumWord = 0x3F
)

// ImageSum is the sum of words 0x00–0x3F of an image (at least 64 words).
func ImageSum(w []uint16) uint16 {
	var s uint16
	for _, v := range w[:ChecksumWord+1] {
		s += v
	}
	return s
}

// MACAddr is the Ethernet address in words 0–2 of an image, each word's low
// byte first (the 8254x and 82576 layout).
func MACAddr(w []uint16) [6]byte {
	var m [6]byte
	for i := range 3 {
		m[2*i] = byte(w[i])
		m[2*i+1] = byte(w[i] >> 8)
	}
	return m
}

// PutMACAddr writes mac into words 0–2 of an image, the layout MACAddr reads.
func PutMACAddr(w []uint16, mac [6]byte) {
	for i := range 3 {
		w[i] = uint16(mac[2*i]) | uint16(mac[2*i+1])<<8
	}
}

// FixChecksum sets word 0x3F so that words 0x00–0x3F sum to Sum.
func FixChecksum(w []uint16) {
	w[ChecksumWord] = 0
	w[ChecksumWord] = Sum - ImageSum(w)
}

// EERD is where a device keeps the fields of its EEPROM Read register.
type EERD struct {
	Start     uint32 // start a read; self-clearing
	Done      uint32 // read done
	AddrShift uint   // the word address field ...
	AddrMask  uint32 // ... in place
	DataShift uint   // the data field, bits 31:DataShift
}

// Write is the register's new value after software wrote v, and whether a
// word was read: with Start set the word at the address (wrapping at the
// image's size) is read at once and Done and the data set; without Start
// only the address is kept and Done clears.
func (e EERD) Write(v uint32, image []uint16) (reg uint32, read bool) {
	addr := v & e.AddrMask
	if v&e.Start == 0 {
		return addr, false
	}
	word := image[int(addr>>e.AddrShift)%len(image)]
	return addr | e.Done | uint32(word)<<e.DataShift, true
}
