package tcpinfo

// CAState is the congestion avoidance state machine's state
// (enum tcp_ca_state, icsk_ca_state).
type CAState uint8

// The CA states.
const (
	CAOpen     CAState = iota // TCP_CA_Open: nothing in doubt
	CADisorder                // TCP_CA_Disorder: SACKs or dupacks seen
	CACWR                     // TCP_CA_CWR: cwnd reduced (ECN, local congestion)
	CARecovery                // TCP_CA_Recovery: fast retransmit
	CALoss                    // TCP_CA_Loss: an RTO, or SACK reneging
)
