package tcp

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
)

// WriteSS prints the stack's TCP sockets as `ss -tani` does: for each,
// the state, Recv-Q and Send-Q (a listener's: the accept queue and its
// backlog), the local and peer address, then its tcp_info line (not for
// listeners, nor request socks: their SYN-RECV line is the record's,
// with empty queues). Sockets come listeners first, then by local and peer
// address, so that two runs print alike.
func (t *Table) WriteSS(w io.Writer) error {
	cs := t.Conns()
	key := func(c *Conn) (int, netip.AddrPort, netip.AddrPort) {
		sk := c.sk
		l := 1
		if c.state == StateListen {
			l = 0
		}
		return l, netip.AddrPortFrom(netip.AddrFrom4(sk.RcvSaddr), sk.Sport), netip.AddrPortFrom(netip.AddrFrom4(sk.Daddr), sk.Dport)
	}
	slices.SortFunc(cs, func(a, b *Conn) int {
		la, sa, pa := key(a)
		lb, sb, pb := key(b)
		return cmp.Or(cmp.Compare(la, lb), sa.Compare(sb), pa.Compare(pb))
	})
	fmt.Fprintf(w, "%-11s %-6s %-6s %-21s %s\n", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port")
	var line bytes.Buffer
	for _, c := range cs {
		_, local, peer := key(c)
		rq, sq := c.rcvQueued, int(c.writeSeq-c.sndUna)
		if c.state == StateListen {
			rq, sq = len(c.acceptQ), c.maxBacklog
			peer = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
		}
		pstr := peer.String()
		if peer.Port() == 0 {
			pstr = peer.Addr().String() + ":*"
		}
		if _, err := fmt.Fprintf(w, "%-11s %-6d %-6d %-21s %s\n", c.state, rq, sq, local, pstr); err != nil {
			return err
		}
		if c.state == StateListen || c.state == StateSynRecv && !c.hashed {
			// A request sock has no tcp_info (inet_req_diag_fill).
			continue
		}
		info := c.Info()
		line.Reset()
		info.WriteSS(&line)
		if _, err := fmt.Fprintf(w, "\t%s\n", bytes.TrimSpace(line.Bytes())); err != nil {
			return err
		}
	}
	return nil
}
