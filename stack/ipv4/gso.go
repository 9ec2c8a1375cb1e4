package ipv4

import (
	"github.com/nicbed/nicbed/kernelmodel"
)

// gsoFits is the GSO clause of ip_exceeds_mtu() and the common case of
// ip_finish_output_gso(): a GSO skb (a GRO aggregate being forwarded, or a
// TSO send) whose segments each fit mtu does not exceed it, whatever its
// own length.
func gsoFits(skb *kernelmodel.SKB, mtu int) bool {
	return skb.SKBIsGSO() && kernelmodel.SKBGSOValidateNetworkLen(skb, mtu)
}

// ipFinishOutputGSO is ip_finish_output_gso(): a GSO skb whose segments fit
// the MTU goes on as it is (the device or validate_xmit_skb segments it);
// otherwise it is segmented here (skb_gso_segment without the GSO
// features) and each segment fragmented as needed (ip_fragment, which
// refuses DF with an ICMP fragmentation needed).
func (s *Stack) ipFinishOutputGSO(skb *kernelmodel.SKB, r *Route, mtu int) int {
	k := s.K
	if kernelmodel.SKBGSOValidateNetworkLen(skb, mtu) {
		return s.ipFinishOutput2(skb, r)
	}
	// Checksums done here too: a segment may be fragmented next.
	features := r.Dev.Features &^ (kernelmodel.NETIF_F_TSO | kernelmodel.NETIF_F_TSO_ECN | kernelmodel.NETIF_F_TSO_MANGLEID | kernelmodel.NETIF_F_IP_CSUM)
	segs, err := k.SKBGSOSegment(skb, features)
	if err != nil || segs == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return -kernelmodel.ENOMEM
	}
	k.ConsumeSKB(skb)
	ret := 0
	for seg := segs; seg != nil; {
		next := seg.Next
		seg.Next = nil
		var rc int
		if seg.Len() > mtu {
			rc = s.ipFragment(seg, r, mtu)
		} else {
			rc = s.ipFinishOutput2(seg, r)
		}
		if rc != 0 && ret == 0 {
			ret = rc
		}
		seg = next
	}
	return ret
}
