package model

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/igb"
)

// FuzzIGBModel is a hostile driver: each input is a program of 8-byte
// operations — register writes and reads anywhere in BAR0 (offsets taken
// from the register table half of the time, so interrupt, EITR, IVAR and
// queue registers are hit), MSI-X table writes, configuration writes, cable
// changes, frames arriving and model time passing — run against a fresh
// device, once on each profile. The device
// must not panic, must finish each input in bounded model time, and must
// keep its invariants: reserved EICR bits stay 0, no message without an
// emission, and with no new cause the device goes quiet.
func FuzzIGBModel(f *testing.F) {
	f.Add([]byte{})
	// MSI-X on, vector 0 unmasked, EITR0 100 µs, EIMS 1, EICS 1, wait.
	seed := []byte{}
	op := func(kind byte, a byte, off uint16, v uint32) {
		seed = append(seed, kind, a, byte(off), byte(off>>8))
		seed = binary.LittleEndian.AppendUint32(seed, v)
	}
	op(2, 0, 0, pci.MSIXEnable)
	op(1, 0, 12, 0)
	op(0, 0, igb.GPIE, igb.GPIE_MSIX_MODE|igb.GPIE_EIAME)
	op(0, 0, igb.EITR0, 100<<2)
	op(0, 0, igb.EIMS, 1)
	op(0, 0, igb.EICS, 1)
	op(4, 200, 0, 0)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 8*512 {
			prog = prog[:8*512]
		}
		for _, p := range profiles {
			fuzzProgram(t, p, prog)
		}
	})
}

// fuzzProgram runs one FuzzIGBModel input against a fresh device on
// profile p.
func fuzzProgram(t *testing.T, p Profile, prog []byte) {
	{
		r := newRigCfg(t, 64<<10, p, nil)
		msixOff := r.dev.MSIX().Offset()
		for ; len(prog) >= 8; prog = prog[8:] {
			kind, a := prog[0]%7, prog[1]
			off := uint32(binary.LittleEndian.Uint16(prog[2:]))
			v := binary.LittleEndian.Uint32(prog[4:])
			if a&1 != 0 {
				// An implemented register: pick by index into the table.
				reg := &igb.Registers[int(off)%len(igb.Registers)]
				off = reg.At(int(a>>1) % reg.Count)
			} else {
				off = off << 2 % igb.BAR0Size
			}
			switch kind {
			case 0:
				r.wr(off, v)
			case 1:
				r.bar3.Write32(uint32(binary.LittleEndian.Uint16(prog[2:]))%igb.BAR3Size&^3, v)
			case 2:
				r.dev.ConfigWrite(msixOff+2, 2, v&(pci.MSIXEnable|pci.MSIXFunctionMask))
			case 3:
				r.rd(off)
			case 4:
				r.clk.RunFor(time.Duration(a) * 10 * time.Microsecond)
			case 5:
				r.dev.LinkChange(a&1 != 0)
			case 6:
				dst := testMAC
				if a&1 != 0 {
					dst = [6]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
				}
				r.dev.Receive(tcpFrame(dst, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, byte(v)}, uint16(v>>8), uint16(v>>16), int(a)*40))
			}
			if e := r.dev.intr.eicr; e&^(igb.EICR_MSIX_MASK|igb.EICR_LEGACY_MASK) != 0 {
				t.Fatalf("EICR holds reserved bits: %#x", e)
			}
		}
		// Whatever was programmed, the device goes quiet: with no new
		// causes, a second of model time ends with no event left but
		// timers (autonegotiation, EITR) that fire once each.
		start := len(r.sink.msgs)
		r.clk.RunFor(time.Second)
		if n := len(r.sink.msgs) - start; n > igb.NumEITR+1 { // and one LSC
			t.Fatalf("%v: %d messages with no new cause", p, n)
		}
		if c := r.dev.Counters(); uint64(len(r.sink.msgs)) > c.Interrupts {
			t.Fatalf("%v: %d messages but %d emissions", p, len(r.sink.msgs), c.Interrupts)
		}
	}
}
