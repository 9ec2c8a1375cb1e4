package model

import (
	"testing"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/pci"
)

func TestPCIIdentity(t *testing.T) {
	r := newRig(t, rigOpt{noLink: true})
	d := r.dev
	for _, c := range []struct {
		name      string
		off, size int
		want      uint32
	}{
		{"vendor", pci.VendorID, 2, 0x8086},
		{"device", pci.DeviceID, 2, 0x100E},
		{"class", pci.ClassProg, 4, 0x02000000 | e1000.RevisionID}, // revision in the low byte
		{"subsystem vendor", pci.SubVendorID, 2, e1000.SubVendorID},
		{"subsystem", pci.SubSystemID, 2, e1000.SubSystemID},
		{"interrupt pin INTA#", pci.InterruptPin, 1, 1},
		{"no capabilities (no MSI)", pci.CapPtr, 1, 0},
	} {
		off := c.off
		if c.name == "class" {
			off = pci.RevisionID
		}
		if got := d.ConfigRead(off, c.size); got != c.want {
			t.Errorf("%s: config %#x = %#x, want %#x", c.name, off, got, c.want)
		}
	}
	if d.ConfigRead(pci.Status, 2)&pci.StatusCapList != 0 {
		t.Errorf("capability list advertised; the 82540EM model has no MSI")
	}
	// BAR0 sizing: 128 KiB, 32-bit memory.
	d.ConfigWrite(pci.BAR0, 4, 0xFFFFFFFF)
	if got := d.ConfigRead(pci.BAR0, 4); got != ^uint32(e1000.BAR0Size-1) {
		t.Errorf("BAR0 size mask %#x, want %#x", got, ^uint32(e1000.BAR0Size-1))
	}
	if d.BAR(1) != nil || d.BAR(2) != nil {
		t.Errorf("only BAR0 is implemented")
	}
	// Memory decoding off: BAR reads all ones.
	d.ConfigWrite(pci.Command, 2, 0)
	if got := d.BAR(0).Read32(e1000.STATUS); got != 0xFFFFFFFF {
		t.Errorf("BAR0 with memory decoding off read %#x", got)
	}
}

func TestRegisterResetValues(t *testing.T) {
	r := newRig(t, rigOpt{noLink: true})
	for _, c := range []struct {
		name string
		off  uint32
		want uint32
	}{
		{"CTRL", e1000.CTRL, e1000.CTRL_RESET},
		{"STATUS (no link yet)", e1000.STATUS, e1000.STATUS_FD | e1000.STATUS_SPEED_1000},
		{"EECD", e1000.EECD, e1000.EECD_PRES | e1000.EECD_FWE_DIS},
		{"EERD", e1000.EERD, 0},
		{"CTRL_EXT", e1000.CTRL_EXT, 0},
		{"ICR", e1000.ICR, 0},
		{"IMS", e1000.IMS, 0},
		{"ITR", e1000.ITR, 0},
		{"RCTL", e1000.RCTL, 0},
		{"TCTL", e1000.TCTL, 0},
		{"TIPG", e1000.TIPG, e1000.TIPG_RESET},
		{"VET", e1000.VET, 0x8100},
		{"PBA", e1000.PBA, 0x30},
		{"LEDCTL", e1000.LEDCTL, e1000.LEDCTL_RESET},
		{"RXDCTL", e1000.RXDCTL, e1000.RXDCTL_RESET},
		{"RXCSUM", e1000.RXCSUM, e1000.RXCSUM_IPOFLD},
		{"RDBAL", e1000.RDBAL, 0}, {"RDLEN", e1000.RDLEN, 0}, {"RDH", e1000.RDH, 0}, {"RDT", e1000.RDT, 0},
		{"RDTR", e1000.RDTR, 0}, {"RADV", e1000.RADV, 0}, {"RSRPD", e1000.RSRPD, 0},
		{"TDBAL", e1000.TDBAL, 0}, {"TDLEN", e1000.TDLEN, 0}, {"TDH", e1000.TDH, 0}, {"TDT", e1000.TDT, 0},
		{"TIDV", e1000.TIDV, 0}, {"TADV", e1000.TADV, 0}, {"TXDCTL", e1000.TXDCTL, 0},
		{"RAL0 (from EEPROM)", e1000.RAL0, 0x12005452},
		{"RAH0 (from EEPROM, AV)", e1000.RAH0, 0x80005634},
		{"RAH1", e1000.RAH(1), 0},
		{"MTA[0]", e1000.MTA, 0},
		{"VFTA[0]", e1000.VFTA, 0},
		{"MPC", e1000.MPC, 0},
	} {
		if got := r.rd(c.off); got != c.want {
			t.Errorf("%s (%#05x) = %#08x, want %#08x", c.name, c.off, got, c.want)
		}
	}
}

func TestRegisterAccessSemantics(t *testing.T) {
	for _, c := range []struct {
		name string
		run  func(r *rig) (got, want uint32)
	}{
		{"STATUS is read-only", func(r *rig) (uint32, uint32) {
			before := r.rd(e1000.STATUS)
			r.wr(e1000.STATUS, 0)
			return r.rd(e1000.STATUS), before
		}},
		{"ICS sets ICR", func(r *rig) (uint32, uint32) {
			r.wr(e1000.ICS, e1000.ICR_TXDW|e1000.ICR_RXT0)
			return r.rd(e1000.ICR), e1000.ICR_TXDW | e1000.ICR_RXT0
		}},
		{"ICR is read-to-clear", func(r *rig) (uint32, uint32) {
			r.wr(e1000.ICS, e1000.ICR_LSC)
			r.rd(e1000.ICR)
			return r.rd(e1000.ICR), 0
		}},
		{"ICR is write-1-to-clear", func(r *rig) (uint32, uint32) {
			r.wr(e1000.ICS, e1000.ICR_LSC|e1000.ICR_TXQE)
			r.wr(e1000.ICR, e1000.ICR_LSC)
			return r.rd(e1000.ICR), e1000.ICR_TXQE
		}},
		{"ICS reserved bits ignored", func(r *rig) (uint32, uint32) {
			r.wr(e1000.ICS, 0xFFFFFFFF)
			return r.rd(e1000.ICR), e1000.ICR_VALID
		}},
		{"ICS is write-only", func(r *rig) (uint32, uint32) {
			r.wr(e1000.ICS, e1000.ICR_LSC)
			return r.rd(e1000.ICS), 0
		}},
		{"IMS sets, reads the mask", func(r *rig) (uint32, uint32) {
			r.wr(e1000.IMS, e1000.ICR_RXT0)
			r.wr(e1000.IMS, e1000.ICR_LSC)
			return r.rd(e1000.IMS), e1000.ICR_RXT0 | e1000.ICR_LSC
		}},
		{"IMC clears the mask, is write-only", func(r *rig) (uint32, uint32) {
			r.wr(e1000.IMS, e1000.ICR_RXT0|e1000.ICR_LSC)
			r.wr(e1000.IMC, e1000.ICR_RXT0)
			return r.rd(e1000.IMS) | r.rd(e1000.IMC)<<20, e1000.ICR_LSC
		}},
		{"RDLEN ignores bits 6:0", func(r *rig) (uint32, uint32) {
			r.wr(e1000.RDLEN, 4096+100)
			return r.rd(e1000.RDLEN), 4096
		}},
		{"RDBAL is 16-byte aligned", func(r *rig) (uint32, uint32) {
			r.wr(e1000.RDBAL, 0x1234567F)
			return r.rd(e1000.RDBAL), 0x12345670
		}},
		{"RDH/RDT are 16 bits", func(r *rig) (uint32, uint32) {
			r.wr(e1000.RDT, 0x12345)
			return r.rd(e1000.RDT), 0x2345
		}},
		{"RAH keeps address, AS, AV", func(r *rig) (uint32, uint32) {
			r.wr(e1000.RAH(3), 0xFFFFFFFF)
			return r.rd(e1000.RAH(3)), 0x8003FFFF
		}},
		{"ITR is 16 bits", func(r *rig) (uint32, uint32) {
			r.wr(e1000.ITR, 0xABCDE)
			return r.rd(e1000.ITR), 0xBCDE
		}},
		{"RDTR FPD self-clears", func(r *rig) (uint32, uint32) {
			r.wr(e1000.RDTR, e1000.RDTR_FPD|40)
			return r.rd(e1000.RDTR), 40
		}},
		{"EERD START reads a word, sets DONE", func(r *rig) (uint32, uint32) {
			r.wr(e1000.EERD, e1000.EERD_START|0x0D<<e1000.EERD_ADDR_SHIFT)
			return r.rd(e1000.EERD), 0x100E<<16 | e1000.EERD_DONE | 0x0D<<8
		}},
		{"EECD GNT follows REQ", func(r *rig) (uint32, uint32) {
			r.wr(e1000.EECD, e1000.EECD_REQ)
			return r.rd(e1000.EECD) & (e1000.EECD_REQ | e1000.EECD_GNT | e1000.EECD_PRES), e1000.EECD_REQ | e1000.EECD_GNT | e1000.EECD_PRES
		}},
		{"unimplemented register reads 0", func(r *rig) (uint32, uint32) {
			r.wr(0x7000, 0xFFFFFFFF)
			return r.rd(0x7000), 0
		}},
		{"statistics are read-only", func(r *rig) (uint32, uint32) {
			r.wr(e1000.MPC, 5)
			return r.rd(e1000.MPC), 0
		}},
		{"CTRL.RST resets and self-clears", func(r *rig) (uint32, uint32) {
			r.wr(e1000.IMS, e1000.ICR_RXT0)
			r.wr(e1000.RCTL, e1000.RCTL_EN)
			r.wr(e1000.RDLEN, 4096)
			r.wr(e1000.ICS, e1000.ICR_TXDW)
			r.wr(e1000.CTRL, e1000.CTRL_RST|e1000.CTRL_SLU)
			return r.rd(e1000.CTRL) ^ e1000.CTRL_RESET | r.rd(e1000.IMS) | r.rd(e1000.RCTL) | r.rd(e1000.RDLEN) | r.rd(e1000.ICR), 0
		}},
		{"CTRL.SLU clear drops STATUS.LU", func(r *rig) (uint32, uint32) {
			r.wr(e1000.CTRL, e1000.CTRL_RESET&^e1000.CTRL_SLU)
			return r.rd(e1000.STATUS) & e1000.STATUS_LU, 0
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpt{})
			if got, want := c.run(r); got != want {
				t.Errorf("got %#x, want %#x", got, want)
			}
		})
	}
}

func TestStatisticsReadToClear(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.setupRx(16, 2048, e1000.RCTL_BAM)
	frame := ethFrame(testMAC, peerMAC, 0x88B5, pattern(100, 1)) // 114 bytes + FCS = 118
	for range 3 {
		r.dev.Receive(frame)
	}
	if got := r.dev.Stat(e1000.GORCH); got != 3*118 {
		t.Fatalf("host view of GORC = %d, want %d", got, 3*118)
	}
	for _, c := range []struct {
		off        uint32
		first, two uint32
	}{
		{e1000.GPRC, 3, 0},
		{e1000.TPR, 3, 0},
		{e1000.PRC127, 3, 0},
		{e1000.PRC64, 0, 0},
		{e1000.GORCL, 3 * 118, 3 * 118}, // the low half does not clear
		{e1000.GORCH, 0, 0},             // the high half clears both
		{e1000.GORCL, 0, 0},
		{e1000.TORL, 3 * 118, 3 * 118},
		{e1000.TORH, 0, 0},
	} {
		if got := r.rd(c.off); got != c.first {
			t.Errorf("%s first read %d, want %d", statName(c.off), got, c.first)
		}
		if got := r.rd(c.off); got != c.two {
			t.Errorf("%s second read %d, want %d", statName(c.off), got, c.two)
		}
	}
}

func statName(off uint32) string {
	for _, s := range e1000.Stats {
		if s.Off == off {
			return s.Name
		}
	}
	return "?"
}

func TestINTxLevel(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.wr(e1000.ICS, e1000.ICR_TXDW)
	if r.line.level {
		t.Fatalf("line asserted with IMS = 0")
	}
	r.wr(e1000.IMS, e1000.ICR_TXDW)
	if !r.line.level || r.dev.ConfigRead(pci.Status, 2)&pci.StatusINTx == 0 {
		t.Fatalf("line not asserted with ICR & IMS != 0")
	}
	r.wr(e1000.IMC, e1000.ICR_TXDW)
	if r.line.level {
		t.Fatalf("line still asserted after IMC")
	}
	r.wr(e1000.IMS, e1000.ICR_TXDW)
	if !r.line.level {
		t.Fatalf("line not reasserted after IMS")
	}
	r.rd(e1000.ICR)
	if r.line.level {
		t.Fatalf("line still asserted after ICR read")
	}
	// Interrupt Disable masks the pin, not the status bit.
	r.dev.ConfigWrite(pci.Command, 2, pci.CommandMemory|pci.CommandBusMaster|pci.CommandINTxDisable)
	r.wr(e1000.ICS, e1000.ICR_TXDW)
	if r.line.level || r.dev.ConfigRead(pci.Status, 2)&pci.StatusINTx == 0 {
		t.Fatalf("INTx disable: line %v, status %#x", r.line.level, r.dev.ConfigRead(pci.Status, 2))
	}
	r.dev.ConfigWrite(pci.Command, 2, pci.CommandMemory|pci.CommandBusMaster)
	if !r.line.level {
		t.Fatalf("line not asserted after INTx enable")
	}
}

func TestCountersEach(t *testing.T) {
	c := Counters{RxFrames: 3, TxTSOInvalid: 1}
	seen := map[string]uint64{}
	c.Each(func(name string, v uint64) { seen[name] = v })
	if seen["RxFrames"] != 3 || seen["TxTSOInvalid"] != 1 || len(seen) < 40 {
		t.Fatalf("Each saw %v", seen)
	}
}

// Head and tail outside the ring are counted; zero on a ring not set up yet
// (what a driver writes after a reset) is not.
func TestBadRingIndexCounting(t *testing.T) {
	for _, c := range []struct {
		rdlen, idx uint32
		bad        bool
	}{
		{0, 0, false},
		{0, 1, true},
		{128, 7, false},
		{128, 8, true},
		{4096, 255, false},
		{4096, 256, true},
	} {
		if got := badRingIndex(c.idx, c.rdlen); got != c.bad {
			t.Errorf("badRingIndex(%d, ring of %d bytes) = %v, want %v", c.idx, c.rdlen, got, c.bad)
		}
	}
}
