package igb

import (
	"encoding/binary"
	"testing"
)

// TestRxDescriptorLayout checks the advanced receive descriptor against
// Linux's union e1000_adv_rx_desc: read.pkt_addr at 0, read.hdr_addr at 8;
// wb.lower.lo_dword.pkt_info at 0, hdr_info at 2, hi_dword.rss at 4
// (csum_ip.ip_id at 4, csum at 6), upper.status_error at 8, length at 12,
// vlan at 14; HDRBUFLEN is hdr_info & 0x7FE0 >> 5.
func TestRxDescriptorLayout(t *testing.T) {
	b := make([]byte, DescSize)
	rd := RxRead(b)
	rd.SetPktAddr(0x1122334455667788)
	rd.SetHdrAddr(0x99AABBCCDDEEFF00)
	if binary.LittleEndian.Uint64(b[0:]) != 0x1122334455667788 || binary.LittleEndian.Uint64(b[8:]) != 0x99AABBCCDDEEFF00 {
		t.Fatalf("read format bytes % x", b)
	}
	if rd.PktAddr() != 0x1122334455667788 || rd.HdrAddr() != 0x99AABBCCDDEEFF00 {
		t.Fatalf("read format read back wrong")
	}

	wb := RxWB(b)
	info := RxInfo(RSSTypeIPv4TCP, PKTTYPE_IPV4|PKTTYPE_TCP, 0x155, true)
	st := uint32(RXD_STAT_DD | RXD_STAT_EOP | RXD_STAT_IPCS | RXD_STAT_L4I | RXD_STAT_VP | RXD_ERR_L4E)
	wb.WriteBack(info, 0x51CCC178, st, 1514, 0x0123)
	pktInfo := binary.LittleEndian.Uint16(b[0:])
	hdrInfo := binary.LittleEndian.Uint16(b[2:])
	if pktInfo&0xF != RSSTypeIPv4TCP || pktInfo>>4 != PKTTYPE_IPV4|PKTTYPE_TCP {
		t.Errorf("pkt_info %#x", pktInfo)
	}
	if (hdrInfo&0x7FE0)>>5 != 0x155 || hdrInfo&0x8000 == 0 {
		t.Errorf("hdr_info %#x: HDRBUFLEN %#x", hdrInfo, (hdrInfo&0x7FE0)>>5)
	}
	if binary.LittleEndian.Uint32(b[4:]) != 0x51CCC178 || binary.LittleEndian.Uint32(b[8:]) != st ||
		binary.LittleEndian.Uint16(b[12:]) != 1514 || binary.LittleEndian.Uint16(b[14:]) != 0x0123 {
		t.Fatalf("write-back bytes % x", b)
	}
	if wb.RSSType() != RSSTypeIPv4TCP || wb.PacketType() != PKTTYPE_IPV4|PKTTYPE_TCP || wb.HdrLen() != 0x155 ||
		wb.RSSHash() != 0x51CCC178 || wb.StatusError() != st || wb.Length() != 1514 || wb.VLAN() != 0x0123 {
		t.Fatalf("write-back read back wrong")
	}
	if wb.IPID() != 0xC178 || wb.Csum() != 0x51CC {
		t.Fatalf("IP ID/checksum view of dword 1: %#x %#x", wb.IPID(), wb.Csum())
	}
	// Linux's E1000_RXDEXT_STATERR_* values and E1000_RXD_STAT_*.
	for _, c := range []struct {
		name      string
		got, want uint32
	}{
		{"DD", RXD_STAT_DD, 0x01}, {"EOP", RXD_STAT_EOP, 0x02}, {"VP", RXD_STAT_VP, 0x08},
		{"UDPCS", RXD_STAT_UDPCS, 0x10}, {"TCPCS", RXD_STAT_L4I, 0x20}, {"IPCS", RXD_STAT_IPCS, 0x40},
		{"TS", RXD_STAT_TS, 0x10000},
		{"CE", RXD_ERR_CE, 0x01000000}, {"SE", RXD_ERR_SE, 0x02000000}, {"SEQ", RXD_ERR_SEQ, 0x04000000},
		{"CXE", RXD_ERR_CXE, 0x10000000}, {"TCPE", RXD_ERR_L4E, 0x20000000}, {"IPE", RXD_ERR_IPE, 0x40000000},
		{"RXE", RXD_ERR_RXE, 0x80000000},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// TestTxDescriptorLayout checks the advanced transmit descriptors against
// Linux's igb_tx_ctxtdesc and igb_tx_olinfo_status/igb_tx_cmd_type: a TSO
// context (MACLEN 14, IPLEN 20, TUCMD IPv4|TCP, MSS 1448, L4LEN 20) and its
// data descriptor.
func TestTxDescriptorLayout(t *testing.T) {
	b := make([]byte, DescSize)
	ctx := TxContext(b)
	ctx.Set(0x0064, 14, 20, TXCTX_TUCMD_IPV4|TXCTX_TUCMD_L4T_TCP, 1448, 20, 1)
	// Linux: vlan_macip_lens = IPLEN | MACLEN << 9 | vlan << 16;
	// type_tucmd_mlhl = DTYP_CTXT | DEXT | tucmd; mss_l4len_idx = l4len << 8 | mss << 16 | idx << 4.
	if got, want := binary.LittleEndian.Uint32(b[0:]), uint32(20|14<<9|0x64<<16); got != want {
		t.Errorf("vlan_macip_lens %#x, want %#x", got, want)
	}
	if got, want := binary.LittleEndian.Uint32(b[8:]), uint32(0x00200000|0x20000000|0x400|0x800); got != want {
		t.Errorf("type_tucmd_mlhl %#x, want %#x", got, want)
	}
	if got, want := binary.LittleEndian.Uint32(b[12:]), uint32(20<<8|1448<<16|1<<4); got != want {
		t.Errorf("mss_l4len_idx %#x, want %#x", got, want)
	}
	if ctx.MACLEN() != 14 || ctx.IPLEN() != 20 || ctx.VLAN() != 0x64 || ctx.MSS() != 1448 || ctx.L4LEN() != 20 ||
		ctx.IDX() != 1 || ctx.TUCMD() != TXCTX_TUCMD_IPV4|TXCTX_TUCMD_L4T_TCP || ctx.DTYP() != TXD_DTYP_CTXT {
		t.Fatalf("context read back wrong: % x", b)
	}
	if dext, dtyp := TxType(b); !dext || dtyp != TXD_DTYP_CTXT {
		t.Fatalf("context TxType = %v %#x", dext, dtyp)
	}

	clear(b)
	d := TxData(b)
	d.Set(0xDEADBEEF000, 1514, TXD_DCMD_EOP|TXD_DCMD_IFCS|TXD_DCMD_RS|TXD_DCMD_TSE, 65000, TXD_POPTS_TXSM|TXD_POPTS_IXSM, 1)
	if got, want := binary.LittleEndian.Uint32(b[8:]), uint32(1514|0x00300000|0x01000000|0x02000000|0x08000000|0x20000000|0x80000000); got != want {
		t.Errorf("cmd_type_len %#x, want %#x", got, want)
	}
	if got, want := binary.LittleEndian.Uint32(b[12:]), uint32(65000<<14|0x300|1<<4); got != want {
		t.Errorf("olinfo_status %#x, want %#x", got, want)
	}
	if d.Addr() != 0xDEADBEEF000 || d.DTALEN() != 1514 || d.PAYLEN() != 65000 || d.IDX() != 1 ||
		d.POPTS() != TXD_POPTS_TXSM|TXD_POPTS_IXSM || d.DTYP() != TXD_DTYP_DATA || d.DD() ||
		d.DCMD() != TXD_DCMD_EOP|TXD_DCMD_IFCS|TXD_DCMD_RS|TXD_DCMD_TSE|TXD_DCMD_DEXT {
		t.Fatalf("data read back wrong: % x", b)
	}
	d.SetDD()
	if !d.DD() || d.PAYLEN() != 65000 || d.IDX() != 1 {
		t.Fatalf("SetDD changed more than DD: % x", b)
	}
	if dext, dtyp := TxType(b); !dext || dtyp != TXD_DTYP_DATA {
		t.Fatalf("data TxType = %v %#x", dext, dtyp)
	}
	// PAYLEN's full 18 bits survive; a larger value is truncated, not spilled.
	d.Set(0, 0, 0, 1<<18-1, 0, 0)
	if d.PAYLEN() != 1<<18-1 || d.Olinfo()&^TXD_PAYLEN_MASK != 0 {
		t.Fatalf("PAYLEN field: olinfo %#x", d.Olinfo())
	}
}
