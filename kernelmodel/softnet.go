package kernelmodel

import (
	"fmt"
	"io"
)

// SoftnetData is a CPU's struct softnet_data: its NAPI poll list, its RPS
// backlog and the counters of /proc/net/softnet_stat.
type SoftnetData struct {
	pollList napiList

	inputPktQueue SKBHead // filled by enqueue_to_backlog, from any CPU
	processQueue  SKBHead // drained by process_backlog
	backlog       NAPI
	rpsIPIWaiting *CPU // head of the CPUs this one must IPI (rps_ipi_list)
	rpsIPINext    *CPU // link in the sending CPU's rps_ipi_list
	rpsIPIQueued  bool
	owner         *CPU

	completionQueue SKBHead // dev_kfree_skb_irq'd skbs, freed by net_tx_action
	// outputQueue is output_queue: the qdiscs __netif_schedule put here
	// for net_tx_action to run, linked through their nextSched.
	outputQueue, outputQueueTail Qdisc
	// qdiscToFree is __dev_xmit_skb's to_free list (per CPU, so that the
	// transmit path allocates nothing).
	qdiscToFree SKBHead
	// sublist is __netif_receive_skb_list_core's run of skbs for one
	// handler (per CPU, so that the list path allocates nothing; a
	// ListFunc must not re-enter the list path on its CPU — loopback goes
	// through the backlog, as in Linux).
	sublist SKBHead

	// /proc/net/softnet_stat columns.
	Processed      uint64 // packets through __netif_receive_skb_core
	Dropped        uint64 // backlog drops (netdev_max_backlog)
	TimeSqueeze    uint64 // net_rx_action ran out of budget or time
	CPUCollision   uint64 // always 0 (no xmit lock contention modelled)
	ReceivedRPS    uint64 // RPS IPIs received
	FlowLimitCount uint64
}

func (sd *SoftnetData) init(k *Kernel, c *CPU) {
	sd.owner = c
	k.NetifNAPIAdd(nil, &sd.backlog, c.processBacklog, k.Sysctl.DevWeight)
	sd.backlog.Name = "backlog"
	sd.backlog.span = "napi_poll backlog (process_backlog)"
	sd.backlog.NAPIEnable()
}

func (sd *SoftnetData) pollAdd(n *NAPI) { sd.pollList.addTail(n, sd.owner) }

func (sd *SoftnetData) pollDel(n *NAPI) { sd.pollList.del(n); n.cpu = nil }

// BacklogLen is softnet_backlog_len(): packets waiting in the backlog.
func (sd *SoftnetData) BacklogLen() int { return sd.inputPktQueue.Len() + sd.processQueue.Len() }

// WriteSoftnetStat writes /proc/net/softnet_stat: one line per CPU, in hex,
// the columns Linux 6.x prints (processed, dropped, time_squeeze, five zeros,
// cpu_collision, received_rps, flow_limit_count, backlog length, cpu index).
func (k *Kernel) WriteSoftnetStat(w io.Writer) error {
	for _, c := range k.cpus {
		sd := &c.Softnet
		_, err := fmt.Fprintf(w, "%08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x %08x\n",
			uint32(sd.Processed), uint32(sd.Dropped), uint32(sd.TimeSqueeze),
			0, 0, 0, 0, 0,
			uint32(sd.CPUCollision), uint32(sd.ReceivedRPS), uint32(sd.FlowLimitCount),
			uint32(sd.BacklogLen()), uint32(c.ID))
		if err != nil {
			return err
		}
	}
	return nil
}
