// Package driver is a driver for the Intel 82540EM (e1000) modelled on Linux's
// drivers/net/ethernet/intel/e1000, running in the kernel model
// (kernelmodel). It talks to the hardware only through a pci.BAR (MMIO
// registers), DMA memory from a dma.Allocator and the interrupt the platform
// routed the INTx pin to, so the same code drives the Go model of the NIC
// (e1000/model) and, through VFIO, QEMU's e1000.
//
// Each function that models a Linux one says so in its doc comment, with the
// Linux name, so that a reader who knows the Linux driver can grep for it:
//
//	e1000_probe            Probe
//	e1000_open / e1000_close   (*Adapter).Open / Stop (ndo_open / ndo_stop)
//	e1000_up / e1000_down / e1000_reinit_locked / e1000_reset
//	e1000_xmit_frame       (*Adapter).StartXmit (ndo_start_xmit)
//	e1000_tso / e1000_tx_csum / e1000_tx_map / e1000_tx_queue / e1000_maybe_stop_tx
//	e1000_intr             the INTx handler: ICR, IMC, napi_schedule
//	e1000_clean            the NAPI poll: e1000_clean_tx_irq, e1000_clean_rx_irq,
//	                       e1000_alloc_rx_buffers, napi_complete_done, e1000_set_itr
//	e1000_update_itr / e1000_set_itr   the InterruptThrottleRate algorithm
//	e1000_watchdog         link state, statistics, TX hang detection
//	e1000_update_stats     the statistics registers
//	e1000_configure_rx / e1000_configure_tx / e1000_setup_rctl
//	e1000_set_ringparam    (*Adapter).SetRingparam (ethtool -G)
//	e1000_get_ethtool_stats (*Adapter).EthtoolStats (ethtool -S)
//
// # Buffers
//
// Receive buffers are 2048 bytes of DMA memory (RCTL.BSIZE = 2048), one per
// ring slot, allocated when the device is opened and never per packet. A
// frame is copied out of its buffer into an skb from the kernel's pool (as
// Linux's copybreak path does for small frames) and the buffer goes straight
// back to the ring. Frames longer than one buffer (jumbo frames, RCTL.LPE)
// span several descriptors and are assembled into one skb.
//
// Transmit buffers are 4096 bytes of DMA memory per slot
// (E1000_MAX_DATA_PER_TXD): the skb's bytes are copied into the buffers of
// the slots a frame uses, since an skb's memory is not DMA memory here. The
// skb itself is kept until the device reports the frame sent, and freed then,
// exactly once.
//
// # The device is not trusted
//
// The driver reads only what it posted: it tracks which receive slots it gave
// the device (next_to_clean .. next_to_use) and takes the buffer address and
// size from its own books, never from a write-back. A write-back with DD on a
// slot it had not posted, a length larger than the buffer, an impossible
// status, a frame whose EOP never comes (longer than any legal frame) are
// counted (DriverCounters) and dropped; no buffer is read past its end and
// no buffer is lost (CheckInvariants).
package driver
