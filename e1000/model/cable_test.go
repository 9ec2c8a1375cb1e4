package model

import (
	"bytes"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
)

// TestTwoDevicesOnACable: two models on a 1 Gb/s wire.Cable, each played by
// a minimal polling driver. Thousands of frames of mixed sizes cross intact
// and in order, the rings wrap many times, nothing is dropped (the TX side
// is paced by the wire, the RX side keeps up), and pulling the cable drops
// both links with LSC until it is plugged back.
func TestTwoDevicesOnACable(t *testing.T) {
	clk := kernelmodel.NewVirtualClock()
	a := newRig(t, rigOpt{clk: clk, unplugged: true, arena: 8 << 20})
	b := newRig(t, rigOpt{clk: clk, unplugged: true, arena: 8 << 20})
	b.dev.eeprom[2] ^= 0x0100 // b answers to another address
	cable := wire.NewCable(clk, wire.CableConfig{SpeedBPS: 1_000_000_000, Delay: 500 * time.Nanosecond})
	la, lb := cable.Attach(a.dev.Port(), b.dev.Port())
	a.dev.Connect(la)
	b.dev.Connect(lb)
	clk.RunFor(DefaultAutonegDelay)
	for _, r := range []*rig{a, b} {
		if r.rd(e1000.STATUS)&e1000.STATUS_LU == 0 {
			t.Fatalf("no link over the cable")
		}
		r.wr(e1000.IMS, e1000.ICR_LSC)
		r.rd(e1000.ICR)
	}
	a.setupTx(256, e1000.TCTL_PSP)
	b.setupRx(256, 2048, e1000.RCTL_SECRC)
	bMAC := b.dev.MAC()
	b.wr(e1000.RAL0, uint32(bMAC[0])|uint32(bMAC[1])<<8|uint32(bMAC[2])<<16|uint32(bMAC[3])<<24)
	b.wr(e1000.RAH0, uint32(bMAC[4])|uint32(bMAC[5])<<8|e1000.RAH_AV)

	const total = 5000
	frames := make([][]byte, total)
	for i := range frames {
		size := 60 + (i*397)%(1514-60+1)
		frames[i] = ethFrame(bMAC, testMAC, 0x88B5, pattern(size-14, byte(i)))
	}
	sent, clean, got := 0, 0, 0
	var tick func()
	tick = func() {
		// A: reclaim written-back descriptors, post more frames.
		for clean != a.txTail && e1000.TxDesc(a.txDesc(clean)).Status()&e1000.TXD_STAT_DD != 0 {
			clean = (clean + 1) % a.txN
		}
		for sent < total && (a.txTail+1)%a.txN != clean {
			a.txLegacy(frames[sent], e1000.TXD_CMD_EOP|e1000.TXD_CMD_IFCS|e1000.TXD_CMD_RS)
			sent++
		}
		a.doorbell()
		// B: take what arrived.
		for {
			f, _ := b.rxPop()
			if f == nil {
				break
			}
			if got >= total || !bytes.Equal(f, frames[got]) {
				t.Fatalf("frame %d differs or unexpected", got)
			}
			got++
		}
		if got < total {
			clk.AfterFunc(20*time.Microsecond, tick)
		}
	}
	clk.AfterFunc(0, tick)
	clk.RunFor(time.Second)
	if got != total {
		t.Fatalf("received %d of %d frames", got, total)
	}
	ab, _ := cable.Stats()
	if ab.Delivered != total || ab.DroppedQueue != 0 || b.rd(e1000.MPC) != 0 || b.rd(e1000.RNBC) != 0 {
		t.Fatalf("drops: cable %+v, MPC/RNBC", ab)
	}
	if c := a.dev.Counters(); c.TxPaced == 0 || c.TxFrames != total {
		t.Fatalf("sender counters %+v", c)
	}
	if a.rd(e1000.GPTC) != total || b.rd(e1000.GPRC) != total {
		t.Fatalf("statistics disagree with the traffic")
	}

	// Unplug: both lose the link and report it; replug: both get it back.
	cable.SetUp(false)
	for _, r := range []*rig{a, b} {
		if r.rd(e1000.STATUS)&e1000.STATUS_LU != 0 || r.rd(e1000.ICR)&e1000.ICR_LSC == 0 {
			t.Fatalf("unplug not seen")
		}
	}
	cable.SetUp(true)
	clk.RunFor(DefaultAutonegDelay)
	for _, r := range []*rig{a, b} {
		if r.rd(e1000.STATUS)&e1000.STATUS_LU == 0 || r.rd(e1000.ICR)&e1000.ICR_LSC == 0 {
			t.Fatalf("replug not seen")
		}
	}
}
