package driver_test

import (
	"fmt"
	"testing"

	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/testbed"
)

// TestMSIXConfig: igb_configure_msix and igb_assign_vector program the
// 82576 as Linux does — GPIE in MSI-X mode with PBA support, auto-mask and
// non-selective clear; the other causes on vector 0 (IVAR_MISC byte 1);
// queue q's receive and transmit causes on vector q+1 in IVAR(q & 7) at
// bytes (q & 8) >> 2 and (q & 8) >> 2 + 1; every vector auto-cleared,
// auto-masked and enabled (EIAC, EIAM, EIMS), LSC in IMS.
func TestMSIXConfig(t *testing.T) {
	for _, queues := range []int{1, 2, 4, 8} {
		t.Run(fmt.Sprintf("%dq", queues), func(t *testing.T) {
			tb := bed(t, testbed.IGB{Queues: queues}, 2)
			h := tb.B
			gpie := reg(h, igb.GPIE)
			if want := uint32(igb.GPIE_MSIX_MODE | igb.GPIE_PBA | igb.GPIE_EIAME | igb.GPIE_NSICR); gpie != want {
				t.Errorf("GPIE %#x, want %#x", gpie, want)
			}
			if got, want := reg(h, igb.IVARMISC), uint32(igb.IVAR_VALID)<<8; got != want {
				t.Errorf("IVAR_MISC %#x, want %#x", got, want)
			}
			want := make([]uint32, igb.NumIVAR)
			for q := range queues {
				for _, tx := range []bool{false, true} {
					r, b := igb.IVARByte(q, tx)
					want[r] |= uint32(q+1|igb.IVAR_VALID) << (8 * b)
				}
			}
			for i := range igb.NumIVAR {
				if got := reg(h, igb.IVAR(i)); got != want[i] {
					t.Errorf("IVAR%d %#08x, want %#08x", i, got, want[i])
				}
			}
			all := uint32(1)<<(queues+1) - 1
			for _, r := range []struct {
				name string
				off  uint32
			}{{"EIAC", igb.EIAC}, {"EIAM", igb.EIAM}} {
				if got := reg(h, r.off); got != all {
					t.Errorf("%s %#x, want %#x", r.name, got, all)
				}
			}
			if got := reg(h, igb.IMS); got&igb.ICR_LSC == 0 {
				t.Errorf("IMS %#x without LSC", got)
			}
			a := nic(t, h).Adapter
			for i := range queues {
				if got := a.EIMSOf(i); got != 1<<(i+1) {
					t.Errorf("q_vector %d EIMS bit %#x", i, got)
				}
			}
			settle(t, tb)
		})
	}
}

// TestQueueVectorAffinity: with 4 queue pairs on 2 CPUs, TCP flows of many
// 4-tuples spread over the queues as the redirection table says; each queue
// pair's vector takes its hardirqs only on its affine CPU (vector i on CPU
// i mod 2), each q_vector polls its own NAPI there, and each ring's frames
// are counted per queue (rx_queue_N_packets).
func TestQueueVectorAffinity(t *testing.T) {
	tb := bed(t, testbed.IGB{Queues: 4}, 2)
	for i, tu := range tuples(32) {
		flow(t, tb, tb.A, tb.B, 50, &tu, uint64(i))
	}
	settle(t, tb)
	a := nic(t, tb.B).Adapter
	var total uint64
	for i, q := range a.QVectors() {
		cpu := q.Vector % tb.B.Kernel.NumCPUs()
		if q.Vector != i+1 {
			t.Errorf("q_vector %d on vector %d", i, q.Vector)
		}
		if q.Hardirqs == 0 || q.Polls == 0 {
			t.Errorf("q_vector %d: %d hardirqs, %d polls", i, q.Hardirqs, q.Polls)
		}
		if q.HardirqCPUs != 1<<cpu || q.PollCPUs != 1<<cpu {
			t.Errorf("q_vector %d (vector %d): hardirqs on CPUs %#b, polls on %#b, want only CPU %d", i, q.Vector, q.HardirqCPUs, q.PollCPUs, cpu)
		}
		n, ok := tb.B.Stat(fmt.Sprintf("rx_queue_%d_packets", i))
		if !ok || n == 0 {
			t.Errorf("rx_queue_%d_packets %d (%v): RSS left the queue empty", i, n, ok)
		}
		total += n
		if c := tb.B.Kernel.IRQCount(q.IRQ); c != q.Hardirqs {
			t.Errorf("q_vector %d: %d hardirqs, /proc/interrupts %d", i, q.Hardirqs, c)
		}
	}
	if total != 32*50 {
		t.Errorf("rx_queue_N_packets sum to %d, want %d", total, 32*50)
	}
}
