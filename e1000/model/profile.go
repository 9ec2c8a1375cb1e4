package model

import "time"

// Profile selects the behaviour of the model where QEMU's e1000 departs from
// the datasheet (see the package documentation, "QEMU profile").
type Profile uint8

const (
	// ProfileDatasheet follows the 8254x Software Developer's Manual.
	ProfileDatasheet Profile = iota
	// ProfileQEMU behaves like QEMU's emulated e1000 (hw/net/e1000.c and
	// hw/net/e1000x_common.c, QEMU 10), the device the VFIO path meets.
	ProfileQEMU
)

func (p Profile) String() string {
	if p == ProfileQEMU {
		return "qemu"
	}
	return "datasheet"
}

// QEMU profile constants.
const (
	// QEMUAutonegDelay is QEMU's autonegotiation time (e1000x_restart_autoneg
	// arms its timer 500 ms ahead).
	QEMUAutonegDelay = 500 * time.Millisecond
	// QEMURxHold is how long QEMU refuses frames after an RCTL write
	// (set_rx_control arms flush_queue_timer 1000 ms ahead).
	QEMURxHold = time.Second
	// qemuMitFloor is the shortest mitigation delay QEMU uses: 500 units
	// of 256 ns (128 µs), the datasheet's 7813 interrupts/s.
	qemuMitFloor = 500
	// QEMU's net layer queues at most 10000 packets per receiver
	// (net/queue.c); the model also bounds the bytes they take.
	qemuHeldFrames = 10000
	qemuHeldBytes  = 64 << 20
)
