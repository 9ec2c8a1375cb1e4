package kernelmodel

// Interface flags (IFF_*, include/uapi/linux/if.h) the model's devices
// carry in NetDevice.Flags.
const (
	IFF_BROADCAST   = 0x2
	IFF_LOOPBACK    = 0x8
	IFF_POINTOPOINT = 0x10
	IFF_NOARP       = 0x80
	IFF_MULTICAST   = 0x1000
)

// Device types (ARPHRD_*, include/uapi/linux/if_arp.h) for NetDevice.Type.
const (
	ARPHRD_ETHER    = 1
	ARPHRD_LOOPBACK = 772
	ARPHRD_NONE     = 0xFFFE // a raw IP link without a link-layer header (tun)
)

// Return codes of netif_rx (NET_RX_*).
const (
	NET_RX_SUCCESS = 0
	NET_RX_DROP    = 1
)

// NetifRx is netif_rx(): queue skb (Protocol, Dev and the network header
// set, Data at it) on the backlog of the RPS target or of this CPU
// (enqueue_to_backlog); process_backlog hands it to the protocol in
// NET_RX, as loopback and tunnels do. It may be called from any context;
// outside one the backlog of CPU 0 takes it; from a task bottom halves are
// off meanwhile, so the backlog runs as it returns (local_bh_enable). Above
// netdev_max_backlog (or with the device down) the skb is dropped
// (CPU_BACKLOG, softnet dropped, rx_dropped) and NET_RX_DROP returned.
func (k *Kernel) NetifRx(skb *SKB) int {
	if !k.skbCheck(skb, "netif_rx") {
		return NET_RX_DROP
	}
	cur := k.cur
	bh := cur != nil && !cur.InInterrupt()
	if bh {
		cur.LocalBHDisable()
	}
	k.tracePoint(cur, "netif_rx", skb.ID, int64(len(skb.Data)))
	target := k.curOr0()
	if cpu := k.getRPSCPU(skb); cpu >= 0 {
		target = k.cpus[cpu]
	}
	rc := NET_RX_DROP
	if k.enqueueToBacklog(skb, target) {
		rc = NET_RX_SUCCESS
	}
	if bh {
		cur.LocalBHEnable()
	}
	return rc
}
