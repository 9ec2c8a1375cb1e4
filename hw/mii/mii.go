// Package mii is the IEEE 802.3 clause 22 PHY register set every copper
// NIC model exposes through its MDIO interface (MDIC on Intel parts):
// register numbers and the bits of the standard registers 0–10 and 15.
// Vendor-specific registers (16–31) stay with each NIC.
package mii

// Standard registers.
const (
	PHY_BMCR         = 0x00 // Basic Mode Control
	PHY_BMSR         = 0x01 // Basic Mode Status, RO
	PHY_ID1          = 0x02 // PHY Identifier 1 (OUI bits), RO
	PHY_ID2          = 0x03 // PHY Identifier 2 (OUI, model, revision), RO
	PHY_ANAR         = 0x04 // Autonegotiation Advertisement
	PHY_ANLPAR       = 0x05 // Link Partner Ability, RO
	PHY_ANER         = 0x06 // Autonegotiation Expansion, RO
	PHY_NPTX         = 0x07 // Next Page Transmit
	PHY_LPRNPG       = 0x08 // Link Partner Next Page, RO
	PHY_1000T_CTRL   = 0x09 // 1000BASE-T Control
	PHY_1000T_STATUS = 0x0A // 1000BASE-T Status, RO
	PHY_EXT_STATUS   = 0x0F // Extended Status, RO
)

// PHY_BMCR bits.
const (
	BMCR_SPEED1000 = 1 << 6  // speed select MSB
	BMCR_FULLDPLX  = 1 << 8  // duplex mode
	BMCR_ANRESTART = 1 << 9  // restart autonegotiation, self-clearing
	BMCR_ISOLATE   = 1 << 10 //
	BMCR_PDOWN     = 1 << 11 // power down
	BMCR_ANENABLE  = 1 << 12 // autonegotiation enable
	BMCR_SPEED100  = 1 << 13 // speed select LSB
	BMCR_LOOPBACK  = 1 << 14 //
	BMCR_RESET     = 1 << 15 // PHY reset, self-clearing

	BMCR_RESET_VALUE = BMCR_ANENABLE | BMCR_FULLDPLX | BMCR_SPEED1000
)

// PHY_BMSR bits.
const (
	BMSR_ERCAP        = 1 << 0  // extended register capability
	BMSR_JCD          = 1 << 1  // jabber detected
	BMSR_LSTATUS      = 1 << 2  // link status (latched low)
	BMSR_ANEGCAPABLE  = 1 << 3  // able to autonegotiate
	BMSR_RFAULT       = 1 << 4  // remote fault
	BMSR_ANEGCOMPLETE = 1 << 5  // autonegotiation complete
	BMSR_MFPS         = 1 << 6  // management frame preamble suppression
	BMSR_ESTATEN      = 1 << 8  // extended status in register 15
	BMSR_10HALF       = 1 << 11 //
	BMSR_10FULL       = 1 << 12 //
	BMSR_100HALF      = 1 << 13 //
	BMSR_100FULL      = 1 << 14 //

	BMSR_CAPS = BMSR_ERCAP | BMSR_ANEGCAPABLE | BMSR_MFPS | BMSR_ESTATEN |
		BMSR_10HALF | BMSR_10FULL | BMSR_100HALF | BMSR_100FULL
)

// PHY_ANAR / PHY_ANLPAR bits.
const (
	ANAR_SELECTOR_8023 = 0x0001
	ANAR_10HALF        = 1 << 5
	ANAR_10FULL        = 1 << 6
	ANAR_100HALF       = 1 << 7
	ANAR_100FULL       = 1 << 8
	ANAR_100T4         = 1 << 9
	ANAR_PAUSE         = 1 << 10
	ANAR_ASM_DIR       = 1 << 11
	ANAR_RFAULT        = 1 << 13
	ANLPAR_ACK         = 1 << 14
	ANAR_NPAGE         = 1 << 15

	ANAR_RESET_VALUE = ANAR_SELECTOR_8023 | ANAR_10HALF | ANAR_10FULL | ANAR_100HALF | ANAR_100FULL
)

// PHY_ANER bits.
const (
	ANER_LPANABLE = 1 << 0 // link partner autonegotiation able
	ANER_PAGERX   = 1 << 1 // page received
	ANER_NPABLE   = 1 << 2 // local device next page able
)

// PHY_1000T_CTRL bits.
const (
	GCR_1000T_HD      = 1 << 8  // advertise 1000BASE-T half duplex
	GCR_1000T_FD      = 1 << 9  // advertise 1000BASE-T full duplex
	GCR_PORT_TYPE     = 1 << 10 // repeater / multiport device
	GCR_MS_VALUE      = 1 << 11 // master/slave manual value
	GCR_MS_ENABLE     = 1 << 12 // master/slave manual configuration enable
	GCR_1000T_RESET_V = GCR_1000T_HD | GCR_1000T_FD
)

// PHY_1000T_STATUS bits.
const (
	GSR_IDLE_ERR_MASK = 0xFF
	GSR_LP_1000T_HD   = 1 << 10 // link partner 1000BASE-T half duplex capable
	GSR_LP_1000T_FD   = 1 << 11 // link partner 1000BASE-T full duplex capable
	GSR_REMOTE_RX_OK  = 1 << 12
	GSR_LOCAL_RX_OK   = 1 << 13
	GSR_MS_RESOLUTION = 1 << 14 // 1 = master
	GSR_MS_FAULT      = 1 << 15
)

// PHY_EXT_STATUS bits.
const (
	ESTATUS_1000T_HD = 1 << 12
	ESTATUS_1000T_FD = 1 << 13
)
