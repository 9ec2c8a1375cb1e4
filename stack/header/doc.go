// Package header gives names to the bytes of the L2/L3/L4 headers a NIC
// model, a driver and the stack look at: Ethernet, an 802.1Q VLAN tag, IPv4,
// TCP and UDP, after gVisor's pkg/tcpip/header. Each header is a byte slice
// type whose methods read and write its fields in network byte order; the
// field offsets are constants under the RFC's header diagram.
//
// A conversion such as IPv4(b) does no checking and its accessors panic on a
// slice too short for the field, like any slice index. The Parse functions
// (ParseEthernet, ParseIPv4, ...) are the bounds-checked constructors for
// input that may be hostile: they report malformed input with an error
// wrapping ErrMalformed and never panic. Parse splits a whole Ethernet frame
// into its L2, L3 and L4 offsets.
package header

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error the Parse functions return. The
// errors are fixed values, so that rejecting a hostile frame allocates
// nothing on a hot path.
var ErrMalformed = errors.New("header: malformed")

func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }

// The errors of the Parse functions.
var (
	ErrShortEthernet    = malformed("shorter than an Ethernet header")
	ErrShortVLAN        = malformed("shorter than a VLAN tag")
	ErrShortIPv4        = malformed("shorter than an IPv4 header")
	ErrIPVersion        = malformed("IP version not 4")
	ErrIPv4HeaderLength = malformed("IPv4 header length below 20 or beyond the data")
	ErrIPv4TotalLength  = malformed("IPv4 total length below the header or beyond the data")
	ErrShortIPv6        = malformed("shorter than an IPv6 header")
	ErrIPv6Version      = malformed("IP version not 6")
	ErrShortTCP         = malformed("shorter than a TCP header")
	ErrTCPDataOffset    = malformed("TCP data offset below 20 or beyond the segment")
	ErrShortUDP         = malformed("shorter than a UDP header")
	ErrUDPLength        = malformed("UDP length below 8 or beyond the datagram")
)
