package tcp

import "time"

// Seg is one segment of the retransmit queue with the scoreboard state
// Linux keeps in TCP_SKB_CB(skb)->sacked and the skb's send time.
type Seg struct {
	Start, End uint32 // seq, end_seq
	// Sacked is TCPCB_SACKED_ACKED: a SACK block covers the segment.
	Sacked bool
	// Lost is TCPCB_LOST: the segment is deemed lost.
	Lost bool
	// Retrans is TCPCB_SACKED_RETRANS: retransmitted, the
	// retransmission not yet (S)ACKed.
	Retrans bool
	// EverRetrans is TCPCB_EVER_RETRANS.
	EverRetrans bool
	// XmitTime is skb_mstamp_ns: when it was last (re)transmitted.
	XmitTime time.Duration
}

// Len is the segment's length in sequence space.
func (s *Seg) Len() uint32 { return s.End - s.Start }

// Scoreboard is the sender's SACK scoreboard of RFC 6675 over the
// retransmit queue (Linux keeps the same state in the queue's skbs and
// in tcp_sock's sacked_out, lost_out, retrans_out, high_seq). Segs runs in
// sequence order from HighACK, gapless, up to HighData. Sequence
// positions are exclusive ends, as snd_nxt is: HighData is one past the
// last octet sent, HighRxt one past the last octet retransmitted.
type Scoreboard struct {
	Segs []Seg
	// HighACK is SND.UNA, HighData SND.NXT (RFC 6675 section 2).
	HighACK, HighData uint32
	// HighRxt is one past the highest retransmitted octet (HighACK
	// when nothing was).
	HighRxt uint32
	// RescueRxt and RescueValid are RFC 6675's RescueRxt ("undefined"
	// when not valid).
	RescueRxt   uint32
	RescueValid bool
	// RecoveryPoint is HighData when loss recovery began.
	RecoveryPoint uint32
	// SMSS is the sender's MSS, DupThresh the dupack threshold
	// (tcp_reordering, 3).
	SMSS      uint32
	DupThresh int
}

// Update marks the segments a SACK option covers (RFC 6675 section 5's
// Update(), Linux's tcp_sacktag_write_queue for whole segments): a
// segment counts as SACKed when one block covers it entirely; blocks below
// HighACK (D-SACK) mark nothing. It returns the segments newly SACKed.
// A newly SACKed retransmission is no longer in flight.
func (b *Scoreboard) Update(blocks []SACKBlock) int {
	n := 0
	for _, blk := range blocks {
		if !After(blk.End, b.HighACK) {
			continue
		}
		for i := range b.Segs {
			s := &b.Segs[i]
			if s.Sacked || Before(s.Start, blk.Start) || After(s.End, blk.End) {
				continue
			}
			s.Sacked = true
			s.Retrans = false
			n++
		}
	}
	return n
}

// highestSacked is one past the highest SACKed octet (HighACK if none).
func (b *Scoreboard) highestSacked() uint32 {
	for i := len(b.Segs) - 1; i >= 0; i-- {
		if b.Segs[i].Sacked {
			return b.Segs[i].End
		}
	}
	return b.HighACK
}

// IsLost is RFC 6675's IsLost(SeqNum): DupThresh or more SACKed segments
// lie above seq, or more than (DupThresh-1)*SMSS SACKed octets do.
func (b *Scoreboard) IsLost(seq uint32) bool {
	segs, octets := 0, uint32(0)
	for i := range b.Segs {
		s := &b.Segs[i]
		if !s.Sacked || !After(s.Start, seq) {
			continue
		}
		segs++
		octets += s.Len()
		if segs >= b.DupThresh || octets > uint32(b.DupThresh-1)*b.SMSS {
			return true
		}
	}
	return false
}

// Pipe is RFC 6675's SetPipe(): the octets in flight. An unSACKed octet
// between HighACK and HighData counts once if it is not lost, and once
// more if it was retransmitted (below HighRxt). Linux counts the same in
// packets: tcp_packets_in_flight = packets_out - (sacked_out + lost_out) +
// retrans_out.
func (b *Scoreboard) Pipe() uint32 {
	pipe := uint32(0)
	for i := range b.Segs {
		s := &b.Segs[i]
		if s.Sacked {
			continue
		}
		if !b.IsLost(s.Start) {
			pipe += s.Len()
		}
		if Before(s.Start, b.HighRxt) {
			pipe += s.Len()
		}
	}
	return pipe
}

// The rules of NextSeg (RFC 6675 section 4).
const (
	NextSegNone   = 0 // nothing to send
	NextSegLost   = 1 // rule 1: a lost segment not yet retransmitted
	NextSegNew    = 2 // rule 2: new data
	NextSegHole   = 3 // rule 3: a hole below the highest SACK, not yet lost
	NextSegRescue = 4 // rule 4: the rescue retransmission
)

// NextSeg is RFC 6675's NextSeg(): which segment to send next in loss
// recovery. It returns the rule that chose it and, for rules 1, 3 and 4,
// the index of the segment in Segs (for rule 2 the new data starts at
// HighData). canSendNew says whether unsent data is there and the
// receive window allows it. Rule 4 sets RescueRxt as the RFC says;
// Retransmit records the other effects of sending.
func (b *Scoreboard) NextSeg(canSendNew bool) (rule, idx int) {
	hs := b.highestSacked()
	hole := -1
	for i := range b.Segs {
		s := &b.Segs[i]
		if s.Sacked || Before(s.Start, b.HighRxt) || !Before(s.Start, hs) {
			continue
		}
		if b.IsLost(s.Start) {
			return NextSegLost, i
		}
		if hole < 0 {
			hole = i
		}
	}
	if canSendNew {
		return NextSegNew, -1
	}
	if hole >= 0 {
		return NextSegHole, hole
	}
	if !b.RescueValid || After(b.HighACK, b.RescueRxt) {
		for i := len(b.Segs) - 1; i >= 0; i-- {
			if !b.Segs[i].Sacked {
				b.RescueRxt, b.RescueValid = b.RecoveryPoint, true
				return NextSegRescue, i
			}
		}
	}
	return NextSegNone, -1
}

// Retransmit records the retransmission of Segs[i] at now, chosen by
// rule (NextSeg): the segment is in flight again, and HighRxt moves past
// it except for the rescue retransmission (RFC 6675 section 4, rule 4:
// "HighRxt MUST NOT be updated").
func (b *Scoreboard) Retransmit(i int, rule int, now time.Duration) {
	s := &b.Segs[i]
	s.Retrans, s.EverRetrans = true, true
	s.XmitTime = now
	if rule != NextSegRescue && After(s.End, b.HighRxt) {
		b.HighRxt = s.End
	}
}
