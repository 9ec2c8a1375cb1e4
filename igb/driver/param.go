package driver

import (
	"fmt"
	"time"

	"github.com/nicbed/nicbed/hw/rss"
	"github.com/nicbed/nicbed/kernelmodel/ethtool"
)

// Ring sizes (igb.h: IGB_DEFAULT_TXD/RXD, IGB_MIN_TXD/RXD, IGB_MAX_TXD/RXD,
// REQ_TX/RX_DESCRIPTOR_MULTIPLE).
const (
	DefaultRxDescriptors = 256
	DefaultTxDescriptors = 256
	MinDescriptors       = 64
	MaxDescriptors       = 4096
	DescriptorMultiple   = 8
)

// Queues and vectors.
const (
	// MaxRSSQueues is the most RSS queues igb uses on the 82576
	// (IGB_MAX_RX_QUEUES: igb_init_queue_configuration's max_rss_queues).
	MaxRSSQueues = 8
	// NonQVectors is the one vector for the other causes
	// (NON_Q_VECTORS).
	NonQVectors = 1
	// RETASize is the redirection table's entries (IGB_RETA_SIZE).
	RETASize = 128
)

// Buffer sizes and thresholds.
const (
	// RxBufferSize is a receive buffer (IGB_RXBUFFER_2048; SRRCTL
	// BSIZEPACKET 2 KiB).
	RxBufferSize = 2048
	// RxHdrLen is IGB_RX_HDR_LEN, SRRCTL's header buffer size (unused
	// with one-buffer descriptors, programmed as Linux does).
	RxHdrLen = 256
	// TxBufferSize is the most one transmit slot carries: each slot has a
	// DMA buffer this big that the frame is copied into (Linux maps the
	// skb and sends up to IGB_MAX_DATA_PER_TXD, 32 KiB, per descriptor).
	TxBufferSize = 4096
	// RxBufferWrite is how many cleaned receive descriptors are gathered
	// before they are given back with a tail write (IGB_RX_BUFFER_WRITE).
	RxBufferWrite = 16
	// TxWorkLimit is how many frames one igb_clean_tx_irq takes
	// (IGB_DEFAULT_TX_WORK).
	TxWorkLimit = 128
	// MaxSKBFrags is MAX_SKB_FRAGS: a 64 KiB TSO frame copied into
	// 4096-byte slots takes at most this many data descriptors.
	MaxSKBFrags = 17
	// DescNeeded is DESC_NEEDED (MAX_SKB_FRAGS + 4): the queue is stopped
	// when fewer descriptors are free.
	DescNeeded = MaxSKBFrags + 4
	// TxWakeThreshold is TX_WAKE_THRESHOLD (DESC_NEEDED * 2).
	TxWakeThreshold = DescNeeded * 2
	// MaxTSOSize is the largest skb transmitted (GSO_MAX_SIZE).
	MaxTSOSize = 65536
	// MaxJumboFrameSize is MAX_JUMBO_FRAME_SIZE: the largest frame, FCS
	// included.
	MaxJumboFrameSize = 9728
)

// Ethernet sizes.
const (
	ethHLen    = 14   // ETH_HLEN
	ethZLen    = 60   // ETH_ZLEN
	ethFCSLen  = 4    // ETH_FCS_LEN
	vlanHLen   = 4    // VLAN_HLEN
	ethDataLen = 1500 // ETH_DATA_LEN
	ethMinMTU  = 68   // ETH_MIN_MTU
	maxMTU     = MaxJumboFrameSize - ethHLen - ethFCSLen - vlanHLen
)

// Interrupt throttle values in EITR units (4 × µs on the 82576: the
// interval field is bits 14:2), as igb.h defines them.
const (
	StartITR = 648 // IGB_START_ITR: ~6000 ints/s
	ITR4K    = 980 // IGB_4K_ITR
	ITR20K   = 196 // IGB_20K_ITR
	ITR70K   = 56  // IGB_70K_ITR
	// DefaultITRSetting is IGB_DEFAULT_ITR: rx/tx_itr_setting 3, the
	// conservative adaptive mode.
	DefaultITRSetting = 3
	minITRUsecs       = 10    // IGB_MIN_ITR_USECS
	maxITRUsecs       = 10000 // IGB_MAX_ITR_USECS
)

// Waits for the hardware, as Linux's igb and Intel's shared code bound
// them.
const (
	eerdPolls     = 100000 // E1000_NVM_POLL_READ iterations ...
	eerdPollDelay = 5 * time.Microsecond
	// resetPolls × resetPollDelay bound the wait for CTRL.RST to clear
	// after the 82576's reset; igb_reset_hw_82575 then waits for the
	// EEPROM auto-read (EECD.AUTO_RD) as long again.
	resetPolls     = 10
	resetPollDelay = time.Millisecond
)

// Options are the driver's parameters (module parameters and what else
// Probe needs). The zero value means Linux's defaults.
type Options struct {
	// Name is the interface name; "" picks the first free ethN.
	Name string
	// Queues is the number of RSS queue pairs (ethtool -L combined); 0
	// means one per CPU, at most MaxRSSQueues (rss_queues =
	// min(num_online_cpus(), max_rss_queues)).
	Queues int
	// RxDescriptors and TxDescriptors are the ring sizes of every queue:
	// 64–4096, rounded up to a multiple of 8; 0 means 256.
	RxDescriptors, TxDescriptors int
	// MTU is the initial MTU; 0 means 1500.
	MTU int
	// NoMSIX and NoMSI keep the driver from MSI-X, or from MSI-X and MSI
	// (the fallbacks of igb_set_interrupt_capability; the module has no
	// such parameter, a platform without the capability does it).
	NoMSIX, NoMSI bool
	// RSSKey is the 40-byte RSS key; nil means DefaultRSSKey (Linux: a
	// random key, netdev_rss_key_fill).
	RSSKey []byte
	// HeadWriteBack has the device write each transmit queue's head to
	// memory (TDWBAL/TDWBAH) and igb_clean_tx_irq use it instead of the
	// descriptors' DD (Linux's igb uses DD).
	HeadWriteBack bool
}

// DefaultRSSKey is the RSS key the driver programs by default: the key of
// Microsoft's RSS verification suite (hw/rss), so runs are reproducible.
var DefaultRSSKey = rss.MicrosoftKey

// checkRingCount validates a ring size the way igb_set_ringparam bounds it:
// 64–4096, rounded up to a multiple of 8.
func checkRingCount(what string, n int) (int, error) {
	return ethtool.CheckRingCount("igb", what, n, MinDescriptors, MaxDescriptors, DescriptorMultiple)
}

func checkMTU(mtu int) error {
	if mtu < ethMinMTU || mtu > maxMTU {
		return fmt.Errorf("igb: MTU %d out of range %d-%d", mtu, ethMinMTU, maxMTU)
	}
	return nil
}
