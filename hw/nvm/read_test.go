package nvm

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// eerdDev is an EERD register over an image: reads are done after delay
// looks (never when delay < 0).
type eerdDev struct {
	e     EERD
	image []uint16
	reg   uint32
	delay int
	looks int
}

func (d *eerdDev) Read32(uint32) uint32 {
	d.looks++
	if d.delay < 0 || d.looks <= d.delay {
		return d.reg &^ (d.e.Done | 0xFFFF<<d.e.DataShift)
	}
	return d.reg
}

func (d *eerdDev) Write32(_, v uint32) {
	d.looks = 0
	d.reg, _ = d.e.Write(v, d.image)
}

// TestReadValidateMAC: words read through EERD after a few polls; a device
// that never sets DONE fails after polls × delay; the checksum and the
// address are checked.
func TestReadValidateMAC(t *testing.T) {
	e := EERD{Start: 1, Done: 2, AddrShift: 2, AddrMask: 0x3FFF << 2, DataShift: 16}
	img := make([]uint16, 64)
	PutMACAddr(img, [6]byte{0x52, 0x54, 0, 1, 2, 3})
	FixChecksum(img)
	d := &eerdDev{e: e, image: img, delay: 2}
	var waited time.Duration
	read := func(w int) (uint16, error) {
		return e.ReadWord(d, 0x14, w, 10, 5*time.Microsecond, func(x time.Duration) { waited += x })
	}
	if err := Validate(read); err != nil {
		t.Fatal(err)
	}
	if mac, err := ReadMAC(read); err != nil || mac != [6]byte{0x52, 0x54, 0, 1, 2, 3} {
		t.Fatalf("MAC %v %v", mac, err)
	}
	if waited != 67*2*5*time.Microsecond {
		t.Errorf("waited %v for 67 words", waited)
	}
	img[7]++
	if err := Validate(read); !errors.Is(err, ErrChecksum) {
		t.Errorf("bad image: %v", err)
	}
	img[0] |= 1
	if _, err := ReadMAC(read); !errors.Is(err, ErrInvalidMAC) {
		t.Errorf("multicast address: %v", err)
	}
	d.delay = -1
	if _, err := read(0); !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "after 50µs") {
		t.Errorf("never done: %v", err)
	}
}
