// Package rxfilter is what Intel NIC models share of their receive address
// filtering: the multicast table array's hash.
package rxfilter

// MTAIndex is the 12-bit multicast table array index of a destination
// address (8254x 13.4.x, 82576 8.10.x: RCTL.MO picks which 12 bits of the
// last two address bytes): bits 11:5 select the MTA register, bits 4:0 the
// bit in it.
func MTAIndex(dst []byte, mo uint32) uint32 {
	a4, a5 := uint32(dst[4]), uint32(dst[5])
	var h uint32
	switch mo & 3 {
	case 0:
		h = a4>>4 | a5<<4
	case 1:
		h = a4>>3 | a5<<5
	case 2:
		h = a4>>2 | a5<<6
	case 3:
		h = a4 | a5<<8
	}
	return h & 0xFFF
}
