package model

import "reflect"

// Counters are the model's own counters (not device registers): what it did,
// and every hostile or impossible request it refused, each under its own
// name. Device.Counters returns a copy.
type Counters struct {
	// Registers and PCI.
	RegUnknown    uint64 // accesses to offsets with no register (read 0, write ignored)
	BadRingLength uint64 // RDLEN/TDLEN writes of 0 or not a multiple of 128 (low bits dropped)
	BadRingIndex  uint64 // RDH/RDT/TDH/TDT writes at or beyond the ring's end
	Resets        uint64 // CTRL.RST
	EERDReads     uint64 // EEPROM words read through EERD
	EECDReads     uint64 // READ commands bit-banged through EECD
	EECDWrites    uint64 // words written through EECD (after EWEN)
	MDIOAccesses  uint64 // MDIC operations
	MDIOBadAccess uint64 // MDIC operations to another PHY address or with a bad opcode (ERROR set)
	PHYResets     uint64 // PHY hardware or software resets
	// Link.
	AutonegCompleted uint64 // autonegotiations that brought the PHY link up
	LinkChanges      uint64 // STATUS.LU changes (each raised LSC)

	// Interrupts.
	Causes       uint64 // cause-setting events (each may set several ICR bits)
	IRQAsserts   uint64 // INTA# assertions
	ITRDeferred  uint64 // assertions held back by ITR
	RxTimerFired uint64 // RDTR/RADV expiries (RXT0)
	TxTimerFired uint64 // TIDV/TADV expiries (TXDW)

	// Receive.
	RxArrived       uint64 // frames the wire delivered
	RxFrames        uint64 // frames stored in the ring and written back
	RxDescriptors   uint64 // receive descriptors written back
	RxLinkDown      uint64 // dropped: arrived with the link down
	RxDisabled      uint64 // dropped: RCTL.EN clear
	RxNoBusMaster   uint64 // dropped: bus mastering disabled (also MPC)
	RxRunt          uint64 // dropped: shorter than an Ethernet header (also RUC)
	RxPadded        uint64 // shorter than 60 bytes: padded with zeros, as a MAC would have sent them
	RxOversize      uint64 // dropped: longer than the maximum frame for RCTL.LPE (also ROC)
	RxFiltered      uint64 // dropped: failed the destination address filter
	RxVLANFiltered  uint64 // dropped: VLAN ID not in VFTA (RCTL.VFE)
	RxFIFOQueued    uint64 // kept in the receive FIFO for want of descriptors (RNBC)
	RxFIFODrained   uint64 // stored from the FIFO once descriptors came
	RxFIFOOverflow  uint64 // dropped: the receive FIFO was full (MPC, RXO)
	RxFIFOFlushed   uint64 // dropped from the FIFO by RCTL.EN clear or a reset
	RxFIFOMax       uint64 // most bytes the FIFO held
	RxTooManyDescs  uint64 // dropped: needs more descriptors than the ring has (MPC, RXO)
	RxNoDescriptors uint64 // QEMU profile: dropped, too few free descriptors (RNBC, MPC, RXO)
	RxHeld          uint64 // QEMU profile: held back by the net layer (RX hold, ring empty, link down, ...)
	RxHeldDelivered uint64 // QEMU profile: held frames delivered later
	RxHeldDropped   uint64 // QEMU profile: dropped, the held queue was full
	RxBadRing       uint64 // dropped: RDLEN 0 or RDH/RDT outside the ring (also MPC)
	RxBadBufferSize uint64 // dropped: reserved RCTL.BSIZE/BSEX encoding (also MPC)
	RxDescFaults    uint64 // dropped: descriptor ring outside DMA memory (also MPC)
	RxBufferFaults  uint64 // buffers outside DMA memory: data lost, descriptor written back with RXE
	RxMaxDescs      uint64 // most descriptors one frame used

	// Transmit.
	TxDoorbells          uint64 // TDT writes
	TxRuns               uint64 // transmit DMA activations (doorbell, timer, link up, ...)
	TxDescriptors        uint64 // descriptors processed
	TxMaxRun             uint64 // most descriptors processed in one activation
	TxRingBound          uint64 // activations stopped after one ring's worth of descriptors
	TxFrames             uint64 // frames handed to the link (TSO segments included)
	TxBytes              uint64 // bytes of those frames (no FCS)
	TxTSOPackets         uint64 // TSO packets completed
	TxTSOSegments        uint64 // frames TSO cut
	TxPaced              uint64 // times transmit DMA paused with the wire a TX FIFO behind
	TxNoLink             uint64 // frames the link refused (Transmit not ok)
	TxBadRing            uint64 // activations refused: TDLEN 0 or TDH/TDT outside the ring
	TxDescFaults         uint64 // descriptor ring outside DMA memory (transmit stalls)
	TxBufferFaults       uint64 // buffers outside DMA memory (packet dropped)
	TxZeroLength         uint64 // data or legacy descriptors with length 0
	TxEmptyPackets       uint64 // EOP with no data: nothing sent
	TxOversize           uint64 // packets beyond the maximum frame (chains without EOP): dropped
	TxTSOInvalid         uint64 // TSO with MSS 0, header length inconsistent with the offsets, or segment too large: dropped
	TxTSOPaylenMismatch  uint64 // TSO packets whose payload differs from the context's PAYLEN (sent as given)
	TxBadChecksumOffsets uint64 // checksum start/offset outside the packet: checksum not inserted
	TxBadDescType        uint64 // extended descriptors with a reserved DTYP: skipped
	TxContextInPacket    uint64 // context descriptors in the middle of a packet
}

// Each calls f with every counter's name (the field name) and value, in
// declaration order: for printing (nicbed demo) without listing fields.
func (c Counters) Each(f func(name string, v uint64)) {
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := range t.NumField() {
		f(t.Field(i).Name, v.Field(i).Uint())
	}
}
