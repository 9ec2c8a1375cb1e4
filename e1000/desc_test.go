package e1000

import "testing"

func TestDescriptorAccessors(t *testing.T) {
	b := make([]byte, DescSize)
	rx := RxDesc(b)
	rx.SetAddr(0x1122334455667788)
	rx.WriteBack(1514, 0xBEEF, RXD_STAT_DD|RXD_STAT_EOP, RXD_ERR_TCPE, 0x0123)
	want := []byte{0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xEA, 0x05, 0xEF, 0xBE, 0x03, 0x20, 0x23, 0x01}
	if string(b) != string(want) {
		t.Fatalf("RxDesc bytes % x, want % x", b, want)
	}
	if rx.Addr() != 0x1122334455667788 || rx.Length() != 1514 || rx.Checksum() != 0xBEEF ||
		rx.Status() != 3 || rx.Errors() != RXD_ERR_TCPE || rx.Special() != 0x0123 {
		t.Fatalf("RxDesc read back wrong")
	}

	clear(b)
	ctx := TxContextDesc(b)
	ctx.SetIPCSS(14)
	ctx.SetIPCSO(24)
	ctx.SetIPCSE(33)
	ctx.SetTUCSS(34)
	ctx.SetTUCSO(50)
	ctx.SetTUCSE(0)
	ctx.SetTypeLen(65480, TXD_TUCMD_TCP|TXD_TUCMD_IP|TXD_TUCMD_TSE)
	ctx.SetHDRLEN(54)
	ctx.SetMSS(1448)
	if dext, dtyp := TxType(b); !dext || dtyp != TXD_DTYP_CONTEXT {
		t.Fatalf("context TxType = %v %d", dext, dtyp)
	}
	if ctx.IPCSS() != 14 || ctx.IPCSO() != 24 || ctx.IPCSE() != 33 || ctx.TUCSS() != 34 || ctx.TUCSO() != 50 ||
		ctx.PAYLEN() != 65480 || ctx.TUCMD() != TXD_TUCMD_TCP|TXD_TUCMD_IP|TXD_TUCMD_TSE|TXD_TUCMD_DEXT ||
		ctx.HDRLEN() != 54 || ctx.MSS() != 1448 {
		t.Fatalf("context read back wrong: % x", b)
	}

	clear(b)
	dd := TxDataDesc(b)
	dd.SetTypeLen(0xABCDE, TXD_CMD_EOP|TXD_CMD_TSE|TXD_CMD_RS)
	dd.SetPOPTS(TXD_POPTS_IXSM | TXD_POPTS_TXSM)
	if dext, dtyp := TxType(b); !dext || dtyp != TXD_DTYP_DATA {
		t.Fatalf("data TxType = %v %d", dext, dtyp)
	}
	if dd.DTALEN() != 0xABCDE || dd.DCMD() != TXD_CMD_EOP|TXD_CMD_TSE|TXD_CMD_RS|TXD_CMD_DEXT || dd.POPTS() != 3 {
		t.Fatalf("data read back wrong: % x", b)
	}

	clear(b)
	td := TxDesc(b)
	td.SetLength(60)
	td.SetCmd(TXD_CMD_EOP | TXD_CMD_RS)
	td.SetStatus(TXD_STAT_DD)
	if dext, _ := TxType(b); dext || td.Length() != 60 || td.Status() != TXD_STAT_DD {
		t.Fatalf("legacy read back wrong: % x", b)
	}
}

func TestRXBufferSize(t *testing.T) {
	for _, c := range []struct {
		rctl uint32
		want int
	}{
		{RCTL_BSIZE_2048, 2048}, {RCTL_BSIZE_1024, 1024}, {RCTL_BSIZE_512, 512}, {RCTL_BSIZE_256, 256},
		{RCTL_BSEX | RCTL_BSIZE_16384, 16384}, {RCTL_BSEX | RCTL_BSIZE_8192, 8192}, {RCTL_BSEX | RCTL_BSIZE_4096, 4096},
		{RCTL_BSEX, 0},
	} {
		if got := RXBufferSize(c.rctl); got != c.want {
			t.Errorf("RXBufferSize(%#x) = %d, want %d", c.rctl, got, c.want)
		}
	}
}
