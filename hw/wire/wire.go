// Package wire is where frames leave a NIC port and where they arrive: the
// link a NIC model transmits into, the endpoint it receives on, an in-memory
// Cable between two ports, a pcap writer to record what crossed it, and on
// Linux a Port that puts a NIC model's wire side on a real device (a TAP or
// an AF_PACKET socket on an existing interface; see PortConfig).
//
// A frame on the wire is an Ethernet frame from the destination MAC address
// to the end of the payload, padding included: no preamble, no SFD and no FCS.
// The NIC adds the FCS when it transmits and checks and strips it when it
// receives, so the wire never carries it; a model that must hand the FCS to
// the host (RCTL.SECRC clear) computes it.
//
// Everything here runs on the clock's loop (see hw.Clock): a NIC model calls
// Transmit from the loop, and a cable calls Receive and LinkChange from the
// loop. Nothing in this package is safe for use from other goroutines, except
// PcapWriter and a Port's Stats, Err, Name and Close (a Port's own goroutines
// meet the loop only through its Inbox and Outbox).
package wire

import "time"

// Endpoint is the receive side of a NIC port: what a cable delivers into.
type Endpoint interface {
	// Receive is called on the loop with one frame. The frame is valid
	// only during the call: a NIC model copies it (into a receive
	// descriptor's buffer by DMA) or drops it before returning.
	Receive(frame []byte)
	// LinkChange reports that the link went up or down (for a NIC model:
	// STATUS.LU and the LSC interrupt cause).
	LinkChange(up bool)
}

// Link is the transmit side of a NIC port: what a NIC model transmits into.
type Link interface {
	// Transmit puts frame on the wire. The frame is copied; the caller
	// may reuse it at once. done is the clock time at which the frame will
	// have finished serializing onto the wire: a NIC model paces its
	// transmit DMA with it, as a TX FIFO drains at line rate. ok is false
	// when the frame was dropped without being sent (link down, queue
	// full, bad size); every drop is counted.
	Transmit(frame []byte) (done time.Duration, ok bool)
	// Up reports whether the link is up.
	Up() bool
}

// Ethernet framing overheads that cost time on the wire but are not part of
// a frame as this package carries it (IEEE 802.3, clauses 3 and 4).
const (
	FCSLen      = 4  // frame check sequence
	MinFrameLen = 64 // minimum frame, FCS included: shorter frames are padded
	// Overhead is what each frame costs on the wire beyond its bytes:
	// 7 bytes preamble, 1 byte SFD and a 12-byte inter-frame gap.
	Overhead = 20
)

// WireTime is how long a frame of n bytes (without FCS) occupies a link of
// speedBPS bits per second: (max(n+4, 64) + 20) * 8 bits. At 1 Gb/s a 60-byte
// frame takes 672 ns and a 1514-byte frame 12.304 µs. A speed of 0 means an
// infinitely fast link.
func WireTime(n int, speedBPS uint64) time.Duration {
	if speedBPS == 0 {
		return 0
	}
	bits := uint64(max(n+FCSLen, MinFrameLen)+Overhead) * 8
	return time.Duration(bits * uint64(time.Second) / speedBPS)
}
