package header

// TCP option kinds (IANA "TCP Option Kind Numbers"; Linux's TCPOPT_*).
const (
	TCPOptionEOL           = 0   // TCPOPT_EOL, RFC 9293 section 3.2
	TCPOptionNOP           = 1   // TCPOPT_NOP, RFC 9293 section 3.2
	TCPOptionMSS           = 2   // TCPOPT_MSS, RFC 9293 section 3.2
	TCPOptionWindowScale   = 3   // TCPOPT_WINDOW, RFC 7323 section 2
	TCPOptionSACKPermitted = 4   // TCPOPT_SACK_PERM, RFC 2018 section 2
	TCPOptionSACK          = 5   // TCPOPT_SACK, RFC 2018 section 3
	TCPOptionTimestamp     = 8   // TCPOPT_TIMESTAMP, RFC 7323 section 3
	TCPOptionMD5           = 19  // TCPOPT_MD5SIG, RFC 2385
	TCPOptionMPTCP         = 30  // TCPOPT_MPTCP, RFC 8684
	TCPOptionFastOpen      = 34  // TCPOPT_FASTOPEN, RFC 7413
	TCPOptionExperimental  = 254 // TCPOPT_EXP, RFC 6994
)

// TCP option lengths (Linux's TCPOLEN_*): the kind and length bytes
// included.
const (
	TCPOptionMSSLength           = 4  // TCPOLEN_MSS
	TCPOptionWindowScaleLength   = 3  // TCPOLEN_WINDOW
	TCPOptionSACKPermittedLength = 2  // TCPOLEN_SACK_PERM
	TCPOptionTimestampLength     = 10 // TCPOLEN_TIMESTAMP
	TCPOptionSACKBase            = 2  // TCPOLEN_SACK_BASE
	TCPOptionSACKPerBlock        = 8  // TCPOLEN_SACK_PERBLOCK
	// TCPOptionsMaxSize is MAX_TCP_OPTION_SPACE: a data offset of 15
	// words leaves 40 bytes after the fixed header.
	TCPOptionsMaxSize = TCPMaxSize - TCPMinSize
)

// Options is the option bytes of the header: from the fixed header to the
// data offset. The data offset must lie within t (ParseTCP checks it).
func (t TCP) Options() []byte { return t[TCPMinSize:t.DataOffset()] }

// Payload is the segment's data after the header.
func (t TCP) Payload() []byte { return t[t.DataOffset():] }

// NextTCPOption splits the first option off b, the way Linux's
// tcp_parse_options walks the option space: NOP is one byte with no data;
// EOL ends the list (ok is false); any other kind needs a length byte of at
// least 2 that stays within b, and an option that breaks this also ends the
// list (ok false: Linux stops parsing there, it does not reject the
// segment). data excludes the kind and length bytes; rest is what follows.
func NextTCPOption(b []byte) (kind byte, data, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, nil, nil, false
	}
	kind = b[0]
	switch kind {
	case TCPOptionEOL:
		return kind, nil, nil, false
	case TCPOptionNOP:
		return kind, nil, b[1:], true
	}
	if len(b) < 2 {
		return kind, nil, nil, false
	}
	n := int(b[1])
	if n < 2 || n > len(b) {
		return kind, nil, nil, false
	}
	return kind, b[2:n], b[n:], true
}
