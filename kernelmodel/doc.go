// Package kernelmodel is the kernel the drivers run in: the mechanics of
// Linux's receive and transmit path below the protocols, with Linux's names
// and defaults.
//
//   - Clock and timers: a discrete-event loop (virtual or real time) that
//     every kernel, device model and cable of a run shares; timer_list timers
//     with jiffies (HZ=1000) that run in TIMER_SOFTIRQ.
//   - CPUs: each with its softnet_data (poll list, backlog, counters), its
//     softirq context and its ksoftirqd. Code that runs on a CPU charges CPU
//     time from a CostModel, so that in virtual time a CPU saturates and the
//     time-based rules (netdev_budget_usecs, the 2 ms softirq limit) apply.
//   - hardirq: request_irq, affinity, disable_irq/enable_irq; an irq chip per
//     interrupt from its backend (IRQChip: mask/unmask/ack/EOI) and a flow
//     handler (handle_level_irq, handle_edge_irq, handle_fasteoi_irq); INTx
//     lines and MSI messages in process; pci_alloc_irq_vectors through the
//     platform's IRQVectorBackend; irq_exit runs pending softirqs.
//   - sk_buff: a pool without per-packet allocation; double frees and uses
//     after free are counted (Drops.SKB), traced, and panic under the build
//     tag nicbed_debug; SKBAudit is the exact leak check for tests.
//   - softirq: NET_TX, NET_RX, TIMER...; raise_softirq, __do_softirq with
//     MAX_SOFTIRQ_RESTART and MAX_SOFTIRQ_TIME, then ksoftirqd;
//     local_bh_enable runs pending work.
//   - NAPI: napi_struct with SCHED/MISSED/DISABLE, napi_schedule,
//     napi_complete_done, napi_disable/enable, net_rx_action with
//     netdev_budget and netdev_budget_usecs, GRO flush points
//     (gro_normal_list).
//   - RPS: per-CPU backlog with netdev_max_backlog, process_backlog, IPIs.
//   - Tasks and wait queues: kernel threads (pktgen, ksoftirqd, later socket
//     callers) that block on wait queues with exclusive wake-ups.
//   - Counters (/proc/net/softnet_stat), tunables under their sysctl names,
//     and trace points at every step, as text or Perfetto JSON.
//
// # Execution model
//
// Everything runs on the Clock's loop, one event at a time. A hardirq handler
// runs as an event. Code that can be preempted or can block (the softirq
// context of a CPU, ksoftirqd, tasks) runs in a thread: a coroutine that the
// loop resumes and that gives the CPU back at preemption points, where the
// CPU time it charged is slept off in model time. Between those points other
// events run at their times: a hardirq that arrives while net_rx_action is
// between two polls runs then (it preempts the softirq) and its CPU time
// delays the softirq. A virtual run is therefore deterministic: same inputs,
// same events, same trace.
package kernelmodel
