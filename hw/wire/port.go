package wire

import "github.com/nicbed/nicbed/hw"

// Inbox is the bounded queue through which a port's reader hands work to
// the loop: a *kernelmodel.Source (Clock.NewSource). TryPost never blocks;
// it returns an error when the inbox is full.
type Inbox interface {
	TryPost(f func()) error
}

// Outbox carries frames from the loop to the device without blocking: a
// *kernelmodel.Outbox. Send copies frame and reports whether it was queued;
// Close writes what is queued and ends the outbox's goroutine.
type Outbox interface {
	Send(frame []byte) bool
	Close()
}

// Defaults of a PortConfig's zero fields.
const (
	DefaultRxBuffers = 256
	DefaultTxBuffers = 256
	// RxBatch is how many frames an AF_PACKET port takes with one
	// recvmmsg call, at most.
	RxBatch = 32
)

// PortConfig describes a Port (Linux only). A Port joins a NIC model's wire side to a Linux device:
// a TAP (OpenTap), an AF_PACKET socket bound to an existing interface
// (OpenPacket), or any datagram file descriptor (NewFdPort: one end of a
// SOCK_SEQPACKET socket pair, for tests and benchmarks without root). A Port
// is a Link (the model transmits into it) and delivers what it reads to an
// Endpoint (the model's port), on a real clock's loop:
//
//   - Receive: a reader goroutine reads frames into a fixed pool of buffers
//     (PortConfig.RxBuffers of MaxFrame bytes) and hands each to the loop
//     through the Inbox (a kernelmodel.Source), which calls
//     Endpoint.Receive and puts the buffer back in the pool. Nothing is
//     allocated per frame. When the loop is behind — the inbox is full, or
//     every buffer waits in it — the frame is read and dropped
//     (RxDroppedInbox, RxNoBuffer), as a NIC with no free descriptor
//     drops: memory never grows.
//   - Transmit: Transmit, on the loop, hands the frame to an Outbox
//     (kernelmodel.NewOutbox, made through PortConfig.NewOutbox), which
//     copies it and returns; the outbox's goroutine writes it to the
//     device. When every outbox buffer is in flight the frame is dropped
//     (TxDroppedOutbox): the loop never blocks on a write.
//
// Close ends the reader goroutine and the outbox, then closes the file
// descriptor; frames still in the inbox are then discarded, not delivered.
//
// hw/wire does not import the kernel model: a Port reaches the loop only
// through the small Inbox and Outbox interfaces below, which
// kernelmodel.Source and kernelmodel.Outbox satisfy.
type PortConfig struct {
	// Clock is the loop's clock (a real kernelmodel.Clock): Transmit's
	// done time is read from it.
	Clock hw.Clock
	// Inbox is where received frames wait for the loop (required):
	// clk.NewSource(name, n). Its capacity bounds the frames waiting.
	Inbox Inbox
	// NewOutbox makes the outbox of n buffers of maxFrame bytes in front
	// of send, the port's blocking write (required):
	//
	//	func(n, maxFrame int, send func([]byte)) wire.Outbox {
	//		return kernelmodel.NewOutbox(n, maxFrame, send)
	//	}
	NewOutbox func(n, maxFrame int, send func(frame []byte)) Outbox
	// Endpoint receives the frames read (it may be set later with
	// Port.Attach, before the first frame arrives; frames read while it is
	// nil are dropped and counted in RxNoEndpoint).
	Endpoint Endpoint
	// RxBuffers is the receive buffer pool's size (default
	// DefaultRxBuffers); TxBuffers the outbox's (default
	// DefaultTxBuffers).
	RxBuffers, TxBuffers int
	// MaxFrame is the largest frame carried either way, without FCS
	// (default DefaultMaxFrame). A longer frame read is dropped
	// (RxErrors); a longer one transmitted is dropped by the outbox.
	MaxFrame int
	// Pcap, if set, records every frame the port delivers to the
	// endpoint and every frame Transmit accepts, with the clock's time (as
	// Cable.SetPcap does for a cable).
	Pcap *PcapWriter
	// SpeedBPS is the line rate between the port and the NIC model, both
	// ways (0: an infinitely fast line). It paces Transmit's done time, so
	// a NIC model does not transmit faster than the outside can take, and
	// the frames read: they reach the endpoint one WireTime apart, as the
	// port of a switch feeds a slower link, the frames waiting in the
	// receive buffers meanwhile (the switch's queue: when every buffer
	// waits, a frame read is dropped, RxNoBuffer). Without it a fast Linux
	// sender's bursts would arrive all at once and overflow the NIC's
	// packet buffer, which no real link does.
	SpeedBPS uint64
}

// PortStats are a Port's counters. They are updated from the reader, the
// loop and the outbox, and read with Port.Stats from any goroutine.
type PortStats struct {
	RxFrames uint64 // frames delivered to the endpoint
	RxBytes  uint64 // their bytes
	// RxDroppedInbox counts frames read and dropped because the inbox was
	// full (the loop is behind).
	RxDroppedInbox uint64
	// RxNoBuffer counts frames read and dropped because every receive
	// buffer was waiting for the loop.
	RxNoBuffer uint64
	// RxNoEndpoint counts frames the loop dropped with no endpoint
	// attached (or after Close).
	RxNoEndpoint uint64
	// RxErrors counts failed reads and frames longer than MaxFrame.
	RxErrors uint64

	TxFrames uint64 // frames written to the device
	TxBytes  uint64 // their bytes
	// TxDroppedOutbox counts frames Transmit dropped because every
	// outbox buffer was in flight or the frame was larger than MaxFrame.
	TxDroppedOutbox uint64
	// TxDroppedDown counts frames Transmit dropped after Close.
	TxDroppedDown uint64
	// TxErrors counts failed writes.
	TxErrors uint64
}
