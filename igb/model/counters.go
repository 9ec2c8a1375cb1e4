package model

// Counters are the model's own counts: what the device did and every
// hostile or impossible request it refused. They are not device registers.
type Counters struct {
	Resets          uint64 // CTRL.RST / CTRL.DEV_RST
	PHYResets       uint64
	EERDReads       uint64
	MDICAccesses    uint64
	MDICErrors      uint64 // MDIC to a PHY address other than 1, or a bad opcode
	Causes          uint64 // ICR causes raised
	Interrupts      uint64 // messages emitted (MSI-X, MSI) or INTA# assertions
	MSIXPending     uint64 // emitted while the vector was masked: PBA set instead
	Throttled       uint64 // events EITR made wait
	UnmappedCauses  uint64 // a cause whose IVAR byte is not valid: lost
	BadVector       uint64 // IVAR or EICS named a vector beyond the MSI-X table
	BadRegReads     uint64 // reads of unimplemented registers
	BadRegWrites    uint64 // writes to unimplemented or read-only registers
	RxFrames        uint64 // frames written into a receive ring
	RxDropped       uint64 // frames dropped: receiver disabled, link down, bad length
	RxFiltered      uint64 // frames the destination filter refused
	RxQueueDisabled uint64 // frames for a queue with RXDCTL.ENABLE clear
	RxLegacyDesc    uint64 // frames for a queue with legacy descriptors (not modelled)
	RxBadRing       uint64 // RDLEN zero, not a multiple of 128 or too large
	RxBadIndex      uint64 // RDH or RDT outside the ring
	RxNoBusMaster   uint64 // frames that arrived with bus mastering off
	RxNoDesc        uint64 // frames dropped for want of descriptors (DROP_EN, or more than the ring)
	RxTooManyDescs  uint64 // frames needing more descriptors than the ring has
	RxPadded        uint64 // QEMU: frames shorter than 60 bytes padded (RUC)
	RxFIFOQueued    uint64 // frames that waited in the receive packet buffer
	RxFIFODrained   uint64 // waiting frames stored when descriptors came
	RxFIFOOverflow  uint64 // frames lost to a full packet buffer (MPC, RXO)
	RxFIFOFlushed   uint64 // waiting frames dropped by RCTL.EN clear or reset
	RxFIFOMax       uint64 // the most bytes the packet buffer held
	RxHeld          uint64 // QEMU: frames the net layer held (no descriptor, link down ...)
	RxHeldDelivered uint64 // QEMU: held frames delivered later
	RxHeldDropped   uint64 // QEMU: frames lost to a full net-layer queue
	RxOverrun       uint64 // QEMU: frames whose queue had too few descriptors (RXO, uncounted)
	DMAFaults       uint64 // descriptor or buffer accesses outside DMA memory
	TxFrames        uint64 // frames put on the wire
	TxBadRing       uint64 // TDLEN zero, not a multiple of 128 or too large
	TxBadIndex      uint64 // TDH or TDT outside the ring
	TxLegacyDesc    uint64 // legacy transmit descriptors (not modelled): skipped
	TxBadDesc       uint64 // advanced descriptors of an unknown type: skipped
	TxTooLong       uint64 // packets longer than the model gathers or sends
	TxDropped       uint64 // packets dropped at EOP (overflow or DMA fault)
	TxBadTSO        uint64 // TSO contexts hw/offload refused
	TxBadCsum       uint64 // checksum offsets outside the packet
	TxNoLink        uint64 // frames the link refused (or, QEMU, a down link lost)
	TxPaced         uint64 // transmit DMA stopped to wait for the wire
}
