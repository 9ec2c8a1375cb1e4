package driver_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// TestEthtoolStatsTable: the ethtool -S table is a valid table (names
// unique and short), starts with Linux igb's names in its order, and has
// the per-queue names for every queue, transmit then receive.
func TestEthtoolStatsTable(t *testing.T) {
	tb := bed(t, testbed.IGB{Queues: 3}, 2)
	a := nic(t, tb.B).Adapter
	if err := a.StatsTable().Check(); err != nil {
		t.Fatal(err)
	}
	names := strings.Join(a.StatsTable().Strings(), ",")
	for _, want := range []string{
		"rx_packets,tx_packets,rx_bytes,tx_bytes,rx_broadcast,tx_broadcast,rx_multicast,tx_multicast,multicast,collisions,rx_crc_errors,rx_no_buffer_count,rx_missed_errors",
		"tx_queue_0_packets,tx_queue_0_bytes,tx_queue_0_restart,tx_queue_1_packets",
		"tx_queue_2_restart,rx_queue_0_packets,rx_queue_0_bytes,rx_queue_0_drops,rx_queue_0_csum_err,rx_queue_0_alloc_failed",
		"rx_queue_2_alloc_failed",
	} {
		if !strings.Contains(names, want) {
			t.Errorf("ethtool -S names lack %q:\n%s", want, names)
		}
	}
	f := flow(t, tb, tb.A, tb.B, 1000, nil, 5)
	settle(t, tb)
	st := stats(t, tb.B, "rx_packets", "rx_bytes", "rx_queue_0_packets", "rx_queue_0_bytes")
	if st[0] != 1000 || st[2] != 1000 || st[3] != f.Bytes || st[1] != f.Bytes+4*1000 {
		t.Errorf("rx_packets %d rx_bytes %d rx_queue_0_packets %d rx_queue_0_bytes %d; flow %d bytes", st[0], st[1], st[2], st[3], f.Bytes)
	}
	if tx := stats(t, tb.A, "tx_queue_0_packets")[0]; tx != 1000 {
		t.Errorf("A tx_queue_0_packets %d", tx)
	}
}

func stats(t testing.TB, h *testbed.Host, names ...string) []uint64 {
	t.Helper()
	out := make([]uint64, len(names))
	for i, n := range names {
		v, ok := h.Stat(n)
		if !ok {
			t.Fatalf("%s: no ethtool stat %q", h.Name, n)
		}
		out[i] = v
	}
	return out
}

// TestCoalesce: ethtool -C rx-usecs round trips as igb_get/set_coalesce
// have it (0, 1, 3 are modes, 10–10000 µs intervals), refuses 2, 4–9,
// above 10000, tx-usecs with queue pairs and adaptive-rx; and a fixed
// interval reaches every vector's EITR at its next interrupt in the 82576
// format (interval bits 14:2, CNT_IGNR).
func TestCoalesce(t *testing.T) {
	tb := bed(t, testbed.IGB{Queues: 2}, 2)
	a := nic(t, tb.B).Adapter
	if c := a.GetCoalesce(); c.RxUsecs != 3 || !c.AdaptiveRx || c.TxMaxFramesIRQ != driver.TxWorkLimit {
		t.Errorf("default coalesce %+v", c)
	}
	for _, tc := range []struct {
		set     driver.Coalesce
		wantErr error
		want    int
	}{
		{driver.Coalesce{RxUsecs: 0}, nil, 0},
		{driver.Coalesce{RxUsecs: 1}, nil, 1},
		{driver.Coalesce{RxUsecs: 10}, nil, 10},
		{driver.Coalesce{RxUsecs: 10000}, nil, 10000},
		{driver.Coalesce{RxUsecs: 2}, driver.ErrInvalid, 0},
		{driver.Coalesce{RxUsecs: 5}, driver.ErrInvalid, 0},
		{driver.Coalesce{RxUsecs: 10001}, driver.ErrInvalid, 0},
		{driver.Coalesce{RxUsecs: 50, TxUsecs: 20}, driver.ErrInvalid, 0},
		{driver.Coalesce{RxUsecs: 3, AdaptiveRx: true}, driver.ErrNotSupported, 0},
		{driver.Coalesce{RxUsecs: 3}, nil, 3},
	} {
		before := a.GetCoalesce()
		err := a.SetCoalesce(tc.set)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("set %+v: %v, want %v", tc.set, err, tc.wantErr)
			continue
		}
		got := a.GetCoalesce()
		if tc.wantErr != nil {
			if got != before {
				t.Errorf("refused set %+v changed %+v to %+v", tc.set, before, got)
			}
			continue
		}
		if got.RxUsecs != tc.want || got.TxUsecs != tc.want || got.AdaptiveRx != (tc.want == 1 || tc.want == 3) {
			t.Errorf("set %+v: get %+v", tc.set, got)
		}
	}
	if err := a.SetCoalesce(driver.Coalesce{RxUsecs: 50}); err != nil {
		t.Fatal(err)
	}
	for i, tu := range tuples(8) {
		flow(t, tb, tb.A, tb.B, 100, &tu, uint64(i))
	}
	for _, q := range a.QVectors() {
		if q.ITR.ITRVal != 200 || q.ITR.LastReg != 200|igb.EITR_CNT_IGNR {
			t.Errorf("vector %d: itr_val %d, last EITR write %#x, want 200 | CNT_IGNR", q.Vector, q.ITR.ITRVal, q.ITR.LastReg)
		}
		if got := reg(tb.B, igb.EITR(q.Vector)) & igb.EITR_INTERVAL_MASK; got != 200 {
			t.Errorf("EITR%d interval field %#x, want 50 µs (200)", q.Vector, got)
		}
	}
	settle(t, tb)
}

// TestAdaptiveITR: in the default conservative mode a flow of small frames
// settles each busy vector's interval at the 20000 ints/s floor, and full
// frames at half their wire size (igb_update_ring_itr), written to EITR.
func TestAdaptiveITR(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		want uint32
	}{
		{"64 bytes", 64, driver.ITR20K},
		{"1514 bytes", 1514, (1514 + 24) / 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Two q_vectors: igb_update_ring_itr (a single one uses
			// igb_set_itr's classes).
			tb := bed(t, testbed.IGB{Queues: 2}, 2)
			f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: 20000, MinSize: tc.size, MaxSize: tc.size, Seed: 9, Delay: 0})
			if err != nil {
				t.Fatal(err)
			}
			if !tb.RunFlows(5*time.Second, f) {
				t.Fatal("flow incomplete")
			}
			q := nic(t, tb.B).Adapter.QVectors()[0]
			if q.ITR.ITRVal != tc.want {
				t.Errorf("itr_val %d, want %d", q.ITR.ITRVal, tc.want)
			}
			if q.ITR.Writes == 0 || q.ITR.LastReg&igb.EITR_CNT_IGNR == 0 {
				t.Errorf("EITR writes %d, last %#x", q.ITR.Writes, q.ITR.LastReg)
			}
		})
	}
}

// TestRingparam: ethtool -G round trips on every queue, refuses sizes out
// of 64–4096, rounds up to a multiple of 8, and traffic flows after.
func TestRingparam(t *testing.T) {
	tb := bed(t, testbed.IGB{Queues: 2}, 2)
	a := nic(t, tb.B).Adapter
	for _, bad := range [][2]int{{63, 256}, {256, 4097}} {
		if err := a.SetRingparam(nil, bad[0], bad[1]); err == nil {
			t.Errorf("ethtool -G rx %d tx %d accepted", bad[0], bad[1])
		}
	}
	task(t, tb, tb.B, func(tk *kernelmodel.Task) error { return a.SetRingparam(tk, 100, 1000) })
	if r := a.GetRingparam(); r.RxPending != 104 || r.TxPending != 1000 || r.RxMaxPending != 4096 {
		t.Errorf("ringparam %+v", r)
	}
	for q := range 2 {
		if r := a.RxRing(q); r.Count != 104 {
			t.Errorf("rx ring %d of %d", q, r.Count)
		}
		if r := a.TxRing(q); r.Count != 1000 {
			t.Errorf("tx ring %d of %d", q, r.Count)
		}
	}
	if err := tb.WaitCarrier(true, time.Second); err != nil {
		t.Fatal(err)
	}
	flow(t, tb, tb.A, tb.B, 3000, nil, 6)
	flow(t, tb, tb.B, tb.A, 3000, nil, 7)
	settle(t, tb)
}

// TestChannels: ethtool -L combined N rebuilds the interrupt scheme with N
// queue pairs (N+1 vectors), refuses 0 and more than 8, and the
// redirection table is spread over the new queues; traffic flows after.
func TestChannels(t *testing.T) {
	tb := bed(t, testbed.IGB{}, 2)
	a := nic(t, tb.B).Adapter
	if c := a.GetChannels(); c.Combined != 2 || c.MaxCombined != 8 || c.Other != 1 {
		t.Errorf("channels %+v", c)
	}
	for _, bad := range []int{0, 9} {
		if err := a.SetChannels(nil, bad); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("-L combined %d: %v", bad, err)
		}
	}
	for _, n := range []int{4, 1, 3} {
		task(t, tb, tb.B, func(tk *kernelmodel.Task) error { return a.SetChannels(tk, n) })
		if err := tb.WaitCarrier(true, time.Second); err != nil {
			t.Fatal(err)
		}
		if a.Queues() != n || len(a.Vectors()) != n+1 || len(a.NAPIs()) != n {
			t.Fatalf("-L %d: %d queues, %d vectors, %d NAPIs", n, a.Queues(), len(a.Vectors()), len(a.NAPIs()))
		}
		rx := a.GetRxfh()
		for j, q := range rx.Indir {
			if want := uint8(j * n / driver.RETASize); q != want {
				t.Fatalf("-L %d: RETA[%d] = %d, want %d", n, j, q, want)
			}
		}
		for i, tu := range tuples(16) {
			flow(t, tb, tb.A, tb.B, 30, &tu, uint64(100*n+i))
		}
		flow(t, tb, tb.B, tb.A, 500, nil, uint64(n))
		settle(t, tb)
		if _, ok := tb.B.Stat(fmt.Sprintf("rx_queue_%d_packets", n-1)); !ok {
			t.Errorf("-L %d: no rx_queue_%d_packets", n, n-1)
		}
	}
}

// TestRxfh: ethtool -X round trips the redirection table and the key into
// RETA and RSSRK, refuses entries beyond the queues; pointing every entry at
// queue 1 moves every flow there, and back.
func TestRxfh(t *testing.T) {
	tb := bed(t, testbed.IGB{Queues: 2}, 2)
	a := nic(t, tb.B).Adapter
	bad := make([]uint8, driver.RETASize)
	bad[7] = 2
	if err := a.SetRxfh(bad, nil); !errors.Is(err, driver.ErrInvalid) {
		t.Errorf("RETA entry 2 of 2 queues: %v", err)
	}
	all1 := make([]uint8, driver.RETASize)
	for i := range all1 {
		all1[i] = 1
	}
	key := make([]byte, igb.RSSKeySize)
	for i := range key {
		key[i] = byte(3*i + 1)
	}
	if err := a.SetRxfh(all1, key); err != nil {
		t.Fatal(err)
	}
	got := a.GetRxfh()
	if [driver.RETASize]uint8(all1) != got.Indir || [igb.RSSKeySize]byte(key) != got.Key {
		t.Errorf("-x after -X: %+v", got)
	}
	for i := range igb.NumRETA {
		if v := reg(tb.B, igb.RETAReg(i)); v != 0x01010101 {
			t.Fatalf("RETA%d %#x", i, v)
		}
	}
	if v := reg(tb.B, igb.RSSRKReg(0)); v != uint32(key[0])|uint32(key[1])<<8|uint32(key[2])<<16|uint32(key[3])<<24 {
		t.Errorf("RSSRK0 %#x", v)
	}
	before := stats(t, tb.B, "rx_queue_0_packets", "rx_queue_1_packets")
	for i, tu := range tuples(16) {
		flow(t, tb, tb.A, tb.B, 20, &tu, uint64(i))
	}
	after := stats(t, tb.B, "rx_queue_0_packets", "rx_queue_1_packets")
	if after[0] != before[0] || after[1]-before[1] != 16*20 {
		t.Errorf("RETA all queue 1: queue 0 got %d, queue 1 %d of %d", after[0]-before[0], after[1]-before[1], 16*20)
	}
	even := make([]uint8, driver.RETASize)
	for i := range even {
		even[i] = uint8(i % 2)
	}
	if err := a.SetRxfh(even, nil); err != nil {
		t.Fatal(err)
	}
	for i, tu := range tuples(16) {
		flow(t, tb, tb.A, tb.B, 20, &tu, uint64(50+i))
	}
	final := stats(t, tb.B, "rx_queue_0_packets", "rx_queue_1_packets")
	if final[0] == after[0] || final[1] == after[1] {
		t.Errorf("RETA alternating: queue 0 got %d, queue 1 %d", final[0]-after[0], final[1]-after[1])
	}
	settle(t, tb)
}

// udpFrame is an Ethernet/IPv4/UDP frame from A to B with the given source
// port, built by gopacket.
func udpFrame(t testing.TB, sport uint16) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: 9}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: testbed.MACA[:], DstMAC: testbed.MACB[:], EthernetType: layers.EthernetTypeIPv4}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(make([]byte, 64))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRSSHashUDP: by default UDP datagrams of one address pair all land on
// one queue (MRQC hashes their addresses only, as Linux's igb does); with
// ethtool -N rx-flow-hash udp4 sdfn (MRQC IPV4_UDP) their ports spread
// them over every queue.
func TestRSSHashUDP(t *testing.T) {
	tb := bed(t, testbed.IGB{Queues: 4}, 2)
	a := nic(t, tb.B).Adapter
	send := func() []uint64 {
		before := make([]uint64, 4)
		for q := range 4 {
			before[q] = stats(t, tb.B, fmt.Sprintf("rx_queue_%d_packets", q))[0]
		}
		for i := range 64 {
			sendSKB(t, tb.A, udpFrame(t, uint16(20000+17*i)), func(*kernelmodel.SKB) {})
		}
		tb.Clock.RunFor(2 * time.Millisecond)
		for q := range 4 {
			before[q] = stats(t, tb.B, fmt.Sprintf("rx_queue_%d_packets", q))[0] - before[q]
		}
		return before
	}
	used := func(per []uint64) int {
		n := 0
		for _, v := range per {
			if v != 0 {
				n++
			}
		}
		return n
	}
	if per := send(); used(per) != 1 {
		t.Errorf("UDP without port hashing on %d queues: %v", used(per), per)
	}
	if reg(tb.B, igb.MRQC)&igb.MRQC_RSS_FIELD_IPV4_UDP != 0 {
		t.Error("MRQC hashes UDP ports by default")
	}
	a.SetRSSHashUDP(true, false)
	if reg(tb.B, igb.MRQC)&igb.MRQC_RSS_FIELD_IPV4_UDP == 0 {
		t.Error("MRQC IPV4_UDP not set")
	}
	if per := send(); used(per) != 4 {
		t.Errorf("UDP with port hashing on %d queues: %v", used(per), per)
	}
	settle(t, tb)
}
