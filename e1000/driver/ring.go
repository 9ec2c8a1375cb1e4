package driver

import (
	"fmt"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/ring"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/kernelmodel/ethtool"
	"github.com/nicbed/nicbed/kernelmodel/rxframe"
)

// rxRing is struct e1000_rx_ring with its buffers: a descriptor ring and one
// 2048-byte DMA buffer per slot, for good (hw/ring). The driver owns slots
// next_to_use .. next_to_clean-1 (at least one: a full ring would look
// empty), the device owns next_to_clean .. next_to_use-1 (RDH .. RDT-1).
type rxRing struct {
	ring.Ring
	buf []rxBuffer

	// frame is the frame being assembled from several descriptors
	// (rx_skb_top) and whether the rest of a bad frame is skipped
	// (adapter->discarding).
	frame rxframe.Assembler
}

// rxBuffer is struct e1000_rx_buffer: what the driver knows of a slot whose
// buffer is the ring's (ring.Ring.Buf).
type rxBuffer struct {
	posted bool // given to the device
}

// txRing is struct e1000_tx_ring with its buffers (4096 bytes per slot).
type txRing struct {
	ring.Ring
	buf []txBuffer
}

// txBuffer is struct e1000_tx_buffer (hw/ring's TxBuffer, shared with igb).
type txBuffer = ring.TxBuffer[*kernelmodel.SKB]

// setupRxResources is e1000_setup_rx_resources: the ring and its buffers.
func (a *Adapter) setupRxResources(r *rxRing, count int) error {
	rg, err := ring.Alloc(a.mem, count, e1000.DescSize, RxBufferSize)
	if err != nil {
		a.allocRxBuffFailed++
		return fmt.Errorf("e1000: unable to allocate memory for the receive descriptor ring: %w", err)
	}
	*r = rxRing{Ring: rg, buf: make([]rxBuffer, count)}
	return nil
}

// setupTxResources is e1000_setup_tx_resources.
func (a *Adapter) setupTxResources(r *txRing, count int) error {
	rg, err := ring.Alloc(a.mem, count, e1000.DescSize, TxBufferSize)
	if err != nil {
		return fmt.Errorf("e1000: unable to allocate memory for the transmit descriptor ring: %w", err)
	}
	*r = txRing{Ring: rg, buf: ring.NewTxBuffers[*kernelmodel.SKB](count)}
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
	r.Free(a.mem)
	*r = txRing{}
}

func (a *Adapter) freeRx(r *rxRing) {
	r.Free(a.mem)
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
		if b.Pkt != nil {
			a.k.KfreeSKB(b.Pkt, kernelmodel.SKB_DROP_REASON_DEV_READY)
		}
		b.Free()
	}
	r.Reset()
	a.wr(e1000.TDH, 0)
	a.wr(e1000.TDT, 0)
}

// cleanRxRing is e1000_clean_rx_ring: take every buffer back from the device,
// drop a half-assembled frame, start the ring over, and write 0 to RDH and
// RDT.
func (a *Adapter) cleanRxRing() {
	r := &a.rx
	r.frame.Reset(a.k)
	for i := range r.buf {
		r.buf[i].posted = false
	}
	r.Reset()
	a.wr(e1000.RDH, 0)
	a.wr(e1000.RDT, 0)
}

// Ringparam is struct ethtool_ringparam (kernelmodel/ethtool's).
type Ringparam = ethtool.Ringparam

// ringLimits are the ring sizes ethtool -G takes.
var ringLimits = ethtool.Limits{Driver: "e1000", Min: MinDescriptors, Max: MaxDescriptors, Mult: DescriptorMultiple}

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
	rxc, txc, change, err := ringLimits.NewRingSizes(a.GetRingparam(), rx, tx)
	if err != nil || !change {
		return err
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
