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
// NET_RX. It may be called from any context; outside one the backlog of
// CPU 0 takes it. Above netdev_max_backlog (or with the device down) the
// skb is dropped (CPU_BACKLOG) and NET_RX_DROP returned.
func (k *Kernel) NetifRx(skb *SKB) int {
	if !k.skbCheck(skb, "netif_rx") {
		return NET_RX_DROP
	}
	k.tracePoint(k.cur, "netif_rx", skb.ID, int64(len(skb.Data)))
	cpu := k.getRPSCPU(skb)
	if cpu < 0 {
		cpu = 0
		if k.cur != nil {
			cpu = k.cur.ID
		}
	}
	t := k.cpus[cpu]
	before := t.Softnet.Dropped
	k.enqueueToBacklog(skb, t)
	if t.Softnet.Dropped != before {
		return NET_RX_DROP
	}
	return NET_RX_SUCCESS
}
