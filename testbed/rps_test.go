package testbed_test

import (
	"encoding/binary"
	"math/bits"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// rpsTuples are the 4-tuples of TestRPSFlowHash's TCP flows from A to B.
var rpsTuples = func() []testbed.TCPFlow {
	var ts []testbed.TCPFlow
	for i := range 8 {
		ts = append(ts, testbed.TCPFlow{
			Src: [4]byte{10, 0, 0, 1}, Dst: [4]byte{10, 0, 0, byte(2 + i%2)},
			SrcPort: uint16(40000 + 7*i), DstPort: uint16(5001 + i/2),
		})
	}
	return ts
}()

// rpsResult is what one run of TestRPSFlowHash saw per flow: the flow hash
// and the CPU the frames were delivered on.
type rpsResult struct {
	hash uint32
	cpu  int
}

// runRPS sends a flow of IPv4/TCP frames per 4-tuple of rpsTuples from A
// to a 4-CPU host B whose NIC interrupts CPU 0 (every vector pinned there)
// and whose RX queues have rps_cpus = mask, and checks each flow: every
// frame arrived intact, in order, on one CPU, with one hash. B's receive
// hashing is off (ethtool -K rxhash off, a no-op on a NIC without it), so
// the flow hash is the stack's.
func runRPS(t *testing.T, nic testbed.Factory, mask uint64, seed uint64) ([]rpsResult, *testbed.Testbed) {
	t.Helper()
	tb := upTestbed(t, testbed.Config{NIC: nic, CPUs: 4})
	pinVectors(t, tb.B, 0)
	tb.B.Dev.Features &^= kernelmodel.NETIF_F_RXHASH
	for q := range tb.B.Dev.NumRxQueues() {
		if err := tb.B.Dev.SetRPSCPUs(q, mask); err != nil {
			t.Fatal(err)
		}
	}
	const frames = 500
	var flows []*testbed.Flow
	for i := range rpsTuples {
		f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: frames, MaxSize: 1514, Seed: seed + uint64(i), TCP: &rpsTuples[i], Delay: 20 * time.Microsecond})
		if err != nil {
			t.Fatal(err)
		}
		flows = append(flows, f)
	}
	if !tb.RunFlows(10*time.Second, flows...) {
		t.Fatal("flows incomplete after 10 s of model time")
	}
	settle(t, tb)
	// The frames' IPv4 and TCP checksums are right: the NIC verified them
	// (QEMU's e1000 verifies nothing: IXSM on every frame).
	want := frames * uint64(len(flows))
	if qemuProfile(nic) {
		want = 0
	}
	if v, ok := tb.B.Stat("rx_csum_offload_good"); ok && v != want {
		t.Errorf("rx_csum_offload_good %d, want %d", v, want)
	}
	if v, ok := tb.B.Stat("rx_csum_offload_errors"); ok && v != 0 {
		t.Errorf("rx_csum_offload_errors %d", v)
	}
	var res []rpsResult
	for i, f := range flows {
		if err := f.Err(); err != nil {
			t.Fatal(err)
		}
		if f.Received != frames || f.Lost != 0 {
			t.Fatalf("flow %d: received %d of %d, lost %d", i, f.Received, frames, f.Lost)
		}
		cpu := -1
		for c, n := range f.CPUs {
			if n == 0 {
				continue
			}
			if cpu >= 0 {
				t.Errorf("flow %d delivered on CPU %d and CPU %d: %v", i, cpu, c, f.CPUs)
			}
			cpu = c
			if n != frames {
				t.Errorf("flow %d: %d of %d frames on CPU %d", i, n, frames, c)
			}
		}
		if f.HashChanges != 0 || f.Hash == 0 {
			t.Errorf("flow %d: hash %#08x, changed %d times", i, f.Hash, f.HashChanges)
		}
		res = append(res, rpsResult{f.Hash, cpu})
	}
	return res, tb
}

// softwareHash is the flow hash the kernel model's flow dissector gives an
// IPv4/TCP packet of tuple (skb_get_hash on an skb holding only the IPv4
// and TCP headers), independently of the frames the flow sent.
func softwareHash(k *kernelmodel.Kernel, tu testbed.TCPFlow) uint32 {
	skb := k.AllocSKB(40)
	defer k.ConsumeSKB(skb)
	p := skb.Put(40)
	clear(p)
	p[0], p[9] = 0x45, 6
	binary.BigEndian.PutUint16(p[2:], 40)
	copy(p[12:], tu.Src[:])
	copy(p[16:], tu.Dst[:])
	binary.BigEndian.PutUint16(p[20:], tu.SrcPort)
	binary.BigEndian.PutUint16(p[22:], tu.DstPort)
	p[32] = 5 << 4
	skb.Protocol = kernelmodel.ETH_P_IP
	return kernelmodel.SKBGetHash(skb)
}

// expectedCPU is get_rps_cpu's choice for hash from the rps_cpus mask:
// the CPUs of the mask in ascending order, indexed by
// reciprocal_scale(hash, n) = hash * n >> 32.
func expectedCPU(mask uint64, hash uint32) int {
	var cpus []int
	for c := range 64 {
		if mask&(1<<c) != 0 {
			cpus = append(cpus, c)
		}
	}
	return cpus[uint64(hash)*uint64(len(cpus))>>32]
}

// TestRPSFlowHash sends eight IPv4/TCP flows (several 4-tuples) from host A
// to host B, whose NIC interrupts CPU 0 and whose RX queue steers with
// rps_cpus to CPUs 1-3. Each flow lands on one CPU; that CPU is the one
// reciprocal_scale of the flow hash picks from the map; the hash is the
// software flow hash of the 4-tuple and the same in a second run with other
// frame sizes; softnet_stat's received_rps counts the IPIs on exactly the
// CPUs that got flows, and processed the frames each got.
func TestRPSFlowHash(t *testing.T) {
	const mask = 0b1110
	forEachNIC(t, func(t *testing.T, nic testbed.Factory) {
		first, tb := runRPS(t, nic, mask, 100)
		second, _ := runRPS(t, nic, mask, 200)
		perCPU := make([]uint64, tb.B.Kernel.NumCPUs())
		for i, r := range first {
			if want := softwareHash(tb.B.Kernel, rpsTuples[i]); r.hash != want {
				t.Errorf("flow %d: skb hash %#08x, flow hash of its 4-tuple %#08x", i, r.hash, want)
			}
			if want := expectedCPU(mask, r.hash); r.cpu != want {
				t.Errorf("flow %d (hash %#08x): delivered on CPU %d, reciprocal_scale picks CPU %d", i, r.hash, r.cpu, want)
			}
			if second[i] != r {
				t.Errorf("flow %d: hash %#08x on CPU %d, in the second run %#08x on CPU %d", i, r.hash, r.cpu, second[i].hash, second[i].cpu)
			}
			perCPU[r.cpu] += 500
		}
		used := 0
		for c := range perCPU {
			sd := &tb.B.Kernel.CPU(c).Softnet
			if perCPU[c] != 0 {
				used++
			}
			if sd.Processed != perCPU[c] {
				t.Errorf("CPU %d: softnet processed %d, want %d (the frames of its flows)", c, sd.Processed, perCPU[c])
			}
			if (sd.ReceivedRPS != 0) != (perCPU[c] != 0) || sd.ReceivedRPS > perCPU[c] {
				t.Errorf("CPU %d: received_rps %d for %d frames", c, sd.ReceivedRPS, perCPU[c])
			}
			if sd.Dropped != 0 {
				t.Errorf("CPU %d: %d backlog drops", c, sd.Dropped)
			}
		}
		if used < 2 {
			t.Errorf("eight 4-tuples all on one CPU: %v", perCPU)
		}
		if perCPU[0] != 0 {
			t.Errorf("CPU 0 is not in rps_cpus %#x but got %d frames", mask, perCPU[0])
		}
		t.Logf("frames per CPU %v; %d of %d map CPUs used", perCPU, used, bits.OnesCount64(mask))
	})
}
