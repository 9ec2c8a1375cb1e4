package kernelmodel

import (
	"testing"
	"time"
)

// What is sent on lo comes back in on the sending CPU through its backlog
// (netif_rx), as a received frame of lo (PACKET_HOST), no checksum to
// check, the socket's destructor run at transmit (skb_orphan); lo's RX and
// TX counters move together. From a task the backlog runs as
// dev_queue_xmit turns bottom halves back on.
func TestLoopbackRoundTrip(t *testing.T) {
	k := New(Config{CPUs: 2})
	lo, err := k.LoopbackInit()
	if err != nil {
		t.Fatal(err)
	}
	if lo.Flags&(IFF_LOOPBACK|IFF_UP) != IFF_LOOPBACK|IFF_UP || lo.MTU != 65536 || lo.Qdisc().Kind() != "noqueue" || !lo.NetifCarrierOK() {
		t.Fatalf("lo: flags %s mtu %d qdisc %s", lo.FlagsString(), lo.MTU, lo.Qdisc().Kind())
	}
	type got struct {
		seq        uint64
		cpu        int
		summed     uint8
		pktType    uint8
		destructed int
	}
	var rx []got
	destructed := 0
	k.DevAddPack(&PacketType{Type: 0x88b5, Dev: lo, Func: func(s *SKB) {
		rx = append(rx, got{s.Seq, k.CurrentCPU().ID, s.IPSummed, s.PktType, destructed})
		k.ConsumeSKB(s)
	}})
	var tapOut, tapIn int
	k.DevAddPack(&PacketType{Type: ETH_P_ALL, Dev: lo, Func: func(s *SKB) {
		if s.PktType == PACKET_OUTGOING {
			tapOut++
		} else {
			tapIn++
		}
		k.ConsumeSKB(s)
	}})
	send := func(seq uint64) int {
		s := frame60(k, lo, [6]byte{}, uint16(seq))
		s.Seq = seq
		s.IPSummed = CHECKSUM_PARTIAL
		s.Sk = "socket"
		s.Destructor = func(*SKB) { destructed++ }
		return k.DevQueueXmit(s)
	}
	tk := k.Spawn(1, "sender", func(tk *Task) {
		for i := uint64(0); i < 5; i++ {
			if rc := send(i); rc != NET_XMIT_SUCCESS {
				t.Errorf("xmit %d: %d", i, rc)
			}
			if len(rx) != int(i)+1 {
				t.Errorf("frame %d not received by the end of dev_queue_xmit", i)
			}
		}
	})
	k.Clock().RunWhile(func() bool { return !tk.Done() }, time.Second)
	if len(rx) != 5 {
		t.Fatalf("received %d of 5", len(rx))
	}
	for i, g := range rx {
		if g.seq != uint64(i) || g.cpu != 1 || g.summed != CHECKSUM_UNNECESSARY || g.pktType != PACKET_HOST || g.destructed != i+1 {
			t.Errorf("frame %d: %+v", i, g)
		}
	}
	if s := lo.Stats; s.TxPackets != 5 || s.RxPackets != 5 || s.TxBytes != 5*46 || s.RxBytes != 5*46 {
		t.Errorf("lo stats %+v", s)
	}
	if tapOut != 5 || tapIn != 5 {
		t.Errorf("taps saw %d out, %d in; want 5, 5", tapOut, tapIn)
	}

	// From outside any CPU the frames wait in CPU 0's backlog, which
	// holds netdev_max_backlog (+1) of them; the rest are dropped there.
	k.Sysctl.NetdevMaxBacklog = 3
	for i := uint64(5); i < 15; i++ {
		if rc := send(i); rc != NET_XMIT_SUCCESS {
			t.Errorf("xmit %d: %d", i, rc)
		}
	}
	if sd := k.CPU(0).Softnet; sd.Dropped != 6 || k.Drops.Reason[SKB_DROP_REASON_CPU_BACKLOG] != 6 || lo.Stats.RxPackets != 9 {
		t.Errorf("backlog drops %d (CPU_BACKLOG %d), lo rx %d; want 6, 6, 9", sd.Dropped, k.Drops.Reason[SKB_DROP_REASON_CPU_BACKLOG], lo.Stats.RxPackets)
	}
	k.Clock().RunFor(time.Millisecond)
	if len(rx) != 9 || rx[8].seq != 8 || rx[8].cpu != 0 {
		t.Errorf("received %d, last %+v", len(rx), rx[len(rx)-1])
	}
	if err := k.SKBAudit(); err != nil {
		t.Error(err)
	}
}
