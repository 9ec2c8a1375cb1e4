package driver

import (
	"fmt"

	"github.com/nicbed/nicbed/kernelmodel/ethtool"
)

// Ring sizes (e1000.h: E1000_DEFAULT_TXD/RXD, E1000_MIN_TXD/RXD,
// E1000_MAX_82544_TXD/RXD, REQ_TX/RX_DESCRIPTOR_MULTIPLE).
const (
	DefaultRxDescriptors = 256
	DefaultTxDescriptors = 256
	MinDescriptors       = 80
	MaxDescriptors       = 4096
	DescriptorMultiple   = 8
)

// Buffer sizes and thresholds.
const (
	// RxBufferSize is the size of a receive buffer (E1000_RXBUFFER_2048,
	// RCTL.BSIZE = 00, BSEX = 0).
	RxBufferSize = 2048
	// TxBufferSize is the largest chunk one transmit descriptor carries
	// (E1000_MAX_DATA_PER_TXD): each transmit slot has a buffer this big.
	TxBufferSize = 4096
	// RxBufferWrite is how many cleaned receive descriptors are gathered
	// before they are given back with a tail write (E1000_RX_BUFFER_WRITE).
	RxBufferWrite = 16
	// TxWakeThreshold is how many free transmit descriptors wake a stopped
	// queue (TX_WAKE_THRESHOLD).
	TxWakeThreshold = 32
	// MaxSKBFrags is MAX_SKB_FRAGS. A frame here is copied into 4096-byte
	// buffers, so a 64 KiB TSO frame takes at most MaxSKBFrags data
	// descriptors, as a linear head plus MAX_SKB_FRAGS page fragments do
	// in Linux.
	MaxSKBFrags = 17
	// DescNeeded is the worst-case number of descriptors a frame takes:
	// a context descriptor, MaxSKBFrags data descriptors, and one spare
	// (e1000_xmit_frame's desc_needed, MAX_SKB_FRAGS + 2). The queue is
	// stopped when fewer are free.
	DescNeeded = MaxSKBFrags + 2
	// MaxJumboFrameSize is the largest frame the 82540EM takes with
	// RCTL.LPE (MAX_JUMBO_FRAME_SIZE, 0x3F00), FCS included.
	MaxJumboFrameSize = 0x3F00
	// MaxTSOSize is the largest skb transmitted (GSO_MAX_SIZE).
	MaxTSOSize = 65536
)

// Ethernet sizes.
const (
	ethHLen        = 14   // ETH_HLEN
	ethZLen        = 60   // ETH_ZLEN
	ethFCSLen      = 4    // ETH_FCS_LEN
	vlanHLen       = 4    // VLAN_HLEN
	ethDataLen     = 1500 // ETH_DATA_LEN
	ethMinMTU      = 46   // the smallest MTU e1000_change_mtu takes (ETH_ZLEN - ETH_HLEN)
	maxStdJumboMTU = MaxJumboFrameSize - ethHLen - ethFCSLen
)

// InterruptThrottleRate modes (e1000_param.c).
const (
	ITROff          = 0 // no throttling: one interrupt per cause
	ITRDynamic      = 1 // dynamic: e1000_set_itr after every poll
	ITRConservative = 3 // dynamic conservative (the default): never lowest_latency
	ITRSimplified   = 4 // simplified: 2000–8000 ints/s from the watchdog
	DefaultITR      = ITRConservative
	MinITRRate      = 100    // smallest fixed rate, ints/s
	MaxITRRate      = 100000 // largest fixed rate, ints/s
)

// Interrupt delay defaults in 1.024 µs units (e1000_param.c: DEFAULT_RDTR,
// DEFAULT_RADV, DEFAULT_TIDV, DEFAULT_TADV) and the register's maximum.
const (
	DefaultRxIntDelay    = 0
	DefaultRxAbsIntDelay = 8
	DefaultTxIntDelay    = 8
	DefaultTxAbsIntDelay = 32
	MaxIntDelay          = 0xFFFF
)

// Options are the driver's module parameters (e1000_param.c) and what else
// Probe needs. The zero value means Linux's defaults.
type Options struct {
	// Name is the interface name; "" picks the first free ethN.
	Name string
	// RxDescriptors and TxDescriptors are the ring sizes (RxDescriptors=,
	// TxDescriptors=): 80–4096, rounded up to a multiple of 8; 0 means 256.
	RxDescriptors, TxDescriptors int
	// InterruptThrottleRate (InterruptThrottleRate=): 0 off, 1 dynamic,
	// 3 dynamic conservative, 4 simplified, or a fixed rate of 100–100000
	// interrupts per second. nil means 3.
	InterruptThrottleRate *int
	// RxIntDelay, RxAbsIntDelay, TxIntDelay and TxAbsIntDelay are RDTR,
	// RADV, TIDV and TADV in 1.024 µs units (RxIntDelay= ...); nil means
	// 0, 8, 8 and 32.
	RxIntDelay, RxAbsIntDelay, TxIntDelay, TxAbsIntDelay *int
	// MTU is the initial MTU; 0 means 1500. Above 1500 the receiver takes
	// long frames (RCTL.LPE) that span several 2048-byte buffers.
	MTU int
}

// Int returns a pointer to v, for the *int fields of Options.
func Int(v int) *int { return &v }

// checkITR validates an InterruptThrottleRate value (e1000_check_options).
func checkITR(v int) error {
	switch {
	case v == ITROff, v == ITRDynamic, v == ITRConservative, v == ITRSimplified:
		return nil
	case v >= MinITRRate && v <= MaxITRRate:
		return nil
	}
	return fmt.Errorf("e1000: InterruptThrottleRate %d: must be 0, 1, 3, 4 or %d-%d", v, MinITRRate, MaxITRRate)
}

// checkRingCount validates a ring size the way e1000_set_ringparam and
// e1000_check_options bound it: 80–4096, rounded up to a multiple of 8.
func checkRingCount(what string, n int) (int, error) {
	return ethtool.CheckRingCount("e1000", what, n, MinDescriptors, MaxDescriptors, DescriptorMultiple)
}

func checkDelay(what string, p *int, def int) (uint32, error) {
	if p == nil {
		return uint32(def), nil
	}
	if *p < 0 || *p > MaxIntDelay {
		return 0, fmt.Errorf("e1000: %s %d out of range 0-%d", what, *p, MaxIntDelay)
	}
	return uint32(*p), nil
}

func checkMTU(mtu int) error {
	if mtu < ethMinMTU || mtu > maxStdJumboMTU {
		return fmt.Errorf("e1000: MTU %d out of range %d-%d", mtu, ethMinMTU, maxStdJumboMTU)
	}
	return nil
}

// itrRegister converts a rate in interrupts per second to the ITR
// register's interval in 256 ns units as Linux does (e1000_configure_rx,
// e1000_set_itr: 1000000000 / (itr * 256), truncated), so the register
// holds what Linux writes; the device may then exceed the rate slightly
// (8000 gives 488 units, 8004.6/s; 70000 gives 55, 71022/s).
func itrRegister(rate int) uint32 {
	if rate <= 0 {
		return 0
	}
	v := 1_000_000_000 / (uint64(rate) * 256)
	if v > 0xFFFF {
		v = 0xFFFF
	}
	return uint32(v)
}
