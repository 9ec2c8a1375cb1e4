package rss

// Vector is one row of Microsoft's RSS verification suite for IPv4
// ("Verifying the RSS Hash Calculation"): with MicrosoftKey, the hash of
// the address pair and of the 4-tuple (source address, destination
// address, source port, destination port). Device and driver tests check
// their hashes against these.
type Vector struct {
	Dst, Src         [4]byte
	DstPort, SrcPort uint16
	IPv4, IPv4TCP    uint32
}

// Verification is every published IPv4 row.
var Verification = []Vector{
	{[4]byte{161, 142, 100, 80}, [4]byte{66, 9, 149, 187}, 1766, 2794, 0x323e8fc2, 0x51ccc178},
	{[4]byte{65, 69, 140, 83}, [4]byte{199, 92, 111, 2}, 4739, 14230, 0xd718262a, 0xc626b0ea},
	{[4]byte{12, 22, 207, 184}, [4]byte{24, 19, 198, 95}, 38024, 12898, 0xd2d0a5de, 0x5c2b394a},
	{[4]byte{209, 142, 163, 6}, [4]byte{38, 27, 205, 30}, 2217, 48228, 0x82989176, 0xafc7327f},
	{[4]byte{202, 188, 127, 2}, [4]byte{153, 39, 163, 191}, 1303, 44251, 0x5d1809c5, 0x10e828a2},
}

// Vector6 is one row of the suite's IPv6 table: the hash of the address
// pair and of the 4-tuple.
type Vector6 struct {
	Dst, Src         [16]byte
	DstPort, SrcPort uint16
	IPv6, IPv6TCP    uint32
}

// VerificationIPv6 is every published IPv6 row.
var VerificationIPv6 = []Vector6{
	{v6(0x3ffe, 0x2501, 0x200, 3, 0, 0, 0, 1), v6(0x3ffe, 0x2501, 0x200, 0x1fff, 0, 0, 0, 7), 1766, 2794, 0x2cc18cd5, 0x40207d3d},
	{v6(0xff02, 0, 0, 0, 0, 0, 0, 1), v6(0x3ffe, 0x501, 8, 0, 0x260, 0x97ff, 0xfe40, 0xefab), 4739, 14230, 0x0f0c461c, 0xdde51bbf},
	{v6(0xfe80, 0, 0, 0, 0x200, 0xf8ff, 0xfe21, 0x67cf), v6(0x3ffe, 0x1900, 0x4545, 3, 0x200, 0xf8ff, 0xfe21, 0x67cf), 38024, 44251, 0x4b61e985, 0x02d1feef},
}

// v6 is an IPv6 address from its eight 16-bit groups.
func v6(g ...uint16) [16]byte {
	var a [16]byte
	for i, x := range g {
		a[2*i], a[2*i+1] = byte(x>>8), byte(x)
	}
	return a
}
