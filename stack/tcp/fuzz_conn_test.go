package tcp_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

// inject hands B a TCP segment from A (injectFrom: from src) (ports, sequence numbers, flags,
// options and payload as given in seg, a TCP header and what follows),
// its checksum right unless badCsum.
func (p *pair) inject(seg []byte, badCsum bool) { p.injectFrom(addrA, seg, badCsum) }

// injectFrom is inject with the IP source src.
func (p *pair) injectFrom(src netip.Addr, seg []byte, badCsum bool) {
	frame := make([]byte, 14+20+len(seg))
	copy(frame[0:], stacktest.MACB[:])
	copy(frame[6:], stacktest.MACA[:])
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	ip := header.IPv4(frame[14:34])
	ip.SetVersionIHL(20)
	ip.SetTotalLength(uint16(20 + len(seg)))
	ip.SetTTL(64)
	ip.SetProtocol(6)
	ip.SetSource(src.As4())
	ip.SetDestination(addrB.As4())
	ip.SetChecksum(ip.CalculateChecksum())
	copy(frame[34:], seg)
	if len(seg) >= 20 {
		th := header.TCP(frame[34:])
		th.SetChecksum(0)
		a, b := src.As4(), addrB.As4()
		c := ^checksum.Checksum(frame[34:], checksum.PseudoHeaderIPv4(a[:], b[:], 6, uint16(len(seg))))
		if badCsum {
			c++
		}
		th.SetChecksum(c)
	}
	// As the link delivers a frame: on the clock's loop.
	p.n.Clock.AfterFunc(0, func() {
		skb := p.kb.AllocSKB(len(frame))
		copy(skb.Put(len(frame)), frame)
		p.kb.EthTypeTrans(skb, p.pb.D)
		p.kb.NetifRx(skb)
	})
}

// FuzzTCPSegments: segments made from the input reach a connection (or
// its listener) on B that is established, half closed or closing; the
// stack must not crash, leak skbs or stop serving: afterwards a new
// connection to the listener still works.
func FuzzTCPSegments(f *testing.F) {
	// Each record: target (bit 0: the listener's port; bits 1-2: the
	// connection's state first: established, A shut down, B shut
	// down), flags, seq offset, ack offset (from B's rcv_nxt and
	// snd_nxt), window, option length (x4), options, payload length,
	// payload.
	f.Add([]byte{0, 0x10, 0, 0, 0xff, 0, 0})
	f.Add([]byte{0, 0x18, 0, 0, 0xff, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add([]byte{2, 0x11, 0, 0, 0xff, 3, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 0x04, 0, 0, 0, 0, 0, 0, 0x04, 5, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 0x02, 0, 0, 0xff, 1, 2, 4, 5, 0xb4, 0, 1, 0x12, 0x80, 0, 0xff, 0, 0})
	f.Add([]byte{4, 0x07, 0x80, 0x80, 1, 2, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(fuzzSegments)
}

func fuzzSegments(t *testing.T, data []byte) {
	{
		if len(data) == 0 || len(data) > 2000 {
			return
		}
		p := newPair(t)
		p.pa.Record = false
		cl, srv := p.connected(t, 80)
		switch data[0] >> 1 & 3 {
		case 1:
			cl.Shutdown(1)
		case 2:
			srv.Shutdown(1)
		}
		p.n.Clock.RunFor(time.Millisecond)
		me := mustName(t, cl)
		for len(data) >= 7 {
			target, flags, dseq, dack, wnd, olen := data[0], data[1], data[2], data[3], data[4], int(data[5]&7)*4
			data = data[6:]
			if len(data) < olen+1 {
				break
			}
			opts := data[:olen]
			plen := min(int(data[olen]), len(data)-olen-1)
			payload := data[olen+1 : olen+1+plen]
			data = data[olen+1+plen:]
			var rcvNxt, sndNxt uint32
			if segs := tcpFrames(p.pb.Sent); len(segs) > 0 {
				last := segs[len(segs)-1]
				sndNxt, rcvNxt = last.SequenceNumber(), last.AckNumber()
			}
			seg := make([]byte, 20+olen+plen)
			th := header.TCP(seg)
			th.SetSourcePort(me.Port())
			th.SetDestinationPort(80)
			if target&1 != 0 {
				th.SetSourcePort(me.Port() + 1)
			}
			th.SetSequenceNumber(rcvNxt + uint32(int8(dseq))*100)
			th.SetAckNumber(sndNxt + uint32(int8(dack))*100)
			th.SetDataOffset(20 + olen)
			th.SetFlags(flags)
			th.SetWindowSize(uint16(wnd) << 8)
			copy(seg[20:], opts)
			copy(seg[20+olen:], payload)
			if target&8 != 0 && len(seg) > 12 {
				seg[12] = data0(data) // a data offset out of range
			}
			p.inject(seg, target&16 != 0)
			p.n.Clock.RunFor(time.Millisecond)
		}
		p.n.Clock.RunFor(3 * time.Second)
		cl2 := tcpSocket(t, p.a)
		p.run(t, p.ka, 10*time.Second, func(tk *kernelmodel.Task) {
			if err := cl2.Connect(tk, netip.AddrPortFrom(addrB, 80)); err != nil {
				t.Errorf("the listener stopped serving: %v", err)
			}
		})
	}
}

func data0(b []byte) byte {
	if len(b) == 0 {
		return 0xf0
	}
	return b[0]
}
