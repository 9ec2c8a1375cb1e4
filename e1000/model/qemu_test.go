package model

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
)

// Each QEMU quirk runs against both profiles and asserts where they differ.

var profiles = []Profile{ProfileDatasheet, ProfileQEMU}

// TestProfileCTRLReset: CTRL.RST resets the device (datasheet) or only
// self-clears (QEMU's set_ctrl stores the value without RST).
func TestProfileCTRLReset(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p})
			r.setupRx(8, 2048, e1000.RCTL_BAM)
			r.wr(e1000.IMS, e1000.ICR_RXT0)
			r.wr(e1000.TDLEN, 1024)
			r.wr(e1000.RAL(1), 0x11223344)
			rdbal := r.rd(e1000.RDBAL)
			r.wr(e1000.CTRL, r.rd(e1000.CTRL)|e1000.CTRL_RST)
			if r.rd(e1000.CTRL)&e1000.CTRL_RST != 0 {
				t.Fatalf("RST did not self-clear")
			}
			kept := r.rd(e1000.RDBAL) == rdbal && r.rd(e1000.IMS) == e1000.ICR_RXT0 &&
				r.rd(e1000.TDLEN) == 1024 && r.rd(e1000.RCTL)&e1000.RCTL_EN != 0 && r.rd(e1000.RAL(1)) == 0x11223344
			zeroed := r.rd(e1000.RDBAL) == 0 && r.rd(e1000.IMS) == 0 && r.rd(e1000.TDLEN) == 0 &&
				r.rd(e1000.RCTL) == 0 && r.rd(e1000.RAL(1)) == 0
			if p == ProfileQEMU && !kept || p == ProfileDatasheet && !zeroed {
				t.Fatalf("after RST: RDBAL %#x IMS %#x TDLEN %d RCTL %#x RAL1 %#x", r.rd(e1000.RDBAL), r.rd(e1000.IMS),
					r.rd(e1000.TDLEN), r.rd(e1000.RCTL), r.rd(e1000.RAL(1)))
			}
		})
	}
}

// TestProfileRxHoldAfterRCTL: QEMU refuses frames for QEMURxHold after
// every RCTL write (flush_queue_timer) and then delivers them in order; the
// datasheet device receives at once.
func TestProfileRxHoldAfterRCTL(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p})
			r.setupRx(8, 2048, e1000.RCTL_BAM|e1000.RCTL_SECRC)
			r.wr(e1000.RCTL, r.rd(e1000.RCTL)) // the same value: still a write
			f1 := ethFrame(testMAC, peerMAC, 0x88B5, pattern(100, 1))
			f2 := ethFrame(testMAC, peerMAC, 0x88B5, pattern(100, 2))
			if r.dev.RxReady() != (p == ProfileDatasheet) {
				t.Fatalf("RxReady %v during the hold", r.dev.RxReady())
			}
			r.dev.Receive(f1)
			r.clk.RunFor(QEMURxHold / 2)
			r.dev.Receive(f2)
			r.clk.RunFor(QEMURxHold/2 - time.Microsecond)
			stored := r.dev.Counters().RxFrames
			if want := map[Profile]uint64{ProfileDatasheet: 2, ProfileQEMU: 0}[p]; stored != want {
				t.Fatalf("%d frames stored within the hold, want %d", stored, want)
			}
			r.clk.RunFor(time.Microsecond)
			if !r.dev.RxReady() {
				t.Fatalf("not RxReady after the hold")
			}
			for i, want := range [][]byte{f1, f2} {
				if f, _ := r.rxPop(); !bytes.Equal(f, want) {
					t.Fatalf("frame %d after the hold: %d bytes", i, len(f))
				}
			}
			if r.rd(e1000.MPC) != 0 || r.rd(e1000.RNBC) != 0 {
				t.Fatalf("a held frame was counted as missed")
			}
		})
	}
}

// TestProfileAutoneg: the datasheet PHY autonegotiates (AutonegDelay) at
// power-on, on a PHY reset and on a restart, and drops the link with LSC;
// QEMU's link is up at once after reset, a PHY reset changes nothing, and
// only a BMCR restart autonegotiates: the link drops without LSC and comes
// back after exactly 500 ms with LSC.
func TestProfileAutoneg(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p, noLink: true})
			up := func() bool { return r.rd(e1000.STATUS)&e1000.STATUS_LU != 0 }
			if up() != (p == ProfileQEMU) {
				t.Fatalf("link up right after connect: %v", up())
			}
			r.clk.RunFor(DefaultAutonegDelay)
			if !up() {
				t.Fatalf("no link after %v", DefaultAutonegDelay)
			}
			r.rd(e1000.ICR)
			// PHY reset through BMCR and through CTRL.PHY_RST.
			bmcr := phyRd(t, r, e1000.PHY_BMCR)
			mdio(t, r, e1000.MDIC_OP_WRITE, e1000.PHYAddr, e1000.PHY_BMCR, bmcr|e1000.BMCR_RESET)
			ctrl := r.rd(e1000.CTRL)
			r.wr(e1000.CTRL, ctrl|e1000.CTRL_PHY_RST)
			r.wr(e1000.CTRL, ctrl)
			if up() != (p == ProfileQEMU) {
				t.Fatalf("link after a PHY reset: %v", up())
			}
			r.clk.RunFor(DefaultAutonegDelay)
			if !up() {
				t.Fatalf("no link after the PHY reset")
			}
			r.rd(e1000.ICR)
			// Restart.
			mdio(t, r, e1000.MDIC_OP_WRITE, e1000.PHYAddr, e1000.PHY_BMCR, e1000.BMCR_ANENABLE|e1000.BMCR_ANRESTART)
			if up() {
				t.Fatalf("link still up right after an autonegotiation restart")
			}
			lsc := r.rd(e1000.ICR)&e1000.ICR_LSC != 0
			if lsc != (p == ProfileDatasheet) {
				t.Fatalf("LSC on the link drop: %v", lsc)
			}
			delay := map[Profile]time.Duration{ProfileDatasheet: DefaultAutonegDelay, ProfileQEMU: QEMUAutonegDelay}[p]
			r.clk.RunFor(delay - time.Microsecond)
			if up() {
				t.Fatalf("link up before %v", delay)
			}
			r.clk.RunFor(time.Microsecond)
			if !up() || r.rd(e1000.ICR)&e1000.ICR_LSC == 0 {
				t.Fatalf("link not up with LSC after %v", delay)
			}
			if bmsr := phyRd(t, r, e1000.PHY_BMSR); bmsr&e1000.BMSR_ANEGCOMPLETE == 0 {
				t.Fatalf("BMSR %#x: autonegotiation not complete", bmsr)
			}
		})
	}
}

// TestProfileMitigation: with ITR = 0 and RDTR = 0 the datasheet device
// interrupts for every frame; QEMU's one mitigation timer still spaces
// interrupts by at least 128 µs. RDTR delays RXT0 on the datasheet device;
// QEMU has no RDTR delay (the first interrupt comes at once).
func TestProfileMitigation(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p})
			r.setupRx(256, 2048, e1000.RCTL_BAM)
			r.line.onRise = func() { r.rd(e1000.ICR) } // the ISR acknowledges at once
			r.wr(e1000.IMS, e1000.ICR_RXT0)
			start := r.clk.Now()
			for i := range 100 {
				r.clk.RunUntil(start + time.Duration(i)*10*time.Microsecond)
				r.dev.Receive(ethFrame(testMAC, peerMAC, 0x88B5, pattern(100, byte(i))))
			}
			r.clk.RunFor(time.Millisecond)
			rises := r.line.rises
			if p == ProfileDatasheet && len(rises) != 100 {
				t.Fatalf("%d interrupts for 100 frames with ITR 0", len(rises))
			}
			if p == ProfileQEMU {
				// 990 µs of frames: the first at once, then one per
				// 128 µs window at most.
				if len(rises) < 7 || len(rises) > 9 {
					t.Fatalf("%d interrupts, want 8 ± 1 (128 µs floor)", len(rises))
				}
				for i := 1; i < len(rises); i++ {
					if gap := rises[i] - rises[i-1]; gap < 128*time.Microsecond {
						t.Fatalf("interrupts %v apart", gap)
					}
				}
			}

			// RDTR = 100 (102.4 µs) on an idle device.
			r.wr(e1000.RDTR, 100)
			r.line.rises = nil
			at := r.clk.Now()
			r.dev.Receive(ethFrame(testMAC, peerMAC, 0x88B5, pattern(100, 1)))
			r.clk.RunFor(time.Millisecond)
			want := map[Profile]time.Duration{ProfileDatasheet: 102400 * time.Nanosecond, ProfileQEMU: 0}[p]
			if len(r.line.rises) != 1 || r.line.rises[0]-at != want {
				t.Fatalf("interrupts at %v after the frame, want one at %v", r.line.rises, want)
			}
		})
	}
}

// TestProfileRxChecksum: the datasheet device verifies IPv4 and UDP/TCP
// checksums (IPCS, TCPCS) and writes the packet checksum; QEMU reports IXSM
// only and leaves the descriptor's checksum and error fields as they were.
func TestProfileRxChecksum(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p})
			r.setupRx(8, 2048, e1000.RCTL_BAM|e1000.RCTL_SECRC)
			r.wr(e1000.RXCSUM, e1000.RXCSUM_IPOFLD|e1000.RXCSUM_TUOFLD)
			r.rxDesc(0).SetChecksum(0xBEEF)
			frame := ipv4Packet(testMAC, 17, pattern(100, 3))
			frame[14+20+8] ^= 0xFF // a bad UDP checksum
			r.dev.Receive(frame)
			_, descs := r.rxPop()
			d := descs[0]
			st, errs := d.Status(), d.Errors()
			switch p {
			case ProfileDatasheet:
				if st&(e1000.RXD_STAT_IPCS|e1000.RXD_STAT_TCPCS) != e1000.RXD_STAT_IPCS|e1000.RXD_STAT_TCPCS ||
					st&e1000.RXD_STAT_IXSM != 0 || errs != e1000.RXD_ERR_TCPE || d.Checksum() == 0xBEEF {
					t.Fatalf("status %#x errors %#x checksum %#x", st, errs, d.Checksum())
				}
			case ProfileQEMU:
				if st != e1000.RXD_STAT_DD|e1000.RXD_STAT_EOP|e1000.RXD_STAT_IXSM || errs != 0 || d.Checksum() != 0xBEEF {
					t.Fatalf("status %#x errors %#x checksum %#x", st, errs, d.Checksum())
				}
			}
		})
	}
}

// TestProfileStatsClearOnRead: every datasheet statistic clears when read;
// QEMU clears only the ones in its mac_read_clr4/8 list (GPRC here), and MPC,
// RNBC and CRCERRS keep their values.
func TestProfileStatsClearOnRead(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p})
			for _, off := range []uint32{e1000.MPC, e1000.RNBC, e1000.CRCERRS, e1000.GPRC} {
				r.dev.st.r[statIndex(off)] = 5
			}
			for _, c := range []struct {
				off    uint32
				clears bool
			}{{e1000.MPC, false}, {e1000.RNBC, false}, {e1000.CRCERRS, false}, {e1000.GPRC, true}} {
				first, second := r.rd(c.off), r.rd(c.off)
				want := uint32(0)
				if p == ProfileQEMU && !c.clears {
					want = 5
				}
				if first != 5 || second != want {
					t.Errorf("register %#x read %d then %d, want 5 then %d", c.off, first, second, want)
				}
			}
		})
	}
}

// TestProfileMDIC: QEMU answers MDIC with ERROR for PHY registers it does
// not implement and for writes to its read-only ones; the datasheet PHY
// implements them (or ignores the write) without ERROR.
func TestProfileMDIC(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p})
			for _, c := range []struct {
				op  uint32
				reg uint32
			}{
				{e1000.MDIC_OP_READ, e1000.PHY_EXT_STATUS},
				{e1000.MDIC_OP_READ, e1000.M88_PIER},
				{e1000.MDIC_OP_READ, e1000.M88_PISR},
				{e1000.MDIC_OP_WRITE, e1000.M88_PIER},
				{e1000.MDIC_OP_WRITE, e1000.PHY_BMSR},
			} {
				_, ok := mdio(t, r, c.op, e1000.PHYAddr, c.reg, 0x1234)
				if ok != (p == ProfileDatasheet) {
					t.Errorf("op %#x register %#x: ok %v", c.op, c.reg, ok)
				}
			}
			// Registers both implement.
			for _, reg := range []uint32{e1000.PHY_BMSR, e1000.PHY_ID1, e1000.PHY_ID2, e1000.M88_PSSR, e1000.PHY_1000T_STATUS} {
				if _, ok := mdio(t, r, e1000.MDIC_OP_READ, e1000.PHYAddr, reg, 0); !ok {
					t.Errorf("read of register %#x failed", reg)
				}
			}
			if _, ok := mdio(t, r, e1000.MDIC_OP_READ, 2, e1000.PHY_BMSR, 0); ok {
				t.Errorf("PHY address 2 answered")
			}
		})
	}
}

// TestProfileTxLinkDown: with the link down the datasheet device transmits
// nothing and leaves the descriptor pending until the link is back; QEMU
// completes it (DD, TDH, GPTC) and the frame is lost.
func TestProfileTxLinkDown(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p})
			r.setupTx(8, e1000.TCTL_PSP)
			r.link.up = false
			r.dev.LinkChange(false)
			if r.rd(e1000.STATUS)&e1000.STATUS_LU != 0 {
				t.Fatalf("link still up")
			}
			i := r.txLegacy(ethFrame(peerMAC, testMAC, 0x88B5, pattern(100, 1)), e1000.TXD_CMD_EOP|e1000.TXD_CMD_RS)
			r.doorbell()
			r.clk.RunFor(time.Millisecond)
			done := e1000.TxDesc(r.txDesc(i)).Status()&e1000.TXD_STAT_DD != 0
			switch p {
			case ProfileDatasheet:
				if done || r.rd(e1000.TDH) != 0 || r.dev.Stat(e1000.GPTC) != 0 {
					t.Fatalf("descriptor completed with the link down")
				}
				r.link.up = true
				r.dev.LinkChange(true)
				r.clk.RunFor(DefaultAutonegDelay)
				if e1000.TxDesc(r.txDesc(i)).Status()&e1000.TXD_STAT_DD == 0 || r.link.count != 1 {
					t.Fatalf("not sent after link up")
				}
			case ProfileQEMU:
				if !done || r.rd(e1000.TDH) != 1 || r.dev.Stat(e1000.GPTC) != 1 || r.link.count != 0 {
					t.Fatalf("DD %v TDH %d GPTC %d sent %d", done, r.rd(e1000.TDH), r.dev.Stat(e1000.GPTC), r.link.count)
				}
			}
		})
	}
}

// TestProfileRxBackPressure: a stalled receiver with a full ring. The
// datasheet device keeps what fits in its receive FIFO and loses the rest
// (MPC); QEMU's net layer holds every frame (up to 10000) and delivers them
// in order when descriptors come, counting nothing as missed.
func TestProfileRxBackPressure(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p})
			r.setupRx(8, 2048, e1000.RCTL_BAM|e1000.RCTL_SECRC)
			const total = 1000
			for i := range total {
				f := ethFrame(testMAC, peerMAC, 0x88B5, pattern(46, 0)) // 64 bytes with FCS
				binary.BigEndian.PutUint32(f[14:], uint32(i))
				r.dev.Receive(f)
			}
			fit := map[Profile]int{ProfileDatasheet: 7 + 48<<10/64, ProfileQEMU: total}[p]
			if mpc := r.rd(e1000.MPC); int(mpc) != total-fit {
				t.Fatalf("MPC %d, want %d", mpc, total-fit)
			}
			if rnbc := r.rd(e1000.RNBC); (rnbc != 0) != (p == ProfileDatasheet) {
				t.Fatalf("RNBC %d", rnbc)
			}
			for i := range fit {
				f, _ := r.rxPop()
				if f == nil || binary.BigEndian.Uint32(f[14:]) != uint32(i) {
					t.Fatalf("frame %d missing or out of order", i)
				}
			}
			if f, _ := r.rxPop(); f != nil {
				t.Fatalf("more frames than expected")
			}
		})
	}
}

// TestProfileTXQE: QEMU raises TXQE at the end of every transmit run, even
// one that found the ring empty (start_xmit after a TCTL write); the
// datasheet device raises it only when it has drained descriptors.
func TestProfileTXQE(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p})
			r.setupTx(8, e1000.TCTL_PSP)
			r.rd(e1000.ICR)
			r.wr(e1000.TCTL, r.rd(e1000.TCTL)) // nothing to send
			if got := r.rd(e1000.ICR)&e1000.ICR_TXQE != 0; got != (p == ProfileQEMU) {
				t.Fatalf("TXQE on an empty ring: %v", got)
			}
			r.txLegacy(ethFrame(peerMAC, testMAC, 0x88B5, pattern(100, 1)), e1000.TXD_CMD_EOP)
			r.doorbell()
			if r.rd(e1000.ICR)&e1000.ICR_TXQE == 0 {
				t.Fatalf("no TXQE after the ring drained")
			}
		})
	}
}
