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
//   - sk_buff: a pool without per-packet allocation (structs and buffers
//     apart, so clones share a buffer with a dataref: skb_clone,
//     skb_cow_head); cb, sk, destructor, truesize; push/put bounds reported,
//     not panicking; double frees and uses after free are counted
//     (Drops.SKB), traced, and panic under the build tag nicbed_debug;
//     SKBAudit is the exact leak check for tests.
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
//
// # Target kernel: Linux 6.1
//
// The model follows one kernel, Linux 6.1 (the kernel the VM path boots),
// in the pieces below; a function that models a Linux one names it in its
// doc comment.
//
//	piece                    6.1 behaviour kept
//	irq_exit                 invoke_softirq runs pending softirqs at once
//	                         unless ksoftirqd_running() (ksoftirqd woken and
//	                         nothing of SOFTIRQ_NOW_MASK pending; 6.5 dropped
//	                         this rule)
//	__do_softirq             MAX_SOFTIRQ_RESTART (10) passes while jiffies is
//	                         before msecs_to_jiffies(2) from the start and
//	                         !need_resched(); the rest to ksoftirqd
//	net_rx_action            netdev_budget (300) and a time limit of
//	                         usecs_to_jiffies(netdev_budget_usecs) jiffies
//	                         (time_after_eq); each instance polled at most
//	                         once per run; leftovers, then newly scheduled,
//	                         then repoll go back on the poll list; the poll
//	                         list is not re-spliced inside the loop (6.7+)
//	__napi_poll              work above the weight counts in full against
//	                         the budget; an instance rescheduled by its
//	                         driver is not added to repoll; DISABLE pending
//	                         completes it
//	napi_disable             waits while SCHED or NPSVC, then owns the
//	                         instance (SCHED|NPSVC set, DISABLE cleared)
//	dev_queue_xmit           noqueue device: always consumes the skb,
//	                         NET_XMIT_* from the driver or -ENETDOWN
//	                         (tx_dropped) when down, stopped or busy
//	validate_xmit_skb        software GSO through the protocol's
//	                         gso_segment (DevAddOffload) when the device
//	                         lacks the TSO features, skb_checksum_help
//	                         when it lacks NETIF_F_IP_CSUM (-ENOMEM and
//	                         tx_dropped when refused; gso.go)
//	net_tx_action            frees the completion queue (dev_kfree_skb_irq)
//
// Deviations kept, each on purpose:
//
//   - HZ is 1000 (6.1's value depends on the config; 1000 keeps jiffy
//     rounding small).
//   - No scheduler class: need_resched() is true when another task is
//     runnable on the CPU; tasks run in FIFO order until they block or call
//     cond_resched, and only hardirqs and the softirq context preempt them.
//   - napi_disable's usleep_range(20, 200) sleeps 200 µs each time.
//   - No qdisc yet (every device is noqueue); no threaded NAPI, busy
//     polling, netpoll or skb_defer_free_flush; NPSVC is only set by
//     napi_disable.
//   - The software flow hash (skb_get_hash) is a fixed jhash-like mix of the
//     IPv4 4-tuple, not 6.1's siphash with a random key, so that runs replay;
//     RPS flow limits are not modelled (flow_limit_count stays 0).
//   - Interrupts are taken between sections: a hardirq that comes due while
//     a thread sleeps off the CPU time of code it has already run waits for
//     the end of that section (as if it ran with interrupts off). Sections
//     are short: every device access, NAPI poll and softirq vector ends one.
//   - A hardirq handler cannot yield: its device accesses after the first
//     reach the device at the handler's start time, behind the CPU by the
//     cost of the handler's earlier accesses. Accesses from thread context
//     are synchronisation points (they pay off the CPU's account first).
//   - On the real clock CPU time is not modelled: Charge does nothing.
package kernelmodel
