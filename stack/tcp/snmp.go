package tcp

import (
	"bufio"
	"io"
	"reflect"
	"strconv"
)

// TcpMIB is the Tcp line of /proc/net/snmp (RFC 4022's tcp group as Linux
// 6.1 prints it: TCP_MIB_*). The first four are constants of the
// implementation, filled by NewTcpMIB.
type TcpMIB struct {
	RtoAlgorithm uint64 // 1: other (RFC 6298)
	RtoMin       uint64 // ms: TCP_RTO_MIN
	RtoMax       uint64 // ms: TCP_RTO_MAX
	MaxConn      int64  // -1: no limit (printed signed)
	ActiveOpens  uint64 // SYN_SENT entered from CLOSED
	PassiveOpens uint64 // SYN_RECV entered from LISTEN
	AttemptFails uint64 // SYN_SENT/SYN_RECV to CLOSED, SYN_RECV to LISTEN
	EstabResets  uint64 // ESTABLISHED/CLOSE_WAIT to CLOSED by a reset
	CurrEstab    uint64 // connections in ESTABLISHED or CLOSE_WAIT (a gauge)
	InSegs       uint64 // segments received, errors included
	OutSegs      uint64 // segments sent, retransmissions excluded
	RetransSegs  uint64 // segments retransmitted
	InErrs       uint64 // segments received in error (bad checksum, ...)
	OutRsts      uint64 // segments sent with RST
	InCsumErrors uint64 // segments with a bad checksum
}

// NewTcpMIB returns the Tcp counters with Linux's constants set.
func NewTcpMIB() TcpMIB {
	return TcpMIB{RtoAlgorithm: 1, RtoMin: uint64(TCPRtoMin.Milliseconds()), RtoMax: uint64(TCPRtoMax.Milliseconds()), MaxConn: -1}
}

// TcpExtMIB is the TcpExt lines of /proc/net/netstat (LINUX_MIB_*), every
// column of Linux 6.1 in its order; each field is named as the column.
type TcpExtMIB struct {
	SyncookiesSent            uint64
	SyncookiesRecv            uint64
	SyncookiesFailed          uint64
	EmbryonicRsts             uint64
	PruneCalled               uint64
	RcvPruned                 uint64
	OfoPruned                 uint64
	OutOfWindowIcmps          uint64
	LockDroppedIcmps          uint64
	ArpFilter                 uint64
	TW                        uint64
	TWRecycled                uint64
	TWKilled                  uint64
	PAWSActive                uint64
	PAWSEstab                 uint64
	DelayedACKs               uint64
	DelayedACKLocked          uint64
	DelayedACKLost            uint64
	ListenOverflows           uint64
	ListenDrops               uint64
	TCPHPHits                 uint64
	TCPPureAcks               uint64
	TCPHPAcks                 uint64
	TCPRenoRecovery           uint64
	TCPSackRecovery           uint64
	TCPSACKReneging           uint64
	TCPSACKReorder            uint64
	TCPRenoReorder            uint64
	TCPTSReorder              uint64
	TCPFullUndo               uint64
	TCPPartialUndo            uint64
	TCPDSACKUndo              uint64
	TCPLossUndo               uint64
	TCPLostRetransmit         uint64
	TCPRenoFailures           uint64
	TCPSackFailures           uint64
	TCPLossFailures           uint64
	TCPFastRetrans            uint64
	TCPSlowStartRetrans       uint64
	TCPTimeouts               uint64
	TCPLossProbes             uint64
	TCPLossProbeRecovery      uint64
	TCPRenoRecoveryFail       uint64
	TCPSackRecoveryFail       uint64
	TCPRcvCollapsed           uint64
	TCPDSACKOldSent           uint64
	TCPDSACKOfoSent           uint64
	TCPDSACKRecv              uint64
	TCPDSACKOfoRecv           uint64
	TCPAbortOnData            uint64
	TCPAbortOnClose           uint64
	TCPAbortOnMemory          uint64
	TCPAbortOnTimeout         uint64
	TCPAbortOnLinger          uint64
	TCPAbortFailed            uint64
	TCPMemoryPressures        uint64
	TCPMemoryPressuresChrono  uint64
	TCPSACKDiscard            uint64
	TCPDSACKIgnoredOld        uint64
	TCPDSACKIgnoredNoUndo     uint64
	TCPSpuriousRTOs           uint64
	TCPMD5NotFound            uint64
	TCPMD5Unexpected          uint64
	TCPMD5Failure             uint64
	TCPSackShifted            uint64
	TCPSackMerged             uint64
	TCPSackShiftFallback      uint64
	TCPBacklogCoalesce        uint64
	TCPBacklogDrop            uint64
	PFMemallocDrop            uint64
	TCPMinTTLDrop             uint64
	TCPDeferAcceptDrop        uint64
	IPReversePathFilter       uint64
	TCPTimeWaitOverflow       uint64
	TCPReqQFullDoCookies      uint64
	TCPReqQFullDrop           uint64
	TCPRetransFail            uint64
	TCPRcvCoalesce            uint64
	TCPOFOQueue               uint64
	TCPOFODrop                uint64
	TCPOFOMerge               uint64
	TCPChallengeACK           uint64
	TCPSYNChallenge           uint64
	TCPFastOpenActive         uint64
	TCPFastOpenActiveFail     uint64
	TCPFastOpenPassive        uint64
	TCPFastOpenPassiveFail    uint64
	TCPFastOpenListenOverflow uint64
	TCPFastOpenCookieReqd     uint64
	TCPFastOpenBlackhole      uint64
	TCPSpuriousRtxHostQueues  uint64
	BusyPollRxPackets         uint64
	TCPAutoCorking            uint64
	TCPFromZeroWindowAdv      uint64
	TCPToZeroWindowAdv        uint64
	TCPWantZeroWindowAdv      uint64
	TCPSynRetrans             uint64
	TCPOrigDataSent           uint64
	TCPHystartTrainDetect     uint64
	TCPHystartTrainCwnd       uint64
	TCPHystartDelayDetect     uint64
	TCPHystartDelayCwnd       uint64
	TCPACKSkippedSynRecv      uint64
	TCPACKSkippedPAWS         uint64
	TCPACKSkippedSeq          uint64
	TCPACKSkippedFinWait2     uint64
	TCPACKSkippedTimeWait     uint64
	TCPACKSkippedChallenge    uint64
	TCPWinProbe               uint64
	TCPKeepAlive              uint64
	TCPMTUPFail               uint64
	TCPMTUPSuccess            uint64
	TCPDelivered              uint64
	TCPDeliveredCE            uint64
	TCPAckCompressed          uint64
	TCPZeroWindowDrop         uint64
	TCPRcvQDrop               uint64
	TCPWqueueTooBig           uint64
	TCPFastOpenPassiveAltKey  uint64
	TcpTimeoutRehash          uint64
	TcpDuplicateDataRehash    uint64
	TCPDSACKRecvSegs          uint64
	TCPDSACKIgnoredDubious    uint64
	TCPMigrateReqSuccess      uint64
	TCPMigrateReqFailure      uint64
}

// writeMIB prints a struct of counters as /proc prints a MIB: "Prefix:"
// and the field names, then "Prefix:" and the values, each line ending in
// a newline. Signed fields print signed (MaxConn).
func writeMIB(w io.Writer, prefix string, mib any) error {
	bw := bufio.NewWriter(w)
	v := reflect.ValueOf(mib).Elem()
	t := v.Type()
	bw.WriteString(prefix + ":")
	for i := range t.NumField() {
		bw.WriteString(" " + t.Field(i).Name)
	}
	bw.WriteString("\n" + prefix + ":")
	var num [24]byte
	for i := range t.NumField() {
		bw.WriteByte(' ')
		f := v.Field(i)
		if f.CanInt() {
			bw.Write(strconv.AppendInt(num[:0], f.Int(), 10))
		} else {
			bw.Write(strconv.AppendUint(num[:0], f.Uint(), 10))
		}
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// WriteSNMP prints the Tcp lines of /proc/net/snmp.
func (m *TcpMIB) WriteSNMP(w io.Writer) error { return writeMIB(w, "Tcp", m) }

// WriteNetstat prints the TcpExt lines of /proc/net/netstat.
func (m *TcpExtMIB) WriteNetstat(w io.Writer) error { return writeMIB(w, "TcpExt", m) }
