package driver

import (
	"fmt"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/kernelmodel"
)

// rxRing is struct e1000_rx_ring with its buffers: a descriptor ring and one
// 2048-byte DMA buffer per slot, for good. The driver owns slots
// next_to_use .. next_to_clean-1 (at least one: a full ring would look
// empty), the device owns next_to_clean .. next_to_use-1 (RDH .. RDT-1).
type rxRing struct {
	desc  dma.Region // count × 16 bytes
	bufs  dma.Region // count × RxBufferSize bytes
	count int
	ntc   int // next_to_clean
	ntu   int // next_to_use
	buf   []rxBuffer

	// partial is the frame being assembled from several descriptors
	// (rx_skb_top); discarding is set while the rest of a bad frame is
	// skipped (adapter->discarding).
	partial    *kernelmodel.SKB
	discarding bool
}

// rxBuffer is struct e1000_rx_buffer: a slot's buffer.
type rxBuffer struct {
	data   []byte // exactly RxBufferSize bytes, capacity too: no reading past it
	dma    dma.Addr
	posted bool // given to the device
}

// txRing is struct e1000_tx_ring with its buffers.
type txRing struct {
	desc  dma.Region
	bufs  dma.Region
	count int
	ntc   int
	ntu   int
	buf   []txBuffer
}

// txBuffer is struct e1000_tx_buffer.
type txBuffer struct {
	data []byte // exactly TxBufferSize bytes
	dma  dma.Addr
	// skb is set on the last slot of a frame and freed when the frame is
	// cleaned.
	skb *kernelmodel.SKB
	// nextToWatch is set on the first slot of a frame: the slot of its
	// last descriptor, whose DD says the frame is done; -1 otherwise.
	nextToWatch int32
	timeStamp   uint64 // jiffies when queued; 0 when free
	length      uint32 // bytes in this slot's buffer
	segs        uint32 // on the last slot: segments (TSO) the frame became
	bytecount   uint32 // on the last slot: bytes on the wire, headers of every segment included
	used        bool   // part of a queued frame
}

func descAt(r dma.Region, i int) []byte {
	o := i * e1000.DescSize
	return r.Bytes[o : o+e1000.DescSize : o+e1000.DescSize]
}

func (r *rxRing) desc16(i int) e1000.RxDesc { return e1000.RxDesc(descAt(r.desc, i)) }
func (r *txRing) desc16(i int) []byte       { return descAt(r.desc, i) }

// descUnused is E1000_DESC_UNUSED: slots the driver may still fill, keeping
// one empty so that a full ring is told from an empty one.
func descUnused(ntc, ntu, count int) int {
	n := ntc - ntu - 1
	if ntc <= ntu {
		n += count
	}
	return n
}

func (r *rxRing) unused() int { return descUnused(r.ntc, r.ntu, r.count) }
func (r *txRing) unused() int { return descUnused(r.ntc, r.ntu, r.count) }

// allocRing allocates a descriptor ring (4 KiB aligned, as Linux's
// ALIGN(size, 4096)) and count buffers of size bytes.
func allocRing(mem dma.Allocator, count, size int) (desc, bufs dma.Region, err error) {
	dlen := (count*e1000.DescSize + 4095) &^ 4095
	if desc, err = mem.Alloc(dlen, 4096); err != nil {
		return desc, bufs, err
	}
	if bufs, err = mem.Alloc(count*size, 4096); err != nil {
		mem.Free(desc)
		return desc, bufs, err
	}
	return desc, bufs, nil
}

// setupRxResources is e1000_setup_rx_resources: the ring and its buffers.
func (a *Adapter) setupRxResources(r *rxRing, count int) error {
	desc, bufs, err := allocRing(a.mem, count, RxBufferSize)
	if err != nil {
		a.allocRxBuffFailed++
		return fmt.Errorf("e1000: unable to allocate memory for the receive descriptor ring: %w", err)
	}
	*r = rxRing{desc: desc, bufs: bufs, count: count, buf: make([]rxBuffer, count)}
	for i := range r.buf {
		o := i * RxBufferSize
		r.buf[i] = rxBuffer{data: bufs.Bytes[o : o+RxBufferSize : o+RxBufferSize], dma: bufs.Addr + dma.Addr(o)}
	}
	return nil
}

// setupTxResources is e1000_setup_tx_resources.
func (a *Adapter) setupTxResources(r *txRing, count int) error {
	desc, bufs, err := allocRing(a.mem, count, TxBufferSize)
	if err != nil {
		return fmt.Errorf("e1000: unable to allocate memory for the transmit descriptor ring: %w", err)
	}
	*r = txRing{desc: desc, bufs: bufs, count: count, buf: make([]txBuffer, count)}
	for i := range r.buf {
		o := i * TxBufferSize
		r.buf[i] = txBuffer{data: bufs.Bytes[o : o+TxBufferSize : o+TxBufferSize], dma: bufs.Addr + dma.Addr(o), nextToWatch: -1}
	}
	return nil
}

// setupResources is e1000_setup_all_tx_resources and
// e1000_setup_all_rx_resources.
func (a *Adapter) setupResources() error {
	if a.resources {
		return nil
	}
	if err := a.setupTxResources(&a.tx, a.txRingCount); err != nil {
		return err
	}
	if err := a.setupRxResources(&a.rx, a.rxRingCount); err != nil {
		a.freeTx(&a.tx)
		return err
	}
	a.resources = true
	return nil
}

func (a *Adapter) freeTx(r *txRing) {
	a.mem.Free(r.desc)
	a.mem.Free(r.bufs)
	*r = txRing{}
}

func (a *Adapter) freeRx(r *rxRing) {
	a.mem.Free(r.desc)
	a.mem.Free(r.bufs)
	*r = rxRing{}
}

// freeResources is e1000_free_all_tx_resources and
// e1000_free_all_rx_resources (after the rings were cleaned).
func (a *Adapter) freeResources() {
	if !a.resources {
		return
	}
	a.cleanTxRing()
	a.cleanRxRing()
	a.freeTx(&a.tx)
	a.freeRx(&a.rx)
	a.resources = false
}

// cleanTxRing is e1000_clean_tx_ring: free every skb still in the ring,
// start it over, and write 0 to TDH and TDT.
func (a *Adapter) cleanTxRing() {
	r := &a.tx
	for i := range r.buf {
		b := &r.buf[i]
		if b.skb != nil {
			a.k.KfreeSKB(b.skb, kernelmodel.SKB_DROP_REASON_DEV_READY)
		}
		b.skb, b.nextToWatch, b.timeStamp, b.used = nil, -1, 0, false
	}
	clear(r.desc.Bytes)
	r.ntc, r.ntu = 0, 0
	a.wr(e1000.TDH, 0)
	a.wr(e1000.TDT, 0)
}

// cleanRxRing is e1000_clean_rx_ring: take every buffer back from the device,
// drop a half-assembled frame, start the ring over, and write 0 to RDH and
// RDT.
func (a *Adapter) cleanRxRing() {
	r := &a.rx
	if r.partial != nil {
		a.k.KfreeSKB(r.partial, kernelmodel.SKB_DROP_REASON_DEV_READY)
		r.partial = nil
	}
	r.discarding = false
	for i := range r.buf {
		r.buf[i].posted = false
	}
	clear(r.desc.Bytes)
	r.ntc, r.ntu = 0, 0
	a.wr(e1000.RDH, 0)
	a.wr(e1000.RDT, 0)
}

// Ringparam is struct ethtool_ringparam for ethtool -g / -G.
type Ringparam struct {
	RxMaxPending, TxMaxPending int
	RxPending, TxPending       int
}

// GetRingparam is e1000_get_ringparam (ethtool -g).
func (a *Adapter) GetRingparam() Ringparam {
	return Ringparam{RxMaxPending: MaxDescriptors, TxMaxPending: MaxDescriptors, RxPending: a.rxRingCount, TxPending: a.txRingCount}
}

// SetRingparam is e1000_set_ringparam (ethtool -G rx N tx M): sizes of
// 80–4096 descriptors, rounded up to a multiple of 8; a size out of range is
// an error. A running interface is brought down, gets new rings (allocated
// before the old ones are freed) and comes back up. t is the task of the
// caller (ethtool runs in process context).
func (a *Adapter) SetRingparam(t *kernelmodel.Task, rx, tx int) error {
	rxc, err := checkRingCount("rx ring size", rx)
	if err != nil {
		return err
	}
	txc, err := checkRingCount("tx ring size", tx)
	if err != nil {
		return err
	}
	if rxc == a.rxRingCount && txc == a.txRingCount {
		return nil
	}
	if !a.open {
		a.rxRingCount, a.txRingCount = rxc, txc
		return nil
	}
	a.down(t)
	var nrx rxRing
	var ntx txRing
	if err := a.setupRxResources(&nrx, rxc); err != nil {
		a.up()
		return err
	}
	if err := a.setupTxResources(&ntx, txc); err != nil {
		a.freeRx(&nrx)
		a.up()
		return err
	}
	a.freeRx(&a.rx)
	a.freeTx(&a.tx)
	a.rx, a.tx = nrx, ntx
	a.rxRingCount, a.txRingCount = rxc, txc
	a.up()
	return nil
}

type dmaAddr = dma.Addr
