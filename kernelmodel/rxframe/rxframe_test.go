package rxframe

import (
	"testing"

	"github.com/nicbed/nicbed/kernelmodel"
)

// TestAssembler: frames from one or several buffers come out whole; each
// kind of wrong write-back is counted, drops its frame (rx_dropped once)
// and its later descriptors up to EOP; no skb is left behind.
func TestAssembler(t *testing.T) {
	k := kernelmodel.New(kernelmodel.Config{CPUs: 1})
	defer k.Close()
	nd := k.AllocEtherdev("eth0", 1, 1)
	buf := make([]byte, 2048)
	for i := range buf {
		buf[i] = byte(i)
	}
	d := func(l int, eop bool) Frame { return Frame{Data: buf, Length: l, EOP: eop, MaxLen: 9018, Multi: true} }
	type step struct {
		f       Frame
		wantLen int // frame out at this step, 0 none
	}
	for _, tc := range []struct {
		name    string
		steps   []step
		ctr     Counters
		dropped uint64
	}{
		{"one buffer", []step{{d(60, true), 60}}, Counters{}, 0},
		{"three buffers", []step{{d(2048, false), 0}, {d(2048, false), 0}, {d(100, true), 4196}}, Counters{}, 0},
		{"length past the buffer", []step{{d(4000, true), 0}}, Counters{RxBadLength: 1}, 1},
		{"zero length", []step{{d(0, true), 0}}, Counters{RxBadLength: 1}, 1},
		{"runt", []step{{d(10, true), 0}}, Counters{RxRunts: 1}, 1},
		{"frame error", []step{{Frame{Data: buf, Length: 60, EOP: true, FrameErr: true, MaxLen: 1518}, 0}}, Counters{RxFrameErrors: 1}, 1},
		{"too long", []step{{Frame{Data: buf, Length: 1600, EOP: true, MaxLen: 1518}, 0}}, Counters{RxTooLong: 1}, 1},
		{"multi-buffer not allowed", []step{{Frame{Data: buf, Length: 2048, MaxLen: 1518}, 0}, {d(60, true), 0}, {d(60, true), 60}}, Counters{RxMultiBuffer: 1, RxDiscardedDescs: 1}, 1},
		{"no EOP past the largest frame", []step{
			{d(2048, false), 0}, {d(2048, false), 0}, {d(2048, false), 0}, {d(2048, false), 0}, {d(2048, false), 0},
			{d(2048, false), 0}, {d(100, true), 0}, {d(64, true), 64},
		}, Counters{RxNoEOP: 1, RxDiscardedDescs: 2}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f Assembler
			var c Counters
			nd.Stats.RxDropped = 0
			for i, s := range tc.steps {
				skb := f.Add(k, nd, &c, s.f)
				switch {
				case s.wantLen == 0 && skb != nil:
					t.Fatalf("step %d: a frame of %d", i, len(skb.Data))
				case s.wantLen != 0 && (skb == nil || len(skb.Data) != s.wantLen):
					t.Fatalf("step %d: %v, want a frame of %d", i, skb, s.wantLen)
				}
				if skb != nil {
					for j, b := range skb.Data {
						if b != byte(j%2048) {
							t.Fatalf("byte %d is %d", j, b)
						}
					}
					k.ConsumeSKB(skb)
				}
			}
			if c != tc.ctr || nd.Stats.RxDropped != tc.dropped {
				t.Errorf("counters %+v, rx_dropped %d; want %+v, %d", c, nd.Stats.RxDropped, tc.ctr, tc.dropped)
			}
			f.Reset(k)
			if err := k.SKBAudit(); err != nil {
				t.Error(err)
			}
		})
	}
}
