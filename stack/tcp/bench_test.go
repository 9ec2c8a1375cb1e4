package tcp

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/stack/header"
)

// BenchmarkFastParseOptions is the established-connection path: the
// NOP, NOP, TS layout read without the general walk (compare
// BenchmarkParseOptions).
func BenchmarkFastParseOptions(b *testing.B) {
	sys := NewSysctl()
	seg := make(header.TCP, 32)
	seg.SetDataOffset(32)
	seg.SetFlags(header.TCPFlagACK)
	copy(seg[20:], []byte{1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0})
	rx := RxOptions{TstampOK: true, SackOK: true}
	b.ReportAllocs()
	for b.Loop() {
		if !FastParseOptions(seg, &sys, 0, &rx) || !rx.SawTstamp {
			b.Fatal("no timestamp")
		}
	}
}

// BenchmarkRenoCongAvoid is Reno's per-ACK work next to
// BenchmarkCubicCongAvoid.
func BenchmarkRenoCongAvoid(b *testing.B) {
	benchCongAvoid(b, &Reno{}, newTestSock(100, 50))
}

// BenchmarkRACKDetectLoss scans a 64-segment queue per ACK.
func BenchmarkRACKDetectLoss(b *testing.B) {
	segs := sent(64)
	r := NewRACK()
	r.Advance(false, segs[63].End, segs[63].XmitTime, 100*time.Millisecond, 10*time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		for i := range segs {
			segs[i].Lost = false
		}
		r.DetectLoss(segs, 100*time.Millisecond, 5*time.Millisecond)
	}
}
