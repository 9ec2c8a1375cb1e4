package driver

import (
	"fmt"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/ring"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/kernelmodel/ethtool"
	"github.com/nicbed/nicbed/kernelmodel/rxframe"
)

// rxRing is struct igb_ring for receive, with its buffers: a ring of
// advanced descriptors and one 2048-byte DMA buffer per slot, for good
// (hw/ring). The driver owns slots next_to_use .. next_to_clean-1 (at least
// one), the device owns next_to_clean .. next_to_use-1 (RDH .. RDT-1).
type rxRing struct {
	ring.Ring
	idx    int    // queue_index and reg_idx
	posted []bool // slot given to the device

	// frame is the frame being assembled from several descriptors
	// (rx_ring->skb) and whether the rest of a bad frame is skipped.
	frame rxframe.Assembler

	st *rxQueueStats
}

// rxQueueStats is a receive ring's rx_stats, and its queue's RQDPC
// accumulated (rx_queue_N_drops). They live in the adapter, per queue, so
// that they outlive the ring's memory (close, ethtool -G).
type rxQueueStats struct {
	packets, bytes, csumErr, allocFailed, drops uint64
}

// txQueueStats is a transmit ring's tx_stats.
type txQueueStats struct {
	packets, bytes, restartQueue uint64
}

// txRing is struct igb_ring for transmit, with its books and buffers (4096
// bytes per slot) and, with Options.HeadWriteBack, the head write-back
// word.
type txRing struct {
	ring.Ring
	idx        int
	buf        []ring.TxBuffer[*kernelmodel.SKB]
	head       dma.Region // 4 bytes the device writes TDH to (TDWBAL/TDWBAH), if any
	detectHang bool       // IGB_RING_FLAG_TX_DETECT_HANG

	st *txQueueStats
}

// setupRxResources is igb_setup_rx_resources.
func (a *Adapter) setupRxResources(idx, count int) (*rxRing, error) {
	rg, err := ring.Alloc(a.mem, count, igb.DescSize, RxBufferSize)
	if err != nil {
		return nil, fmt.Errorf("igb: unable to allocate memory for the receive descriptor ring %d: %w", idx, err)
	}
	return &rxRing{Ring: rg, idx: idx, posted: make([]bool, count), st: &a.rxStats[idx]}, nil
}

// setupTxResources is igb_setup_tx_resources.
func (a *Adapter) setupTxResources(idx, count int) (*txRing, error) {
	rg, err := ring.Alloc(a.mem, count, igb.DescSize, TxBufferSize)
	if err != nil {
		return nil, fmt.Errorf("igb: unable to allocate memory for the transmit descriptor ring %d: %w", idx, err)
	}
	r := &txRing{Ring: rg, idx: idx, buf: ring.NewTxBuffers[*kernelmodel.SKB](count), st: &a.txStats[idx]}
	if a.opts.HeadWriteBack {
		if r.head, err = a.mem.Alloc(4, 4); err != nil {
			rg.Free(a.mem)
			return nil, fmt.Errorf("igb: head write-back of ring %d: %w", idx, err)
		}
	}
	return r, nil
}

func (a *Adapter) freeTx(r *txRing) {
	if r.head.Bytes != nil {
		a.mem.Free(r.head)
		r.head = dma.Region{}
	}
	r.Free(a.mem)
}

func (a *Adapter) freeRx(r *rxRing) { r.Free(a.mem) }

// setupResources is igb_setup_all_tx_resources and
// igb_setup_all_rx_resources: a ring pair per queue.
func (a *Adapter) setupResources() error {
	if a.resources {
		return nil
	}
	rx, tx, err := a.allocRings(a.rxRingCount, a.txRingCount)
	if err != nil {
		return err
	}
	a.rx, a.tx = rx, tx
	a.mapRings()
	a.resources = true
	return nil
}

// allocRings allocates the rings of every queue, all or none.
func (a *Adapter) allocRings(rxCount, txCount int) ([]*rxRing, []*txRing, error) {
	var rx []*rxRing
	var tx []*txRing
	undo := func() {
		for _, r := range rx {
			a.freeRx(r)
		}
		for _, r := range tx {
			a.freeTx(r)
		}
	}
	for i := range a.rssQueues {
		t, err := a.setupTxResources(i, txCount)
		if err != nil {
			undo()
			return nil, nil, err
		}
		tx = append(tx, t)
		r, err := a.setupRxResources(i, rxCount)
		if err != nil {
			undo()
			return nil, nil, err
		}
		rx = append(rx, r)
	}
	return rx, tx, nil
}

// mapRings gives each q_vector its ring pair (igb_alloc_q_vector's ring
// assignment with IGB_FLAG_QUEUE_PAIRS).
func (a *Adapter) mapRings() {
	for i, q := range a.qv {
		q.rx, q.tx = nil, nil
		if i < len(a.rx) {
			q.rx, q.tx = a.rx[i], a.tx[i]
		}
	}
}

// freeResources is igb_free_all_tx_resources and
// igb_free_all_rx_resources (after the rings were cleaned).
func (a *Adapter) freeResources() {
	if !a.resources {
		return
	}
	a.cleanAllTxRings()
	a.cleanAllRxRings()
	for _, r := range a.tx {
		a.freeTx(r)
	}
	for _, r := range a.rx {
		a.freeRx(r)
	}
	a.rx, a.tx = nil, nil
	a.mapRings()
	a.resources = false
}

// cleanAllTxRings is igb_clean_all_tx_rings (igb_clean_tx_ring for each):
// free every skb still in a ring, start BQL over (netdev_tx_reset_queue)
// and the ring, write 0 to TDH and TDT.
func (a *Adapter) cleanAllTxRings() {
	for _, r := range a.tx {
		for i := range r.buf {
			b := &r.buf[i]
			if b.Pkt != nil {
				a.k.KfreeSKB(b.Pkt, kernelmodel.SKB_DROP_REASON_DEV_READY)
			}
			b.Free()
		}
		a.netdev.TxQueue(r.idx).NetdevTxResetQueue()
		r.Reset()
		if r.head.Bytes != nil {
			clear(r.head.Bytes)
		}
		a.wr(igb.TDH(r.idx), 0)
		a.wr(igb.TDT(r.idx), 0)
	}
}

// cleanAllRxRings is igb_clean_all_rx_rings (igb_clean_rx_ring for each):
// take every buffer back from the device, drop a half-assembled frame,
// start the ring over, write 0 to RDH and RDT.
func (a *Adapter) cleanAllRxRings() {
	for _, r := range a.rx {
		r.frame.Reset(a.k)
		clear(r.posted)
		r.Reset()
		a.wr(igb.RDH(r.idx), 0)
		a.wr(igb.RDT(r.idx), 0)
	}
}

// Ringparam is struct ethtool_ringparam (kernelmodel/ethtool's).
type Ringparam = ethtool.Ringparam

// ringLimits are the ring sizes ethtool -G takes.
var ringLimits = ethtool.Limits{Driver: "igb", Min: MinDescriptors, Max: MaxDescriptors, Mult: DescriptorMultiple}

// GetRingparam is igb_get_ringparam (ethtool -g).
func (a *Adapter) GetRingparam() Ringparam {
	return Ringparam{RxMaxPending: MaxDescriptors, TxMaxPending: MaxDescriptors, RxPending: a.rxRingCount, TxPending: a.txRingCount}
}

// SetRingparam is igb_set_ringparam (ethtool -G rx N tx M): sizes of
// 64–4096 descriptors, rounded up to a multiple of 8; a size out of range
// is an error. A running interface is brought down, gets new rings for
// every queue (allocated before the old ones are freed) and comes back up.
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
	nrx, ntx, err := a.allocRings(rxc, txc)
	if err != nil {
		a.up(t)
		return err
	}
	for _, r := range a.tx {
		a.freeTx(r)
	}
	for _, r := range a.rx {
		a.freeRx(r)
	}
	a.rx, a.tx = nrx, ntx
	a.mapRings()
	a.rxRingCount, a.txRingCount = rxc, txc
	a.up(t)
	return nil
}
