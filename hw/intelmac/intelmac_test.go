package intelmac

import (
	"testing"

	"github.com/nicbed/nicbed/hw/mii"
)

type regs map[uint32]uint32

func (r regs) Read32(off uint32) uint32 { return r[off] }
func (r regs) Write32(off, v uint32)    { r[off] = v }

// TestSetupFlowControl: the MAC control frame registers always, the
// receive thresholds with XON only when we send pause frames.
func TestSetupFlowControl(t *testing.T) {
	for _, tc := range []struct {
		fc           mii.FlowControl
		fcrtl, fcrth uint32
	}{
		{mii.FCFull, 100 | FCRTL_XONE, 200},
		{mii.FCTxPause, 100 | FCRTL_XONE, 200},
		{mii.FCRxPause, 0, 0},
		{mii.FCNone, 0, 0},
	} {
		r := regs{FCRTL: 7, FCRTH: 7}
		SetupFlowControl(r, tc.fc, 100, 200)
		if r[FCT] != 0x8808 || r[FCAL] != 0x00C28001 || r[FCAH] != 0x100 || r[FCTTV] != 0xFFFF || r[FCRTL] != tc.fcrtl || r[FCRTH] != tc.fcrth {
			t.Errorf("%v: %v", tc.fc, r)
		}
	}
}

// TestFCFromNVM, TestSpeedDuplex, TestInitRxAddrs, TestRxModeVLAN.
func TestFCFromNVM(t *testing.T) {
	for w, want := range map[uint16]mii.FlowControl{0x0000: mii.FCNone, 0x2000: mii.FCTxPause, 0x1000: mii.FCFull, 0x3000: mii.FCFull, 0xFFFF: mii.FCFull} {
		if got := FCFromNVM(w); got != want {
			t.Errorf("%#x: %v, want %v", w, got, want)
		}
	}
}

func TestSpeedDuplex(t *testing.T) {
	for st, want := range map[uint32]struct {
		speed int
		fd    bool
	}{0: {10, false}, STATUS_SPEED_100 | STATUS_FD: {100, true}, STATUS_SPEED_1000 | STATUS_FD: {1000, true}, STATUS_SPEED_MASK: {1000, false}} {
		if s, fd := SpeedDuplex(st); s != want.speed || fd != want.fd {
			t.Errorf("STATUS %#x: %d %v", st, s, fd)
		}
	}
}

func TestInitRxAddrs(t *testing.T) {
	r := regs{0x5408: 1, 0x540C: RAH_AV}
	InitRxAddrs(r, [6]byte{1, 2, 3, 4, 5, 6}, 2, func(i int) uint32 { return 0x5400 + 8*uint32(i) }, func(i int) uint32 { return 0x5404 + 8*uint32(i) })
	if r[0x5400] != 0x04030201 || r[0x5404] != 0x0605|RAH_AV || r[0x5408] != 0 || r[0x540C] != 0 {
		t.Errorf("%v", r)
	}
}

func TestRxModeVLAN(t *testing.T) {
	r := regs{RCTL: RCTL_VFE | 2, CTRL: 1}
	SetRxMode(r, true)
	if r[RCTL] != RCTL_UPE|RCTL_MPE|2 {
		t.Errorf("promisc: RCTL %#x", r[RCTL])
	}
	SetRxMode(r, false)
	if r[RCTL] != 2 {
		t.Errorf("not promisc: RCTL %#x", r[RCTL])
	}
	VLANMode(r, true)
	if r[CTRL] != 1|CTRL_VME {
		t.Errorf("VME on: CTRL %#x", r[CTRL])
	}
	VLANMode(r, false)
	if r[CTRL] != 1 {
		t.Errorf("VME off: CTRL %#x", r[CTRL])
	}
}
