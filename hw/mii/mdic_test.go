package mii

import (
	"strings"
	"testing"
	"time"
)

// fakeMDIC is a PHY behind an MDIC register: reads and writes complete
// after ready looks (never when ready < 0), an address other than 1 errors.
type fakeMDIC struct {
	regs  [32]uint16
	mdic  uint32
	ready int
	looks int
}

func (f *fakeMDIC) Read32(off uint32) uint32 {
	f.looks++
	if f.ready < 0 || f.looks <= f.ready {
		return f.mdic &^ MDIC_READY
	}
	return f.mdic | MDIC_READY
}

func (f *fakeMDIC) Write32(off, v uint32) {
	f.looks = 0
	reg := v >> MDIC_REG_SHIFT & 0x1F
	if v>>MDIC_PHY_SHIFT&0x1F != 1 {
		f.mdic = v | MDIC_ERROR
		return
	}
	if v&MDIC_OP_WRITE != 0 {
		f.regs[reg] = uint16(v)
	}
	f.mdic = v&^MDIC_DATA_MASK | uint32(f.regs[reg])
}

// TestMDIC: reads and writes through MDIC wait for READY within Intel's
// bounds, and fail clearly past them or on an error.
func TestMDIC(t *testing.T) {
	var waited time.Duration
	f := &fakeMDIC{ready: 3}
	m := MDIC{Regs: f, PHY: 1, Udelay: func(d time.Duration) { waited += d }}
	if err := m.Write(PHY_ANAR, 0x1E1); err != nil {
		t.Fatal(err)
	}
	if v, err := m.Read(PHY_ANAR); err != nil || v != 0x1E1 {
		t.Fatalf("read %#x, %v", v, err)
	}
	if waited != 4*MDICWriteDelay+4*MDICReadDelay {
		t.Errorf("waited %v", waited)
	}
	f.ready = -1
	if _, err := m.Read(PHY_BMCR); err == nil || !strings.Contains(err.Error(), "not set after 3.2ms") {
		t.Errorf("never ready: %v", err)
	}
	f.ready = 0
	if _, err := (MDIC{Regs: f, PHY: 2, Udelay: func(time.Duration) {}}).Read(PHY_BMCR); err == nil {
		t.Error("no error from a PHY that is not there")
	}
	if _, err := m.Read(32); err == nil {
		t.Error("register 32 read")
	}
	f.regs[PHY_BMCR] = BMCR_ANENABLE
	if !m.PowerDown() || f.regs[PHY_BMCR] != BMCR_ANENABLE|BMCR_PDOWN {
		t.Errorf("power down: BMCR %#x", f.regs[PHY_BMCR])
	}
	m.PowerUp()
	if f.regs[PHY_BMCR] != BMCR_ANENABLE {
		t.Errorf("power up: BMCR %#x", f.regs[PHY_BMCR])
	}
}

// TestAdvertise and TestResolvePause: e1000_phy_setup_autoneg's register
// values and annex 28B's pause resolution.
func TestAdvertise(t *testing.T) {
	anar, gcr := Advertise(0xFFFF, 0xFFFF, AdvertiseDefault, FCFull)
	if anar != 0xFFFF&^ANAR_100T4 || gcr != 0xFFFF&^GCR_1000T_HD {
		t.Errorf("default full: %#x %#x", anar, gcr)
	}
	anar, gcr = Advertise(0, 0, Advertise100Full, FCTxPause)
	if anar != ANAR_SELECTOR_8023|ANAR_100FULL|ANAR_ASM_DIR || gcr != 0 {
		t.Errorf("100 full tx pause: %#x %#x", anar, gcr)
	}
	if anar, _ := Advertise(0, 0, Advertise10Half, FCNone); anar != ANAR_SELECTOR_8023|ANAR_10HALF {
		t.Errorf("10 half no pause: %#x", anar)
	}
}

func TestResolvePause(t *testing.T) {
	p, asm := uint16(ANAR_PAUSE), uint16(ANAR_ASM_DIR)
	for _, tc := range []struct {
		local, partner uint16
		asked, want    FlowControl
	}{
		{p | asm, p | asm, FCFull, FCFull},
		{p | asm, p, FCRxPause, FCRxPause},
		{asm, p | asm, FCTxPause, FCTxPause},
		{p | asm, asm, FCFull, FCRxPause},
		{p | asm, 0, FCFull, FCNone},
		{0, p | asm, FCNone, FCNone},
	} {
		if got := ResolvePause(tc.local, tc.partner, tc.asked); got != tc.want {
			t.Errorf("local %#x partner %#x asked %v: %v, want %v", tc.local, tc.partner, tc.asked, got, tc.want)
		}
	}
}
