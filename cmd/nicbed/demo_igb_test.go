package main

import (
	"fmt"
	"strconv"
	"testing"
)

// TestDemoIGB: nicbed demo --nic igb --queues 4 --cpus 2 with 16 TCP flows,
// on both model profiles. Every frame arrives; the summary has a q_vector
// line per queue pair, each with hardirqs and polls on the one CPU its
// vector is affine to (vector v on CPU v mod 2), an EITR the adaptive
// moderation chose (non-zero, and the rate it allows 10^6 / interval); the per-queue counters show RSS used every queue and sum to the
// frames; softnet_stat per CPU sums to the totals line.
func TestDemoIGB(t *testing.T) {
	const frames, queues = 8000, 4
	for _, p := range []string{"datasheet", "qemu"} {
		sum := demoRun(t, "--nic", "igb", "--queues", strconv.Itoa(queues), "--cpus", "2", "--flows", "16",
			"--frames", strconv.Itoa(frames), "--profile", p)
		var received uint64
		for _, f := range sum.flows {
			if f.lost != 0 || f.bad != 0 {
				t.Errorf("%s: flow %+v", p, f)
			}
			received += f.received
		}
		if len(sum.flows) != 16 || received != frames {
			t.Fatalf("%s: %d flows received %d frames, want 16 and %d", p, len(sum.flows), received, frames)
		}
		b := sum.hosts["hostB"]
		if len(b.qvectors) != queues {
			t.Fatalf("%s: %d q_vector lines, want %d", p, len(b.qvectors), queues)
		}
		for i, q := range b.qvectors {
			cpu := strconv.Itoa(q.vector % 2)
			if q.name != fmt.Sprintf("eth0-TxRx-%d", i) || q.vector != i+1 || q.hardirqs == 0 || q.polls == 0 ||
				q.hardirqCPUs != cpu || q.pollCPUs != cpu {
				t.Errorf("%s: q_vector %d: %+v, want vector %d with hardirqs and polls on cpu %s", p, i, q, i+1, cpu)
			}
			// The interval is EITR bits 14:2 in µs.
			if iv := q.eitr & 0x7FFC; iv == 0 || q.rate != 4_000_000/iv {
				t.Errorf("%s: q_vector %d: EITR %d allowing %d ints/s", p, i, q.eitr, q.rate)
			}
		}
		var perQueue uint64
		for i := range queues {
			n := b.ethtool[fmt.Sprintf("rx_queue_%d_packets", i)]
			if n == 0 {
				t.Errorf("%s: rx_queue_%d_packets 0: RSS left the queue empty", p, i)
			}
			perQueue += n
		}
		if perQueue != frames {
			t.Errorf("%s: rx_queue_N_packets sum to %d, want %d", p, perQueue, frames)
		}
		var processed uint64
		for _, c := range b.cpus {
			processed += c.processed
		}
		if len(b.cpus) != 2 || processed != b.processed {
			t.Errorf("%s: %d softnet_stat CPU lines processing %d, the total says %d", p, len(b.cpus), processed, b.processed)
		}
	}
}
