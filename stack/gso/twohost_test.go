package gso_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/gso"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/testbed"
)

// TestTwoHostGSOWire: B's e1000 sends the same 64 KiB TCP skb twice, on two
// fresh testbeds: once with TSO (the driver programs the device model's
// segmentation) and once with TSO off (ethtool -K tso off: software GSO
// in validate_xmit_skb, the TCP checksums still left to the device by
// CHECKSUM_PARTIAL). A's tap sees the same frames on the wire, byte for
// byte, and they are the reference TSO engine's (hw/offload).
func TestTwoHostGSOWire(t *testing.T) {
	frame := superFrame(40*mss+123, header.TCPFlagACK|header.TCPFlagPSH)
	want := hwTSO(t, frame)
	var wire [2][][]byte
	for i, tso := range []bool{true, false} {
		tb, err := testbed.New(testbed.Config{})
		if err != nil {
			t.Fatal(err)
		}
		gso.Register(tb.B.Kernel)
		if !tso {
			tb.B.Dev.Features &^= kernelmodel.NETIF_F_TSO
		}
		tb.A.Kernel.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_ALL, Dev: tb.A.Dev, Func: func(skb *kernelmodel.SKB) {
			if skb.Protocol == kernelmodel.ETH_P_IP {
				wire[i] = append(wire[i], append([]byte(nil), skb.Buf()[skb.MACHeader:skb.BufOffset()+skb.Len()]...))
			}
		}})
		if err := tb.Up(3 * time.Second); err != nil {
			t.Fatal(err)
		}
		err = tb.RunTask(tb.B, "send", time.Second, func(*kernelmodel.Task) error {
			if rc := tb.B.Kernel.DevQueueXmit(gsoSKB(tb.B.Kernel, tb.B.Dev, frame, kernelmodel.SKB_GSO_TCPV4)); rc != kernelmodel.NET_XMIT_SUCCESS {
				t.Errorf("tso %v: dev_queue_xmit %d", tso, rc)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := tb.Settle(50 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if st := tb.B.Kernel.GSOStats(); st.Segmented != map[bool]uint64{true: 0, false: 1}[tso] {
			t.Errorf("tso %v: GSO counters %+v", tso, st)
		}
		if len(wire[i]) != len(want) {
			t.Fatalf("tso %v: %d frames on the wire, want %d", tso, len(wire[i]), len(want))
		}
		for j := range want {
			if !bytes.Equal(wire[i][j], want[j]) {
				t.Fatalf("tso %v: frame %d differs from the reference\n got %x\nwant %x", tso, j, wire[i][j][:80], want[j][:80])
			}
			checkSegment(t, j, wire[i][j])
		}
	}
}
