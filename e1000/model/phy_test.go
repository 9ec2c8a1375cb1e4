package model

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
)

// eecdReadWord reads one EEPROM word by bit-banging EECD the way the Linux
// driver does for a Microwire part: request, select, shift out the READ
// opcode and 6 address bits, shift in 16 data bits, deselect, release.
func eecdReadWord(t *testing.T, r *rig, addr int) uint16 {
	r.wr(e1000.EECD, e1000.EECD_REQ)
	if r.rd(e1000.EECD)&e1000.EECD_GNT == 0 {
		t.Fatalf("EECD: no grant")
	}
	eecd := uint32(e1000.EECD_REQ | e1000.EECD_CS)
	r.wr(e1000.EECD, eecd)
	shiftOut := func(data uint32, count int) {
		for mask := uint32(1) << (count - 1); mask != 0; mask >>= 1 {
			v := eecd
			if data&mask != 0 {
				v |= e1000.EECD_DI
			}
			r.wr(e1000.EECD, v)
			r.wr(e1000.EECD, v|e1000.EECD_SK)
			r.wr(e1000.EECD, v)
		}
	}
	shiftOut(e1000.EEPROM_READ_OPCODE, e1000.EEPROM_OPCODE_BITS)
	shiftOut(uint32(addr), e1000.EEPROM_ADDR_BITS)
	var w uint16
	for range 16 {
		r.wr(e1000.EECD, eecd|e1000.EECD_SK)
		w <<= 1
		if r.rd(e1000.EECD)&e1000.EECD_DO != 0 {
			w |= 1
		}
		r.wr(e1000.EECD, eecd)
	}
	r.wr(e1000.EECD, e1000.EECD_REQ)
	r.wr(e1000.EECD, 0)
	return w
}

func TestEEPROM(t *testing.T) {
	bad := DefaultEEPROM(testMAC)
	bad[0x20] ^= 0x0100
	for _, c := range []struct {
		name    string
		image   *[e1000.EEPROMWords]uint16
		wantSum uint16
	}{
		{"default image", nil, e1000.EEPROM_SUM},
		{"corrupted image", &bad, e1000.EEPROM_SUM ^ 0}, // sum differs, checked below
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpt{noLink: true, eeprom: c.image})
			var viaEERD, viaEECD [e1000.EEPROMWords]uint16
			for a := range e1000.EEPROMWords {
				r.wr(e1000.EERD, e1000.EERD_START|uint32(a)<<e1000.EERD_ADDR_SHIFT)
				v := r.rd(e1000.EERD)
				if v&e1000.EERD_DONE == 0 {
					t.Fatalf("EERD word %#x: DONE not set", a)
				}
				viaEERD[a] = uint16(v >> e1000.EERD_DATA_SHIFT)
				viaEECD[a] = eecdReadWord(t, r, a)
			}
			if viaEERD != viaEECD {
				t.Fatalf("EERD and EECD disagree:\n%04x\n%04x", viaEERD, viaEECD)
			}
			sum := EEPROMSum(&viaEERD)
			if c.image == nil {
				if sum != e1000.EEPROM_SUM {
					t.Fatalf("checksum %#x, want 0xBABA", sum)
				}
				mac := [6]byte{byte(viaEERD[0]), byte(viaEERD[0] >> 8), byte(viaEERD[1]), byte(viaEERD[1] >> 8), byte(viaEERD[2]), byte(viaEERD[2] >> 8)}
				if mac != testMAC {
					t.Fatalf("MAC from EEPROM %x, want %x", mac, testMAC)
				}
				if viaEERD[e1000.EEPROM_DEVICE] != e1000.DeviceID || viaEERD[e1000.EEPROM_VENDOR] != e1000.VendorID {
					t.Fatalf("IDs in EEPROM %#x:%#x", viaEERD[e1000.EEPROM_VENDOR], viaEERD[e1000.EEPROM_DEVICE])
				}
			} else if sum == e1000.EEPROM_SUM || viaEERD != bad {
				t.Fatalf("corrupted image read back with sum %#x", sum)
			}
		})
	}
}

func TestEEPROMWriteThroughEECD(t *testing.T) {
	r := newRig(t, rigOpt{noLink: true})
	eecd := uint32(e1000.EECD_REQ | e1000.EECD_CS)
	cmd := func(bits uint32, n int) {
		r.wr(e1000.EECD, e1000.EECD_REQ)
		r.wr(e1000.EECD, eecd)
		for mask := uint32(1) << (n - 1); mask != 0; mask >>= 1 {
			v := eecd
			if bits&mask != 0 {
				v |= e1000.EECD_DI
			}
			r.wr(e1000.EECD, v)
			r.wr(e1000.EECD, v|e1000.EECD_SK)
			r.wr(e1000.EECD, v)
		}
		r.wr(e1000.EECD, e1000.EECD_REQ)
	}
	write := uint32(e1000.EEPROM_WRITE_OPCODE)<<22 | 0x21<<16 | 0xBEEF
	cmd(write, 3+6+16) // without EWEN: ignored
	if got := eecdReadWord(t, r, 0x21); got != 0xFFFF {
		t.Fatalf("write without EWEN changed the word to %#x", got)
	}
	cmd(uint32(e1000.EEPROM_EWEN_OPCODE)<<6|0x30, 3+6)
	cmd(write, 3+6+16)
	if got := eecdReadWord(t, r, 0x21); got != 0xBEEF {
		t.Fatalf("word after write %#x, want 0xBEEF", got)
	}
}

// mdio runs one MDIC operation and waits for READY.
func mdio(t *testing.T, r *rig, op uint32, phy, reg uint32, data uint16) (uint16, bool) {
	r.wr(e1000.MDIC, op|phy<<e1000.MDIC_PHY_SHIFT|reg<<e1000.MDIC_REG_SHIFT|uint32(data))
	v := r.rd(e1000.MDIC)
	if v&e1000.MDIC_READY == 0 {
		t.Fatalf("MDIC not ready")
	}
	return uint16(v), v&e1000.MDIC_ERROR == 0
}

func phyRd(t *testing.T, r *rig, reg uint32) uint16 {
	v, ok := mdio(t, r, e1000.MDIC_OP_READ, e1000.PHYAddr, reg, 0)
	if !ok {
		t.Fatalf("MDIC read of PHY register %d failed", reg)
	}
	return v
}

func phyWr(t *testing.T, r *rig, reg uint32, v uint16) {
	if _, ok := mdio(t, r, e1000.MDIC_OP_WRITE, e1000.PHYAddr, reg, v); !ok {
		t.Fatalf("MDIC write of PHY register %d failed", reg)
	}
}

func TestPHYAutonegotiation(t *testing.T) {
	r := newRig(t, rigOpt{})
	if id1, id2 := phyRd(t, r, e1000.PHY_ID1), phyRd(t, r, e1000.PHY_ID2); id1 != 0x0141 || id2 != 0x0C20 {
		t.Fatalf("PHY ID %#04x:%#04x, want 0141:0C20", id1, id2)
	}
	if _, ok := mdio(t, r, e1000.MDIC_OP_READ, 2, e1000.PHY_ID1, 0); ok {
		t.Fatalf("MDIC to PHY address 2 did not set ERROR")
	}
	r.wr(e1000.IMS, e1000.ICR_LSC|e1000.ICR_MDAC)
	r.rd(e1000.ICR)

	// MDIC with I set raises MDAC.
	r.wr(e1000.MDIC, e1000.MDIC_OP_READ|e1000.MDIC_INT_EN|e1000.PHYAddr<<e1000.MDIC_PHY_SHIFT|e1000.PHY_BMSR<<e1000.MDIC_REG_SHIFT)
	if r.rd(e1000.ICR)&e1000.ICR_MDAC == 0 {
		t.Fatalf("MDAC not raised")
	}

	// Advertise 1000FD only and restart autonegotiation the way a driver does.
	phyWr(t, r, e1000.PHY_ANAR, e1000.ANAR_SELECTOR_8023|e1000.ANAR_100FULL)
	phyWr(t, r, e1000.PHY_1000T_CTRL, e1000.GCR_1000T_FD)
	start := r.clk.Now()
	phyWr(t, r, e1000.PHY_BMCR, e1000.BMCR_ANENABLE|e1000.BMCR_ANRESTART)
	if got := phyRd(t, r, e1000.PHY_BMCR); got&e1000.BMCR_ANRESTART != 0 || got&e1000.BMCR_ANENABLE == 0 {
		t.Fatalf("BMCR after restart %#04x", got)
	}
	if r.rd(e1000.STATUS)&e1000.STATUS_LU != 0 {
		t.Fatalf("link still up during autonegotiation")
	}
	if r.rd(e1000.ICR)&e1000.ICR_LSC == 0 {
		t.Fatalf("no LSC when the restart dropped the link")
	}
	phyRd(t, r, e1000.PHY_BMSR) // clear the latched-low link bit
	r.line.rises = nil

	r.clk.RunUntil(start + DefaultAutonegDelay - time.Nanosecond)
	if bmsr := phyRd(t, r, e1000.PHY_BMSR); bmsr&(e1000.BMSR_ANEGCOMPLETE|e1000.BMSR_LSTATUS) != 0 {
		t.Fatalf("autonegotiation complete early: BMSR %#04x", bmsr)
	}
	if len(r.line.rises) != 0 {
		t.Fatalf("interrupt before autonegotiation completed")
	}
	r.clk.RunUntil(start + DefaultAutonegDelay)
	if len(r.line.rises) != 1 || r.line.rises[0] != start+DefaultAutonegDelay {
		t.Fatalf("LSC interrupt at %v, want exactly %v", r.line.rises, start+DefaultAutonegDelay)
	}
	if r.rd(e1000.ICR)&e1000.ICR_LSC == 0 {
		t.Fatalf("ICR.LSC not set at link up")
	}
	if st := r.rd(e1000.STATUS); st&(e1000.STATUS_LU|e1000.STATUS_FD) != e1000.STATUS_LU|e1000.STATUS_FD || st&e1000.STATUS_SPEED_MASK != e1000.STATUS_SPEED_1000 {
		t.Fatalf("STATUS %#x: want LU, FD, 1000 Mb/s", st)
	}
	bmsr := phyRd(t, r, e1000.PHY_BMSR)
	if bmsr&(e1000.BMSR_ANEGCOMPLETE|e1000.BMSR_LSTATUS) != e1000.BMSR_ANEGCOMPLETE|e1000.BMSR_LSTATUS {
		t.Fatalf("BMSR %#04x after autonegotiation", bmsr)
	}
	if lpa := phyRd(t, r, e1000.PHY_ANLPAR); lpa&e1000.ANLPAR_ACK == 0 || lpa&e1000.ANAR_PAUSE == 0 {
		t.Fatalf("ANLPAR %#04x", lpa)
	}
	if gsr := phyRd(t, r, e1000.PHY_1000T_STATUS); gsr&e1000.GSR_LP_1000T_FD == 0 {
		t.Fatalf("1000T_STATUS %#04x: partner not 1000FD", gsr)
	}
	if got := phyRd(t, r, e1000.PHY_ANAR); got != e1000.ANAR_SELECTOR_8023|e1000.ANAR_100FULL {
		t.Fatalf("ANAR %#04x did not keep what was written", got)
	}
	if r.dev.Counters().AutonegCompleted != 2 {
		t.Fatalf("autonegotiations %d, want 2", r.dev.Counters().AutonegCompleted)
	}
}

func TestPHYResetThroughCTRL(t *testing.T) {
	r := newRig(t, rigOpt{})
	phyWr(t, r, e1000.PHY_ANAR, e1000.ANAR_SELECTOR_8023)
	ctrl := r.rd(e1000.CTRL)
	r.wr(e1000.CTRL, ctrl|e1000.CTRL_PHY_RST)
	r.clk.RunFor(10 * time.Millisecond)
	if r.rd(e1000.STATUS)&e1000.STATUS_LU != 0 {
		t.Fatalf("link up with the PHY held in reset")
	}
	r.wr(e1000.CTRL, ctrl)
	if got := phyRd(t, r, e1000.PHY_ANAR); got != e1000.ANAR_RESET_VALUE {
		t.Fatalf("ANAR after PHY reset %#04x, want %#04x", got, e1000.ANAR_RESET_VALUE)
	}
	r.clk.RunFor(DefaultAutonegDelay)
	if r.rd(e1000.STATUS)&e1000.STATUS_LU == 0 {
		t.Fatalf("no link after PHY reset and autonegotiation")
	}
}

func TestLinkDownUp(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.wr(e1000.IMS, e1000.ICR_LSC)
	phyRd(t, r, e1000.PHY_BMSR)

	r.link.up = false
	r.dev.LinkChange(false)
	if r.rd(e1000.STATUS)&e1000.STATUS_LU != 0 {
		t.Fatalf("STATUS.LU still set after unplug")
	}
	if !r.line.level {
		t.Fatalf("no interrupt on unplug")
	}
	if r.rd(e1000.ICR) != e1000.ICR_LSC {
		t.Fatalf("unplug did not raise LSC alone")
	}
	// Frames do not arrive on a dead link.
	r.setupRx(8, 2048, e1000.RCTL_BAM)
	r.dev.Receive(ethFrame(testMAC, peerMAC, 0x88B5, pattern(60, 0)))
	if r.dev.Counters().RxLinkDown != 1 {
		t.Fatalf("frame on a dead link not counted")
	}

	r.clk.RunFor(time.Second)
	plug := r.clk.Now()
	r.link.up = true
	r.dev.LinkChange(true)
	if r.rd(e1000.STATUS)&e1000.STATUS_LU != 0 {
		t.Fatalf("link up before autonegotiation")
	}
	// BMSR latches the loss: the first read says no link even once it is back.
	r.clk.RunFor(DefaultAutonegDelay)
	if r.clk.Now() != plug+DefaultAutonegDelay || r.rd(e1000.STATUS)&e1000.STATUS_LU == 0 {
		t.Fatalf("no link %v after replug", DefaultAutonegDelay)
	}
	if r.rd(e1000.ICR) != e1000.ICR_LSC {
		t.Fatalf("replug did not raise LSC")
	}
	if bmsr := phyRd(t, r, e1000.PHY_BMSR); bmsr&e1000.BMSR_LSTATUS != 0 {
		t.Fatalf("BMSR link bit did not latch low")
	}
	if bmsr := phyRd(t, r, e1000.PHY_BMSR); bmsr&e1000.BMSR_LSTATUS == 0 {
		t.Fatalf("BMSR link bit low on second read")
	}
	if got := r.dev.Counters().LinkChanges; got != 3 {
		t.Fatalf("link changes %d, want 3 (up, down, up)", got)
	}
}
