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
//	e1000_probe              Probe
//	e1000_open / e1000_close (*Adapter).Open / Stop (ndo_open / ndo_stop)
//	e1000_up / e1000_down    up / down; e1000_reinit_locked reinitLocked
//	e1000_reset              reset (e1000_reset_hw resetHW, e1000_init_hw initHW)
//	e1000_xmit_frame         (*Adapter).StartXmit (ndo_start_xmit)
//	e1000_tso / e1000_tx_csum / e1000_tx_map / e1000_tx_queue   tso / txCsum / txMap / txQueue
//	e1000_maybe_stop_tx      maybeStopTx
//	e1000_intr               intr, the INTx handler: ICR, IMC, napi_schedule
//	e1000_clean              clean, the NAPI poll
//	e1000_clean_tx_irq / e1000_clean_rx_irq / e1000_alloc_rx_buffers
//	                         cleanTxIRQ / cleanRxIRQ / allocRxBuffers
//	e1000_update_itr / e1000_set_itr   updateITR / setITR (InterruptThrottleRate)
//	e1000_watchdog           watchdog: link, statistics, transmit hang
//	e1000_tx_timeout         (*Adapter).TxTimeout (ndo_tx_timeout, from the kernel's dev_watchdog)
//	e1000_update_stats       updateStats
//	e1000_configure_rx / e1000_configure_tx / e1000_setup_rctl
//	                         configureRx / configureTx / setupRctl
//	e1000_restore_vlan / e1000_vlan_mode   restoreVLAN (CTRL.VME)
//	e1000_clean_tx_ring / e1000_clean_rx_ring   cleanTxRing / cleanRxRing
//	e1000_read_phy_reg / e1000_write_phy_reg   ReadPHY / WritePHY (readPHY / writePHY)
//	e1000_set_ringparam      (*Adapter).SetRingparam (ethtool -G)
//	e1000_change_mtu         (*Adapter).ChangeMTU
//	e1000_get_ethtool_stats  (*Adapter).EthtoolStats (ethtool -S; the table,
//	                         e1000_gstrings_stats, is a kernelmodel/ethtool.Table)
//	e1000_get_coalesce / e1000_set_coalesce   (*Adapter).GetCoalesce / SetCoalesce (ethtool -c / -C)
//	e1000_read_eeprom / e1000_validate_eeprom_checksum   readEEPROM / validateEEPROMChecksum
//	E1000_DESC_UNUSED        hw/ring.Unused
//
// The top-level package testbed builds two hosts from this driver and the
// e1000 model (testbed.E1000), each a kernel model with its own DMA memory,
// on a cable: the driver's two-host tests and the nicbed demo run on it.
//
// # Buffers
//
// Receive buffers are 2048 bytes of DMA memory (RCTL.BSIZE = 2048), one per
// ring slot, allocated when the device is opened and never per packet (the
// ring, its indices and its buffers are a hw/ring.Ring, which igb shares). A
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
//
// # Where it differs from Linux
//
//   - The receive tail is next_to_use, the datasheet's meaning (the device
//     owns RDH .. RDT-1); Linux's e1000 writes next_to_use - 1.
//   - The MAC strips the FCS (RCTL.SECRC); Linux trims it in software.
//   - Every received frame is copied (Linux copies only below copybreak,
//     256 bytes), and every transmitted one, into DMA buffers (Linux maps
//     the skb).
//   - InterruptThrottleRate=4 starts at 8000 ints/s until the watchdog
//     first computes the simplified rate.
//   - A single-buffer frame longer than the MTU allows is dropped
//     (rx_too_long); Linux passes it up.
//   - The EEPROM is read through EERD (with the timing of Intel's
//     e1000_poll_eerd_eewr_done: udelay(5), 100000 times); Linux's e1000
//     bit-bangs EECD on the 82540EM. After CTRL.RST and the 5 ms Linux waits,
//     the driver also checks that RST cleared. The PHY reset is not polled
//     for completion, as in Linux.
//   - The kernel model's skb has no vlan_present bit: VLANTCI 0 means no tag.
//     On receive that loses nothing Linux keeps (it drops the priority bits,
//     so a VLAN 0 tag becomes VLANTCI 0 there too, and 802.1Q treats it as
//     untagged); on transmit a TCI of 0 is not inserted.
//
// # Waits
//
// Probe, open, close, reset and ethtool run in a task: msleep and
// usleep_range sleep (Task.Sleep), udelay busy-waits (the CPU is charged and,
// in a task, pays it off at once, so the device sees the time pass). The
// watchdog runs as a timer (Linux's is a work item), so its MDI reads
// busy-wait in atomic context.
package driver
