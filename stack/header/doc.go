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

import "errors"

// ErrMalformed is wrapped by every error the Parse functions return.
var ErrMalformed = errors.New("header: malformed")
