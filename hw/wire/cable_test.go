package wire_test

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
)

// port is an Endpoint that records what it gets.
type port struct {
	clk       *kernelmodel.Clock
	ids       []uint32
	times     []time.Duration
	lens      []int
	links     []bool
	onReceive func(frame []byte)
}

func (p *port) Receive(frame []byte) {
	p.ids = append(p.ids, binary.BigEndian.Uint32(frame))
	p.times = append(p.times, p.clk.Now())
	p.lens = append(p.lens, len(frame))
	if p.onReceive != nil {
		p.onReceive(frame)
	}
}

func (p *port) LinkChange(up bool) { p.links = append(p.links, up) }

// frame makes an n-byte frame (n >= 4) carrying id in its first 4 bytes.
func frame(id uint32, n int) []byte {
	f := make([]byte, n)
	for i := range f {
		f[i] = byte(i)
	}
	binary.BigEndian.PutUint32(f, id)
	return f
}

type testCable struct {
	clk    *kernelmodel.Clock
	c      *wire.Cable
	a, b   *port
	la, lb wire.Link
}

func newCable(cfg wire.CableConfig) *testCable {
	clk := kernelmodel.NewVirtualClock()
	t := &testCable{clk: clk, c: wire.NewCable(clk, cfg), a: &port{clk: clk}, b: &port{clk: clk}}
	t.la, t.lb = t.c.Attach(t.a, t.b)
	return t
}

func TestWireTime(t *testing.T) {
	for _, tc := range []struct {
		n     int
		speed uint64
		want  time.Duration
	}{
		{60, 1e9, 672},
		{0, 1e9, 672},
		{59, 1e9, 672},
		{61, 1e9, 680},
		{1514, 1e9, 12304},
		{9014, 1e9, 72304},
		{1514, 1e8, 123040},
		{60, 1e10, 67}, // 67.2 ns, truncated
		{1514, 0, 0},
	} {
		if got := wire.WireTime(tc.n, tc.speed); got != tc.want {
			t.Errorf("WireTime(%d, %d) = %v, want %v", tc.n, tc.speed, got, tc.want)
		}
	}
}

func TestCableTiming(t *testing.T) {
	type tx struct {
		at time.Duration // when Transmit is called
		n  int
	}
	for _, tc := range []struct {
		name       string
		cfg        wire.CableConfig
		tx         []tx
		wantDone   []time.Duration
		wantArrive []time.Duration
	}{
		{"ideal", wire.CableConfig{}, []tx{{0, 60}, {0, 1514}}, []time.Duration{0, 0}, []time.Duration{0, 0}},
		{"delay only", wire.CableConfig{Delay: 5 * time.Microsecond},
			[]tx{{0, 60}, {0, 1514}, {time.Microsecond, 60}},
			[]time.Duration{0, 0, 1000},
			[]time.Duration{5000, 5000, 6000}},
		{"1G back to back", wire.CableConfig{SpeedBPS: 1e9},
			[]tx{{0, 60}, {0, 1514}, {0, 60}},
			[]time.Duration{672, 12976, 13648},
			[]time.Duration{672, 12976, 13648}},
		{"1G with delay", wire.CableConfig{SpeedBPS: 1e9, Delay: 5 * time.Microsecond},
			[]tx{{0, 60}, {0, 1514}},
			[]time.Duration{672, 12976},
			[]time.Duration{5672, 17976}},
		{"1G, idle wire starts now", wire.CableConfig{SpeedBPS: 1e9},
			[]tx{{0, 60}, {time.Millisecond, 60}},
			[]time.Duration{672, time.Millisecond + 672},
			[]time.Duration{672, time.Millisecond + 672}},
		{"1G, busy wire queues", wire.CableConfig{SpeedBPS: 1e9, Delay: time.Microsecond},
			[]tx{{0, 1514}, {100, 60}},
			[]time.Duration{12304, 12976},
			[]time.Duration{13304, 13976}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCable(tc.cfg)
			var done []time.Duration
			for i, x := range tc.tx {
				c.clk.RunUntil(x.at)
				d, ok := c.la.Transmit(frame(uint32(i), x.n))
				if !ok {
					t.Fatalf("Transmit #%d dropped", i)
				}
				done = append(done, d)
			}
			c.clk.RunFor(time.Second)
			if !slices.Equal(done, tc.wantDone) {
				t.Errorf("done = %v, want %v", done, tc.wantDone)
			}
			if !slices.Equal(c.b.times, tc.wantArrive) {
				t.Errorf("arrivals = %v, want %v", c.b.times, tc.wantArrive)
			}
			if want := []uint32{0, 1, 2}[:len(tc.tx)]; !slices.Equal(c.b.ids, want) {
				t.Errorf("order = %v, want %v", c.b.ids, want)
			}
			if len(c.a.ids) != 0 {
				t.Errorf("A received its own frames: %v", c.a.ids)
			}
		})
	}
}

func TestCableFullDuplex(t *testing.T) {
	c := newCable(wire.CableConfig{SpeedBPS: 1e9})
	da, _ := c.la.Transmit(frame(1, 60))
	db, _ := c.lb.Transmit(frame(2, 60))
	c.clk.RunFor(time.Millisecond)
	if da != 672 || db != 672 {
		t.Errorf("done A %v, B %v: directions do not share the wire", da, db)
	}
	if !slices.Equal(c.b.ids, []uint32{1}) || !slices.Equal(c.a.ids, []uint32{2}) {
		t.Errorf("A got %v, B got %v", c.a.ids, c.b.ids)
	}
	ab, ba := c.c.Stats()
	if ab.Delivered != 1 || ba.Delivered != 1 || ab.Bytes != 60 || ba.Bytes != 60 {
		t.Errorf("stats %+v %+v", ab, ba)
	}
}

func TestCableDrops(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    wire.CableConfig
		down   bool
		sizes  []int
		wantOK []bool
		want   wire.Stats // A to B after the run
	}{
		{"link down", wire.CableConfig{}, true, []int{60},
			[]bool{false}, wire.Stats{DroppedDown: 1}},
		{"empty frame", wire.CableConfig{}, false, []int{0, 60},
			[]bool{false, true}, wire.Stats{Sent: 1, Delivered: 1, Bytes: 60, DroppedSize: 1}},
		{"default MaxFrame", wire.CableConfig{}, false, []int{16403, 16402},
			[]bool{false, true}, wire.Stats{Sent: 1, Delivered: 1, Bytes: 16402, DroppedSize: 1}},
		{"MaxFrame 1518", wire.CableConfig{MaxFrame: 1518}, false, []int{1519, 1518},
			[]bool{false, true}, wire.Stats{Sent: 1, Delivered: 1, Bytes: 1518, DroppedSize: 1}},
		{"queue full", wire.CableConfig{SpeedBPS: 1e9, QueueLen: 2}, false, []int{60, 60, 60, 60},
			[]bool{true, true, false, false}, wire.Stats{Sent: 2, Delivered: 2, Bytes: 120, DroppedQueue: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCable(tc.cfg)
			if tc.down {
				c.c.SetUp(false)
			}
			var ok []bool
			for i, n := range tc.sizes {
				f := frame(uint32(i), max(n, 4))[:n]
				_, o := c.la.Transmit(f)
				ok = append(ok, o)
			}
			c.clk.RunFor(time.Second)
			if !slices.Equal(ok, tc.wantOK) {
				t.Errorf("ok = %v, want %v", ok, tc.wantOK)
			}
			if ab, ba := c.c.Stats(); ab != tc.want || ba != (wire.Stats{}) {
				t.Errorf("stats A->B %+v, want %+v; B->A %+v", ab, tc.want, ba)
			}
			if uint64(len(c.b.ids)) != tc.want.Delivered {
				t.Errorf("B received %d frames", len(c.b.ids))
			}
		})
	}
}

func TestCableQueueFreesOnDelivery(t *testing.T) {
	c := newCable(wire.CableConfig{SpeedBPS: 1e9, QueueLen: 1})
	for i := range 3 {
		done, ok := c.la.Transmit(frame(uint32(i), 60))
		if !ok {
			t.Fatalf("Transmit #%d dropped with the queue drained", i)
		}
		if _, ok := c.la.Transmit(frame(99, 60)); ok {
			t.Fatalf("Transmit beyond QueueLen 1 accepted")
		}
		c.clk.RunUntil(done)
	}
	if !slices.Equal(c.b.ids, []uint32{0, 1, 2}) {
		t.Errorf("B got %v", c.b.ids)
	}
}

func TestCableLinkDown(t *testing.T) {
	c := newCable(wire.CableConfig{SpeedBPS: 1e9, Delay: 10 * time.Microsecond})
	if !c.la.Up() || !c.lb.Up() || !c.c.Up() {
		t.Fatal("new cable is not up")
	}
	for i := range 3 {
		c.la.Transmit(frame(uint32(i), 1514))
	}
	c.lb.Transmit(frame(10, 60))
	c.clk.RunUntil(11 * time.Microsecond) // B's frame arrived at 10.672 µs; A's are in flight
	c.c.SetUp(false)
	c.c.SetUp(false) // no change, no event
	if c.la.Up() || c.lb.Up() {
		t.Error("links up after SetUp(false)")
	}
	if !slices.Equal(c.a.links, []bool{false}) || !slices.Equal(c.b.links, []bool{false}) {
		t.Errorf("LinkChange: A %v, B %v", c.a.links, c.b.links)
	}
	if _, ok := c.lb.Transmit(frame(11, 60)); ok {
		t.Error("Transmit accepted with the link down")
	}
	c.clk.RunUntil(12 * time.Microsecond)
	ab, ba := c.c.Stats()
	if want := (wire.Stats{Sent: 3, DroppedDown: 3}); ab != want {
		t.Errorf("A->B %+v, want %+v", ab, want)
	}
	if want := (wire.Stats{Sent: 1, Delivered: 1, Bytes: 60, DroppedDown: 1}); ba != want {
		t.Errorf("B->A %+v, want %+v", ba, want)
	}

	// Back up before the dropped frames would have finished serializing:
	// the wire is idle, and they never arrive.
	c.c.SetUp(true)
	if !slices.Equal(c.a.links, []bool{false, true}) || !slices.Equal(c.b.links, []bool{false, true}) {
		t.Errorf("LinkChange: A %v, B %v", c.a.links, c.b.links)
	}
	now := c.clk.Now()
	done, ok := c.la.Transmit(frame(4, 60))
	if !ok || done != now+672 {
		t.Errorf("after up: Transmit = %v, %v, want %v, true", done, ok, now+672)
	}
	c.clk.RunFor(time.Millisecond)
	if !slices.Equal(c.b.ids, []uint32{4}) || c.b.times[0] != now+672+10*time.Microsecond {
		t.Errorf("after up B got %v at %v", c.b.ids, c.b.times)
	}
	if !slices.Equal(c.a.ids, []uint32{10}) {
		t.Errorf("A got %v", c.a.ids)
	}
}

func TestCableCopiesFrame(t *testing.T) {
	c := newCable(wire.CableConfig{Delay: time.Microsecond})
	f := frame(7, 100)
	c.la.Transmit(f)
	want := slices.Clone(f)
	clear(f)
	var got []byte
	c.b.onReceive = func(fr []byte) { got = slices.Clone(fr) }
	c.clk.RunFor(time.Millisecond)
	if !bytes.Equal(got, want) {
		t.Errorf("received %x, want %x", got, want)
	}
}

// run sends n frames from A in bursts of burst, running the clock 1 ms after
// each burst, and returns the ids B received and the stats A to B.
func run(cfg wire.CableConfig, n, burst int) ([]uint32, wire.Stats) {
	c := newCable(cfg)
	f := frame(0, 64)
	for i := range n {
		binary.BigEndian.PutUint32(f, uint32(i))
		if _, ok := c.la.Transmit(f); !ok {
			panic("dropped")
		}
		if (i+1)%burst == 0 {
			c.clk.RunFor(time.Millisecond)
		}
	}
	c.clk.RunFor(time.Second)
	ab, _ := c.c.Stats()
	return c.b.ids, ab
}

func inversions(ids []uint32) uint64 {
	var n uint64
	for i := range ids {
		for j := i + 1; j < len(ids) && j < i+64; j++ {
			if ids[j] < ids[i] {
				n++
			}
		}
	}
	return n
}

func TestCableImpairments(t *testing.T) {
	const n = 10000
	within := func(v uint64, p float64) bool { return float64(v) > 0.8*p*n && float64(v) < 1.2*p*n }
	for _, tc := range []struct {
		name  string
		cfg   wire.CableConfig
		check func(t *testing.T, ids []uint32, s wire.Stats)
	}{
		{"loss 1", wire.CableConfig{Loss: 1}, func(t *testing.T, ids []uint32, s wire.Stats) {
			if len(ids) != 0 || s.Lost != n || s.Sent != n {
				t.Errorf("delivered %d, stats %+v", len(ids), s)
			}
		}},
		{"loss 0.1", wire.CableConfig{SpeedBPS: 1e9, Seed: 1, Loss: 0.1}, func(t *testing.T, ids []uint32, s wire.Stats) {
			if !within(s.Lost, 0.1) || s.Delivered+s.Lost != n || uint64(len(ids)) != s.Delivered {
				t.Errorf("stats %+v, %d delivered", s, len(ids))
			}
			if !slices.IsSorted(ids) {
				t.Error("loss reordered frames")
			}
		}},
		{"duplicate 0.1", wire.CableConfig{SpeedBPS: 1e9, Seed: 2, Duplicate: 0.1}, func(t *testing.T, ids []uint32, s wire.Stats) {
			if !within(s.Duplicated, 0.1) || s.Delivered != n+s.Duplicated || uint64(len(ids)) != s.Delivered {
				t.Errorf("stats %+v, %d delivered", s, len(ids))
			}
			if !slices.IsSorted(ids) || uint64(len(ids)-len(slices.Compact(slices.Clone(ids)))) != s.Duplicated {
				t.Error("duplicates do not follow their originals")
			}
		}},
		{"reorder 0.1", wire.CableConfig{SpeedBPS: 1e9, Seed: 3, Reorder: 0.1}, func(t *testing.T, ids []uint32, s wire.Stats) {
			if !within(s.Reordered, 0.1*7/8) || s.Delivered != n {
				t.Errorf("stats %+v", s)
			}
			// Each reorder is one adjacent swap that adds one inversion.
			if inv := inversions(ids); inv != s.Reordered {
				t.Errorf("%d inversions, %d reorders", inv, s.Reordered)
			}
			sorted := slices.Sorted(slices.Values(ids))
			for i, id := range sorted {
				if id != uint32(i) {
					t.Fatalf("frame %d missing", i)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, s := run(tc.cfg, n, 8)
			tc.check(t, ids, s)
		})
	}
}

func TestCableReplays(t *testing.T) {
	cfg := wire.CableConfig{SpeedBPS: 1e9, Delay: time.Microsecond, Seed: 42, Loss: 0.05, Duplicate: 0.05, Reorder: 0.05}
	ids1, s1 := run(cfg, 2000, 16)
	ids2, s2 := run(cfg, 2000, 16)
	if !slices.Equal(ids1, ids2) || s1 != s2 {
		t.Errorf("same seed, different runs: %+v vs %+v", s1, s2)
	}
	cfg.Seed = 43
	ids3, _ := run(cfg, 2000, 16)
	if slices.Equal(ids1, ids3) {
		t.Error("different seeds, same run")
	}
}

func TestCableReentrant(t *testing.T) {
	t.Run("ping-pong", func(t *testing.T) {
		c := newCable(wire.CableConfig{SpeedBPS: 1e9, Delay: time.Microsecond})
		c.b.onReceive = func(f []byte) { c.lb.Transmit(f) }
		c.a.onReceive = func(f []byte) {
			if id := binary.BigEndian.Uint32(f); id < 3 {
				c.la.Transmit(frame(id+1, 60))
			}
		}
		c.la.Transmit(frame(0, 60))
		c.clk.RunFor(time.Millisecond)
		const rtt = 2 * (672 + time.Microsecond)
		if !slices.Equal(c.a.ids, []uint32{0, 1, 2, 3}) || !slices.Equal(c.a.times, []time.Duration{rtt, 2 * rtt, 3 * rtt, 4 * rtt}) {
			t.Errorf("A got %v at %v", c.a.ids, c.a.times)
		}
	})
	t.Run("transmit into the direction being delivered", func(t *testing.T) {
		c := newCable(wire.CableConfig{Reorder: 1})
		c.b.onReceive = func(f []byte) {
			if len(c.b.ids) == 1 {
				c.la.Transmit(frame(2, 60))
			}
		}
		c.la.Transmit(frame(1, 60))
		c.clk.RunFor(time.Millisecond)
		if ab, _ := c.c.Stats(); !slices.Equal(c.b.ids, []uint32{1, 2}) || ab.Reordered != 0 {
			t.Errorf("B got %v, stats %+v", c.b.ids, ab)
		}
	})
	t.Run("pulled during receive", func(t *testing.T) {
		c := newCable(wire.CableConfig{})
		c.b.onReceive = func(f []byte) {
			if binary.BigEndian.Uint32(f) == 1 {
				c.c.SetUp(false)
				c.c.SetUp(true)
				c.la.Transmit(frame(9, 60))
			}
		}
		for i := range 3 {
			c.la.Transmit(frame(uint32(i), 60))
		}
		c.clk.RunFor(time.Millisecond)
		ab, _ := c.c.Stats()
		if !slices.Equal(c.b.ids, []uint32{0, 1, 9}) || ab.DroppedDown != 1 || ab.Delivered != 3 {
			t.Errorf("B got %v, stats %+v", c.b.ids, ab)
		}
	})
}

// TestCableNoAllocs is the steady state of BenchmarkCable as a test: frames
// in both directions, with every impairment on, allocate nothing.
func TestCableNoAllocs(t *testing.T) {
	clk := kernelmodel.NewVirtualClock()
	c := wire.NewCable(clk, wire.CableConfig{SpeedBPS: 1e9, Delay: time.Microsecond, Seed: 1, Loss: 0.1, Duplicate: 0.1, Reorder: 0.1})
	rx := &counter{}
	la, lb := c.Attach(rx, rx)
	f := frame(0, 1514)
	burst := func() {
		for range 64 {
			la.Transmit(f)
			lb.Transmit(f)
		}
		clk.RunFor(time.Millisecond)
	}
	burst() // warm the queues' buffers
	if allocs := testing.AllocsPerRun(100, burst); allocs != 0 {
		t.Errorf("%v allocations per burst of 128 frames", allocs)
	}
	ab, ba := c.Stats()
	if got := ab.Delivered + ba.Delivered; got != uint64(rx.frames) || got < 101*128*8/10 {
		t.Errorf("%d frames received, stats say %d", rx.frames, got)
	}
}

// counter is an Endpoint that only counts.
type counter struct{ frames int }

func (c *counter) Receive([]byte)  { c.frames++ }
func (c *counter) LinkChange(bool) {}

func BenchmarkCable(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  wire.CableConfig
	}{
		{"ideal", wire.CableConfig{}},
		{"1G", wire.CableConfig{SpeedBPS: 1e9, Delay: time.Microsecond}},
		{"1G impaired", wire.CableConfig{SpeedBPS: 1e9, Delay: time.Microsecond, Seed: 1, Loss: 0.01, Duplicate: 0.01, Reorder: 0.01}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			clk := kernelmodel.NewVirtualClock()
			c := wire.NewCable(clk, bc.cfg)
			rx := &counter{}
			la, _ := c.Attach(rx, rx)
			f := frame(0, 1514)
			const burst = 32
			send := func() {
				for range burst {
					la.Transmit(f)
				}
				clk.RunFor(time.Millisecond)
			}
			send() // warm the queue's buffers
			b.ReportAllocs()
			b.SetBytes(burst * 1514)
			for b.Loop() {
				send()
			}
		})
	}
}
