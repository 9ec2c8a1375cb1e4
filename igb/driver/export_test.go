package driver

import "github.com/nicbed/nicbed/hw/pci"

// What the external tests (package driver_test) see of the driver's
// insides.

// RingIndices are a ring's next_to_clean, next_to_use and size.
type RingIndices struct{ NTC, NTU, Count int }

// RxRing reports receive ring q's indices.
func (a *Adapter) RxRing(q int) RingIndices {
	r := a.rx[q]
	return RingIndices{r.NTC, r.NTU, r.Count()}
}

// TxRing reports transmit ring q's indices.
func (a *Adapter) TxRing(q int) RingIndices {
	r := a.tx[q]
	return RingIndices{r.NTC, r.NTU, r.Count()}
}

// HeadWriteBackAddr is transmit ring q's head write-back word, if any.
func (a *Adapter) HeadWriteBackAddr(q int) (uint64, bool) {
	r := a.tx[q]
	return uint64(r.head.Addr), r.head.Bytes != nil
}

// EIMSOf is q_vector i's EIMS bit.
func (a *Adapter) EIMSOf(i int) uint32 { return a.qv[i].eimsValue }

// countingBAR counts the driver's writes to one register.
type countingBAR struct {
	pci.BAR
	off uint32
	n   *int
}

func (b countingBAR) Write32(off, v uint32) {
	if off == b.off {
		*b.n++
	}
	b.BAR.Write32(off, v)
}

// CountWrites counts, from now on, the driver's writes to register off (a
// doorbell: TDT).
func (a *Adapter) CountWrites(off uint32) *int {
	n := new(int)
	a.hw = countingBAR{a.hw, off, n}
	return n
}
