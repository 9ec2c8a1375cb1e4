package driver_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/e1000/model"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/irq"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/kernelmodel"
)

// hostileDev is a fake 82540EM for the driver to probe and open: it answers
// the registers probe needs (EERD with a good EEPROM, MDIC with an M88 PHY,
// CTRL.RST, STATUS with the link up), keeps the ring registers, and raises
// INTA# from ICR & IMS. It moves no frames by itself: the test writes
// whatever write-backs it likes into the driver's descriptor memory.
type hostileDev struct {
	fn     pci.Function
	regs   map[uint32]uint32 // by offset
	eeprom [64]uint16
	phy    [32]uint16
	icr    uint32
	ims    uint32
	linkUp bool
	line   irq.Line
	// onWrite, if set, sees every register write first.
	onWrite func(off, v uint32)
	// reads and writes count the register accesses through BAR0.
	reads, writes uint64
}

func newHostileDev() *hostileDev {
	d := &hostileDev{eeprom: model.DefaultEEPROM([6]byte{0x52, 0x54, 0x00, 0xBA, 0xD0, 0x01}), linkUp: true, regs: make(map[uint32]uint32, 512)}
	cfg := pci.NewConfig(pci.ID{Vendor: e1000.VendorID, Device: e1000.DeviceID, Class: e1000.ClassCode, InterruptPin: 1})
	cfg.SetBAR(0, e1000.BAR0Size)
	d.fn = pci.NewFunction(cfg, [pci.NumBARs]pci.BAR{0: (*hostileBAR)(d)})
	d.phy[e1000.PHY_ID1] = e1000.PHY_ID1_82540EM
	d.phy[e1000.PHY_ID2] = e1000.PHY_ID2_82540EM
	d.phy[e1000.PHY_BMSR] = e1000.BMSR_CAPS | e1000.BMSR_ANEGCOMPLETE | e1000.BMSR_LSTATUS
	return d
}

func (d *hostileDev) ConfigRead(off, size int) uint32       { return d.fn.ConfigRead(off, size) }
func (d *hostileDev) ConfigWrite(off, size int, val uint32) { d.fn.ConfigWrite(off, size, val) }
func (d *hostileDev) BAR(i int) pci.BAR                     { return d.fn.BAR(i) }

func (d *hostileDev) raise(cause uint32) {
	d.icr |= cause
	d.update()
}

func (d *hostileDev) update() {
	if d.line != nil {
		d.line.SetLevel(d.icr&d.ims != 0)
	}
}

type hostileBAR hostileDev

func (b *hostileBAR) Read32(off uint32) uint32 {
	d := (*hostileDev)(b)
	d.reads++
	switch off {
	case e1000.STATUS:
		s := uint32(e1000.STATUS_FD | e1000.STATUS_SPEED_1000)
		if d.linkUp {
			s |= e1000.STATUS_LU
		}
		return s
	case e1000.ICR:
		v := d.icr
		d.icr = 0
		d.update()
		return v
	case e1000.IMS:
		return d.ims
	}
	return d.regs[off]
}

func (b *hostileBAR) Write32(off, v uint32) {
	d := (*hostileDev)(b)
	d.writes++
	if d.onWrite != nil {
		d.onWrite(off, v)
	}
	switch off {
	case e1000.CTRL:
		d.regs[off] = v &^ (e1000.CTRL_RST | e1000.CTRL_PHY_RST)
	case e1000.EERD:
		a := v >> e1000.EERD_ADDR_SHIFT & 0xFF
		d.regs[off] = v&^e1000.EERD_START | e1000.EERD_DONE | uint32(d.eeprom[a%64])<<e1000.EERD_DATA_SHIFT
	case e1000.MDIC:
		reg := v >> e1000.MDIC_REG_SHIFT & 0x1F
		if v&e1000.MDIC_OP_MASK == e1000.MDIC_OP_WRITE {
			d.phy[reg] = uint16(v) &^ (e1000.BMCR_RESET | e1000.BMCR_ANRESTART)
			if reg == e1000.PHY_BMSR || reg == e1000.PHY_ID1 || reg == e1000.PHY_ID2 {
				d.phy[e1000.PHY_ID1], d.phy[e1000.PHY_ID2] = e1000.PHY_ID1_82540EM, e1000.PHY_ID2_82540EM
			}
			v = v&^0xFFFF | uint32(d.phy[reg])
		} else {
			v = v&^0xFFFF | uint32(d.phy[reg])
		}
		d.regs[off] = v | e1000.MDIC_READY
	case e1000.ICR:
		d.icr &^= v
		d.update()
	case e1000.ICS:
		d.raise(v)
	case e1000.IMS:
		d.ims |= v
		d.update()
	case e1000.IMC:
		d.ims &^= v
		d.update()
	default:
		if off < e1000.BAR0Size {
			d.regs[off] = v
		}
	}
}

// ring returns the descriptor memory of the ring whose base/length
// registers are at baseLo and lenReg, as the device would find it.
func (d *hostileDev) ring(mem *testMem, baseLo, lenReg uint32) []byte {
	base := dma.Addr(uint64(d.regs[baseLo+4])<<32 | uint64(d.regs[baseLo]))
	n := int(d.regs[lenReg])
	if n == 0 {
		return nil
	}
	v, ok := mem.View(base, n)
	if !ok {
		return nil
	}
	return v
}

// testMem is DMA memory for the fake device: each allocation its own Go
// slice, dropped when freed. (A dma.Arena keeps its whole backing array for
// as long as anything refers to it, and a kernel model, which has no
// teardown, refers to it for ever: a fuzz run of many kernels would keep
// every arena.) Bus addresses are never handed out twice, so a stale one
// never reaches a later allocation.
type testMem struct {
	next     dma.Addr
	regions  []dma.Region
	live     int
	badFrees uint64
	// freed keeps the backing arrays of freed regions until recycle gives
	// them to testMemPool: never to an allocation of the same host, which
	// a stale slice in the driver could still write into.
	freed [][]byte
}

// testMemPool holds backing arrays of hosts torn down, by size, for the
// next host to clear and use: a fuzz input would otherwise allocate (and
// the garbage collector sweep) the rings' 1.5 MiB afresh each time, most
// of an input's cost.
var testMemPool struct {
	sync.Mutex
	bySize map[int][][]byte
}

// testMemPoolDepth bounds the arrays kept of one size.
const testMemPoolDepth = 4

// backing returns size zeroed bytes, from the pool if it has some.
func (m *testMem) backing(size int) []byte {
	testMemPool.Lock()
	l := testMemPool.bySize[size]
	var b []byte
	if n := len(l); n > 0 {
		b, testMemPool.bySize[size] = l[n-1], l[:n-1]
	}
	testMemPool.Unlock()
	if b == nil {
		return make([]byte, size)
	}
	clear(b)
	return b
}

// recycle gives the arrays of freed regions to the pool. Call it only once
// the host is torn down (its kernel closed), when nothing can reach them.
func (m *testMem) recycle() {
	testMemPool.Lock()
	defer testMemPool.Unlock()
	if testMemPool.bySize == nil {
		testMemPool.bySize = map[int][][]byte{}
	}
	for _, b := range m.freed {
		if l := testMemPool.bySize[len(b)]; len(l) < testMemPoolDepth {
			testMemPool.bySize[len(b)] = append(l, b)
		}
	}
	m.freed = nil
}

// testMemLimit bounds the bytes live at once, as an arena's size does.
const testMemLimit = 64 << 20

// Alloc and Free keep the dma.Allocator contract (TestTestMemContract).
func (m *testMem) Alloc(size, align int) (dma.Region, error) {
	align, err := dma.CheckRequest(size, align)
	if err != nil {
		return dma.Region{}, err
	}
	if size > testMemLimit-m.live {
		return dma.Region{}, fmt.Errorf("%w: %d bytes wanted, %d of %d live", dma.ErrNoMemory, size, m.live, testMemLimit)
	}
	a := (m.next + dma.Addr(align) - 1) &^ (dma.Addr(align) - 1)
	m.next = a + dma.Addr(size)
	r := dma.Region{Addr: a, Bytes: m.backing(size)}
	m.regions = append(m.regions, r)
	m.live += size
	return r, nil
}

func (m *testMem) Free(r dma.Region) {
	if r.Addr == 0 && r.Bytes == nil {
		return
	}
	for i, x := range m.regions {
		if x.Addr == r.Addr && len(x.Bytes) == len(r.Bytes) {
			m.regions = slices.Delete(m.regions, i, i+1)
			m.live -= len(x.Bytes)
			m.freed = append(m.freed, x.Bytes)
			return
		}
	}
	m.badFrees++
}

func (m *testMem) BadFrees() uint64 { return m.badFrees }

// View is the device's access to n bytes at addr, if they lie in one
// allocation.
func (m *testMem) View(addr dma.Addr, n int) ([]byte, bool) {
	for _, r := range m.regions {
		if addr >= r.Addr && n >= 0 && uint64(addr-r.Addr)+uint64(n) <= uint64(len(r.Bytes)) {
			o := int(addr - r.Addr)
			return r.Bytes[o : o+n : o+n], true
		}
	}
	return nil, false
}

// hostileHost is a kernel, DMA memory, the fake device and the driver.
type hostileHost struct {
	k   *kernelmodel.Kernel
	mem *testMem
	dev *hostileDev
	a   *driver.Adapter
	nd  *kernelmodel.NetDevice
	// maxFrame is the largest frame the driver may deliver; delivered
	// counts what it did.
	maxFrame  int
	delivered uint64
	tooLong   uint64
	lastVLAN  uint16 // VLANTCI of the last frame delivered
}

func newHostileHost(t testing.TB, opts driver.Options) *hostileHost {
	t.Helper()
	h := &hostileHost{k: kernelmodel.New(kernelmodel.Config{CPUs: 1}), mem: &testMem{next: dma.DefaultBase}, dev: newHostileDev()}
	t.Cleanup(func() {
		h.k.Close() // end its coroutines: fuzzing makes one host per input
		h.mem.recycle()
	})
	pdev := h.k.NewPCIDev("0000:00:04.0", h.dev, h.mem)
	h.dev.line = h.k.INTxLine(pdev.IRQ)
	a, err := probeTask(h.k, pdev, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.a, h.nd = a, a.Netdev()
	mtu := opts.MTU
	if mtu == 0 {
		mtu = 1500
	}
	h.maxFrame = mtu + 18
	h.k.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_ALL, Func: func(skb *kernelmodel.SKB) {
		h.delivered++
		h.lastVLAN = skb.VLANTCI
		if len(skb.Data)+kernelmodel.ETH_HLEN > h.maxFrame {
			h.tooLong++
		}
		h.k.ConsumeSKB(skb) // the tap's reference
	}})
	h.task(t, "ip-link-up", func(task *kernelmodel.Task) error { return h.nd.DevOpen(task) })
	return h
}

// probeTask runs driver.Probe in a task on CPU 0 of k and the clock until
// it returns (at most ten seconds of model time).
func probeTask(k *kernelmodel.Kernel, pdev *kernelmodel.PCIDev, opts driver.Options) (*driver.Adapter, error) {
	var a *driver.Adapter
	err := errors.New("probe did not finish")
	done := false
	k.Spawn(0, "e1000-probe", func(t *kernelmodel.Task) {
		a, err = driver.Probe(t, pdev, opts)
		done = true
	})
	k.Clock().RunWhile(func() bool { return !done }, k.Clock().Now()+10*time.Second)
	return a, err
}

// linkedHostileHost is newHostileHost once the watchdog has seen the link
// up (carrier on).
func linkedHostileHost(t testing.TB, opts driver.Options) *hostileHost {
	t.Helper()
	h := newHostileHost(t, opts)
	h.k.Clock().RunFor(10 * time.Millisecond)
	if !h.nd.NetifCarrierOK() {
		t.Fatal("no carrier")
	}
	return h
}

// task runs fn in a task and the clock until it is done.
func (h *hostileHost) task(t testing.TB, name string, fn func(*kernelmodel.Task) error) {
	t.Helper()
	var err error
	done := false
	h.k.Spawn(0, name, func(task *kernelmodel.Task) { err = fn(task); done = true })
	h.k.Clock().RunWhile(func() bool { return !done }, h.k.Clock().Now()+time.Second)
	if !done {
		t.Fatalf("%s did not finish", name)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// xmit hands the driver a frame of n bytes, as pktgen would.
func (h *hostileHost) xmit(n int, gso bool) kernelmodel.NetdevTx {
	skb := h.k.AllocSKB(max(n, 64))
	p := skb.Put(n)
	for i := range p {
		p[i] = byte(i)
	}
	if n >= 54 {
		// Ethernet, IPv4 (IHL 5), TCP (20 bytes).
		binary.BigEndian.PutUint16(p[12:], kernelmodel.ETH_P_IP)
		p[14] = 0x45
		p[23] = 6
		p[46] = 5 << 4
		if gso {
			skb.GSOSize = 536
		} else {
			skb.IPSummed = kernelmodel.CHECKSUM_PARTIAL
			skb.CsumStart, skb.CsumOffset = 34, 16
		}
	}
	skb.Dev = h.nd
	rc := h.nd.NetdevStartXmit(skb, h.nd.TxQueue(0), false)
	if rc != kernelmodel.NETDEV_TX_OK {
		h.k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_DEV_READY)
	}
	return rc
}

// TestTxHang: a device that never reports frames sent. The watchdog's
// transmit-hang detection (e1000_clean_tx_irq, at the 2 s run) stops the
// queue; the kernel's dev_watchdog, which runs every 5 s, finds it stopped
// more than watchdog_timeo (5 s) after the last transmit at its 10 s run and
// calls e1000_tx_timeout, whose reset frees every skb held and runs the
// queue again.
func TestTxHang(t *testing.T) {
	h := linkedHostileHost(t, driver.Options{})
	clk := h.k.Clock()
	for i := 0; i < 10; i++ {
		if rc := h.xmit(100, false); rc != kernelmodel.NETDEV_TX_OK {
			t.Fatalf("xmit %d: %v", i, rc)
		}
	}
	if n := h.k.SKBsInUse(); n != 10 {
		t.Fatalf("%d skbs held, want 10", n)
	}
	clk.RunFor(11 * time.Second)
	c := h.a.Counters()
	st := map[string]uint64{}
	for _, s := range h.a.EthtoolStats() {
		st[s.Name] = s.Value
	}
	t.Logf("hangs %d, resets %d, tx_timeout_count %d", c.TxHangs, c.Resets, st["tx_timeout_count"])
	if c.TxHangs == 0 || c.Resets == 0 || st["tx_timeout_count"] == 0 {
		t.Errorf("hang not detected or not recovered: %+v, tx_timeout_count %d", c, st["tx_timeout_count"])
	}
	if n := h.k.SKBsInUse(); n != 0 {
		t.Errorf("%d skbs still held after the reset", n)
	}
	if h.nd.NetifQueueStopped() {
		t.Error("queue still stopped after the reset")
	}
	if n := h.nd.TxQueue(0).TransTimeout; n != st["tx_timeout_count"] {
		t.Errorf("trans_timeout %d, tx_timeout_count %d: want every timeout from dev_watchdog", n, st["tx_timeout_count"])
	}
	if err := h.a.CheckInvariants(); err != nil {
		t.Error(err)
	}
}

// TestHostileWriteBacks plays a few hand-made misbehaviours through the
// fuzz harness and checks each is counted.
func TestHostileWriteBacks(t *testing.T) {
	tests := []struct {
		name  string
		ops   []byte
		check func(c driver.DriverCounters) bool
	}{
		{"DD on the unposted slot", seedUnposted(), func(c driver.DriverCounters) bool { return c.RxUnpostedWriteback > 0 }},
		{"length beyond the buffer", seedLongLength(), func(c driver.DriverCounters) bool { return c.RxBadLength > 0 }},
		{"reserved status bit", seedBadStatus(), func(c driver.DriverCounters) bool { return c.RxBadStatus > 0 }},
		{"EOP never comes (standard MTU)", seedNoEOP(0), func(c driver.DriverCounters) bool { return c.RxMultiBuffer > 0 && c.RxDiscardedDescs > 100 }},
		{"EOP never comes (jumbo)", seedNoEOP(1), func(c driver.DriverCounters) bool { return c.RxNoEOP > 10 }},
		{"TX DD on an unposted slot", seedTxUnposted(), func(c driver.DriverCounters) bool { return c.TxUnpostedWriteback > 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := runHostile(t, tc.ops)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("counters %+v", c)
			}
		})
	}
}
