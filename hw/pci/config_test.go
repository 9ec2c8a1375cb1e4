package pci

import (
	"fmt"
	"slices"
	"testing"
)

type msg struct {
	addr uint64
	data uint32
}

type sink struct{ got []msg }

func (s *sink) WriteMSI(addr uint64, data uint32) { s.got = append(s.got, msg{addr, data}) }

// testID is an 82576 (igb) as QEMU presents it.
var testID = ID{
	Vendor: 0x8086, Device: 0x10C9,
	SubVendor: 0x8086, SubSystem: 0xA01C,
	Revision: 0x01, Class: 0x020000, InterruptPin: 1,
}

func snapshot(c *Config) []uint32 {
	s := make([]uint32, ConfigSize/4)
	for i := range s {
		s[i] = c.Read(4*i, 4)
	}
	return s
}

func TestConfigHeaderMasks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		off, size int
		write     uint32
		want      uint32
	}{
		{"vendor is read-only", VendorID, 2, 0x1234, 0x8086},
		{"device is read-only", DeviceID, 2, 0x1234, 0x10C9},
		{"IDs as one dword", VendorID, 4, 0, 0x10C98086},
		{"revision and class", RevisionID, 4, 0xFFFFFFFF, 0x02000001},
		{"class code", ClassProg + 1, 2, 0, 0x0200},
		{"subsystem vendor", SubVendorID, 2, 0, 0x8086},
		{"subsystem", SubSystemID, 2, 0, 0xA01C},
		{"command: only defined bits", Command, 2, 0xFFFF, 0x0547},
		{"command: byte write", Command + 1, 1, 0xFF, 0x05},
		{"command: clear", Command, 2, 0, 0},
		{"cache line size", CacheLineSize, 1, 0x10, 0x10},
		{"latency timer", LatencyTimer, 1, 0x40, 0x40},
		{"header type is read-only", HeaderType, 1, 0x80, 0},
		{"BIST is read-only", 0x0F, 1, 0xFF, 0},
		{"absent BAR", BAR0, 4, 0xFFFFFFFF, 0},
		{"CardBus CIS", 0x28, 4, 0xFFFFFFFF, 0},
		{"expansion ROM absent", 0x30, 4, 0xFFFFFFFF, 0},
		{"capabilities pointer", CapPtr, 1, 0x40, 0},
		{"interrupt line", InterruptLine, 1, 0x0B, 0x0B},
		{"interrupt pin is read-only", InterruptPin, 1, 4, 1},
		{"line and pin as one word", InterruptLine, 2, 0xFFFF, 0x01FF},
		{"device-specific region", 0x40, 4, 0xFFFFFFFF, 0},
		{"extended space", 0x100, 4, 0xFFFFFFFF, 0},
		{"last dword", ConfigSize - 4, 4, 0xFFFFFFFF, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConfig(testID)
			c.Write(tc.off, tc.size, tc.write)
			if got := c.Read(tc.off, tc.size); got != tc.want {
				t.Errorf("after Write(%#x, %d, %#x): Read = %#x, want %#x", tc.off, tc.size, tc.write, got, tc.want)
			}
		})
	}
}

func TestConfigStatusW1C(t *testing.T) {
	const set = StatusDetectedParityError | StatusSignaledSystemError | StatusReceivedMasterAbort |
		StatusReceivedTargetAbort | StatusSignaledTargetAbort | StatusMasterDataParity | StatusINTx
	for _, tc := range []struct {
		name      string
		off, size int
		write     uint32
		want      uint32
	}{
		{"writing 0 clears nothing", Status, 2, 0, set},
		{"writing 1 clears that bit", Status, 2, StatusReceivedMasterAbort, set &^ StatusReceivedMasterAbort},
		{"all ones clears every RW1C bit, not INTx", Status, 2, 0xFFFF, StatusINTx},
		{"byte write to the high byte", Status + 1, 1, 0x20, set &^ StatusReceivedMasterAbort},
		{"dword write with command", Command, 4, 0x8000 << 16, set &^ StatusDetectedParityError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConfig(testID)
			c.Set(Status, 2, set)
			c.Write(tc.off, tc.size, tc.write)
			if got := c.Read(Status, 2); got != tc.want {
				t.Errorf("Status = %#x, want %#x", got, tc.want)
			}
		})
	}
}

func TestConfigBadAccess(t *testing.T) {
	for _, tc := range []struct{ off, size int }{
		{-1, 1}, {-4, 4}, {ConfigSize, 1}, {ConfigSize - 2, 4}, {ConfigSize - 1, 2},
		{1, 2}, {2, 4}, {3, 4}, {0, 3}, {0, 8}, {0, 0}, {0, -1},
	} {
		t.Run(fmt.Sprintf("off=%d/size=%d", tc.off, tc.size), func(t *testing.T) {
			c := NewConfig(testID)
			c.SetBAR(0, 0x20000)
			before := snapshot(c)
			if got := c.Read(tc.off, tc.size); got != 0xFFFFFFFF {
				t.Errorf("Read = %#x, want all ones", got)
			}
			c.Write(tc.off, tc.size, 0xFFFFFFFF)
			c.Write(tc.off, tc.size, 0)
			c.Set(tc.off, tc.size, 0xFFFFFFFF)
			c.SetMask(tc.off, tc.size, 0xFFFFFFFF, 0)
			if !slices.Equal(before, snapshot(c)) {
				t.Error("invalid access changed configuration space")
			}
		})
	}
}

func TestConfigCommandAccessors(t *testing.T) {
	for _, tc := range []struct {
		cmd               uint32
		mem, master, intx bool
	}{
		{0, false, false, false},
		{CommandMemory, true, false, false},
		{CommandBusMaster, false, true, false},
		{CommandINTxDisable, false, false, true},
		{CommandMemory | CommandBusMaster | CommandINTxDisable, true, true, true},
	} {
		c := NewConfig(testID)
		c.Write(Command, 2, tc.cmd)
		if c.MemoryEnabled() != tc.mem || c.BusMaster() != tc.master || c.INTxDisabled() != tc.intx {
			t.Errorf("Command %#x: MemoryEnabled=%v BusMaster=%v INTxDisabled=%v, want %v %v %v",
				tc.cmd, c.MemoryEnabled(), c.BusMaster(), c.INTxDisabled(), tc.mem, tc.master, tc.intx)
		}
	}
}

func TestConfigINTxStatus(t *testing.T) {
	c := NewConfig(testID)
	c.Set(Status, 2, StatusReceivedMasterAbort)
	c.SetINTxStatus(true)
	if got := c.Read(Status, 2); got != StatusReceivedMasterAbort|StatusINTx {
		t.Errorf("Status = %#x after SetINTxStatus(true)", got)
	}
	c.Write(Status, 2, StatusINTx) // read-only to software
	c.SetINTxStatus(false)
	if got := c.Read(Status, 2); got != StatusReceivedMasterAbort {
		t.Errorf("Status = %#x after SetINTxStatus(false)", got)
	}
}

func TestBARSizing(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size      uint32
		off, n    int // the write, relative to the BAR
		write     uint32
		want      uint32 // BAR register read back
		wantAddr  uint32
		wantSized uint32
	}{
		{"128K sizing", 0x20000, 0, 4, 0xFFFFFFFF, 0xFFFE0000, 0xFFFE0000, 0x20000},
		{"128K address", 0x20000, 0, 4, 0xFEBC0000, 0xFEBC0000, 0xFEBC0000, 0x20000},
		{"bits below the size ignored", 0x20000, 0, 4, 0xFEBC1234, 0xFEBC0000, 0xFEBC0000, 0x20000},
		{"type bits read-only", 0x1000, 0, 4, 0x0000F00F, 0x0000F000, 0x0000F000, 0x1000},
		{"16 byte BAR", 16, 0, 4, 0xFFFFFFFF, 0xFFFFFFF0, 0xFFFFFFF0, 16},
		{"2G BAR", 0x80000000, 0, 4, 0xFFFFFFFF, 0x80000000, 0x80000000, 0x80000000},
		{"byte write to the top byte", 0x20000, 3, 1, 0xFE, 0xFE000000, 0xFE000000, 0x20000},
		{"word write to the high half", 0x20000, 2, 2, 0xFEBD, 0xFEBC0000, 0xFEBC0000, 0x20000},
		{"removed BAR", 0, 0, 4, 0xFFFFFFFF, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConfig(testID)
			c.SetBAR(5, 0x1000) // a neighbour that must not change
			c.SetBAR(2, 0x1000)
			c.SetBAR(2, tc.size)
			c.Write(BAR0+8+tc.off, tc.n, tc.write)
			if got := c.Read(BAR0+8, 4); got != tc.want {
				t.Errorf("BAR2 reads %#x, want %#x", got, tc.want)
			}
			if got := c.BARAddr(2); got != tc.wantAddr {
				t.Errorf("BARAddr(2) = %#x, want %#x", got, tc.wantAddr)
			}
			if got := c.BARSize(2); got != tc.wantSized {
				t.Errorf("BARSize(2) = %#x, want %#x", got, tc.wantSized)
			}
			if got := c.Read(BAR0+4*5, 4); got != 0 {
				t.Errorf("BAR5 changed to %#x", got)
			}
		})
	}
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", name)
		}
	}()
	f()
}

func TestSetBARRejects(t *testing.T) {
	for _, tc := range []struct {
		i    int
		size uint32
	}{{-1, 16}, {6, 16}, {0, 8}, {0, 24}, {0, 0x30000}} {
		mustPanic(t, fmt.Sprintf("SetBAR(%d, %#x)", tc.i, tc.size), func() { NewConfig(testID).SetBAR(tc.i, tc.size) })
	}
	c := NewConfig(testID)
	if c.BARAddr(-1) != 0 || c.BARAddr(6) != 0 || c.BARSize(6) != 0 {
		t.Error("out-of-range BAR index reads non-zero")
	}
}

// capList walks the capability list as Linux pci_find_capability does.
func capList(c *Config) (ids []uint32, offs []int) {
	if c.Read(Status, 2)&StatusCapList == 0 {
		return nil, nil
	}
	off := int(c.Read(CapPtr, 1))
	for ttl := 48; off >= 0x40 && ttl > 0; ttl-- {
		off &^= 3
		ids = append(ids, c.Read(off, 1))
		offs = append(offs, off)
		off = int(c.Read(off+1, 1))
	}
	return ids, offs
}

func TestCapabilityList(t *testing.T) {
	for _, tc := range []struct {
		name     string
		caps     []int // lengths, IDs are 0x80+i
		wantOffs []int
	}{
		{"none", nil, nil},
		{"one", []int{8}, []int{0x40}},
		{"PM, MSI, MSI-X sizes", []int{8, 14, 12}, []int{0x40, 0x48, 0x58}},
		{"odd lengths stay DWORD aligned", []int{5, 2, 3}, []int{0x40, 0x48, 0x4C}},
		{"exactly to 0x100", []int{0x80, 0x40}, []int{0x40, 0xC0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConfig(testID)
			var wantIDs []uint32
			for i, n := range tc.caps {
				if got := c.AddCapability(uint8(0x80+i), n); got != tc.wantOffs[i] {
					t.Errorf("AddCapability #%d at %#x, want %#x", i, got, tc.wantOffs[i])
				}
				wantIDs = append(wantIDs, uint32(0x80+i))
			}
			// Software cannot rewire the list.
			c.Write(CapPtr, 1, 0x80)
			for _, off := range tc.wantOffs {
				c.Write(off, 2, 0xFFFF)
			}
			ids, offs := capList(c)
			if !slices.Equal(ids, wantIDs) || !slices.Equal(offs, tc.wantOffs) {
				t.Errorf("list = ids %#x at %#x, want %#x at %#x", ids, offs, wantIDs, tc.wantOffs)
			}
		})
	}
	mustPanic(t, "capability past 0x100", func() {
		c := NewConfig(testID)
		c.AddCapability(0x80, 0xB0)
		c.AddCapability(0x81, 0x14)
	})
}

func TestMSIRegisterMasks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		vectors   int
		off, size int // relative to the capability
		want      uint32
	}{
		{"control, 1 vector", 1, 2, 2, 0x0080 | 0x70 | MSIEnable},
		{"control, 4 vectors", 4, 2, 2, 0x0080 | 0x70 | 2<<1 | MSIEnable},
		{"control, 32 vectors", 32, 2, 2, 0x0080 | 0x70 | 5<<1 | MSIEnable},
		{"header is read-only", 1, 0, 2, CapMSI},
		{"address low bits reserved", 1, 4, 4, 0xFFFFFFFC},
		{"upper address", 1, 8, 4, 0xFFFFFFFF},
		{"data is 16 bits", 1, 12, 4, 0x0000FFFF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConfig(testID)
			m := c.AddMSI(tc.vectors, &sink{})
			c.Write(m.Offset()+tc.off, tc.size, 0xFFFFFFFF)
			if got := c.Read(m.Offset()+tc.off, tc.size); got != tc.want {
				t.Errorf("reads %#x, want %#x", got, tc.want)
			}
		})
	}
	for _, n := range []int{0, 3, 64} {
		mustPanic(t, fmt.Sprintf("AddMSI(%d)", n), func() { NewConfig(testID).AddMSI(n, &sink{}) })
	}
}

func TestMSIFire(t *testing.T) {
	const addr = 0xFEE0_1000
	for _, tc := range []struct {
		name    string
		vectors int
		control uint32 // Message Control as software writes it
		master  bool
		data    uint32
		vector  int
		want    []msg
	}{
		{"disabled", 1, 0, true, 0x41, 0, nil},
		{"no bus master", 1, MSIEnable, false, 0x41, 0, nil},
		{"single vector", 1, MSIEnable, true, 0x41, 0, []msg{{0x1_0000_0000 | addr, 0x41}}},
		{"vector in low bits", 4, MSIEnable | 2<<4, true, 0x40, 3, []msg{{0x1_0000_0000 | addr, 0x43}}},
		{"low bits replaced", 4, MSIEnable | 2<<4, true, 0x43, 1, []msg{{0x1_0000_0000 | addr, 0x41}}},
		{"aliased onto fewer allocated", 4, MSIEnable | 1<<4, true, 0x40, 3, []msg{{0x1_0000_0000 | addr, 0x41}}},
		{"enable beyond capable is clamped", 4, MSIEnable | 7<<4, true, 0x40, 3, []msg{{0x1_0000_0000 | addr, 0x43}}},
		{"vector out of range", 4, MSIEnable | 2<<4, true, 0x40, 4, nil},
		{"negative vector", 4, MSIEnable | 2<<4, true, 0x40, -1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConfig(testID)
			s := &sink{}
			m := c.AddMSI(tc.vectors, s)
			if tc.master {
				c.Write(Command, 2, CommandBusMaster)
			}
			c.Write(m.Offset()+msiAddrLo, 4, addr)
			c.Write(m.Offset()+msiAddrHi, 4, 1)
			c.Write(m.Offset()+msiData, 2, tc.data)
			c.Write(m.Offset()+msiControl, 2, tc.control)
			sent := m.Fire(tc.vector)
			if !slices.Equal(s.got, tc.want) || sent != (tc.want != nil) {
				t.Errorf("Fire(%d) = %v, sent %x, want %x", tc.vector, sent, s.got, tc.want)
			}
		})
	}
}

// The 82576 layout: 25 vectors (QEMU igb), table at BAR3+0, PBA at BAR3+0x2000.
var igbLayout = MSIXLayout{Vectors: 25, TableBAR: 3, TableOffset: 0, PBABAR: 3, PBAOffset: 0x2000}

func newMSIX(t *testing.T) (*Config, *MSIX, *sink) {
	t.Helper()
	c := NewConfig(testID)
	c.SetBAR(0, 0x20000)
	c.SetBAR(3, 0x4000)
	s := &sink{}
	m := c.AddMSIX(igbLayout, s)
	return c, m, s
}

func TestMSIXCapabilityRegisters(t *testing.T) {
	for _, tc := range []struct {
		name      string
		off, size int
		write     uint32
		want      uint32
	}{
		{"header", 0, 2, 0xFFFF, CapMSIX},
		{"control: table size read-only", 2, 2, 0, 24},
		{"control: enable and function mask", 2, 2, 0xFFFF, MSIXEnable | MSIXFunctionMask | 24},
		{"control: high byte", 3, 1, 0x80, 0x80},
		{"table offset and BIR", 4, 4, 0xFFFFFFFF, 0x3},
		{"PBA offset and BIR", 8, 4, 0, 0x2003},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, m, _ := newMSIX(t)
			c.Write(m.Offset()+tc.off, tc.size, tc.write)
			if got := c.Read(m.Offset()+tc.off, tc.size); got != tc.want {
				t.Errorf("reads %#x, want %#x", got, tc.want)
			}
		})
	}
	for _, l := range []MSIXLayout{
		{Vectors: 0, TableBAR: 3, PBABAR: 3, PBAOffset: 0x2000},
		{Vectors: 2049, TableBAR: 3, PBABAR: 3, PBAOffset: 0x2000},
		{Vectors: 8, TableBAR: 3, TableOffset: 4, PBABAR: 3, PBAOffset: 0x2000},    // not QWORD aligned
		{Vectors: 8, TableBAR: 3, PBABAR: 3, PBAOffset: 0x40},                      // PBA inside the table
		{Vectors: 8, TableBAR: 3, PBABAR: 3, PBAOffset: 0x4000},                    // PBA past the BAR
		{Vectors: 8, TableBAR: 1, PBABAR: 3, PBAOffset: 0x2000},                    // no BAR 1
		{Vectors: 1024, TableBAR: 3, TableOffset: 0x1000, PBABAR: 0, PBAOffset: 0}, // table past the BAR
	} {
		mustPanic(t, fmt.Sprintf("AddMSIX(%+v)", l), func() {
			c := NewConfig(testID)
			c.SetBAR(0, 0x20000)
			c.SetBAR(3, 0x4000)
			c.AddMSIX(l, &sink{})
		})
	}
}

func TestMSIXTableAccess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bar    int
		off    uint32
		write  bool
		val    uint32
		want   uint32
		wantOK bool
	}{
		{"entry 0 address out of reset", 3, 0, false, 0, 0, true},
		{"vector control out of reset is masked", 3, 12, false, 0, MSIXVectorMask, true},
		{"last entry vector control", 3, 24*16 + 12, false, 0, MSIXVectorMask, true},
		{"address low bits reserved", 3, 16, true, 0xFEE00007, 0xFEE00004, true},
		{"upper address", 3, 20, true, 0xFFFFFFFF, 0xFFFFFFFF, true},
		{"data is 32 bits", 3, 24, true, 0xDEADBEEF, 0xDEADBEEF, true},
		{"vector control reserved bits", 3, 28, true, 0xFFFFFFFE, 0, true},
		{"PBA is read-only", 3, 0x2000, true, 0xFFFFFFFF, 0, true},
		{"PBA high dword", 3, 0x2004, false, 0, 0, true},
		{"misaligned in the table", 3, 2, false, 0, 0xFFFFFFFF, true},
		{"past the table", 3, 25 * 16, false, 0, 0, false},
		{"past the PBA", 3, 0x2008, false, 0, 0, false},
		{"another BAR", 0, 0, false, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, m, s := newMSIX(t)
			if tc.write {
				if ok := m.Write32(tc.bar, tc.off, tc.val); ok != tc.wantOK {
					t.Errorf("Write32 ok = %v, want %v", ok, tc.wantOK)
				}
			}
			got, ok := m.Read32(tc.bar, tc.off)
			if ok != tc.wantOK || (ok && got != tc.want) {
				t.Errorf("Read32 = %#x, %v, want %#x, %v", got, ok, tc.want, tc.wantOK)
			}
			if len(s.got) != 0 {
				t.Errorf("table access sent %x", s.got)
			}
		})
	}
}

// program sets entry v to address 0xFEE00000+v<<12 and data 0x30+v.
func program(m *MSIX, v int, unmask bool) {
	base := uint32(v * MSIXEntrySize)
	m.Write32(3, base, 0xFEE00000+uint32(v)<<12)
	m.Write32(3, base+4, 0)
	m.Write32(3, base+8, 0x30+uint32(v))
	if unmask {
		m.Write32(3, base+12, 0)
	}
}

func want(v int) msg { return msg{0xFEE00000 + uint64(v)<<12, 0x30 + uint32(v)} }

func TestMSIXFire(t *testing.T) {
	for _, tc := range []struct {
		name        string
		control     uint32
		master      bool
		unmask      bool
		vector      int
		wantSent    bool
		wantPending bool
	}{
		{"enabled and unmasked", MSIXEnable, true, true, 7, true, false},
		{"disabled", 0, true, true, 7, false, true},
		{"function masked", MSIXEnable | MSIXFunctionMask, true, true, 7, false, true},
		{"entry masked", MSIXEnable, true, false, 7, false, true},
		{"no bus master: lost", MSIXEnable, false, true, 7, false, false},
		{"vector out of range", MSIXEnable, true, true, 25, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, m, s := newMSIX(t)
			if tc.master {
				c.Write(Command, 2, CommandBusMaster)
			}
			program(m, 7, tc.unmask)
			c.Write(m.Offset()+msixControl, 2, tc.control)
			sent := m.Fire(tc.vector)
			var wantMsgs []msg
			if tc.wantSent {
				wantMsgs = []msg{want(7)}
			}
			if sent != tc.wantSent || !slices.Equal(s.got, wantMsgs) {
				t.Errorf("Fire = %v, sent %x, want %x", sent, s.got, wantMsgs)
			}
			if got := m.Pending(tc.vector); got != tc.wantPending {
				t.Errorf("Pending = %v, want %v", got, tc.wantPending)
			}
			wantPBA := uint32(0)
			if tc.wantPending {
				wantPBA = 1 << 7
			}
			if pba, _ := m.Read32(3, 0x2000); pba != wantPBA {
				t.Errorf("PBA = %#x, want %#x", pba, wantPBA)
			}
		})
	}
}

func TestMSIXPendingDeliveredOnUnmask(t *testing.T) {
	enable := func(c *Config, m *MSIX) { c.Write(m.Offset()+msixControl, 2, MSIXEnable) }
	for _, tc := range []struct {
		name   string
		mask   func(c *Config, m *MSIX) // the state while the vectors fire
		unmask func(c *Config, m *MSIX)
		fire   []int
		want   []msg
		stays  bool // the fired vectors are still pending after the unmask
	}{
		{
			name:   "entry unmasked by a table write",
			mask:   func(c *Config, m *MSIX) { enable(c, m); program(m, 3, false) },
			unmask: func(c *Config, m *MSIX) { m.Write32(3, 3*16+12, 0) },
			fire:   []int{3, 3, 3},
			want:   []msg{want(3)},
		},
		{
			name: "function mask cleared",
			mask: func(c *Config, m *MSIX) {
				c.Write(m.Offset()+msixControl, 2, MSIXEnable|MSIXFunctionMask)
				program(m, 1, true)
				program(m, 20, true)
			},
			unmask: enable,
			fire:   []int{20, 1},
			want:   []msg{want(1), want(20)},
		},
		{
			name:   "enabled by a byte write",
			mask:   func(c *Config, m *MSIX) { program(m, 24, true) },
			unmask: func(c *Config, m *MSIX) { c.Write(m.Offset()+3, 1, 0x80) },
			fire:   []int{24},
			want:   []msg{want(24)},
		},
		{
			name:   "enabled by a dword write of the capability header",
			mask:   func(c *Config, m *MSIX) { program(m, 0, true) },
			unmask: func(c *Config, m *MSIX) { c.Write(m.Offset(), 4, MSIXEnable<<16) },
			fire:   []int{0},
			want:   []msg{want(0)},
		},
		{
			name: "still function masked",
			mask: func(c *Config, m *MSIX) {
				c.Write(m.Offset()+msixControl, 2, MSIXEnable|MSIXFunctionMask)
				program(m, 3, false)
			},
			unmask: func(c *Config, m *MSIX) { m.Write32(3, 3*16+12, 0) },
			fire:   []int{3},
			want:   nil,
			stays:  true,
		},
		{
			name:   "cleared before unmask",
			mask:   func(c *Config, m *MSIX) { enable(c, m); program(m, 3, false) },
			unmask: func(c *Config, m *MSIX) { m.ClearPending(3); m.Write32(3, 3*16+12, 0) },
			fire:   []int{3},
			want:   nil,
		},
		{
			name: "sent with the entry as it is at unmask",
			mask: func(c *Config, m *MSIX) { enable(c, m); program(m, 9, false) },
			unmask: func(c *Config, m *MSIX) {
				m.Write32(3, 9*16+8, 0x99)
				m.Write32(3, 9*16+12, 0)
			},
			fire: []int{9},
			want: []msg{{0xFEE09000, 0x99}},
		},
		{
			name:   "unmasked but not pending",
			mask:   func(c *Config, m *MSIX) { enable(c, m); program(m, 3, false) },
			unmask: func(c *Config, m *MSIX) { m.Write32(3, 3*16+12, 0) },
			want:   nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, m, s := newMSIX(t)
			c.Write(Command, 2, CommandBusMaster|CommandMemory)
			tc.mask(c, m)
			for _, v := range tc.fire {
				if m.Fire(v) {
					t.Fatalf("Fire(%d) sent while masked", v)
				}
			}
			tc.unmask(c, m)
			if !slices.Equal(s.got, tc.want) {
				t.Errorf("sent %x, want %x", s.got, tc.want)
			}
			for _, v := range tc.fire {
				if m.Pending(v) != tc.stays {
					t.Errorf("Pending(%d) = %v after unmask", v, m.Pending(v))
				}
			}
			// Unmasking again sends nothing more.
			n := len(s.got)
			tc.unmask(c, m)
			if len(s.got) != n {
				t.Errorf("second unmask sent %x", s.got[n:])
			}
		})
	}
}

type regs struct {
	mem    [4]uint32
	writes int
}

func (r *regs) Read32(off uint32) uint32 { return r.mem[off/4%4] }
func (r *regs) Write32(off uint32, v uint32) {
	r.writes++
	r.mem[off/4%4] = v
}

func TestFunctionBARs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		command  uint32
		off      uint32
		want     uint32
		wantSeen bool
	}{
		{"memory disabled", 0, 4, 0xFFFFFFFF, false},
		{"memory enabled", CommandMemory, 4, 0x1234, true},
		{"past the BAR", CommandMemory, 16, 0xFFFFFFFF, false},
		{"misaligned", CommandMemory, 5, 0xFFFFFFFF, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConfig(testID)
			c.SetBAR(0, 16)
			r := &regs{}
			f := NewFunction(c, [NumBARs]BAR{0: r})
			f.ConfigWrite(Command, 2, tc.command)
			f.BAR(0).Write32(tc.off, 0x1234)
			if got := f.BAR(0).Read32(tc.off); got != tc.want {
				t.Errorf("Read32 = %#x, want %#x", got, tc.want)
			}
			if (r.writes == 1) != tc.wantSeen {
				t.Errorf("model saw %d writes", r.writes)
			}
			if got := f.ConfigRead(Command, 2); got != tc.command {
				t.Errorf("ConfigRead(Command) = %#x", got)
			}
		})
	}
	f := NewFunction(NewConfig(testID), [NumBARs]BAR{})
	for _, i := range []int{-1, 0, 5, 6} {
		if f.BAR(i) != nil {
			t.Errorf("BAR(%d) is not nil", i)
		}
	}
}

// FuzzConfigWrites drives arbitrary software writes at a configured function:
// nothing panics and no read-only field moves.
func FuzzConfigWrites(f *testing.F) {
	f.Add([]byte{0x04, 0x00, 2, 0xFF, 0xFF, 0, 0})
	f.Add([]byte{0x70, 0x00, 4, 0xFF, 0xFF, 0xFF, 0xFF, 0x10, 0x00, 4, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, ops []byte) {
		c := NewConfig(testID)
		c.SetBAR(0, 0x20000)
		c.SetBAR(3, 0x4000)
		s := &sink{}
		msi := c.AddMSI(4, s)
		msix := c.AddMSIX(igbLayout, s)
		ro := []struct{ off, size int }{
			{VendorID, 4}, {RevisionID, 4}, {SubVendorID, 4}, {CapPtr, 1}, {InterruptPin, 1},
			{msi.Offset(), 2}, {msix.Offset(), 2}, {msix.Offset() + 4, 4}, {msix.Offset() + 8, 4},
		}
		before := make([]uint32, len(ro))
		for i, r := range ro {
			before[i] = c.Read(r.off, r.size)
		}
		for len(ops) >= 7 {
			off := int(ops[0]) | int(ops[1])<<8
			size := int(ops[2])
			val := uint32(ops[3]) | uint32(ops[4])<<8 | uint32(ops[5])<<16 | uint32(ops[6])<<24
			ops = ops[7:]
			c.Write(off, size, val)
			msix.Write32(3, uint32(off)<<2, val)
			msix.Fire(int(ops0(ops)) % 26)
			msi.Fire(int(ops0(ops)) % 5)
		}
		for i, r := range ro {
			if got := c.Read(r.off, r.size); got != before[i] {
				t.Errorf("read-only %#x changed from %#x to %#x", r.off, before[i], got)
			}
		}
		if got := c.Read(BAR0, 4) & 0x1FFFF; got != 0 {
			t.Errorf("BAR0 size bits %#x", got)
		}
		if got := c.Read(msix.Offset()+2, 2) & 0x7FF; got != 24 {
			t.Errorf("MSI-X table size %d", got)
		}
	})
}

func ops0(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
