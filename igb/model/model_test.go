package model

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/mii"
	"github.com/nicbed/nicbed/hw/nvm"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/igb"
)

// TestPCIIdentity: 8086:10C9, Ethernet class, BAR0 128 KiB and BAR3 16 KiB
// memory BARs, an MSI capability with one message and an MSI-X capability
// with 10 vectors whose table and PBA are in BAR3 at 0 and 0x2000.
func TestPCIIdentity(t *testing.T) {
	r := newRig(t)
	d := r.dev
	if d.ConfigRead(pci.VendorID, 2) != 0x8086 || d.ConfigRead(pci.DeviceID, 2) != 0x10C9 {
		t.Fatalf("IDs %04x:%04x", d.ConfigRead(pci.VendorID, 2), d.ConfigRead(pci.DeviceID, 2))
	}
	if c := d.ConfigRead(pci.ClassProg, 1) | d.ConfigRead(pci.ClassProg+1, 2)<<8; c != 0x020000 {
		t.Fatalf("class %#06x", c)
	}
	for _, b := range []struct {
		i    int
		size uint32
	}{{0, 128 << 10}, {3, 16 << 10}} {
		old := d.ConfigRead(pci.BAR0+4*b.i, 4)
		d.ConfigWrite(pci.BAR0+4*b.i, 4, 0xFFFFFFFF)
		if got := ^(d.ConfigRead(pci.BAR0+4*b.i, 4) &^ 0xF) + 1; got != b.size {
			t.Errorf("BAR%d sizes to %#x, want %#x", b.i, got, b.size)
		}
		d.ConfigWrite(pci.BAR0+4*b.i, 4, old)
	}
	caps := map[uint32]int{}
	for off := int(d.ConfigRead(pci.CapPtr, 1)); off != 0; off = int(d.ConfigRead(off+1, 1)) {
		caps[d.ConfigRead(off, 1)] = off
	}
	msi, ok := caps[pci.CapMSI]
	if !ok || d.ConfigRead(msi+2, 2)>>1&7 != 0 {
		t.Fatalf("MSI capability %v, control %#x", ok, d.ConfigRead(msi+2, 2))
	}
	msix, ok := caps[pci.CapMSIX]
	if !ok {
		t.Fatalf("no MSI-X capability")
	}
	if n := d.ConfigRead(msix+2, 2)&0x7FF + 1; n != 10 {
		t.Fatalf("MSI-X table size %d", n)
	}
	if tbl, pba := d.ConfigRead(msix+4, 4), d.ConfigRead(msix+8, 4); tbl != 0|3 || pba != 0x2000|3 {
		t.Fatalf("MSI-X table %#x PBA %#x, want BIR 3 at 0 and 0x2000", tbl, pba)
	}
	// Entries come out of reset masked; BAR3 outside table and PBA reads 0.
	for v := range 10 {
		if r.bar3.Read32(uint32(16*v+12))&pci.MSIXVectorMask == 0 {
			t.Fatalf("vector %d not masked after reset", v)
		}
	}
	if r.bar3.Read32(0x1000) != 0 {
		t.Fatalf("BAR3 hole reads %#x", r.bar3.Read32(0x1000))
	}
	// Memory decoding off: BAR0 reads all ones.
	d.ConfigWrite(pci.Command, 2, 0)
	if r.rd(igb.STATUS) != 0xFFFFFFFF {
		t.Fatalf("BAR0 answers with memory decoding off")
	}
}

// TestRegisterFile: after reset every register in igb.Registers reads its
// reset value through BAR0 (read-to-clear, write-only and interrupt
// registers aside), at its primary address and at an 82575 alias; RW
// registers keep what is written, RO ones ignore writes, statistics clear
// on read, unimplemented offsets read 0.
func TestRegisterFile(t *testing.T) {
	r := newRig(t)
	for i := range igb.Registers {
		reg := &igb.Registers[i]
		switch reg.Name {
		case "STATUS", "EEC", "ICR", "EICR", "RA":
			continue // live values
		}
		for n := range reg.Count {
			if got := r.rd(reg.At(n)); got != reg.ResetOf(n) && reg.Access != igb.WO && reg.Access != igb.WO1C {
				t.Errorf("%s[%d] reads %#x after reset, want %#x", reg.Name, n, got, reg.ResetOf(n))
			}
		}
	}
	if r.rd(igb.RXDCTL(0)) != r.rd(igb.RxAliasBase+0x28) || r.rd(igb.RXDCTL(0))&igb.XDCTL_ENABLE == 0 {
		t.Fatalf("RXDCTL0 alias differs or queue 0 not enabled")
	}
	r.wr(igb.RxAliasBase+0x100+0x18, 77) // RDT1 through the alias
	if r.rd(igb.RDT(1)) != 77 {
		t.Fatalf("alias write not seen at the primary address: %d", r.rd(igb.RDT(1)))
	}
	r.wr(igb.RETAReg(5), 0x01020304)
	if r.rd(igb.RETAReg(5)) != 0x01020304 {
		t.Fatalf("RETA not RW")
	}
	r.dev.regs[igb.GPRC/4] = 5
	if r.rd(igb.GPRC) != 5 || r.rd(igb.GPRC) != 0 {
		t.Fatalf("GPRC not read-to-clear")
	}
	r.wr(igb.GPRC, 9)
	if r.rd(igb.GPRC) != 0 {
		t.Fatalf("write to a statistics register stuck")
	}
	if r.rd(0x0004) != 0 || r.rd(0x1FFFC) != 0 {
		t.Fatalf("unimplemented offsets read non-zero")
	}
	before := r.dev.Counters().BadRegWrites
	r.wr(0x0004, 1)
	if r.dev.Counters().BadRegWrites != before+1 {
		t.Fatalf("write to an unimplemented offset not counted")
	}
	// RAL0/RAH0 hold the EEPROM's address, valid.
	ral, rah := r.rd(igb.RAL(0)), r.rd(igb.RAH(0))
	if ral != 0x12005452 || rah != 0x80005634 {
		t.Fatalf("RAL0/RAH0 %#x/%#x", ral, rah)
	}
}

// TestEEPROMAndPHY: the image read through EERD (82576 layout: DONE bit 1,
// address bits 15:2) sums to 0xBABA and holds the MAC and IDs; MDIC reads
// the PHY's identifier (IGP03E1000_E_PHY_ID) and, after autonegotiation,
// link, with STATUS.LU and ICR.LSC following; a write to another PHY
// address completes with ERROR.
func TestEEPROMAndPHY(t *testing.T) {
	r := newRig(t)
	var img [igb.EEPROMWords]uint16
	for a := range img {
		r.wr(igb.EERD, uint32(a)<<igb.EERD_ADDR_SHIFT|igb.EERD_START)
		v := r.rd(igb.EERD)
		if v&igb.EERD_DONE == 0 {
			t.Fatalf("EERD word %d: not done", a)
		}
		img[a] = uint16(v >> igb.EERD_DATA_SHIFT)
	}
	if nvm.ImageSum(img[:]) != 0xBABA {
		t.Fatalf("EEPROM sums to %#x", nvm.ImageSum(img[:]))
	}
	if img[0] != 0x5452 || img[1] != 0x1200 || img[2] != 0x5634 || img[igb.EEPROM_DEVICE] != 0x10C9 || img[igb.EEPROM_VENDOR] != 0x8086 {
		t.Fatalf("EEPROM words % x", img[:16])
	}
	r.wr(igb.EERD, 3<<igb.EERD_ADDR_SHIFT)
	if r.rd(igb.EERD)&igb.EERD_DONE != 0 {
		t.Fatalf("EERD write without START left DONE")
	}

	mdic := func(op, phy, reg, data uint32) uint32 {
		r.wr(igb.MDIC, op|phy<<igb.MDIC_PHY_SHIFT|reg<<igb.MDIC_REG_SHIFT|data)
		v := r.rd(igb.MDIC)
		if v&igb.MDIC_READY == 0 {
			t.Fatalf("MDIC not ready: %#x", v)
		}
		return v
	}
	if id1, id2 := mdic(igb.MDIC_OP_READ, 1, mii.PHY_ID1, 0)&0xFFFF, mdic(igb.MDIC_OP_READ, 1, mii.PHY_ID2, 0)&0xFFFF; id1<<16|id2 != 0x02A80390 {
		t.Fatalf("PHY ID %04x%04x", id1, id2)
	}
	if v := mdic(igb.MDIC_OP_READ, 2, mii.PHY_BMSR, 0); v&igb.MDIC_ERROR == 0 {
		t.Fatalf("PHY address 2 answered: %#x", v)
	}
	// No cable: no link. Cable: link after the autonegotiation delay, LSC.
	if r.rd(igb.STATUS)&igb.STATUS_LU != 0 {
		t.Fatalf("link up without a cable")
	}
	r.dev.LinkChange(true)
	r.clk.RunFor(DefaultAutonegDelay / 2)
	if r.rd(igb.STATUS)&igb.STATUS_LU != 0 {
		t.Fatalf("link up before autonegotiation finished")
	}
	r.clk.RunFor(DefaultAutonegDelay)
	if r.rd(igb.STATUS)&igb.STATUS_LU == 0 || mdic(igb.MDIC_OP_READ, 1, mii.PHY_BMSR, 0)&mii.BMSR_LSTATUS == 0 {
		t.Fatalf("no link after autonegotiation: STATUS %#x", r.rd(igb.STATUS))
	}
	r.wr(igb.IMS, igb.ICR_LSC)
	if r.rd(igb.ICR)&igb.ICR_LSC == 0 {
		t.Fatalf("no LSC for link up")
	}
	r.dev.LinkChange(false)
	if r.rd(igb.STATUS)&igb.STATUS_LU != 0 || r.rd(igb.ICR)&igb.ICR_LSC == 0 {
		t.Fatalf("pulling the cable: STATUS %#x, no LSC", r.rd(igb.STATUS))
	}
	// BMCR restart with the cable back: link again one delay later.
	r.dev.LinkChange(true)
	r.clk.RunFor(DefaultAutonegDelay + time.Microsecond)
	mdic(igb.MDIC_OP_WRITE, 1, mii.PHY_BMCR, mii.BMCR_ANENABLE|mii.BMCR_ANRESTART)
	if r.rd(igb.STATUS)&igb.STATUS_LU != 0 {
		t.Fatalf("autonegotiation restart kept the link")
	}
	r.clk.RunFor(DefaultAutonegDelay)
	if r.rd(igb.STATUS)&igb.STATUS_LU == 0 {
		t.Fatalf("no link after the restart")
	}
}
