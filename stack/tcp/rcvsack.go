package tcp

// RcvSACK is the receiver's side of SACK (RFC 2018 section 4, RFC 2883):
// the blocks it reports for data queued out of order — tcp_sock's
// selective_acks and rx_opt.num_sacks, most recently changed first — and
// the pending D-SACK block (duplicate_sack, rx_opt.dsack) for a
// duplicate it received.
type RcvSACK struct {
	NumSACKs  int
	Selective [TCPNumSACKs]SACKBlock
	DSACK     bool
	Duplicate SACKBlock
}

// tcpSACKBlocksExpected is TCP_SACK_BLOCKS_EXPECTED: with more blocks
// than this in play, Linux sends the ACK at once rather than compressing
// it.
const tcpSACKBlocksExpected = 2

// sackExtend is tcp_sack_extend: grow b by [seq, end) if they touch or
// overlap.
func sackExtend(b *SACKBlock, seq, end uint32) bool {
	if !After(seq, b.End) && !After(b.Start, end) {
		if Before(seq, b.Start) {
			b.Start = seq
		}
		if After(end, b.End) {
			b.End = end
		}
		return true
	}
	return false
}

// maybeCoalesce is tcp_sack_maybe_coalesce: the first block, just grown,
// swallows any later block it now touches.
func (r *RcvSACK) maybeCoalesce() {
	for i := 1; i < r.NumSACKs; {
		if sackExtend(&r.Selective[0], r.Selective[i].Start, r.Selective[i].End) {
			r.NumSACKs--
			copy(r.Selective[i:r.NumSACKs], r.Selective[i+1:r.NumSACKs+1])
			continue
		}
		i++
	}
}

// NewOfo is tcp_sack_new_ofo_skb: [seq, end) was queued out of order. A
// block it touches grows and moves to the front (RFC 2018: the first
// block reports the most recent segment); otherwise a new block goes in
// front and, with four already, the oldest is forgotten. It reports
// whether Linux would send the ACK at once (more than
// TCP_SACK_BLOCKS_EXPECTED blocks involved: tcp_sack_compress_send_ack).
func (r *RcvSACK) NewOfo(seq, end uint32) (ackNow bool) {
	for i := 0; i < r.NumSACKs; i++ {
		if sackExtend(&r.Selective[i], seq, end) {
			ackNow = i >= tcpSACKBlocksExpected
			for ; i > 0; i-- {
				r.Selective[i], r.Selective[i-1] = r.Selective[i-1], r.Selective[i]
			}
			if r.NumSACKs > 1 {
				r.maybeCoalesce()
			}
			return ackNow
		}
	}
	ackNow = r.NumSACKs >= tcpSACKBlocksExpected
	n := min(r.NumSACKs, TCPNumSACKs-1)
	copy(r.Selective[1:n+1], r.Selective[:n])
	r.Selective[0] = SACKBlock{seq, end}
	r.NumSACKs = n + 1
	return ackNow
}

// Remove is tcp_sack_remove: rcv_nxt advanced; the blocks it covers go
// (all of them once the out-of-order queue is empty).
func (r *RcvSACK) Remove(rcvNxt uint32, ofoEmpty bool) {
	if ofoEmpty {
		r.NumSACKs = 0
		return
	}
	n := 0
	for _, b := range r.Selective[:r.NumSACKs] {
		if Before(rcvNxt, b.Start) {
			r.Selective[n] = b
			n++
		}
	}
	r.NumSACKs = n
}

// DSACKSet is tcp_dsack_set: report [seq, end) as received twice (RFC 2883
// section 4), if SACK is in use and net.ipv4.tcp_dsack is on; a duplicate
// below rcv_nxt counts TCPDSACKOldSent, one above TCPDSACKOfoSent.
func (r *RcvSACK) DSACKSet(sys *Sysctl, sackOK bool, seq, end, rcvNxt uint32, mib *TcpExtMIB) {
	if !sackOK || sys.DSACK == 0 {
		return
	}
	if mib != nil {
		if Before(seq, rcvNxt) {
			mib.TCPDSACKOldSent++
		} else {
			mib.TCPDSACKOfoSent++
		}
	}
	r.DSACK = true
	r.Duplicate = SACKBlock{seq, end}
}

// DSACKExtend is tcp_dsack_extend: grow the pending D-SACK block, or set
// one.
func (r *RcvSACK) DSACKExtend(sys *Sysctl, sackOK bool, seq, end, rcvNxt uint32, mib *TcpExtMIB) {
	if !r.DSACK {
		r.DSACKSet(sys, sackOK, seq, end, rcvNxt, mib)
		return
	}
	sackExtend(&r.Duplicate, seq, end)
}

// InOrderDuplicate is what tcp_data_queue does with a segment [seq, end)
// that does not start at rcv_nxt from the left: wholly below rcv_nxt it
// is a retransmission, reported whole as D-SACK (and ACKed at once:
// ackNow); overlapping rcv_nxt, its old part is reported.
func (r *RcvSACK) InOrderDuplicate(sys *Sysctl, sackOK bool, seq, end, rcvNxt uint32, mib *TcpExtMIB) (ackNow bool) {
	switch {
	case !After(end, rcvNxt):
		r.DSACKSet(sys, sackOK, seq, end, rcvNxt, mib)
		return true
	case Before(seq, rcvNxt):
		r.DSACKSet(sys, sackOK, seq, rcvNxt, rcvNxt, mib)
	}
	return false
}

// Blocks is what tcp_established_options sends: the D-SACK block (if
// any, first) and the SACK blocks.
func (r *RcvSACK) Blocks() (dsack, sacks []SACKBlock) {
	if r.DSACK {
		dsack = []SACKBlock{r.Duplicate}
	}
	return dsack, r.Selective[:r.NumSACKs]
}

// Sent is tcp_options_write's end: a D-SACK block is reported once.
func (r *RcvSACK) Sent() { r.DSACK = false }
