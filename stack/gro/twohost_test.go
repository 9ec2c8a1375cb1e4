package gro_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/gro"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/testbed"
)

// TestTwoHostTSOBurst: B's e1000 sends a 40-segment TCP super-frame with
// TSO; the frames cross the cable to A's e1000, whose driver hands them to
// napi_gro_receive; A's TCP handler gets them GRO-merged: fewer packets
// than half as many packets as segments, every one a valid aggregate (checked as TestGRO checks
// them, gopacket included) or a single segment, together the payload in
// order, the segment counts adding up, and no skb left on either host.
func TestTwoHostTSOBurst(t *testing.T) {
	tb, err := testbed.New(testbed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sa := ipv4.New(tb.A.Kernel, 1)
	if err := sa.AddAddress(tb.A.Dev, stacktest.IPA, 24); err != nil {
		t.Fatal(err)
	}
	var got []delivered
	sa.AddProtocol(ipv4.IPPROTO_TCP, func(skb *kernelmodel.SKB) {
		b := skb.Buf()
		got = append(got, delivered{
			frame:    append([]byte(nil), b[skb.MACHeader:skb.BufOffset()+skb.Len()]...),
			ipSummed: skb.IPSummed, csumStart: skb.CsumStart, csumOff: skb.CsumOffset,
			gsoSize: skb.GSOSize, gsoSegs: skb.GSOSegs, gsoType: skb.GSOType,
		})
		tb.A.Kernel.ConsumeSKB(skb)
	})
	if err := tb.Up(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	const segs = 40
	big := seg{n: segs * mss, flags: header.TCPFlagACK | header.TCPFlagPSH}.build(0)
	copy(big[0:6], testbed.MACA[:])
	copy(big[6:12], testbed.MACB[:])
	err = tb.RunTask(tb.B, "tso", time.Second, func(*kernelmodel.Task) error {
		k := tb.B.Kernel
		skb := k.AllocSKB(len(big))
		p := skb.Put(len(big))
		copy(p, big)
		// CHECKSUM_PARTIAL with the pseudo-header sum, as tcp_v4_send_check
		// leaves it.
		binary.BigEndian.PutUint16(p[34+16:], header.IPv4(p[14:]).PseudoHeaderChecksum(uint16(len(p)-34)))
		skb.IPSummed, skb.CsumStart, skb.CsumOffset = kernelmodel.CHECKSUM_PARTIAL, 34, 16
		skb.GSOSize, skb.GSOType = mss, kernelmodel.SKB_GSO_TCPV4
		skb.Dev = tb.B.Dev
		if rc := k.DevQueueXmit(skb); rc != kernelmodel.NET_XMIT_SUCCESS {
			t.Errorf("dev_queue_xmit %d", rc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Settle(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Every poll that completes flushes (napi_complete_done), and the
	// interrupt throttling lets a few frames in per poll at 1 Gb/s.
	if len(got) == 0 || len(got) > segs/2 {
		t.Fatalf("%d packets for %d segments: not merged\n%s", len(got), segs, tb.Report())
	}
	var pay []byte
	total := 0
	for i, d := range got {
		n := int(d.gsoSegs)
		if n == 0 {
			n = 1
		}
		// Rebuild the segments the aggregate must hold, from the
		// super-frame as the TSO engine cut it.
		var in [][]byte
		for j := total; j < total+n; j++ {
			s := seg{seq: uint32(j * mss), n: mss}
			if j == segs-1 {
				s.flags = header.TCPFlagACK | header.TCPFlagPSH
			}
			f := s.build(j)
			copy(f[0:12], big[0:12])
			in = append(in, f)
		}
		if n == 1 {
			if d.ipSummed != kernelmodel.CHECKSUM_UNNECESSARY || checksum.Checksum(d.frame[34:], header.IPv4(d.frame[14:]).PseudoHeaderChecksum(uint16(len(d.frame)-34))) != 0xFFFF {
				t.Errorf("packet %d: single segment with a bad checksum", i)
			}
		} else {
			checkMerged(t, d, in)
		}
		pay = append(pay, payload(d.frame)...)
		total += n
	}
	if total != segs || !bytes.Equal(pay, payload(big)) {
		t.Fatalf("%d segments, payload equal %v", total, bytes.Equal(pay, payload(big)))
	}
	st := sa.GRO.Stats()
	if st.Merged != uint64(segs-len(got)) || st.Flush[gro.FlushPush]+st.NotHeld[gro.FlushPush] != 1 || st.GROWirePackets+st.Normal+st.Complete-st.GROPackets != segs {
		t.Errorf("A's GRO counters %+v", st)
	}
	t.Logf("%d segments arrived as %d packets (flushes %v)", segs, len(got), st.Flush)
}
