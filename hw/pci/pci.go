// Package pci models what a driver sees of a PCI function: configuration space
// (IDs, class, command register with bus-master enable, BARs, the capability
// list with MSI and MSI-X) and memory BARs, reached with 32-bit register
// accesses at an offset.
//
// A device model implements Function; so does a VFIO-opened device in a QEMU
// guest. The driver never imports a model: it holds a Function.
package pci

// BAR is a memory-mapped register window: 32-bit reads and writes at a byte
// offset (readl/writel). Offsets that are not 4-byte aligned or lie outside the
// BAR read as all ones and ignore writes, as on a real bus.
type BAR interface {
	Read32(off uint32) uint32
	Write32(off uint32, val uint32)
}

// Function is one PCI function: its configuration space and its BARs.
type Function interface {
	// ConfigRead reads size (1, 2 or 4) bytes of configuration space at off.
	ConfigRead(off, size int) uint32
	// ConfigWrite writes size (1, 2 or 4) bytes of configuration space at off.
	ConfigWrite(off, size int, val uint32)
	// BAR returns the memory BAR with index i (0..5), or nil if there is none.
	BAR(i int) BAR
}

// Configuration space offsets (PCI Local Bus Specification 3.0, 6.1).
const (
	VendorID      = 0x00
	DeviceID      = 0x02
	Command       = 0x04
	Status        = 0x06
	RevisionID    = 0x08
	ClassProg     = 0x09 // programming interface; class code is 0x09..0x0B
	CacheLineSize = 0x0C
	HeaderType    = 0x0E
	BAR0          = 0x10
	SubVendorID   = 0x2C
	SubSystemID   = 0x2E
	CapPtr        = 0x34
	InterruptLine = 0x3C
	InterruptPin  = 0x3D
)

// Command register bits (6.2.2).
const (
	CommandIO          = 1 << 0
	CommandMemory      = 1 << 1
	CommandBusMaster   = 1 << 2
	CommandINTxDisable = 1 << 10
)

// Status register bits (6.2.3).
const (
	StatusINTx    = 1 << 3
	StatusCapList = 1 << 4
)

// Capability IDs (Appendix H).
const (
	CapPM   = 0x01
	CapMSI  = 0x05
	CapPCIe = 0x10
	CapMSIX = 0x11
)
