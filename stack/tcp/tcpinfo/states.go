package tcpinfo

// State is a connection state (include/net/tcp_states.h; RFC 9293
// section 3.3.2), with Linux's numbers, which /proc/net/tcp prints in
// hex.
type State uint8

// The states.
const (
	StateEstablished State = iota + 1 // TCP_ESTABLISHED
	StateSynSent                      // TCP_SYN_SENT
	StateSynRecv                      // TCP_SYN_RECV
	StateFinWait1                     // TCP_FIN_WAIT1
	StateFinWait2                     // TCP_FIN_WAIT2
	StateTimeWait                     // TCP_TIME_WAIT
	StateClose                        // TCP_CLOSE
	StateCloseWait                    // TCP_CLOSE_WAIT
	StateLastAck                      // TCP_LAST_ACK
	StateListen                       // TCP_LISTEN
	StateClosing                      // TCP_CLOSING
	StateNewSynRecv                   // TCP_NEW_SYN_RECV: a request sock
)

// String is the state as ss prints it (sstate_name of iproute2).
func (s State) String() string {
	switch s {
	case StateEstablished:
		return "ESTAB"
	case StateSynSent:
		return "SYN-SENT"
	case StateSynRecv, StateNewSynRecv:
		return "SYN-RECV"
	case StateFinWait1:
		return "FIN-WAIT-1"
	case StateFinWait2:
		return "FIN-WAIT-2"
	case StateTimeWait:
		return "TIME-WAIT"
	case StateClose:
		return "UNCONN"
	case StateCloseWait:
		return "CLOSE-WAIT"
	case StateLastAck:
		return "LAST-ACK"
	case StateListen:
		return "LISTEN"
	case StateClosing:
		return "CLOSING"
	}
	return "UNKNOWN"
}

// In reports whether s is one of states (Linux tests (1 << state) &
// TCPF_... masks).
func (s State) In(states ...State) bool {
	for _, t := range states {
		if s == t {
			return true
		}
	}
	return false
}
