package tcp_test

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

// sackBlocks returns the SACK blocks of a segment's options.
func sackBlocks(th header.TCP) [][2]uint32 {
	opts := th[20:th.DataOffset()]
	var out [][2]uint32
	for i := 0; i < len(opts); {
		switch opts[i] {
		case 0:
			return out
		case 1:
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 {
			return out
		}
		l := int(opts[i+1])
		if opts[i] == 5 {
			for j := i + 2; j+8 <= i+l; j += 8 {
				out = append(out, [2]uint32{binary.BigEndian.Uint32(opts[j:]), binary.BigEndian.Uint32(opts[j+4:])})
			}
		}
		i += l
	}
	return out
}

// TestSACKBlocks: one data segment from A is lost while B sends data
// too; B's ACKs for what follows carry a SACK block (RFC 2018) starting
// at the hole's end, no segment grows beyond the MTU by its blocks, and
// the data arrives intact both ways.
func TestSACKBlocks(t *testing.T) {
	p := newPair(t)
	p.offloadOff()
	cl, srv := p.connected(t, 5006)
	n := 0
	var lost header.TCP
	p.pa.Drop = func(f []byte) bool {
		segs := tcpFrames([]stacktest.Sent{{Frame: f}})
		if len(segs) == 1 && len(segs[0]) > segs[0].DataOffset() {
			n++
			if n == 20 {
				lost = append(header.TCP(nil), segs[0]...)
				return true
			}
		}
		return false
	}
	data := pattern(200000, 6)
	back := pattern(200000, 7)
	var sumBack [32]byte
	p.kb.Spawn(0, "back", func(tk *kernelmodel.Task) {
		for off := 0; off < len(back); {
			n, err := srv.Send(tk, back[off:], 0)
			if err != nil {
				return
			}
			off += n
		}
	})
	p.ka.Spawn(0, "backreader", func(tk *kernelmodel.Task) {
		h := sha256.New()
		buf := make([]byte, 65536)
		for got := 0; got < len(back); {
			n, _, err := cl.RecvFrom(tk, buf, 0)
			if err != nil || n == 0 {
				return
			}
			h.Write(buf[:n])
			got += n
		}
		copy(sumBack[:], h.Sum(nil))
	})
	if got := p.transfer(t, p.ka, p.kb, cl, srv, data, 10*time.Second); got != sha256.Sum256(data) {
		t.Error("SHA-256 differs")
	}
	p.n.Clock.RunFor(time.Second)
	if sumBack != sha256.Sum256(back) {
		t.Error("B→A: SHA-256 differs")
	}
	if lost == nil {
		t.Fatal("nothing lost")
	}
	end := lost.SequenceNumber() + uint32(len(lost)-lost.DataOffset())
	found := false
	for _, s := range tcpFrames(p.pb.Sent) {
		for _, b := range sackBlocks(s) {
			if b[0] == end && s.AckNumber() == lost.SequenceNumber() {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no ACK at %d with a SACK block from %d", lost.SequenceNumber(), end)
	}
	for _, f := range append(p.pa.Sent, p.pb.Sent...) {
		if len(f.Frame) > 1514 {
			t.Fatalf("a frame of %d bytes", len(f.Frame))
		}
	}
}
