// Package stack is the network stack above the kernel model: neighbour
// resolution (ARP), IPv4, ICMP, sockets, UDP and raw sockets, and later
// qdisc, GRO/GSO and TCP. Each layer is a subpackage named after its Linux directory or file;
// each function that models a Linux one names it in its doc comment, and each
// step of a packet is a trace point under the Linux function's name
// (ip_rcv, ip_local_deliver, icmp_rcv, arp_rcv, neigh_resolve_output, ...).
//
// # How the stack sits on kernelmodel
//
// There is one sk_buff type, kernelmodel.SKB, grown in place: the drivers,
// NAPI, RPS and the stack all pass the same pointer from the same pool, so
// the receive path allocates nothing per packet (the pool's size classes are
// reused FIFO) and SKBAudit checks every lifetime, stack or driver. The
// buffer geometry is Linux's: the whole buffer is head..end, Data is
// data..tail, Headroom and Tailroom are what lies before and after it.
// Reserve, Push, Put and Pull are skb_reserve/skb_push/skb_put/skb_pull with
// their bounds checked: a push or put beyond the buffer is reported
// (Drops.SKB.Overflow, trace "skb_under_panic"/"skb_over_panic", and the
// skb audit fails) and returns nil instead of panicking. The stack's
// per-layer state lives in SKB.CB (skb->cb, 48 bytes, zeroed on allocation:
// IPCB, NEIGH_CB); SKB.Sk and SKB.Destructor are skb->sk and
// skb->destructor (the destructor runs once on free, before the skb goes
// back to the pool), and SKB.Truesize is skb->truesize (buffer plus the
// struct overhead of SKB_TRUESIZE), what the neighbour queue and later the
// socket buffers charge.
//
// Clones share data as Linux's do: SKBClone (skb_clone) makes a second
// sk_buff for the same buffer, whose dataref (skb_shared_info) counts the
// sharers; the buffer goes back to its pool class only when the last of
// them is freed, and SKBCowHead (skb_cow_head) gives an skb its own copy
// (and headroom) before it writes a shared header. The pool keeps sk_buff
// structs and buffers apart for this (skbuff_head_cache and the data
// classes). Still to come: a refcount (skb->users, skb_get) for the
// ptype_all taps, which today get the skb itself and must not free it.
// Until the socket layer exists no layer shares an skb: a layer that
// answers (ARP reply, ICMP echo reply) allocates a new skb from the pool
// and frees the request.
//
// # Protocol handlers
//
// Handlers register in the kernel model's ptype_base with DevAddPack
// (dev_add_pack), one packet_type per EtherType: neigh.Table registers
// ETH_P_ARP (arp_rcv), ipv4.Stack registers ETH_P_IP with ip_rcv and the
// list handler ip_list_rcv (packet_type.list_func: NAPI's gro_normal_list →
// netif_receive_skb_list hands it runs of consecutive IPv4 skbs; a single
// netif_receive_skb calls ip_rcv). The kernel model calls them after
// eth_type_trans
// has set skb->protocol and pulled the Ethernet header, with
// skb->network_header at Data; a handler owns the skb it is given and frees
// or consumes it on every path. Above IP, ipv4.Stack keeps inet_protos (an
// array by protocol number; ICMP is registered by ipv4 itself, UDP and TCP
// register later with AddProtocol).
//
// Transmit goes down the same way: ip_local_out → ip_output →
// ip_finish_output2 → the neighbour (neigh_output: neigh_hh_output with the
// cached Ethernet header when the entry is connected, neigh_resolve_output
// otherwise, which queues the skb while ARP resolves) → the kernel model's
// DevQueueXmit, which always consumes the skb (no qdisc yet: every device is
// noqueue).
//
// Tunables are per stack, under their sysctl names (net.ipv4.*,
// net.ipv4.neigh.default.*), with Linux 6.1's defaults; counters are named as
// /proc/net/snmp (Ip, Icmp, IcmpMsg) and /proc/net/stat/arp_cache name them.
//
// # Subpackages
//
//	checksum   the Internet checksum (RFC 1071)
//	header     Ethernet/VLAN/IPv4/TCP/UDP/ARP/ICMP headers as byte slices
//	neigh      neighbour table with NUD states, ARP (RFC 826)
//	ipv4       ip_rcv, routing (FIB), ip_local_deliver, ip_forward, netfilter
//	           hooks, ip_output, ICMP
//	tun        a tun device: a raw IP link whose far end is the caller
//	gro        GRO of TCP/IPv4 on each NAPI instance (dev_gro_receive,
//	           inet_gro_receive, tcp_gro_receive, napi_gro_complete);
//	           ipv4.New registers it, as inet_init does
//	gso        software segmentation of TCP/IPv4 GSO skbs for devices
//	           without TSO (inet_gso_segment, tcp_gso_segment), called
//	           by validate_xmit_skb; ipv4.New registers it
//	socket     struct socket/sock: buffers, blocking calls, options, poll
//	udp        udp_rcv, udp_sendmsg, ports, the Udp MIB
//	raw        raw sockets (raw_v4_input, raw_sendmsg, IP_HDRINCL)
//	ping       ICMP echo sockets (SOCK_DGRAM IPPROTO_ICMP, ping_rcv)
//	inet       one host's stack assembled (inet_init), socket(2), PacketConn
//	tcp        TCP's building blocks: options, RTO, congestion control
//	           (reno, cubic), ISNs, SYN cookies, SACK/RACK/PRR, counters
//
// # Sockets
//
// The socket layer sits on ipv4 through two doors (stack/ipv4's
// ip_output.go and datagram.go): RouteOutput/SendSKB/SendHdrinc for
// transmit (ip_route_output_key, ip_make_skb's header, ip_send_skb), and
// on receive the protocol handlers (AddProtocol), raw_local_deliver before
// them, and err_handler for the ICMP errors icmp_unreach passes up. A
// received skb is charged to the socket that queues it (skb_set_owner_r,
// sock_rfree) and a sent one to its sender until the driver frees it
// (skb_set_owner_w, sock_wfree). Calls run on the loop; a blocking one
// takes the kernelmodel Task it sleeps in, and the return from every call
// is a preemption point (exit to user mode). inet.PacketConn is the
// net.PacketConn face for goroutines (real clock) and tasks.
package stack
