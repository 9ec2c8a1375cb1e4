// Package irq is how a device raises an interrupt: by driving a level-
// triggered INTx line, or by writing an MSI / MSI-X message. The kernel model
// implements both and turns them into hardirqs on the CPU the vector is affine
// to (see kernelmodel).
package irq

// Line is a level-triggered INTx line (PCI INTA#..INTD#). A device asserts it
// while any unmasked cause is pending (for the 82540EM: ICR & IMS != 0) and
// deasserts it when the causes are cleared or masked.
type Line interface {
	SetLevel(asserted bool)
}

// MessageSink receives MSI and MSI-X messages: the posted memory write a
// device makes to raise a vector. On x86 the address is in the 0xFEExxxxx
// window and the low 8 bits of data are the vector.
type MessageSink interface {
	WriteMSI(addr uint64, data uint32)
}

// NoLine is a Line that goes nowhere, for devices with interrupts disabled.
type NoLine struct{}

// SetLevel does nothing.
func (NoLine) SetLevel(bool) {}
