package driver

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/intelmac"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/kernelmodel/rxframe"
)

// Adapter is struct e1000_adapter: one 82540EM bound to the driver. It is
// the net_device's private data and implements kernelmodel.NetDeviceOps.
//
// Everything runs on the kernel model's loop (hardirq, softirq and task
// context of one kernel), one thing at a time, so there are no locks; the
// __E1000_DOWN bit is the down field.
type Adapter struct {
	k      *kernelmodel.Kernel
	pdev   *kernelmodel.PCIDev
	hw     pci.BAR
	mem    dma.Allocator
	netdev *kernelmodel.NetDevice
	napi   kernelmodel.NAPI
	opts   Options

	mac               [6]byte
	phyID             uint32
	fc, originalFC    flowControl
	fcHighWater       uint32
	fcLowWater        uint32
	autonegAdvertised uint16

	// Interrupt moderation (e1000_adapter: itr_setting, itr, rx_itr,
	// tx_itr, total_*).
	itrSetting     int
	itr            int // interrupts/s now
	rxITR, txITR   latencyRange
	totalTxBytes   uint64
	totalTxPackets uint64
	totalRxBytes   uint64
	totalRxPackets uint64

	rxIntDelay, rxAbsIntDelay uint32
	txIntDelay, txAbsIntDelay uint32
	txdCmd                    uint8  // adapter->txd_cmd: what the last descriptor of a frame carries
	txSegs, txBytecount       uint32 // of the frame being queued (set by tso / txCsum)

	rx                       rxRing
	tx                       txRing
	rxRingCount, txRingCount int // sizes for the next setup (ethtool -G)
	promisc                  bool

	maxFrameSize    int
	linkSpeed       int
	linkFullDuplex  bool
	getLinkStatus   bool
	txTimeoutFactor int
	detectTxHung    bool
	flagDown        bool // __E1000_DOWN
	open            bool // ndo_open succeeded, ndo_stop not called
	resources       bool // rings allocated
	resetPending    bool
	irqRequested    bool
	removed         bool

	watchdogTimer kernelmodel.TimerList

	stats                    hwStats
	gorcOld, gotcOld         uint64
	gorcDelta, gotcDelta     uint64
	restartQueue             uint64
	txTimeoutCount           uint64
	hwCsumGood, hwCsumErr    uint64
	allocRxBuffFailed        uint64
	collisions               uint64
	rxFrameErrors            uint64
	txHeartbeat, txWindowErr uint64
	ctr                      DriverCounters

	invSeen map[*kernelmodel.SKB]struct{} // CheckInvariants' scratch: skbs seen on the TX ring
}

// DriverCounters count what the driver saw the device do wrong, and its own
// recovery actions. None of them moves in a correct run.
type DriverCounters struct {
	RxUnpostedWriteback uint64 // DD on a receive descriptor the driver had not posted
	// The frame assembly's counts (kernelmodel/rxframe): RxBadLength,
	// RxNoEOP, RxTooLong, RxMultiBuffer, RxFrameErrors, RxRunts,
	// RxDiscardedDescs.
	rxframe.Counters
	RxBadStatus         uint64 // impossible status/error bits (reserved bits, an error for a check not done)
	TxUnpostedWriteback uint64 // DD on a transmit descriptor the driver had not posted
	TxBadOffload        uint64 // frames dropped: offload requested on headers the driver cannot parse
	TxTooBig            uint64 // frames dropped: too large for the ring
	TxHangs             uint64 // "Detected Tx Unit Hang"
	Resets              uint64 // e1000_reinit_locked from the reset task
}

// Probe is e1000_probe: enable the PCI function and bus mastering, map BAR0,
// reset the MAC, check the EEPROM checksum, read the Ethernet address, set
// up the PHY and start autonegotiation, and register the net_device. A bad
// EEPROM checksum fails probe with an error wrapping ErrEEPROMChecksum.
//
// Probe runs in process context, in the task t (a kworker or the test's
// task) on the device's kernel (pdev.Kernel()): its waits sleep through the
// kernel model (msleep, usleep_range) or busy-wait on the task's CPU
// (udelay), with Linux's intervals, so a device that takes its time (QEMU's,
// through VFIO) is waited for and a device that never answers fails probe
// after Linux's timeout.
func Probe(t *kernelmodel.Task, pdev *kernelmodel.PCIDev, opts Options) (*Adapter, error) {
	k := pdev.Kernel()
	vendor, device := pdev.VendorDevice()
	if vendor != e1000.VendorID || device != e1000.DeviceID {
		return nil, fmt.Errorf("e1000: %s: %04x:%04x is not an 82540EM", pdev.Name, vendor, device)
	}
	a := &Adapter{k: k, pdev: pdev, mem: pdev.DMA, opts: opts}
	if err := a.swInit(); err != nil {
		return nil, err
	}
	if err := pdev.EnableDevice(); err != nil {
		return nil, fmt.Errorf("e1000: %w", err)
	}
	pdev.SetMaster()
	bar, err := pdev.IORemapBAR(0)
	if err != nil {
		return nil, fmt.Errorf("e1000: %w", err)
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
	nd := k.AllocEtherdev(name, 1, 1)
	nd.Ops = a
	nd.Driver = "e1000"
	nd.WatchdogTimeo = watchdogTimeo
	nd.MTU = a.opts.MTU
	nd.MinMTU, nd.MaxMTU = ethMinMTU, maxStdJumboMTU
	nd.PrivFlags |= kernelmodel.IFF_UNICAST_FLT
	nd.Features = kernelmodel.NETIF_F_SG | kernelmodel.NETIF_F_IP_CSUM | kernelmodel.NETIF_F_RXCSUM | kernelmodel.NETIF_F_TSO |
		kernelmodel.NETIF_F_HW_VLAN // NETIF_F_HW_VLAN_CTAG_RX | NETIF_F_HW_VLAN_CTAG_TX
	a.netdev = nd

	// Reset before reading the EEPROM.
	if err := a.resetHW(t); err != nil {
		return nil, err
	}
	if err := a.validateEEPROMChecksum(t); err != nil {
		return nil, fmt.Errorf("%s: %w", pdev.Name, err)
	}
	if err := a.readMACAddr(t); err != nil {
		return nil, fmt.Errorf("%s: %w", pdev.Name, err)
	}
	nd.Addr = a.mac

	k.TimerSetup(&a.watchdogTimer, a.watchdog)
	k.NetifNAPIAdd(nd, &a.napi, a.clean, kernelmodel.NAPIPollWeight)

	if err := a.reset(t); err != nil {
		return nil, err
	}
	if err := k.RegisterNetdev(nd); err != nil {
		return nil, fmt.Errorf("e1000: %w", err)
	}
	nd.NetifCarrierOff()
	nd.NetifStopQueue()
	k.TracePoint("e1000_probe", 0, int64(pdev.IRQ))
	return a, nil
}

// swInit is e1000_sw_init with e1000_check_options: defaults and module
// parameters.
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
	itr := DefaultITR
	if o.InterruptThrottleRate != nil {
		itr = *o.InterruptThrottleRate
	}
	if err := a.setITRParam(itr); err != nil {
		return err
	}
	if a.rxIntDelay, err = checkDelay("RxIntDelay", o.RxIntDelay, DefaultRxIntDelay); err != nil {
		return err
	}
	if a.rxAbsIntDelay, err = checkDelay("RxAbsIntDelay", o.RxAbsIntDelay, DefaultRxAbsIntDelay); err != nil {
		return err
	}
	if a.txIntDelay, err = checkDelay("TxIntDelay", o.TxIntDelay, DefaultTxIntDelay); err != nil {
		return err
	}
	if a.txAbsIntDelay, err = checkDelay("TxAbsIntDelay", o.TxAbsIntDelay, DefaultTxAbsIntDelay); err != nil {
		return err
	}
	if o.MTU == 0 {
		o.MTU = ethDataLen
	}
	if err := checkMTU(o.MTU); err != nil {
		return err
	}
	a.maxFrameSize = o.MTU + ethHLen + ethFCSLen
	a.autonegAdvertised = advertiseDefault
	a.txTimeoutFactor = 1
	a.flagDown = true
	return nil
}

// setITRParam applies an InterruptThrottleRate value the way
// e1000_check_options does: the dynamic modes start at 20000 ints/s, a fixed
// rate keeps its value with the two low bits (the mode bits) cleared in
// itr_setting. The simplified mode starts at 8000 ints/s, the top of its
// range, until the watchdog computes one.
func (a *Adapter) setITRParam(v int) error {
	if err := checkITR(v); err != nil {
		return err
	}
	switch v {
	case ITROff:
		a.itrSetting, a.itr = 0, 0
	case ITRDynamic, ITRConservative:
		a.itrSetting, a.itr = v, 20000
	case ITRSimplified:
		a.itrSetting, a.itr = v, 8000
	default:
		a.itrSetting, a.itr = v&^3, v
	}
	// Both classes start at lowest_latency (0), as in Linux's zeroed
	// adapter.
	a.rxITR, a.txITR = lowestLatency, lowestLatency
	return nil
}

// reset is e1000_reset: packet buffer split and flow control watermarks,
// then e1000_reset_hw and e1000_init_hw. t is the task it runs in.
func (a *Adapter) reset(t *kernelmodel.Task) error {
	pba := uint32(pba48K)
	a.wr(e1000.PBA, pba)
	// Flow control high water: 90% of the receive buffer, and at least one
	// full frame below the top; 8-byte granularity.
	hwm := min(pba<<10*9/10, pba<<10-uint32(a.maxFrameSize))
	a.fcHighWater = hwm & 0xFFF8
	a.fcLowWater = a.fcHighWater - 8
	if err := a.resetHW(t); err != nil {
		return err
	}
	if err := a.initHW(t); err != nil {
		return err
	}
	return nil
}

// Netdev is the adapter's net_device.
func (a *Adapter) Netdev() *kernelmodel.NetDevice { return a.netdev }

// NAPI is the adapter's napi_struct.
func (a *Adapter) NAPI() *kernelmodel.NAPI { return &a.napi }

// MAC is the Ethernet address read from the EEPROM.
func (a *Adapter) MAC() [6]byte { return a.mac }

// IRQ is the interrupt number the adapter's INTx pin is routed to.
func (a *Adapter) IRQ() int { return a.pdev.IRQ }

// Link reports the link as the watchdog last saw it: speed in Mb/s (0 when
// down) and duplex.
func (a *Adapter) Link() (speed int, fullDuplex bool) { return a.linkSpeed, a.linkFullDuplex }

// Counters returns the driver's counters of device misbehaviour and
// recovery.
func (a *Adapter) Counters() DriverCounters { return a.ctr }

// Open is e1000_open (ndo_open): allocate the rings and their buffers, power
// up the PHY, configure the MAC, request the interrupt, enable NAPI and
// interrupts, start the queue, and raise LSC so the watchdog looks at the
// link.
func (a *Adapter) Open(t *kernelmodel.Task) error {
	if a.removed {
		return errors.New("e1000: device removed")
	}
	if a.open {
		return nil
	}
	a.netdev.NetifCarrierOff()
	if err := a.setupResources(); err != nil {
		return err
	}
	a.powerUpPHY(t)
	a.configure()
	if err := a.k.RequestIRQ(a.pdev.IRQ, a.intr, a.netdev.Name); err != nil {
		a.freeResources()
		return fmt.Errorf("e1000: %w", err)
	}
	a.irqRequested = true
	a.flagDown = false
	a.napi.NAPIEnable()
	a.irqEnable()
	a.netdev.NetifStartQueue()
	a.open = true
	// Fire a link status change interrupt to start the watchdog.
	a.wr(e1000.ICS, e1000.ICR_LSC)
	a.k.TracePoint("e1000_open", 0, 0)
	return nil
}

// Stop is e1000_close (ndo_stop): e1000_down, power the PHY down, free the
// interrupt and the rings.
func (a *Adapter) Stop(t *kernelmodel.Task) error {
	if !a.open {
		return nil
	}
	a.open = false
	a.down(t)
	a.powerDownPHY(t)
	a.k.FreeIRQ(a.pdev.IRQ)
	a.irqRequested = false
	a.freeResources()
	a.k.TracePoint("e1000_close", 0, 0)
	return nil
}

// configure is e1000_configure: receive mode, VLAN mode, transmit and
// receive units, and every receive buffer posted.
func (a *Adapter) configure() {
	a.setRxMode()
	a.restoreVLAN()
	a.configureTx()
	a.setupRctl()
	a.configureRx()
	a.allocRxBuffers(a.rx.Unused())
}

// up is e1000_up: configure and start after e1000_down.
func (a *Adapter) up() {
	a.configure()
	a.flagDown = false
	a.napi.NAPIEnable()
	a.irqEnable()
	a.netdev.NetifWakeQueue()
	a.wr(e1000.ICS, e1000.ICR_LSC)
}

// down is e1000_down: stop receive and transmit, NAPI, interrupts and the
// watchdog, reset the MAC and empty the rings (every skb in them freed).
func (a *Adapter) down(t *kernelmodel.Task) {
	a.flagDown = true
	a.wr(e1000.RCTL, a.rd(e1000.RCTL)&^e1000.RCTL_EN)
	a.netdev.NetifStopQueue()
	a.wr(e1000.TCTL, a.rd(e1000.TCTL)&^e1000.TCTL_EN)
	a.writeFlush()
	t.Sleep(10 * time.Millisecond)
	a.napi.NAPIDisable(t)
	a.irqDisable()
	a.k.DelTimer(&a.watchdogTimer)
	a.linkSpeed, a.linkFullDuplex = 0, false
	a.netdev.NetifCarrierOff()
	if err := a.reset(t); err != nil {
		a.k.TracePoint("e1000_reset failed", 0, 0)
	}
	a.cleanTxRing()
	a.cleanRxRing()
}

// reinitLocked is e1000_reinit_locked: down and up again.
func (a *Adapter) reinitLocked(t *kernelmodel.Task) {
	a.down(t)
	a.up()
}

// scheduleReset is schedule_work(&adapter->reset_task): e1000_reset_task runs
// e1000_reinit_locked in process context (a kworker task on CPU 0).
func (a *Adapter) scheduleReset() {
	if a.resetPending {
		return
	}
	a.resetPending = true
	a.k.Spawn(0, "kworker/e1000_reset_task", func(t *kernelmodel.Task) {
		a.resetPending = false
		if !a.open || a.flagDown {
			return
		}
		a.ctr.Resets++
		a.k.TracePoint("e1000_reset_task", 0, 0)
		a.reinitLocked(t)
	})
}

// Remove is e1000_remove: close the device if it is open and stop bus
// mastering. The kernel model has no unregister_netdev; the net_device stays
// registered but can no longer be opened.
func (a *Adapter) Remove(t *kernelmodel.Task) {
	if a.open {
		a.netdev.DevClose(t)
		a.Stop(t)
	}
	a.removed = true
	a.resetHW(t)
	a.pdev.ClearMaster()
}

// irqEnable is e1000_irq_enable. Its trace point is the time the CPU writes
// IMS: an interrupt it unmasks is taken after it.
func (a *Adapter) irqEnable() {
	a.k.TracePoint("e1000_irq_enable", 0, imsEnableMask)
	a.wr(e1000.IMS, imsEnableMask)
	a.writeFlush()
}

// irqDisable is e1000_irq_disable.
func (a *Adapter) irqDisable() {
	a.wr(e1000.IMC, 0xFFFFFFFF)
	a.writeFlush()
}

// SetRxMode is e1000_set_rx_mode (ndo_set_rx_mode): the kernel calls it
// when the device's flags or address lists change.
func (a *Adapter) SetRxMode() {
	if a.open {
		a.setRxMode()
	}
}

// rarEntries is E1000_RAR_ENTRIES: the receive address registers; entry 0
// is the station address.
const rarEntries = 15

// setRxMode is e1000_set_rx_mode: unicast and multicast promiscuity
// (RCTL.UPE, RCTL.MPE) from IFF_PROMISC and IFF_ALLMULTI (or SetPromisc);
// the secondary unicast addresses, then the multicast groups, in the exact
// filters RAR 1-14 (unicast promiscuous if the unicast ones do not fit);
// the multicast groups beyond them hashed into the MTA (bits 47:36 of the
// address, RCTL.MO 0), written from the top. No VLAN device is registered,
// so RCTL.VFE stays off.
func (a *Adapter) setRxMode() {
	nd := a.netdev
	rctl := a.rd(e1000.RCTL)
	promisc := a.promisc || nd.Flags&kernelmodel.IFF_PROMISC != 0
	if promisc {
		rctl |= e1000.RCTL_UPE | e1000.RCTL_MPE
	} else if nd.Flags&kernelmodel.IFF_ALLMULTI != 0 {
		rctl |= e1000.RCTL_MPE
	} else {
		rctl &^= e1000.RCTL_MPE
	}
	rctl &^= e1000.RCTL_VFE
	useUC := false
	if nd.UC.Len() > rarEntries-1 {
		rctl |= e1000.RCTL_UPE
	} else if !promisc {
		rctl &^= e1000.RCTL_UPE
		useUC = true
	}
	a.wr(e1000.RCTL, rctl)
	var mta [e1000.NumMTA]uint32
	i := 1
	if useUC {
		for _, h := range nd.UC.Addrs() {
			if i == rarEntries {
				break
			}
			a.rarSet(h.Addr, i)
			i++
		}
	}
	for _, h := range nd.MC.Addrs() {
		if i == rarEntries {
			m := h.Addr
			hash := (uint32(m[4])>>4 | uint32(m[5])<<4) & 0xFFF // e1000_hash_mc_addr, filter type 0
			mta[hash>>5&0x7F] |= 1 << (hash & 0x1F)
			continue
		}
		a.rarSet(h.Addr, i)
		i++
	}
	for ; i < rarEntries; i++ {
		a.wr(e1000.RAL(i), 0)
		a.writeFlush()
		a.wr(e1000.RAH(i), 0)
		a.writeFlush()
	}
	for r := e1000.NumMTA - 1; r >= 0; r-- {
		a.wr(e1000.MTA+4*uint32(r), mta[r])
	}
	a.writeFlush()
}

// rarSet is e1000_rar_set: address m in receive address entry i, valid
// (RAH.AV) unless it is all zeros.
func (a *Adapter) rarSet(m [6]byte, i int) {
	lo := uint32(m[0]) | uint32(m[1])<<8 | uint32(m[2])<<16 | uint32(m[3])<<24
	hi := uint32(m[4]) | uint32(m[5])<<8
	if lo != 0 || hi != 0 {
		hi |= e1000.RAH_AV
	}
	a.wr(e1000.RAL(i), lo)
	a.writeFlush()
	a.wr(e1000.RAH(i), hi)
	a.writeFlush()
}

// restoreVLAN is e1000_restore_vlan with e1000_vlan_mode: with the VLAN
// offloads on (Linux's default features), CTRL.VME has the MAC strip a
// received tag into the descriptor (VP, special) and insert the tag of a
// frame sent with VLE. No VLAN device is registered, so the filter table
// stays empty and RCTL.VFE off (setRxMode).
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

// ChangeMTU is e1000_change_mtu (ndo_change_mtu, ip link set mtu): 46 to
// 16110 bytes; above 1500 the receiver takes long frames (RCTL.LPE) that
// span several buffers. A running interface is brought down and up again
// with the new maximum frame size.
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
	a.maxFrameSize = mtu + ethHLen + ethFCSLen
	if a.open {
		a.up()
		return nil
	}
	return a.reset(t)
}
