package ipv4

import (
	"fmt"
	"io"
	"strings"
)

// IpMIB is the Ip line of /proc/net/snmp (Linux 6.1's columns).
type IpMIB struct {
	InReceives      uint64
	InHdrErrors     uint64
	InAddrErrors    uint64
	ForwDatagrams   uint64
	InUnknownProtos uint64
	InDiscards      uint64
	InDelivers      uint64
	OutRequests     uint64
	OutDiscards     uint64
	OutNoRoutes     uint64
	ReasmTimeout    uint64
	ReasmReqds      uint64
	ReasmOKs        uint64
	ReasmFails      uint64
	FragOKs         uint64
	FragFails       uint64
	FragCreates     uint64
}

// IpExtMIB is the IpExt part of /proc/net/netstat the model counts.
type IpExtMIB struct {
	InNoRoutes      uint64
	InTruncatedPkts uint64
	InCsumErrors    uint64
	InOctets        uint64
	OutOctets       uint64
}

// IcmpMIB is the Icmp and IcmpMsg lines: the message counts per type (the
// In*/Out* columns of Icmp are these, by type, as Linux derives them).
type IcmpMIB struct {
	InMsgs       uint64
	InErrors     uint64
	InCsumErrors uint64
	OutMsgs      uint64
	OutErrors    uint64
	// RateLimitGlobal and RateLimitHost are icmp_global_allow and
	// icmpv4_xrlim_allow refusals (OutRateLimitGlobal/Host of Linux 6.8;
	// 6.1 does not count them).
	RateLimitGlobal uint64
	RateLimitHost   uint64
	InType          [256]uint64
	OutType         [256]uint64
}

// SNMP is the stack's /proc/net/snmp and IpExt counters.
type SNMP struct {
	Ip    IpMIB
	IpExt IpExtMIB
	Icmp  IcmpMIB
}

// The ICMP types of the Icmp line's columns, in Linux's order.
var icmpColumns = []struct {
	typ  int
	name string
}{
	{3, "DestUnreachs"}, {11, "TimeExcds"}, {12, "ParmProbs"}, {4, "SrcQuenchs"},
	{5, "Redirects"}, {8, "Echos"}, {0, "EchoReps"}, {13, "Timestamps"},
	{14, "TimestampReps"}, {17, "AddrMasks"}, {18, "AddrMaskReps"},
}

// WriteSNMP prints the Ip, Icmp and IcmpMsg lines as /proc/net/snmp does:
// a line of names, then a line of values, for each. IcmpMsg lists only the
// types seen.
func (s *Stack) WriteSNMP(w io.Writer) error {
	ip := &s.SNMP.Ip
	var names, vals strings.Builder
	pair := func(n string, v uint64) {
		names.WriteString(" " + n)
		fmt.Fprintf(&vals, " %d", v)
	}
	flush := func(prefix string) error {
		_, err := fmt.Fprintf(w, "%s:%s\n%s:%s\n", prefix, names.String(), prefix, vals.String())
		names.Reset()
		vals.Reset()
		return err
	}
	fwd := uint64(2) // Forwarding: 1 forwarding, 2 not (RFC 1213 ipForwarding)
	if s.Sysctl.IPForward != 0 {
		fwd = 1
	}
	pair("Forwarding", fwd)
	pair("DefaultTTL", uint64(s.Sysctl.IPDefaultTTL))
	for _, c := range []struct {
		n string
		v uint64
	}{
		{"InReceives", ip.InReceives}, {"InHdrErrors", ip.InHdrErrors}, {"InAddrErrors", ip.InAddrErrors},
		{"ForwDatagrams", ip.ForwDatagrams}, {"InUnknownProtos", ip.InUnknownProtos}, {"InDiscards", ip.InDiscards},
		{"InDelivers", ip.InDelivers}, {"OutRequests", ip.OutRequests}, {"OutDiscards", ip.OutDiscards},
		{"OutNoRoutes", ip.OutNoRoutes}, {"ReasmTimeout", ip.ReasmTimeout}, {"ReasmReqds", ip.ReasmReqds},
		{"ReasmOKs", ip.ReasmOKs}, {"ReasmFails", ip.ReasmFails}, {"FragOKs", ip.FragOKs},
		{"FragFails", ip.FragFails}, {"FragCreates", ip.FragCreates},
	} {
		pair(c.n, c.v)
	}
	if err := flush("Ip"); err != nil {
		return err
	}
	ic := &s.SNMP.Icmp
	pair("InMsgs", ic.InMsgs)
	pair("InErrors", ic.InErrors)
	pair("InCsumErrors", ic.InCsumErrors)
	for _, c := range icmpColumns {
		pair("In"+c.name, ic.InType[c.typ])
	}
	pair("OutMsgs", ic.OutMsgs)
	pair("OutErrors", ic.OutErrors)
	for _, c := range icmpColumns {
		pair("Out"+c.name, ic.OutType[c.typ])
	}
	if err := flush("Icmp"); err != nil {
		return err
	}
	for dir, arr := range [2]*[256]uint64{&ic.InType, &ic.OutType} {
		for t, v := range arr {
			if v != 0 {
				pair(fmt.Sprintf("%sType%d", [2]string{"In", "Out"}[dir], t), v)
			}
		}
	}
	if names.Len() == 0 {
		return nil
	}
	return flush("IcmpMsg")
}
