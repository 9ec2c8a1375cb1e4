package igb

import "testing"

// linuxOffset is Linux's igb E1000_* register macros (e1000_regs.h),
// written out independently of the table: for a queue register, Linux's
// address of queue n (the 82575 alias for n < 4).
func linuxQueue(n int, lo, hi uint32) uint32 {
	if n < 4 {
		return lo + 0x100*uint32(n)
	}
	return hi + 0x40*uint32(n)
}

// regCase is a register instance and the address software uses for it.
type regCase struct {
	name string
	inst int
	off  uint32
}

// TestRegisterOffsets holds the table against the offsets Linux's igb and
// QEMU's igb_regs.h use for the 82576.
func TestRegisterOffsets(t *testing.T) {
	byName := map[string]*Reg{}
	for i := range Registers {
		byName[Registers[i].Name] = &Registers[i]
	}
	cases := []regCase{
		{"CTRL", 0, 0x00000}, {"STATUS", 0, 0x00008}, {"EEC", 0, 0x00010}, {"EERD", 0, 0x00014},
		{"CTRL_EXT", 0, 0x00018}, {"MDIC", 0, 0x00020}, {"VET", 0, 0x00038},
		{"ICR", 0, 0x000C0}, {"ICS", 0, 0x000C8}, {"IMS", 0, 0x000D0}, {"IMC", 0, 0x000D8}, {"IAM", 0, 0x000E0},
		{"RCTL", 0, 0x00100}, {"TCTL", 0, 0x00400}, {"TIPG", 0, 0x00410}, {"LEDCTL", 0, 0x00E00},
		{"GPIE", 0, 0x01514}, {"EICS", 0, 0x01520}, {"EIMS", 0, 0x01524}, {"EIMC", 0, 0x01528},
		{"EIAC", 0, 0x0152C}, {"EIAM", 0, 0x01530}, {"EICR", 0, 0x01580},
		{"EITR", 0, 0x01680}, {"EITR", 9, 0x016A4}, {"EITR", 24, 0x01680 + 4*24},
		{"IVAR", 0, 0x01700}, {"IVAR", 7, 0x0171C}, {"IVAR_MISC", 0, 0x01740},
		{"RXPBS", 0, 0x02404}, {"TXPBS", 0, 0x03404}, {"DTXCTL", 0, 0x03590},
		{"PBACLR", 0, 0x05B68}, {"CRCERRS", 0, 0x04000}, {"MPC", 0, 0x04010}, {"GPRC", 0, 0x04074}, {"GPTC", 0, 0x04080},
		{"GORCL", 0, 0x04088}, {"GOTCH", 0, 0x04094}, {"RNBC", 0, 0x040A0}, {"TORH", 0, 0x040C4},
		{"TPR", 0, 0x040D0}, {"TPT", 0, 0x040D4}, {"BPTC", 0, 0x040F4}, {"TSCTC", 0, 0x040F8},
		{"IAC", 0, 0x04100}, {"HTCBDPC", 0, 0x04124}, {"LENERRS", 0, 0x04138},
		{"RXCSUM", 0, 0x05000}, {"RLPML", 0, 0x05004}, {"RFCTL", 0, 0x05008},
		{"MTA", 0, 0x05200}, {"MTA", 127, 0x053FC}, {"RA", 0, 0x05400}, {"RA", 31, 0x0547C},
		{"RA2", 0, 0x054E0}, {"VFTA", 0, 0x05600}, {"MRQC", 0, 0x05818}, {"WUC", 0, 0x05800},
		{"MANC", 0, 0x05820}, {"SW_FW_SYNC", 0, 0x05B5C}, {"SWSM", 0, 0x05B50},
		{"RETA", 0, 0x05C00}, {"RETA", 31, 0x05C7C}, {"RSSRK", 0, 0x05C80}, {"RSSRK", 9, 0x05CA4},
		{"PQGPRC", 0, 0x10010}, {"PQGPTC", 15, 0x10014 + 0xF00}, {"PQGORC", 1, 0x10118},
	}
	for q := range NumQueues {
		cases = append(cases,
			regCase{"RDBAL", q, linuxQueue(q, 0x02800, 0x0C000)},
			regCase{"RDT", q, linuxQueue(q, 0x02818, 0x0C018)},
			regCase{"SRRCTL", q, linuxQueue(q, 0x0280C, 0x0C00C)},
			regCase{"RXDCTL", q, linuxQueue(q, 0x02828, 0x0C028)},
			regCase{"TDH", q, linuxQueue(q, 0x03810, 0x0E010)},
			regCase{"TXDCTL", q, linuxQueue(q, 0x03828, 0x0E028)},
			regCase{"TDWBAL", q, linuxQueue(q, 0x03838, 0x0E038)},
			regCase{"TDWBAH", q, linuxQueue(q, 0x0383C, 0x0E03C)},
			// And every queue at its primary address (QEMU's E1000_RDBAL(n)).
			regCase{"RDBAL", q, 0x0C000 + 0x40*uint32(q)},
			regCase{"TDT", q, 0x0E018 + 0x40*uint32(q)},
		)
	}
	for _, c := range cases {
		r, inst, ok := Lookup(c.off)
		if !ok || r.Name != c.name || inst != c.inst {
			name := "<none>"
			if ok {
				name = r.Name
			}
			t.Errorf("Lookup(%#x) = %s[%d] %v, want %s[%d]", c.off, name, inst, ok, c.name, c.inst)
			continue
		}
		if byName[c.name] != r {
			t.Errorf("%s: two table entries", c.name)
		}
	}
	// The offset functions agree with the table.
	fns := []struct {
		name string
		fn   func(int) uint32
		n    int
	}{
		{"RDBAL", RDBAL, 16}, {"RDBAH", RDBAH, 16}, {"RDLEN", RDLEN, 16}, {"SRRCTL", SRRCTL, 16},
		{"RDH", RDH, 16}, {"RDT", RDT, 16}, {"RXDCTL", RXDCTL, 16}, {"RQDPC", RQDPC, 16},
		{"TDBAL", TDBAL, 16}, {"TDBAH", TDBAH, 16}, {"TDLEN", TDLEN, 16}, {"TDH", TDH, 16},
		{"TDT", TDT, 16}, {"TXDCTL", TXDCTL, 16}, {"TDWBAL", TDWBAL, 16}, {"TDWBAH", TDWBAH, 16},
		{"EITR", EITR, NumEITR}, {"IVAR", IVAR, NumIVAR}, {"RETA", RETAReg, NumRETA}, {"RSSRK", RSSRKReg, NumRSSRK},
		{"PQGPRC", PQGPRC, 16}, {"PQGPTC", PQGPTC, 16}, {"PQGORC", PQGORC, 16}, {"PQGOTC", PQGOTC, 16}, {"PQMPRC", PQMPRC, 16},
	}
	for _, f := range fns {
		for i := range f.n {
			r, inst, ok := Lookup(f.fn(i))
			if !ok || r.Name != f.name || inst != i {
				t.Errorf("%s(%d) = %#x does not look up to itself", f.name, i, f.fn(i))
			}
		}
	}
	// RAL/RAH 0..23 (Linux's E1000_RAL(_i): RA for 0–15, RA2 after).
	for i := range NumRA {
		want := uint32(0x05400 + 8*i)
		if i > 15 {
			want = 0x054E0 + 8*uint32(i-16)
		}
		if RAL(i) != want || RAH(i) != want+4 {
			t.Errorf("RAL/RAH(%d) = %#x/%#x, want %#x/%#x", i, RAL(i), RAH(i), want, want+4)
		}
	}
}

// TestRegisterResets holds the table's reset values against the 82576's
// (QEMU igb_core.c igb_mac_reg_init, the datasheet's initial values).
func TestRegisterResets(t *testing.T) {
	cases := []struct {
		off  uint32
		want uint32
	}{
		{CTRL, 0x00100209}, // FD | LRST | SPEED 1000 | ADVD3WUC
		{STATUS, 0x00000400},
		{VET, 0x81008100},
		{LEDCTL, 2 | 3<<8 | 1<<15 | 6<<16 | 7<<24},
		{RXPBS, 0x40}, {TXPBS, 0x28},
		{RXCSUM, 0x300},
		{TIPG, 0x00601008},
		{TCTL, 0xA40400F8},
		{TCTL_EXT, 0x40 | 0x42<<10},
		{DTXCTL, 0x44},
		{RXDCTL(0), 0x02010000}, {RXDCTL(1), 0x00010000}, {RXDCTL(15), 0x00010000},
		{RxAliasBase + 0x28, 0x02010000}, // RXDCTL0 through the alias
		{TXDCTL(0), 0x02000000}, {TXDCTL(1), 0}, {TXDCTL(15), 0},
		{TXCTL0, 0x2A00}, {TXCTL0 + 15*QueueStride, 0x2A00},
		{EICR, 0}, {EIMS, 0}, {GPIE, 0}, {EITR(0), 0}, {IVAR(0), 0}, {MRQC, 0}, {RDH(3), 0},
	}
	for _, c := range cases {
		r, inst, ok := Lookup(c.off)
		if !ok {
			t.Errorf("%#x not in the table", c.off)
			continue
		}
		if got := r.ResetOf(inst); got != c.want {
			t.Errorf("%s[%d] resets to %#x, want %#x", r.Name, inst, got, c.want)
		}
	}
}

// TestRegisterTable checks the table's shape: aligned, inside BAR0, arrays
// with a stride, aliases only for queues 0–3, unknown offsets rejected.
func TestRegisterTable(t *testing.T) {
	names := map[string]bool{}
	for i := range Registers {
		r := &Registers[i]
		if names[r.Name] {
			t.Errorf("%s listed twice", r.Name)
		}
		names[r.Name] = true
		if r.Count < 1 || (r.Count > 1 && r.Stride%4 != 0) || r.Stride == 0 && r.Count > 1 {
			t.Errorf("%s: count %d stride %#x", r.Name, r.Count, r.Stride)
		}
		if r.Offset%4 != 0 || r.At(r.Count-1) >= BAR0Size {
			t.Errorf("%s: offset %#x..%#x outside BAR0 or misaligned", r.Name, r.Offset, r.At(r.Count-1))
		}
		if r.Section == "" || r.Access.String() == "?" {
			t.Errorf("%s: no section or access", r.Name)
		}
		if r.AliasCount > 0 {
			if r.AliasCount != 4 || r.Count != NumQueues {
				t.Errorf("%s: alias for %d of %d instances", r.Name, r.AliasCount, r.Count)
			}
			for q := range r.AliasCount {
				a := r.Alias + uint32(q)*r.AliasStride
				if Canonical(a) != r.At(q) {
					t.Errorf("%s alias %#x canonical %#x, want %#x", r.Name, a, Canonical(a), r.At(q))
				}
			}
		}
	}
	for _, off := range []uint32{0x0004, 0x0002, BAR0Size, BAR0Size + 4, 0x1FFFC, 0x2C28 /* queue 4 has no alias */} {
		if r, _, ok := Lookup(off); ok {
			t.Errorf("Lookup(%#x) = %s, want none", off, r.Name)
		}
	}
	if Canonical(0x1234) != 0x1234 {
		t.Errorf("Canonical of an unknown offset changed it")
	}
}

// TestFieldHelpers checks the field helpers against values Linux's igb
// writes: EITR 648 (IGB_START_ITR) is 162 µs, 196 (IGB_20K_ITR) 49 µs; IVAR
// placement as in QEMU's igb_ivar_entry_rx/tx; SRRCTL buffer sizes.
func TestFieldHelpers(t *testing.T) {
	for _, c := range []struct{ v, us uint32 }{{648, 162}, {196, 49}, {980, 245}, {56, 14}, {0x7FFC, 0x1FFF}, {3, 0}, {648 | EITR_CNT_IGNR, 162}} {
		if got := EITRInterval(c.v); got != c.us {
			t.Errorf("EITRInterval(%#x) = %d, want %d", c.v, got, c.us)
		}
	}
	for q := range NumQueues {
		for _, tx := range []bool{false, true} {
			reg, b := IVARByte(q, tx)
			// QEMU: entry = i < 8 ? i*4 (+1 for tx) : (i-8)*4 + 2 (+1 for tx).
			entry := q * 4
			if q >= 8 {
				entry = (q-8)*4 + 2
			}
			if tx {
				entry++
			}
			if reg*4+b != entry {
				t.Errorf("IVARByte(%d, %v) = %d,%d, want entry %d", q, tx, reg, b, entry)
			}
		}
	}
	if SRRCTLPacketBuffer(2) != 2048 || SRRCTLPacketBuffer(0x7F) != 127*1024 || SRRCTLHeaderBuffer(4<<8) != 256 {
		t.Errorf("SRRCTL buffer sizes wrong")
	}
	// Linux's E1000_SRRCTL_DESCTYPE_ADV_ONEBUF and _HDR_SPLIT_ALWAYS.
	if SRRCTL_DESCTYPE_ADV1 != 0x02000000 || SRRCTL_DESCTYPE_HSALL != 0x0A000000 || SRRCTL_DROP_EN != 0x80000000 {
		t.Errorf("SRRCTL DESCTYPE constants differ from Linux's")
	}
	// e1000_defines.h / igb_regs.h values.
	for _, c := range []struct {
		name      string
		got, want uint32
	}{
		{"GPIE_NSICR", GPIE_NSICR, 0x1}, {"GPIE_MSIX_MODE", GPIE_MSIX_MODE, 0x10},
		{"GPIE_EIAME", GPIE_EIAME, 0x40000000}, {"GPIE_PBA", GPIE_PBA, 0x80000000},
		{"EITR_CNT_IGNR", EITR_CNT_IGNR, 0x80000000}, {"IVAR_VALID", IVAR_VALID, 0x80},
		{"EICR_MSIX_MASK", EICR_MSIX_MASK, 0x01FFFFFF}, {"EICR_LEGACY_MASK", EICR_LEGACY_MASK, 0xC000FFFF},
		{"XDCTL_ENABLE", XDCTL_ENABLE, 0x02000000},
		{"MRQC_RSS_FIELD_IPV4_TCP", MRQC_RSS_FIELD_IPV4_TCP, 0x00010000},
		{"MRQC_RSS_FIELD_IPV4", MRQC_RSS_FIELD_IPV4, 0x00020000},
		{"MRQC_RSS_FIELD_IPV4_UDP", MRQC_RSS_FIELD_IPV4_UDP, 0x00400000},
		{"MRQC_RSS_FIELD_IPV6_UDP", MRQC_RSS_FIELD_IPV6_UDP, 0x00800000},
		{"RXCSUM_PCSD", RXCSUM_PCSD, 0x2000},
		{"CTRL_EXT_PFRSTD", CTRL_EXT_PFRSTD, 0x4000}, {"CTRL_EXT_DRV_LOAD", CTRL_EXT_DRV_LOAD, 0x10000000},
		{"ICR_DRSTA", ICR_DRSTA, 0x40000000}, {"ICR_INT_ASSERTED", ICR_INT_ASSERTED, 0x80000000},
		{"TXD_DCMD_TSE", TXD_DCMD_TSE, 0x80000000}, {"TXD_DCMD_RS", TXD_DCMD_RS, 0x08000000},
		{"TXD_DTYP_DATA", TXD_DTYP_DATA, 0x00300000}, {"TXD_DTYP_CTXT", TXD_DTYP_CTXT, 0x00200000},
		{"TXD_POPTS_TXSM", TXD_POPTS_TXSM, 0x200}, {"TXD_POPTS_IXSM", TXD_POPTS_IXSM, 0x100},
		{"TXCTX_TUCMD_IPV4", TXCTX_TUCMD_IPV4, 0x400}, {"TXCTX_TUCMD_L4T_TCP", TXCTX_TUCMD_L4T_TCP, 0x800},
		{"TXCTX_TUCMD_L4T_SCTP", TXCTX_TUCMD_L4T_SCTP, 0x1000},
		{"EERD_DONE", EERD_DONE, 0x2},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}
