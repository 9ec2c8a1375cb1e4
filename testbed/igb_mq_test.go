package testbed_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/rss"
	"github.com/nicbed/nicbed/igb"
	igbdriver "github.com/nicbed/nicbed/igb/driver"
	igbmodel "github.com/nicbed/nicbed/igb/model"
	"github.com/nicbed/nicbed/testbed"
)

// The multi-queue tests of the 82576 (issue 7): two hosts on a cable, the
// receiver with 4 queue pairs on 2 CPUs, on both model profiles.

// igbMQ is the igb Factory with queues queue pairs on model profile p.
func igbMQ(p igbmodel.Profile, queues int) testbed.IGB {
	return testbed.IGB{Queues: queues, Model: func(_ *testbed.Host, c *igbmodel.Config) { c.Profile = p }}
}

// forEachIGBProfile runs test on the datasheet and the QEMU profile.
func forEachIGBProfile(t *testing.T, test func(t *testing.T, p igbmodel.Profile)) {
	for _, p := range []igbmodel.Profile{igbmodel.ProfileDatasheet, igbmodel.ProfileQEMU} {
		t.Run(p.String(), func(t *testing.T) { test(t, p) })
	}
}

// mqTuples are n flows from A to B, the first half TCP and the second UDP,
// with addresses and ports varied so that RSS spreads them (Linux's igb
// hashes UDP by its address pair alone unless ethtool -N enables the
// ports).
func mqTuples(n int) []testbed.TCPFlow {
	ts := make([]testbed.TCPFlow, n)
	for i := range ts {
		ts[i] = testbed.TCPFlow{
			Src: [4]byte{10, 1, byte(i >> 4), byte(1 + i&15)}, Dst: [4]byte{10, 2, byte(i * 7), byte(3 + i%5)},
			SrcPort: uint16(20000 + 13*i), DstPort: uint16(5001 + i%9),
			UDP: i >= n/2,
		}
	}
	return ts
}

// rssQueue is the queue the 82576 must pick for tu (datasheet 7.1.2.8),
// computed with the bitwise reference Toeplitz function rather than the
// model's tables: the 4-tuple if MRQC selects it for the protocol, else
// the address pair; queue RETA[hash & 127].
func rssQueue(mrqc uint32, key [igb.RSSKeySize]byte, indir [igbdriver.RETASize]uint8, tu testbed.TCPFlow) int {
	in := append(append([]byte{}, tu.Src[:]...), tu.Dst[:]...)
	ports := mrqc&igb.MRQC_RSS_FIELD_IPV4_TCP != 0
	if tu.UDP {
		ports = mrqc&igb.MRQC_RSS_FIELD_IPV4_UDP != 0
	}
	if ports {
		in = binary.BigEndian.AppendUint16(in, tu.SrcPort)
		in = binary.BigEndian.AppendUint16(in, tu.DstPort)
	}
	return int(indir[rss.Toeplitz(key[:], in)&127])
}

// runMQFlows sends count frames on each tuple from A to B and checks that
// every frame arrived intact, in order, and that each flow used one queue:
// it returns that queue per flow.
func runMQFlows(t *testing.T, tb *testbed.Testbed, tuples []testbed.TCPFlow, count uint64, seed uint64) []int {
	t.Helper()
	var flows []*testbed.Flow
	for i := range tuples {
		f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: count, MaxSize: 200, Seed: seed + uint64(i), TCP: &tuples[i], Delay: 500 * time.Microsecond})
		if err != nil {
			t.Fatal(err)
		}
		flows = append(flows, f)
	}
	if !tb.RunFlows(5*time.Second, flows...) {
		t.Fatal("flows incomplete after 5 s of model time")
	}
	settle(t, tb)
	queues := make([]int, len(flows))
	for i, f := range flows {
		if err := f.Err(); err != nil {
			t.Fatal(err)
		}
		if f.Received != count || f.Lost != 0 {
			t.Fatalf("flow %d: received %d of %d, lost %d", i, f.Received, count, f.Lost)
		}
		queues[i] = -1
		for q, n := range f.RxQueues {
			switch {
			case n == 0:
			case queues[i] >= 0:
				t.Fatalf("flow %d on queues %d and %d: %v", i, queues[i], q, f.RxQueues)
			default:
				queues[i] = q
			}
		}
	}
	return queues
}

// rxQueuePackets is ethtool -S rx_queue_N_packets of h for each queue.
func rxQueuePackets(t *testing.T, h *testbed.Host, queues int) []uint64 {
	t.Helper()
	out := make([]uint64, queues)
	for q := range out {
		out[q] = stats(t, h, fmt.Sprintf("rx_queue_%d_packets", q))[0]
	}
	return out
}

// TestIGBMultiQueue: B has 4 queue pairs on 2 CPUs, their vectors pinned
// to CPU q mod 2 (not the driver's default, which is (q+1) mod 2). 256
// flows from A, half TCP and half UDP, 40 frames each: every flow lands
// on the queue the redirection table gives for its RSS hash (computed
// here with the reference Toeplitz function over the fields MRQC
// selects), each queue takes its share of the frames within ±25%
// (ethtool -S agrees), each queue's vector fires only on its affine CPU,
// and each q_vector polls its own NAPI, there.
func TestIGBMultiQueue(t *testing.T) {
	const queues, cpus, count = 4, 2, 40
	forEachIGBProfile(t, func(t *testing.T, p igbmodel.Profile) {
		// The affinity is set after probe and before the interface is
		// up, so that every hardirq of the vectors counts.
		tb, err := testbed.New(testbed.Config{NIC: igbMQ(p, queues), CPUs: cpus})
		if err != nil {
			t.Fatal(err)
		}
		b := testbed.IGBOf(tb.B)
		qvs := b.Adapter.QVectors()
		if len(qvs) != queues {
			t.Fatalf("%d q_vectors, want %d", len(qvs), queues)
		}
		pinned := 0
		for _, v := range tb.B.NIC.Vectors() {
			for i, q := range qvs {
				if v.Name == q.Name {
					if err := tb.B.Kernel.SetAffinity(v.IRQ, i%cpus); err != nil {
						t.Fatal(err)
					}
					pinned++
				}
			}
		}
		if pinned != queues {
			t.Fatalf("%d of %d queue vectors found to pin", pinned, queues)
		}
		if err := tb.Up(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		tuples := mqTuples(256)
		got := runMQFlows(t, tb, tuples, count, 1)

		rxfh := b.Adapter.GetRxfh()
		mrqc := b.Model.BAR(0).Read32(igb.MRQC)
		var want [queues]uint64
		for i, tu := range tuples {
			q := rssQueue(mrqc, rxfh.Key, rxfh.Indir, tu)
			if got[i] != q {
				t.Errorf("flow %d (%+v) on queue %d, RETA says %d", i, tu, got[i], q)
			}
			want[q] += count
		}
		entries := [queues]int{}
		for _, q := range rxfh.Indir {
			entries[q]++
		}
		total := float64(len(tuples) * count)
		perQueue := rxQueuePackets(t, tb.B, queues)
		for q := range queues {
			share := total * float64(entries[q]) / igbdriver.RETASize
			if n := float64(perQueue[q]); n < 0.75*share || n > 1.25*share {
				t.Errorf("queue %d: %v frames, its share is %.0f (±25%%)", q, n, share)
			}
			if perQueue[q] != want[q] {
				t.Errorf("queue %d: rx_queue_%d_packets %d, the flows it should have %d", q, q, perQueue[q], want[q])
			}
		}

		napis := b.NAPIs()
		for i, q := range b.Adapter.QVectors() {
			cpu := uint64(1) << (i % cpus)
			if q.Hardirqs == 0 || q.HardirqCPUs != cpu {
				t.Errorf("q_vector %d: %d hardirqs on CPUs %#b, want CPU %d only", i, q.Hardirqs, q.HardirqCPUs, i%cpus)
			}
			if q.Polls == 0 || q.PollCPUs != cpu {
				t.Errorf("q_vector %d: %d polls on CPUs %#b, want CPU %d only", i, q.Polls, q.PollCPUs, i%cpus)
			}
			if napis[i].Name != q.Name || napis[i].Polls != q.Polls {
				t.Errorf("q_vector %d (%s, %d polls): NAPI %s polled %d times", i, q.Name, q.Polls, napis[i].Name, napis[i].Polls)
			}
			if c := tb.B.Kernel.IRQCount(q.IRQ); c != q.Hardirqs {
				t.Errorf("q_vector %d: %d hardirqs, /proc/interrupts says %d", i, q.Hardirqs, c)
			}
		}
	})
}

// TestIGBRETAMovesFlows: 128 flows on 4 queues, then ethtool -X shifts
// every redirection entry to the next queue: the same flows, sent again,
// each land on the next queue, and the per-queue counters move with them.
func TestIGBRETAMovesFlows(t *testing.T) {
	const queues, count = 4, 20
	forEachIGBProfile(t, func(t *testing.T, p igbmodel.Profile) {
		tb := upTestbed(t, testbed.Config{NIC: igbMQ(p, queues), CPUs: 2})
		b := testbed.IGBOf(tb.B)
		tuples := mqTuples(128)
		before := runMQFlows(t, tb, tuples, count, 1)
		rxfh := b.Adapter.GetRxfh()
		var indir [igbdriver.RETASize]uint8
		for i, q := range rxfh.Indir {
			indir[i] = (q + 1) % queues
		}
		if err := b.Adapter.SetRxfh(indir[:], nil); err != nil {
			t.Fatal(err)
		}
		if got := b.Adapter.GetRxfh().Indir; got != indir {
			t.Fatalf("ethtool -x after -X: %v", got)
		}
		start := rxQueuePackets(t, tb.B, queues)
		after := runMQFlows(t, tb, tuples, count, 1000)
		var moved [queues]uint64
		for i := range tuples {
			if after[i] != (before[i]+1)%queues {
				t.Errorf("flow %d: queue %d before, %d after shifting the table", i, before[i], after[i])
			}
			moved[after[i]] += count
		}
		end := rxQueuePackets(t, tb.B, queues)
		for q := range queues {
			if end[q]-start[q] != moved[q] {
				t.Errorf("queue %d took %d frames after the change, want %d", q, end[q]-start[q], moved[q])
			}
		}
	})
}

// TestIGBRPSOneQueue: one queue pair, its vector on CPU 0 of 2, and
// rps_cpus = CPU 1 on that queue: RPS hands every flow's protocol work to
// CPU 1 (softnet_stat received_rps there, none on CPU 0), while the
// interrupts and NAPI polls stay on CPU 0.
func TestIGBRPSOneQueue(t *testing.T) {
	const count = 50
	forEachIGBProfile(t, func(t *testing.T, p igbmodel.Profile) {
		tb, err := testbed.New(testbed.Config{NIC: igbMQ(p, 1), CPUs: 2})
		if err != nil {
			t.Fatal(err)
		}
		pinVectors(t, tb.B, 0)
		if err := tb.Up(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		if err := tb.B.Dev.SetRPSCPUs(0, 0b10); err != nil {
			t.Fatal(err)
		}
		tuples := mqTuples(32)
		var flows []*testbed.Flow
		for i := range tuples {
			f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: count, MaxSize: 300, Seed: uint64(i), TCP: &tuples[i], Delay: 200 * time.Microsecond})
			if err != nil {
				t.Fatal(err)
			}
			flows = append(flows, f)
		}
		if !tb.RunFlows(5*time.Second, flows...) {
			t.Fatal("flows incomplete")
		}
		settle(t, tb)
		for i, f := range flows {
			if f.Received != count || f.CPUs[1] != count || f.RxQueues[0] != count {
				t.Errorf("flow %d: received %d, on CPU 1 %d, from queue 0 %d", i, f.Received, f.CPUs[1], f.RxQueues[0])
			}
		}
		rps0, rps1 := tb.B.Kernel.CPU(0).Softnet.ReceivedRPS, tb.B.Kernel.CPU(1).Softnet.ReceivedRPS
		if rps0 != 0 || rps1 == 0 {
			t.Errorf("received_rps CPU 0 %d, CPU 1 %d", rps0, rps1)
		}
		if got := tb.B.Kernel.CPU(1).Softnet.Processed; got < uint64(len(flows)*count) {
			t.Errorf("CPU 1 processed %d packets, want at least %d", got, len(flows)*count)
		}
		q := testbed.IGBOf(tb.B).Adapter.QVectors()[0]
		if q.HardirqCPUs != 1 || q.PollCPUs != 1 {
			t.Errorf("q_vector 0: hardirqs on %#b, polls on %#b, want CPU 0", q.HardirqCPUs, q.PollCPUs)
		}
	})
}
