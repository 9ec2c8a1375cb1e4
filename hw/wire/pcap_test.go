package wire_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
)

type record struct {
	ts   time.Duration
	data []byte
	len  int // original length
}

// readPcap decodes a capture with gopacket's pcapgo, an independent reader.
func readPcap(t *testing.T, b []byte) []record {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("pcapgo.NewReader: %v", err)
	}
	// Not r.Resolution(): gopacket v1.1.19 reports it the wrong way round.
	// The nanoseconds in the timestamps show what the reader made of it.
	if r.LinkType() != layers.LinkTypeEthernet || r.Snaplen() != 65535 {
		t.Errorf("header: link type %v, snaplen %d", r.LinkType(), r.Snaplen())
	}
	var recs []record
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("record %d: %v", len(recs), err)
		}
		if ci.CaptureLength != len(data) {
			t.Errorf("record %d: capture length %d, %d bytes", len(recs), ci.CaptureLength, len(data))
		}
		recs = append(recs, record{ci.Timestamp.Sub(time.Unix(0, 0)), data, ci.Length})
	}
}

func TestPcapWriter(t *testing.T) {
	big := frame(3, 70000)
	in := []record{
		{0, frame(0, 60), 60},
		{1500*time.Millisecond + 123, frame(1, 1514), 1514},
		{3*time.Hour + 999999999, frame(2, 9014), 9014},
		{4 * time.Hour, big, 70000},
		{-time.Second, frame(4, 64), 64}, // recorded at 0
		{5 * time.Hour, nil, 0},
	}
	var buf bytes.Buffer
	w, err := wire.NewPcapWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range in {
		if err := w.WritePacket(r.ts, r.data); err != nil {
			t.Fatal(err)
		}
	}
	if magic := buf.Bytes()[:4]; !bytes.Equal(magic, []byte{0x4d, 0x3c, 0xb2, 0xa1}) {
		t.Errorf("magic % x, want nanosecond 0xa1b23c4d little-endian", magic)
	}
	got := readPcap(t, buf.Bytes())
	if len(got) != len(in) {
		t.Fatalf("read %d records, wrote %d", len(got), len(in))
	}
	for i, r := range in {
		wantTS, wantData := max(r.ts, 0), r.data[:min(len(r.data), 65535)]
		if got[i].ts != wantTS || !bytes.Equal(got[i].data, wantData) || got[i].len != r.len {
			t.Errorf("record %d: ts %v, %d bytes of %d; want ts %v, %d bytes of %d",
				i, got[i].ts, len(got[i].data), got[i].len, wantTS, len(wantData), r.len)
		}
	}

	// tcpdump, where installed, must read it too.
	if _, err := os.Stat("/usr/bin/tcpdump"); err == nil {
		path := filepath.Join(t.TempDir(), "w.pcap")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("/usr/bin/tcpdump", "-nn", "-r", path).Output()
		if err != nil {
			t.Fatalf("tcpdump -r: %v", err)
		}
		if n := strings.Count(string(out), "\n"); n != len(in) {
			t.Errorf("tcpdump printed %d lines for %d packets:\n%s", n, len(in), out)
		}
	}
}

// failWriter fails once n bytes have been written.
type failWriter struct{ n int }

var errFull = errors.New("full")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errFull
	}
	f.n -= len(p)
	return len(p), nil
}

func TestPcapWriterErrors(t *testing.T) {
	if _, err := wire.NewPcapWriter(&failWriter{n: 10}); !errors.Is(err, errFull) {
		t.Errorf("NewPcapWriter on a failing writer: %v", err)
	}
	for _, n := range []int{24, 24 + 8, 24 + 16, 24 + 16 + 30} {
		fw := &failWriter{n: n}
		w, err := wire.NewPcapWriter(fw)
		if err != nil {
			t.Fatalf("room for %d: %v", n, err)
		}
		if err := w.WritePacket(0, frame(0, 60)); !errors.Is(err, errFull) {
			t.Errorf("room for %d: first write: %v", n, err)
		}
		fw.n = 1 << 20
		if err := w.WritePacket(0, frame(1, 60)); !errors.Is(err, errFull) || !errors.Is(w.Err(), errFull) {
			t.Errorf("room for %d: error did not stick: %v, %v", n, err, w.Err())
		}
		if fw.n != 1<<20 {
			t.Errorf("room for %d: wrote after an error", n)
		}
	}
}

func TestPcapWriterConcurrent(t *testing.T) {
	var buf bytes.Buffer
	w, err := wire.NewPcapWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 100
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			f := frame(uint32(g), 100+g)
			for i := range each {
				w.WritePacket(time.Duration(i), f)
			}
		})
	}
	wg.Wait()
	recs := readPcap(t, buf.Bytes())
	if len(recs) != writers*each {
		t.Fatalf("%d records, want %d", len(recs), writers*each)
	}
	for i, r := range recs {
		g := int(r.data[3])
		if !bytes.Equal(r.data, frame(uint32(g), 100+g)) {
			t.Fatalf("record %d interleaved with another", i)
		}
	}
}

func TestCablePcap(t *testing.T) {
	clk := kernelmodel.NewVirtualClock()
	c := wire.NewCable(clk, wire.CableConfig{SpeedBPS: 1e9, Delay: 2 * time.Microsecond, Seed: 5, Loss: 0.3})
	a, b := &port{clk: clk}, &port{clk: clk}
	la, lb := c.Attach(a, b)
	var buf bytes.Buffer
	w, err := wire.NewPcapWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	c.SetPcap(w)
	clk.RunUntil(time.Second) // timestamps past one second
	for i := range 20 {
		la.Transmit(frame(uint32(i), 60+i))
		lb.Transmit(frame(uint32(100+i), 1514-i))
		clk.RunFor(time.Duration(i) * time.Microsecond)
	}
	clk.RunFor(time.Millisecond)
	c.SetPcap(nil)
	la.Transmit(frame(999, 60))
	clk.RunFor(time.Millisecond)

	recs := readPcap(t, buf.Bytes())
	ab, ba := c.Stats()
	if uint64(len(recs)) != ab.Delivered+ba.Delivered-1 || ab.Lost == 0 {
		t.Fatalf("%d records; stats %+v %+v", len(recs), ab, ba)
	}
	// Match every record to a delivery, in delivery order per direction.
	ia, ib := 0, 0
	for i, r := range recs {
		p, k := b, ib
		if r.data[3] >= 100 {
			p, k = a, ia
		}
		want := frame(p.ids[k], p.lens[k])
		if r.ts != p.times[k] || !bytes.Equal(r.data, want) {
			t.Errorf("record %d: %d bytes at %v, want frame %d (%d bytes) at %v", i, len(r.data), r.ts, p.ids[k], len(want), p.times[k])
		}
		if p == b {
			ib++
		} else {
			ia++
		}
	}
	if ib != len(b.ids)-1 || ia != len(a.ids) {
		t.Errorf("records: %d A->B of %d, %d B->A of %d", ib, len(b.ids), ia, len(a.ids))
	}
}
