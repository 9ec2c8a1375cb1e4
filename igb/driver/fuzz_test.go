package driver_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/internal/fuzzmin"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// The fuzz input is a configuration byte and a program of actions of a
// hostile device and of the stack on two igb hosts, A sending to B.
// Configuration: bit 0 MTU 9000 on both, bit 1 head write-back on A, bit 2
// one queue pair instead of two. Each action is an opcode byte and its
// arguments (missing bytes read as zero).
const (
	opRxRaw   = iota // queue, slot u16, 16 bytes: any receive descriptor of B, then B's vectors fire
	opRxWB           // status u32, length u16: a write-back at B's next_to_clean, the device's head moved past it
	opTxRaw          // queue, slot u16, 16 bytes: any transmit descriptor of A
	opHead           // u32: A's head write-back word (with bit 1 of the configuration)
	opEICS           // host, mask u16: EICS
	opICS            // host, causes u32: ICS (LSC, DRSTA: the reset task ...)
	opXmit           // host, queue, length u16, flags: the stack hands the driver a frame
	opRun            // units: run the clock units × 20 µs
	opLink           // flip the cable
	opEthtool        // host, what, value: ethtool -C, -G, -L, -X
	numOps
)

const maxFuzzOps = 200

type reader struct{ b []byte }

func (r *reader) u8() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 { return uint16(r.u8()) | uint16(r.u8())<<8 }
func (r *reader) u32() uint32 { return uint32(r.u16()) | uint32(r.u16())<<16 }

// runFuzz runs one program and returns the first broken guarantee: a
// driver's books, a DMA fault the driver caused (none: the driver never
// hands out memory it does not own), an skb leaked or freed twice, DMA
// memory kept after both interfaces closed. A panic fails the test.
func runFuzz(t testing.TB, data []byte) error {
	r := &reader{b: data}
	cfg := r.u8()
	fa := driver.Options{Queues: 2}
	if cfg&4 != 0 {
		fa.Queues = 1
	}
	fb := fa
	fa.HeadWriteBack = cfg&2 != 0
	tb, err := testbed.New(testbed.Config{NIC: testbed.IGB{Driver: fa, DriverB: &fb}, CPUs: 2, InfiniteSpeed: true})
	if err != nil {
		return err
	}
	defer func() {
		for _, h := range tb.Hosts() {
			h.Kernel.Close()
		}
	}()
	if cfg&1 != 0 {
		for _, h := range tb.Hosts() {
			if err := tb.RunTask(h, "mtu", time.Second, func(tk *kernelmodel.Task) error { return h.NIC.ChangeMTU(tk, 9000) }); err != nil {
				return err
			}
		}
	}
	if err := tb.Up(time.Second); err != nil {
		return err
	}
	host := func(b byte) *testbed.Host { return tb.Hosts()[b&1] }
	for n := 0; len(r.b) > 0 && n < maxFuzzOps; n++ {
		op := r.u8() % numOps
		switch op {
		case opRxRaw:
			q, slot := int(r.u8()), int(r.u16())
			var d [igb.DescSize]byte
			for i := range d {
				d[i] = r.u8()
			}
			if a := nic(t, tb.B).Adapter; q < a.Queues() {
				n := a.RxRing(q).Count
				tb.B.Mem.Write(rxDesc(tb.B, q, slot%n), d[:])
			}
			fireAll(tb.B)
		case opRxWB:
			st, l := r.u32(), r.u16()
			a := nic(t, tb.B).Adapter
			rxConsume(tb.B, 0, a.RxRing(0).NTC, st, l)
			fireAll(tb.B)
		case opTxRaw:
			q, slot := int(r.u8()), int(r.u16())
			var d [igb.DescSize]byte
			for i := range d {
				d[i] = r.u8()
			}
			if a := nic(t, tb.A).Adapter; q < a.Queues() {
				tb.A.Mem.Write(txDesc(tb.A, q, slot%a.TxRing(q).Count), d[:])
			}
		case opHead:
			v := r.u32()
			if addr, ok := nic(t, tb.A).Adapter.HeadWriteBackAddr(0); ok {
				var b [4]byte
				binary.LittleEndian.PutUint32(b[:], v)
				tb.A.Mem.Write(dma.Addr(addr), b[:])
			}
		case opEICS:
			h, m := host(r.u8()), r.u16()
			setReg(h, igb.EICS, uint32(m))
		case opICS:
			h, c := host(r.u8()), r.u32()
			setReg(h, igb.ICS, c)
		case opXmit:
			h, q, l, fl := host(r.u8()), r.u8(), r.u16(), r.u8()
			xmit(h, int(q), int(l)%9100, fl)
		case opRun:
			tb.Clock.RunFor(time.Duration(r.u8()) * 20 * time.Microsecond)
		case opLink:
			tb.Cable.SetUp(!tb.Cable.Up())
		case opEthtool:
			h, what, v := host(r.u8()), r.u8(), r.u8()
			a := nic(t, h).Adapter
			var err error
			switch what % 4 {
			case 0:
				err = a.SetCoalesce(driver.Coalesce{RxUsecs: []int{0, 1, 3, 10, 50, 2}[int(v)%6]})
			case 1:
				err = tb.RunTask(h, "ethtool-G", time.Second, func(tk *kernelmodel.Task) error {
					return a.SetRingparam(tk, 64+int(v)%3*96, 64+int(v/3)%3*96)
				})
			case 2:
				err = tb.RunTask(h, "ethtool-L", time.Second, func(tk *kernelmodel.Task) error { return a.SetChannels(tk, 1+int(v)%3) })
			case 3:
				indir := make([]uint8, driver.RETASize)
				for i := range indir {
					indir[i] = uint8((i + int(v)) % 2)
				}
				err = a.SetRxfh(indir, nil)
			}
			if err != nil && !errors.Is(err, driver.ErrInvalid) {
				return fmt.Errorf("ethtool: %w", err)
			}
		}
		for _, h := range tb.Hosts() {
			if err := h.NIC.CheckInvariants(); err != nil {
				return fmt.Errorf("after op %d (%d): %s: %w", n, op, h.Name, err)
			}
		}
	}
	tb.Clock.RunFor(5 * time.Millisecond)
	if err := tb.Down(5 * time.Second); err != nil {
		return err
	}
	for _, h := range tb.Hosts() {
		if err := h.NIC.CheckInvariants(); err != nil {
			return fmt.Errorf("after close: %s: %w", h.Name, err)
		}
		if err := h.Kernel.SKBAudit(); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		if n := h.Mem.Allocated(); n != 0 {
			return fmt.Errorf("%s: %d bytes of DMA memory kept after close", h.Name, n)
		}
		if n := h.Mem.BadFrees(); n != 0 {
			return fmt.Errorf("%s: %d bad DMA frees", h.Name, n)
		}
	}
	return nil
}

// fireAll raises every vector of h, as a device reporting work does.
func fireAll(h *testbed.Host) { setReg(h, igb.EICS, 0x1FF) }

// xmit hands h's driver a frame of n bytes to queue q, as the stack would:
// IPv4/TCP to the other host, with TSO (flags bit 0), a checksum to offload
// at offsets from flags (bit 1), a VLAN tag (bit 2). The driver owns it on
// NETDEV_TX_OK; otherwise it is freed here.
func xmit(h *testbed.Host, q, n int, flags byte) {
	k := h.Kernel
	skb := k.AllocSKB(max(n, 64))
	p := skb.Put(n)
	for i := range p {
		p[i] = byte(i)
	}
	if n >= 54 {
		copy(p[0:6], testbed.MACB[:])
		if h.Index == 1 {
			copy(p[0:6], testbed.MACA[:])
		}
		binary.BigEndian.PutUint16(p[12:], kernelmodel.ETH_P_IP)
		p[14], p[23], p[46] = 0x45, 6, 5<<4
		binary.BigEndian.PutUint16(p[16:], uint16(n-14))
	}
	switch {
	case flags&1 != 0:
		skb.GSOSize = uint16(536 + int(flags>>3)*40)
	case flags&2 != 0:
		skb.IPSummed = kernelmodel.CHECKSUM_PARTIAL
		skb.CsumStart, skb.CsumOffset = uint16(34+int(flags>>4)%4), uint16(16*int(flags>>6&1))
	}
	if flags&4 != 0 {
		skb.VLANTCI = 5
	}
	skb.Dev = h.Dev
	skb.QueueMapping = uint16(q)
	if h.Dev.Ops.StartXmit(skb) != kernelmodel.NETDEV_TX_OK {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_DEV_READY)
	}
}

// fuzzMinimizeRuns bounds the runs a fuzz worker spends minimizing one new
// input (internal/fuzzmin): an input costs two kernels, probes, opens and
// closes, a few milliseconds.
const fuzzMinimizeRuns = 300

// TestMain applies fuzzMinimizeRuns unless the command line gave a bound.
func TestMain(m *testing.M) { fuzzmin.Main(m, fuzzMinimizeRuns) }

// TestFuzzMinimizeBound: without -fuzzminimizetime, minimization is bounded
// by a count of runs, not Go's 60 s.
func TestFuzzMinimizeBound(t *testing.T) { fuzzmin.Check(t, fuzzMinimizeRuns) }

// FuzzIGBDriver: a hostile 82576 — arbitrary descriptors and write-backs,
// spurious interrupts and causes, a head write-back anywhere, link flaps —
// against the driver, between frames the stack sends and ethtool changes.
// No panic, the books hold after every action, no skb leaked or freed
// twice, all DMA memory given back at close.
func FuzzIGBDriver(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := runFuzz(t, data); err != nil {
			t.Fatal(err)
		}
	})
}

// prog builds a fuzz input.
type prog []byte

func (p prog) op(op byte, args ...any) prog {
	p = append(p, op)
	for _, a := range args {
		switch v := a.(type) {
		case int:
			p = append(p, byte(v))
		case uint16:
			p = binary.LittleEndian.AppendUint16(p, v)
		case uint32:
			p = binary.LittleEndian.AppendUint32(p, v)
		case []byte:
			p = append(p, v...)
		}
	}
	return p
}

// fuzzSeeds are the seed corpus: traffic, each hostile action, ethtool.
func fuzzSeeds() map[string][]byte {
	traffic := func(p prog) prog {
		for i := range 8 {
			p = p.op(opXmit, 0, i%2, uint16(60+i*180), i%8)
			p = p.op(opXmit, 1, 0, uint16(1514), 0)
		}
		return p.op(opRun, 50)
	}
	dd := []byte{0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0x40, 0, 0, 0}
	return map[string][]byte{
		"traffic":         traffic(prog{0}),
		"traffic_jumbo":   traffic(prog{1}).op(opXmit, 0, 0, uint16(9014), 0).op(opXmit, 0, 0, uint16(9014), 1).op(opRun, 100),
		"rx_raw":          traffic(prog{0}).op(opRxRaw, 0, uint16(3), dd).op(opRxRaw, 1, uint16(200), dd).op(opRun, 10),
		"rx_bad_length":   traffic(prog{0}).op(opRxWB, uint32(3), uint16(5000)).op(opRun, 10),
		"rx_bad_status":   traffic(prog{0}).op(opRxWB, uint32(3|1<<8|igb.RXD_ERR_L4E), uint16(64)).op(opRun, 10),
		"rx_no_eop":       traffic(prog{4}).op(opRxWB, uint32(1), uint16(2048)).op(opRxWB, uint32(1), uint16(2048)).op(opRxWB, uint32(3), uint16(100)).op(opRun, 10),
		"tx_raw":          traffic(prog{0}).op(opTxRaw, 0, uint16(1), dd).op(opXmit, 0, 0, uint16(100), 0).op(opRun, 10),
		"head_writeback":  traffic(prog{2}).op(opHead, uint32(7)).op(opEICS, 0, uint16(0x1FF)).op(opHead, uint32(99999)).op(opEICS, 0, uint16(0x1FF)).op(opRun, 10),
		"causes":          traffic(prog{0}).op(opICS, 1, uint32(igb.ICR_LSC)).op(opICS, 0, uint32(igb.ICR_DRSTA)).op(opRun, 255).op(opRun, 255),
		"link_flap":       traffic(prog{0}).op(opLink).op(opRun, 200).op(opXmit, 0, 0, uint16(100), 0).op(opLink).op(opRun, 255),
		"ethtool":         traffic(prog{0}).op(opEthtool, 1, 0, 4).op(opEthtool, 1, 1, 4).op(opEthtool, 1, 2, 2).op(opEthtool, 1, 3, 1).op(opEthtool, 0, 2, 0),
		"tso_csum_vlan":   traffic(prog{0}).op(opXmit, 0, 1, uint16(8000), 1).op(opXmit, 0, 1, uint16(400), 2|0x30).op(opXmit, 0, 0, uint16(300), 4|2).op(opRun, 50),
		"one_queue_storm": traffic(prog{4}).op(opEICS, 1, uint16(0xFFFF)).op(opICS, 1, uint32(0xFFFFFFFF)).op(opRun, 20),
	}
}

// TestFuzzSeedsCommitted: the seed corpus is also under
// testdata/fuzz/FuzzIGBDriver, in go test's corpus file format, so that
// `go test` replays it (and crashers found later sit beside it).
func TestFuzzSeedsCommitted(t *testing.T) {
	for name, s := range fuzzSeeds() {
		b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzIGBDriver", name))
		if err != nil {
			t.Errorf("seed %s: %v", name, err)
			continue
		}
		if want := corpusFile(s); string(b) != want {
			t.Errorf("seed %s differs from fuzzSeeds(); the file should be:\n%s", name, want)
		}
	}
}

// corpusFile is a []byte input in go test fuzz v1 format.
func corpusFile(b []byte) string { return fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b) }
