// Package driver is a driver for the Intel 82576 (igb) modelled on Linux
// 6.1's drivers/net/ethernet/intel/igb, running in the kernel model
// (kernelmodel). It talks to the hardware only through a pci.BAR (MMIO
// registers), DMA memory from a dma.Allocator and the interrupt vectors
// pci_alloc_irq_vectors gives it, so the same code drives the Go model of
// the NIC (igb/model) and, through VFIO, QEMU's igb.
//
// Each function that models a Linux one says so in its doc comment, with the
// Linux name, so that a reader who knows the Linux driver can grep for it:
//
//	igb_probe / igb_remove   Probe / (*Adapter).Remove
//	igb_sw_init              swInit (igb_init_queue_configuration in it)
//	igb_open / igb_close     (*Adapter).Open / Stop (ndo_open / ndo_stop)
//	igb_up / igb_down / igb_reinit_locked   up / down / reinitLocked
//	igb_reset                reset (igb_reset_hw_82575 resetHW, igb_init_hw_82575 initHW)
//	igb_configure            configure: igb_setup_tctl, igb_setup_mrqc, igb_setup_rctl,
//	                         igb_configure_tx_ring, igb_configure_rx_ring
//	igb_init_interrupt_scheme / igb_set_interrupt_capability / igb_alloc_q_vectors
//	                         initInterruptScheme / setInterruptCapability / allocQVectors
//	igb_request_irq / igb_request_msix / igb_free_irq   requestIRQ / requestMSIX / freeIRQ
//	igb_configure_msix / igb_assign_vector / igb_write_ivar   configureMSIX / assignVector / writeIVAR
//	igb_irq_enable / igb_irq_disable   irqEnable / irqDisable
//	igb_msix_ring / igb_msix_other / igb_intr   (*qVector).msixRing / msixOther / intr
//	igb_poll                 (*qVector).poll
//	igb_clean_tx_irq / igb_clean_rx_irq / igb_alloc_rx_buffers   cleanTxIRQ / cleanRxIRQ / allocRxBuffers
//	igb_process_skb_fields / igb_rx_hash / igb_rx_checksum   processSKBFields / rxHash / rxChecksum
//	igb_xmit_frame / igb_xmit_frame_ring   (*Adapter).StartXmit / xmitFrameRing
//	igb_tso / igb_tx_csum / igb_tx_ctxtdesc / igb_tx_map   tso / txCsum / txCtxDesc / txMap
//	igb_maybe_stop_tx        maybeStopTx
//	igb_update_itr / igb_set_itr / igb_update_ring_itr   updateITR / setITRLatency / updateRingITR
//	igb_write_itr / igb_ring_irq_enable   writeITR / ringIRQEnable
//	igb_watchdog / igb_watchdog_task   watchdog
//	igb_tx_timeout           (*Adapter).TxTimeout (ndo_tx_timeout, from the kernel's dev_watchdog)
//	igb_update_stats         updateStats
//	igb_get_ethtool_stats    (*Adapter).EthtoolStats (igb_gstrings_stats and the per-queue names)
//	igb_get/set_coalesce     GetCoalesce / SetCoalesce (ethtool -c / -C)
//	igb_get/set_ringparam    GetRingparam / SetRingparam (ethtool -g / -G)
//	igb_get/set_channels     GetChannels / SetChannels (ethtool -l / -L)
//	igb_get/set_rxfh         GetRxfh / SetRxfh (ethtool -x / -X)
//	igb_set_rss_hash_opt     SetRSSHashUDP (ethtool -N rx-flow-hash udp4/udp6)
//	igb_change_mtu           (*Adapter).ChangeMTU
//	igb_read_mac_addr / igb_validate_nvm_checksum   readMACAddr / validateEEPROMChecksum
//	IGB_DESC_UNUSED          hw/ring.Unused
//
// The top-level package testbed builds two hosts from this driver and the
// 82576 model (testbed.IGB): the two-host suite runs on it.
//
// # Queues and vectors
//
// Probe takes one RSS queue pair per CPU (at most 8) and asks for one MSI-X
// vector per pair plus one for the other causes: vector 0 takes link
// changes (igb_msix_other), vector i+1 queue pair i (igb_msix_ring). The
// platform spreads the vectors over the CPUs (vector i on CPU i mod the
// CPU count), so each pair's hardirq, and its NAPI poll, run on their CPU.
// Without enough MSI-X vectors the driver falls back to one queue pair on
// MSI, then on INTx, as igb_set_interrupt_capability does.
//
// # Buffers
//
// Receive buffers are 2048 bytes of DMA memory (SRRCTL.BSIZEPACKET 2 KiB,
// advanced one-buffer descriptors), one per ring slot, allocated when the
// device is opened and never per packet. A frame is copied out of its
// buffer into an skb from the kernel's pool and the buffer goes straight
// back to its slot: this is igb's page reuse (igb_can_reuse_rx_page,
// igb_reuse_rx_page) in its simplest form, since an skb never holds the
// page. Frames longer than one buffer span several descriptors and are
// assembled into one skb.
//
// Transmit buffers are 4096 bytes of DMA memory per slot: the skb's bytes are
// copied into the buffers of the slots a frame uses. The skb itself is kept
// until the device reports the frame sent, and freed then, exactly once.
//
// # The device is not trusted
//
// The driver reads only what it posted (next_to_clean .. next_to_use), and
// takes the buffer address and size from its own books, never from a
// write-back. A write-back with DD on a slot it had not posted, a length
// larger than the buffer, an impossible status (reserved bits, a checksum
// error for a check not done), a frame whose EOP never comes, a head
// write-back outside the queued descriptors are counted (DriverCounters)
// and dropped; no buffer is read past its end, no buffer is lost, and one
// poll looks at no more than a ring's worth of descriptors
// (CheckInvariants, FuzzIGBDriver).
//
// # Where it differs from Linux
//
//   - The queues are always paired on q_vectors (IGB_FLAG_QUEUE_PAIRS);
//     Linux pairs them on the 82576 only above four queues.
//   - A receive descriptor is done when its DD bit is set (the datasheet);
//     Linux's igb looks at the length word.
//   - Every received frame is copied (Linux builds the skb around the half
//     page), and every transmitted one, into DMA buffers (Linux maps the
//     skb).
//   - The RSS key is DefaultRSSKey, not a random one, and ethtool -X may set
//     it; the hash is marked L4 when its type says the ports were hashed
//     (Linux's igb records PKT_HASH_TYPE_L3).
//   - Without MSI-X the model signals the queue cause in EICR as well, so
//     the driver unmasks it in EIMS and reads EICR in its handler.
//   - The kernel model's skb has no vlan_present bit (a TCI of 0 is no
//     tag).
//   - The optional head write-back (Options.HeadWriteBack) is nicbed's:
//     Linux's igb uses DD. Options.NoMSIX and NoMSI stand for a platform
//     without the capability (igb has no such module parameters).
//   - UDP is hashed by addresses only unless SetRSSHashUDP asks for ports
//     (Linux's default too, changed with ethtool -N rx-flow-hash).
package driver
