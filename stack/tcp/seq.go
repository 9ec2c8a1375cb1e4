package tcp

// Sequence numbers are 32-bit and wrap (RFC 9293 section 3.4): they are
// compared by the sign of their difference, which holds while the two lie
// within 2^31 of each other.

// Before is Linux's before(seq1, seq2): seq1 comes strictly before seq2.
func Before(seq1, seq2 uint32) bool { return int32(seq1-seq2) < 0 }

// After is Linux's after(seq2, seq1): seq1 comes strictly after seq2.
func After(seq1, seq2 uint32) bool { return Before(seq2, seq1) }

// Between is Linux's between(seq1, seq2, seq3): seq2 <= seq1 <= seq3 on the
// circle, going forward from seq2.
func Between(seq1, seq2, seq3 uint32) bool { return seq3-seq2 >= seq1-seq2 }

// SeqMax is the later of a and b.
func SeqMax(a, b uint32) uint32 {
	if After(a, b) {
		return a
	}
	return b
}

// SeqMin is the earlier of a and b.
func SeqMin(a, b uint32) uint32 {
	if Before(a, b) {
		return a
	}
	return b
}
