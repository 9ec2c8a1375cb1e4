// Package rxframe is what NIC drivers share on receive between a
// descriptor's buffer and an skb: a frame copied out of one buffer, or
// assembled from the buffers of several descriptors up to its EOP (e1000's
// rx_skb_top, igb's rx_ring->skb with igb_add_rx_frag), with every length
// the device wrote checked against the buffer and the largest legal frame,
// and a frame the device got wrong dropped whole — its later descriptors
// discarded up to its EOP — and counted. Nothing here reads past a buffer
// or keeps one.
package rxframe

import "github.com/nicbed/nicbed/kernelmodel"

// ethHLen is ETH_HLEN: a frame shorter than its Ethernet header is a runt.
const ethHLen = 14

// Counters count what the device wrote wrong. A driver embeds them in its
// own counters.
type Counters struct {
	RxBadLength      uint64 // write-back length 0 or larger than the buffer
	RxNoEOP          uint64 // frames that ran past the largest legal frame without EOP
	RxTooLong        uint64 // frames with EOP longer than the largest legal frame
	RxMultiBuffer    uint64 // frames spanning buffers where only single-buffer frames are legal
	RxFrameErrors    uint64 // frames with the device's frame errors (CRC, symbol ...)
	RxRunts          uint64 // frames shorter than an Ethernet header
	RxDiscardedDescs uint64 // descriptors recycled while discarding a frame
}

// Assembler is one receive ring's frame in progress.
type Assembler struct {
	partial    *kernelmodel.SKB
	discarding bool
}

// Partial reports whether a frame is being assembled.
func (f *Assembler) Partial() bool { return f.partial != nil }

// Reset frees the frame in progress and stops discarding (the ring is
// cleaned: e1000_clean_rx_ring, igb_clean_rx_ring).
func (f *Assembler) Reset(k *kernelmodel.Kernel) {
	if f.partial != nil {
		k.KfreeSKB(f.partial, kernelmodel.SKB_DROP_REASON_DEV_READY)
		f.partial = nil
	}
	f.discarding = false
}

// Frame is what a driver knows of one written-back descriptor.
type Frame struct {
	Data     []byte // the descriptor's buffer, exactly (its length is the buffer size)
	Length   int    // the length the device wrote back
	EOP      bool   // the frame's last descriptor
	FrameErr bool   // the device reported a frame error (valid at EOP)
	MaxLen   int    // the longest legal frame in memory
	Multi    bool   // frames may span buffers (long frames on)
}

// Drop drops the frame the current descriptor belongs to: the part
// assembled so far, and, if this descriptor is not its last, the
// descriptors still to come. The net_device counts one rx_dropped per
// frame.
func (f *Assembler) Drop(k *kernelmodel.Kernel, nd *kernelmodel.NetDevice, eop bool) {
	if f.partial != nil {
		k.KfreeSKB(f.partial, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		f.partial = nil
	}
	if !f.discarding {
		nd.Stats.RxDropped++
	}
	f.discarding = !eop
}

// Add takes one descriptor whose status the driver has found possible: it
// checks the length, copies the bytes into an skb from the pool (or
// appends them to the frame in progress) and returns the finished frame at
// its EOP, or nil. The copy is charged per byte (RxPerKiB).
func (f *Assembler) Add(k *kernelmodel.Kernel, nd *kernelmodel.NetDevice, c *Counters, d Frame) *kernelmodel.SKB {
	if d.Length > len(d.Data) || (d.Length == 0 && f.partial == nil) {
		c.RxBadLength++
		f.Drop(k, nd, d.EOP)
		return nil
	}
	if f.discarding {
		// The rest of a frame already dropped.
		c.RxDiscardedDescs++
		if d.EOP {
			f.discarding = false
		}
		return nil
	}
	if !d.EOP {
		if !d.Multi {
			c.RxMultiBuffer++
			f.Drop(k, nd, false)
			return nil
		}
		if f.partial == nil {
			f.partial = k.AllocSKB(d.MaxLen)
		}
		if len(f.partial.Data)+d.Length > d.MaxLen {
			c.RxNoEOP++
			f.Drop(k, nd, false)
			return nil
		}
		copy(f.partial.Put(d.Length), d.Data[:d.Length])
		k.ChargeBytes(k.Cost.RxPerKiB, d.Length)
		return nil
	}
	// EOP: the errors are valid.
	if d.FrameErr {
		c.RxFrameErrors++
		f.Drop(k, nd, true)
		return nil
	}
	skb := f.partial
	if skb != nil {
		f.partial = nil
		if len(skb.Data)+d.Length > d.MaxLen {
			c.RxTooLong++
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
			nd.Stats.RxDropped++
			return nil
		}
	} else {
		if d.Length < ethHLen {
			c.RxRunts++
			nd.Stats.RxDropped++
			return nil
		}
		if d.Length > d.MaxLen {
			c.RxTooLong++
			nd.Stats.RxDropped++
			return nil
		}
		skb = k.AllocSKB(d.Length)
	}
	copy(skb.Put(d.Length), d.Data[:d.Length])
	k.ChargeBytes(k.Cost.RxPerKiB, d.Length)
	if len(skb.Data) < ethHLen {
		c.RxRunts++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL)
		nd.Stats.RxDropped++
		return nil
	}
	return skb
}
