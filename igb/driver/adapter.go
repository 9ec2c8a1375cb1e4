package driver

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/intelmac"
	"github.com/nicbed/nicbed/hw/mii"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/kernelmodel/rxframe"
)

// Adapter is struct igb_adapter: one 82576 port bound to the driver. It is
// the net_device's private data and implements kernelmodel.NetDeviceOps.
//
// Everything runs on the kernel model's loop (hardirq, softirq and task
// context of one kernel), one thing at a time, so there are no locks; the
// __IGB_DOWN bit is the down field.
type Adapter struct {
	k      *kernelmodel.Kernel
	pdev   *kernelmodel.PCIDev
	hw     pci.BAR
	mem    dma.Allocator
	netdev *kernelmodel.NetDevice
	opts   Options

	mac               [6]byte
	phyID             uint32
	autoReadTimeouts  uint64 // resets whose EEPROM auto-read did not complete
	fc, originalFC    mii.FlowControl
	fcHighWater       uint32
	fcLowWater        uint32
	autonegAdvertised uint16

	// Queues and interrupts (igb_adapter: rss_queues, num_q_vectors,
	// q_vector[], tx_ring[], rx_ring[], flags IGB_FLAG_HAS_MSIX/MSI).
	rssQueues      int
	qv             []*qVector
	rx             []*rxRing
	tx             []*txRing
	msix, msi      bool
	eimsEnableMask uint32
	eimsOther      uint32
	otherHandler   kernelmodel.IRQHandler
	intxHandler    kernelmodel.IRQHandler

	// Interrupt moderation settings (rx_itr_setting, tx_itr_setting,
	// tx_work_limit).
	rxITRSetting, txITRSetting int
	txWorkLimit                int

	rssIndir     [RETASize]uint8 // rss_indir_tbl
	rssIndirInit int             // rss_indir_tbl_init: the queue count it was spread over
	rssKey       [igb.RSSKeySize]byte
	rssUDP4      bool // IGB_FLAG_RSS_FIELD_IPV4_UDP
	rssUDP6      bool // IGB_FLAG_RSS_FIELD_IPV6_UDP

	rxRingCount, txRingCount int // sizes for the next setup (ethtool -G)
	promisc                  bool

	maxFrameSize   int
	linkSpeed      int
	linkFullDuplex bool
	getLinkStatus  bool
	flagDown       bool // __IGB_DOWN
	open           bool // ndo_open succeeded, ndo_stop not called
	resources      bool // rings allocated
	irqRequested   bool
	resetPending   bool
	removed        bool

	watchdogTimer kernelmodel.TimerList

	stats          hwStats
	rxStats        [MaxRSSQueues]rxQueueStats
	txStats        [MaxRSSQueues]txQueueStats
	statsTable     statsTable // built for the queues in use
	txTimeoutCount uint64
	restartQueue   uint64
	ctr            DriverCounters

	invSeen map[*kernelmodel.SKB]struct{} // CheckInvariants' scratch
}

// DriverCounters count what the driver saw the device do wrong, and its own
// recovery actions. None of them moves in a correct run.
type DriverCounters struct {
	RxUnpostedWriteback uint64 // DD on a receive descriptor the driver had not posted
	// The frame assembly's counts (kernelmodel/rxframe): RxBadLength,
	// RxNoEOP, RxTooLong, RxMultiBuffer (never: frames may always span
	// buffers), RxFrameErrors, RxRunts, RxDiscardedDescs.
	rxframe.Counters
	RxBadStatus         uint64 // impossible status/error bits (reserved bits, an error for a check not done)
	TxUnpostedWriteback uint64 // DD on a transmit descriptor the driver had not posted
	TxBadHead           uint64 // a head write-back outside the queued descriptors
	TxBadOffload        uint64 // frames dropped: offload requested on headers the driver cannot parse
	TxTooBig            uint64 // frames dropped: too large for the ring
	TxHangs             uint64 // "Detected Tx Unit Hang"
	Resets              uint64 // igb_reinit_locked from the reset task
}

// Probe is igb_probe: enable the PCI function and bus mastering, map BAR0,
// set up the private structure and the interrupt scheme (igb_sw_init),
// reset the MAC, check the EEPROM checksum, read the Ethernet address,
// reset with the link settings (igb_reset) and register the net_device.
// A bad EEPROM checksum fails probe with an error wrapping
// ErrEEPROMChecksum.
//
// Probe runs in process context, in the task t on the device's kernel
// (pdev.Kernel()): its waits sleep (msleep, usleep_range) or busy-wait on
// the task's CPU (udelay), with Linux's intervals.
func Probe(t *kernelmodel.Task, pdev *kernelmodel.PCIDev, opts Options) (*Adapter, error) {
	k := pdev.Kernel()
	vendor, device := pdev.VendorDevice()
	if vendor != igb.VendorID || device != igb.DeviceID {
		return nil, fmt.Errorf("igb: %s: %04x:%04x is not an 82576", pdev.Name, vendor, device)
	}
	a := &Adapter{k: k, pdev: pdev, mem: pdev.DMA, opts: opts}
	if err := pdev.EnableDevice(); err != nil {
		return nil, fmt.Errorf("igb: %w", err)
	}
	pdev.SetMaster()
	bar, err := pdev.IORemapBAR(0)
	if err != nil {
		return nil, fmt.Errorf("igb: %w", err)
	}
	a.hw = bar

	name := opts.Name
	if name == "" {
		for i := 0; ; i++ {
			name = "eth" + strconv.Itoa(i)
			if k.DevGetByName(name) == nil {
				break
			}
		}
	}
	nd := k.AllocEtherdev(name, MaxRSSQueues, MaxRSSQueues)
	nd.Ops = a
	nd.Driver = "igb"
	nd.WatchdogTimeo = watchdogTimeo
	a.netdev = nd
	if err := a.swInit(); err != nil {
		return nil, err
	}
	nd.MTU = a.opts.MTU
	nd.Features = kernelmodel.NETIF_F_SG | kernelmodel.NETIF_F_IP_CSUM | kernelmodel.NETIF_F_RXCSUM |
		kernelmodel.NETIF_F_TSO | kernelmodel.NETIF_F_HW_VLAN | kernelmodel.NETIF_F_RXHASH

	// Reset before reading the EEPROM, to start from a known state.
	if err := a.resetHW(t); err != nil {
		a.resetInterruptCapability()
		return nil, err
	}
	if err := a.validateEEPROMChecksum(t); err != nil {
		a.resetInterruptCapability()
		return nil, fmt.Errorf("%s: %w", pdev.Name, err)
	}
	if err := a.readMACAddr(t); err != nil {
		a.resetInterruptCapability()
		return nil, fmt.Errorf("%s: %w", pdev.Name, err)
	}
	nd.Addr = a.mac
	k.TimerSetup(&a.watchdogTimer, a.watchdog)
	a.autonegAdvertised = mii.AdvertiseDefault
	if err := a.reset(t); err != nil {
		a.resetInterruptCapability()
		return nil, err
	}
	a.getHWControl()
	if err := k.RegisterNetdev(nd); err != nil {
		a.resetInterruptCapability()
		return nil, fmt.Errorf("igb: %w", err)
	}
	nd.NetifCarrierOff()
	for i := range nd.NumTxQueues() {
		nd.TxQueue(i).Stop()
	}
	k.TracePoint("igb_probe", 0, int64(len(a.qv)))
	return a, nil
}

// swInit is igb_sw_init: ring sizes, interrupt moderation and work limits,
// the frame size, the queue count (igb_init_queue_configuration) and the
// interrupt scheme; interrupts off and the adapter down.
func (a *Adapter) swInit() error {
	o := &a.opts
	var err error
	a.rxRingCount, a.txRingCount = DefaultRxDescriptors, DefaultTxDescriptors
	if o.RxDescriptors != 0 {
		if a.rxRingCount, err = checkRingCount("RxDescriptors", o.RxDescriptors); err != nil {
			return err
		}
	}
	if o.TxDescriptors != 0 {
		if a.txRingCount, err = checkRingCount("TxDescriptors", o.TxDescriptors); err != nil {
			return err
		}
	}
	if o.MTU == 0 {
		o.MTU = ethDataLen
	}
	if err := checkMTU(o.MTU); err != nil {
		return err
	}
	a.rxITRSetting, a.txITRSetting = DefaultITRSetting, DefaultITRSetting
	a.txWorkLimit = TxWorkLimit
	a.maxFrameSize = o.MTU + ethHLen + ethFCSLen + 2*vlanHLen // IGB_ETH_PKT_HDR_PAD
	// igb_init_queue_configuration: one queue per CPU, at most 8.
	a.rssQueues = min(a.k.NumCPUs(), MaxRSSQueues)
	if o.Queues != 0 {
		if o.Queues < 1 || o.Queues > MaxRSSQueues {
			return fmt.Errorf("igb: %d queues: must be 1-%d", o.Queues, MaxRSSQueues)
		}
		a.rssQueues = o.Queues
	}
	if o.RSSKey != nil {
		if len(o.RSSKey) != igb.RSSKeySize {
			return fmt.Errorf("igb: RSS key of %d bytes, want %d", len(o.RSSKey), igb.RSSKeySize)
		}
		copy(a.rssKey[:], o.RSSKey)
	} else {
		a.rssKey = DefaultRSSKey
	}
	if err := a.initInterruptScheme(); err != nil {
		return err
	}
	a.flagDown = true
	return nil
}

// reset is igb_reset: the packet buffer's flow control watermarks, then the
// MAC reset and igb_init_hw (receive addresses, link setup, statistics
// cleared), VET.
func (a *Adapter) reset(t *kernelmodel.Task) error {
	// The 82576's receive packet buffer is RXPBS KiB (64 at reset).
	pba := a.rd(igb.RXPBS) & 0x7F
	// Flow control high water: 90% of the buffer, at least one full frame
	// below the top; 16-byte granularity.
	hwm := min(pba<<10*9/10, pba<<10-uint32(a.maxFrameSize))
	a.fcHighWater = hwm & 0xFFFFFFF0
	a.fcLowWater = a.fcHighWater - 16
	if err := a.resetHW(t); err != nil {
		return err
	}
	if err := a.initHW(t); err != nil {
		return err
	}
	a.wr(igb.VET, 0x8100) // ETHERNET_IEEE_VLAN_TYPE
	return nil
}

// getHWControl is igb_get_hw_control: CTRL_EXT.DRV_LOAD tells the firmware
// the driver has the device.
func (a *Adapter) getHWControl() {
	a.wr(igb.CTRL_EXT, a.rd(igb.CTRL_EXT)|igb.CTRL_EXT_DRV_LOAD)
}

// releaseHWControl is igb_release_hw_control.
func (a *Adapter) releaseHWControl() {
	a.wr(igb.CTRL_EXT, a.rd(igb.CTRL_EXT)&^igb.CTRL_EXT_DRV_LOAD)
}

// Netdev is the adapter's net_device.
func (a *Adapter) Netdev() *kernelmodel.NetDevice { return a.netdev }

// NAPIs are the q_vectors' napi_structs, in q_vector order.
func (a *Adapter) NAPIs() []*kernelmodel.NAPI {
	out := make([]*kernelmodel.NAPI, len(a.qv))
	for i, q := range a.qv {
		out[i] = &q.napi
	}
	return out
}

// MAC is the Ethernet address read from the EEPROM.
func (a *Adapter) MAC() [6]byte { return a.mac }

// Link reports the link as the watchdog last saw it: speed in Mb/s (0 when
// down) and duplex.
func (a *Adapter) Link() (speed int, fullDuplex bool) { return a.linkSpeed, a.linkFullDuplex }

// Counters returns the driver's counters of device misbehaviour and
// recovery.
func (a *Adapter) Counters() DriverCounters { return a.ctr }

// Queues is the number of RSS queue pairs in use (ethtool -l combined).
func (a *Adapter) Queues() int { return a.rssQueues }

// Open is igb_open (__igb_open, ndo_open): allocate the rings and their
// buffers, configure the MAC and the queues, request the interrupts, enable
// NAPI and interrupts, start the queues and the watchdog.
func (a *Adapter) Open(t *kernelmodel.Task) error {
	if a.removed {
		return errors.New("igb: device removed")
	}
	if a.open {
		return nil
	}
	a.netdev.NetifCarrierOff()
	if err := a.setupResources(); err != nil {
		return err
	}
	a.powerUpLink(t)
	a.configure(t)
	if err := a.requestIRQ(); err != nil {
		a.releaseHWControl()
		a.powerDownLink(t)
		a.freeResources()
		return err
	}
	a.flagDown = false
	for _, q := range a.qv {
		q.napi.NAPIEnable()
	}
	a.rd(igb.ICR) // clear any pending interrupts
	a.irqEnable()
	if err := a.netdev.NetifSetRealNumTxQueues(len(a.tx)); err != nil { // igb_open
		return err
	}
	// netif_tx_start_all_queues: the queues beyond those in use too, or
	// dev_watchdog would find them stopped.
	a.netdev.NetifTxStartAllQueues()
	a.open = true
	// Start the watchdog (schedule_work(&adapter->watchdog_task)).
	a.getLinkStatus = true
	a.k.ModTimer(&a.watchdogTimer, a.k.Jiffies()+1)
	a.k.TracePoint("igb_open", 0, int64(len(a.qv)))
	return nil
}

// Stop is igb_close (__igb_close, ndo_stop): igb_down, free the interrupts
// and the rings.
func (a *Adapter) Stop(t *kernelmodel.Task) error {
	if !a.open {
		return nil
	}
	a.open = false
	a.down(t)
	a.freeIRQ()
	a.freeResources()
	a.k.TracePoint("igb_close", 0, 0)
	return nil
}

// configure is igb_configure: driver loaded, receive mode, VLAN mode,
// transmit control, RSS, receive control, the transmit and receive queues,
// and every receive buffer posted.
func (a *Adapter) configure(t *kernelmodel.Task) {
	a.getHWControl()
	a.setRxMode()
	a.restoreVLAN()
	a.setupTctl()
	a.setupMRQC()
	a.setupRctl()
	a.configureTx(t)
	a.configureRx()
	for _, r := range a.rx {
		a.allocRxBuffers(r, r.Unused())
	}
}

// up is igb_up: configure and start after igb_down.
func (a *Adapter) up(t *kernelmodel.Task) {
	a.configure(t)
	a.flagDown = false
	for _, q := range a.qv {
		q.napi.NAPIEnable()
	}
	if a.msix {
		a.configureMSIX()
	} else {
		a.assignVector(a.qv[0], 0)
	}
	a.rd(igb.ICR)
	a.irqEnable()
	// netif_tx_start_all_queues, as wakes: a qdisc that holds packets
	// for a queue runs again.
	a.netdev.NetifTxWakeAllQueues()
	a.getLinkStatus = true
	a.k.ModTimer(&a.watchdogTimer, a.k.Jiffies()+1)
}

// down is igb_down: stop receive and transmit, the queues, NAPI,
// interrupts and the watchdog, reset the MAC and empty the rings (every skb
// in them freed).
func (a *Adapter) down(t *kernelmodel.Task) {
	a.flagDown = true
	a.wr(igb.RCTL, a.rd(igb.RCTL)&^igb.RCTL_EN)
	for i := range a.netdev.NumTxQueues() {
		a.netdev.TxQueue(i).Stop()
	}
	a.wr(igb.TCTL, a.rd(igb.TCTL)&^igb.TCTL_EN)
	a.writeFlush()
	t.Sleep(10 * time.Millisecond) // usleep_range(10000, 11000)
	a.irqDisable()
	for _, q := range a.qv {
		q.napi.NAPIDisable(t)
	}
	a.k.DelTimer(&a.watchdogTimer)
	a.linkSpeed, a.linkFullDuplex = 0, false
	a.netdev.NetifCarrierOff()
	if err := a.reset(t); err != nil {
		a.k.TracePoint("igb_reset failed", 0, 0)
	}
	a.cleanAllTxRings()
	a.cleanAllRxRings()
}

// reinitLocked is igb_reinit_locked: down and up again.
func (a *Adapter) reinitLocked(t *kernelmodel.Task) {
	a.down(t)
	a.up(t)
}

// scheduleReset is schedule_work(&adapter->reset_task): igb_reset_task runs
// igb_reinit_locked in process context (a kworker task on CPU 0).
func (a *Adapter) scheduleReset() {
	if a.resetPending {
		return
	}
	a.resetPending = true
	a.k.Spawn(0, "kworker/igb_reset_task", func(t *kernelmodel.Task) {
		a.resetPending = false
		if !a.open || a.flagDown {
			return
		}
		a.ctr.Resets++
		a.k.TracePoint("igb_reset_task", 0, 0)
		a.reinitLocked(t)
	})
}

// Remove is igb_remove: close the device if it is open, give the hardware
// back, free the interrupt vectors and stop bus mastering. The kernel model
// has no unregister_netdev; the net_device stays registered but can no
// longer be opened.
func (a *Adapter) Remove(t *kernelmodel.Task) {
	if a.open {
		a.netdev.DevClose(t)
		a.Stop(t)
	}
	a.removed = true
	a.releaseHWControl()
	a.resetInterruptCapability()
	a.resetHW(t)
	a.pdev.ClearMaster()
}

// setRxMode is igb_set_rx_mode: unicast and multicast promiscuity, long
// frames up to the largest jumbo frame (RLPML), exact match on our
// address, broadcast, no multicast list (the kernel model has none).
func (a *Adapter) setRxMode() {
	intelmac.SetRxMode(a.hw, a.promisc)
	a.wr(igb.RLPML, MaxJumboFrameSize)
}

// restoreVLAN is igb_restore_vlan with igb_vlan_mode: with the VLAN offloads
// on, CTRL.VME strips a received tag into the descriptor (VP, VLAN) and
// inserts the tag of a frame sent with VLE. No VLAN device is registered, so
// the filter table stays empty and RCTL.VFE off.
func (a *Adapter) restoreVLAN() {
	intelmac.VLANMode(a.hw, a.netdev.Features&kernelmodel.NETIF_F_HW_VLAN != 0)
}

// SetPromisc turns promiscuous mode (IFF_PROMISC) on or off.
func (a *Adapter) SetPromisc(on bool) {
	a.promisc = on
	if a.open {
		a.setRxMode()
	}
}

// ChangeMTU is igb_change_mtu (ndo_change_mtu, ip link set mtu): 68 to
// 9216 bytes; a running interface is brought down and up again with the new
// maximum frame size.
func (a *Adapter) ChangeMTU(t *kernelmodel.Task, mtu int) error {
	if err := checkMTU(mtu); err != nil {
		return err
	}
	if mtu == a.netdev.MTU {
		return nil
	}
	if a.open {
		a.down(t)
	}
	a.netdev.MTU = mtu
	a.opts.MTU = mtu
	a.maxFrameSize = mtu + ethHLen + ethFCSLen + 2*vlanHLen
	if a.open {
		a.up(t)
		return nil
	}
	return a.reset(t)
}
