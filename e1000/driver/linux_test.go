package driver_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// regWrite is one register write the driver made, and whether the carrier
// was on and the driver knew the link speed when it did.
type regWrite struct {
	off, v    uint32
	carrier   bool
	linkSpeed int
}

// logWrites records every register write of h's driver from now on.
func logWrites(h *hostileHost) *[]regWrite {
	var log []regWrite
	h.dev.onWrite = func(off, v uint32) {
		speed, _ := h.a.Link()
		log = append(log, regWrite{off, v, h.nd.NetifCarrierOK(), speed})
	}
	return &log
}

// TestLinuxRegisterOrder checks the register writes of ip link down and up
// against Linux 6.1's e1000:
//   - e1000_clean_tx_ring and e1000_clean_rx_ring write 0 to TDH, TDT, RDH
//     and RDT after the MAC reset of e1000_down;
//   - the receiver is enabled (RCTL.EN) only after the receive ring is
//     programmed (e1000_setup_rctl leaves EN alone, e1000_configure_rx sets
//     it last);
//   - the transmitter is enabled (TCTL.EN) by the watchdog at link up, not
//     by e1000_configure_tx;
//   - CTRL.VME is set (e1000_vlan_mode with the VLAN offloads on).
//
// The driver before this set RCTL.EN in setupRctl (before RDBAL/RDLEN),
// TCTL.EN in configureTx, left the head and tail registers to the reset, and
// never set VME.
func TestLinuxRegisterOrder(t *testing.T) {
	h := linkedHostileHost(t, driver.Options{})
	clk := h.k.Clock()
	log := logWrites(h)
	h.task(t, "ip-link-down", func(task *kernelmodel.Task) error { return h.nd.DevClose(task) })
	down := len(*log)
	h.task(t, "ip-link-up", func(task *kernelmodel.Task) error { return h.nd.DevOpen(task) })
	clk.RunFor(10 * time.Millisecond)
	if !h.nd.NetifCarrierOK() {
		t.Fatal("no carrier after ip link up")
	}
	w := *log

	// Down: after the last CTRL.RST, each of TDH, TDT, RDH, RDT written 0.
	lastRST := -1
	for i, x := range w[:down] {
		if x.off == e1000.CTRL && x.v&e1000.CTRL_RST != 0 {
			lastRST = i
		}
	}
	if lastRST < 0 {
		t.Fatal("ip link down did not reset the MAC")
	}
	for _, reg := range []uint32{e1000.TDH, e1000.TDT, e1000.RDH, e1000.RDT} {
		found := false
		for _, x := range w[lastRST:down] {
			if x.off == reg && x.v == 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("ip link down: register %#x not written 0 after the reset (e1000_clean_*_ring)", reg)
		}
	}

	// Up: RCTL.EN only after the ring registers.
	programmed := map[uint32]bool{}
	rxOn, vme := false, false
	for _, x := range w[down:] {
		switch x.off {
		case e1000.RDBAL, e1000.RDBAH, e1000.RDLEN, e1000.RDH, e1000.RDT:
			programmed[x.off] = true
		case e1000.RCTL:
			if x.v&e1000.RCTL_EN != 0 && !rxOn {
				rxOn = true
				if len(programmed) != 5 {
					t.Errorf("RCTL.EN set with only %d of RDBAL/RDBAH/RDLEN/RDH/RDT written", len(programmed))
				}
			}
		case e1000.TCTL:
			if x.v&e1000.TCTL_EN != 0 && x.linkSpeed == 0 {
				t.Errorf("TCTL.EN written (%#x) before the watchdog saw the link up", x.v)
			}
		case e1000.CTRL:
			vme = x.v&e1000.CTRL_VME != 0
		}
	}
	if !rxOn {
		t.Error("receiver never enabled")
	}
	if !vme {
		t.Error("CTRL.VME not set: VLAN tags are neither stripped nor inserted")
	}
	if tctl := h.dev.regs[e1000.TCTL]; tctl&e1000.TCTL_EN == 0 {
		t.Errorf("transmitter off after link up: TCTL %#x", tctl)
	}
}

// tcpSKB is an IPv4/TCP frame of n bytes for h's driver.
func tcpSKB(h *hostileHost, n int) *kernelmodel.SKB {
	skb := h.k.AllocSKB(n)
	p := skb.Put(n)
	binary.BigEndian.PutUint16(p[12:], kernelmodel.ETH_P_IP)
	p[14], p[23], p[46] = 0x45, 6, 5<<4
	skb.Dev = h.nd
	return skb
}

// txDescs returns the transmit descriptors the driver filled from slot
// first: (length, command, special) of each data descriptor, skipping
// context descriptors.
func txDescs(h *hostileHost, first, n int) (lens []int, cmds []uint8, specials []uint16) {
	ring := h.dev.ring(h.mem, e1000.TDBAL, e1000.TDLEN)
	for s := first; s < first+n; s++ {
		d := ring[s*16 : s*16+16]
		dext, dtyp := e1000.TxType(d)
		switch {
		case dext && dtyp == e1000.TXD_DTYP_CONTEXT:
			continue
		case dext:
			dd := e1000.TxDataDesc(d)
			lens = append(lens, int(dd.DTALEN()))
			cmds = append(cmds, dd.DCMD())
			specials = append(specials, dd.Special())
		default:
			ld := e1000.TxDesc(d)
			lens = append(lens, int(ld.Length()))
			cmds = append(cmds, ld.Cmd())
			specials = append(specials, ld.Special())
		}
	}
	return
}

// TestTSODescriptorSplit: a TSO frame's data is split into descriptors of
// min(MSS × 4, 4096) bytes (e1000_xmit_frame's max_per_txd), not a power of
// two below it (which the driver used before: 2048 for an MSS of 536).
func TestTSODescriptorSplit(t *testing.T) {
	tests := []struct {
		mss, n  int
		wantLen int // every data descriptor but the last
	}{
		{mss: 536, n: 10000, wantLen: 2144},
		{mss: 1448, n: 20000, wantLen: 4096},
		{mss: 700, n: 6000, wantLen: 2800},
	}
	for _, tc := range tests {
		h := linkedHostileHost(t, driver.Options{})
		skb := tcpSKB(h, tc.n)
		skb.GSOSize = uint16(tc.mss)
		if rc := h.a.StartXmit(skb); rc != kernelmodel.NETDEV_TX_OK {
			t.Fatalf("mss %d: xmit %v", tc.mss, rc)
		}
		lens, _, _ := txDescs(h, 0, int(h.dev.regs[e1000.TDT]))
		total := 0
		for i, l := range lens {
			total += l
			if i < len(lens)-1 && l != tc.wantLen {
				t.Errorf("mss %d: data descriptor %d carries %d bytes, want %d (lengths %v)", tc.mss, i, l, tc.wantLen, lens)
			}
		}
		if want := (tc.n + tc.wantLen - 1) / tc.wantLen; total != tc.n || len(lens) != want {
			t.Errorf("mss %d: %d data descriptors with %d bytes, want %d with %d", tc.mss, len(lens), total, want, tc.n)
		}
	}
}

// TestErrorCounters: the error counters as Linux's e1000 computes them.
// ethtool -S rx_errors is RXERRC alone (stats.rxerrc), while the
// net_device's rx_errors (ip -s link) adds CRC, alignment, length and
// carrier extension errors; tx_carrier_errors is TNCRS, in full duplex too
// (Linux zeroes it only on the 82543). The driver before this printed the
// sum as ethtool's rx_errors and zeroed tx_carrier_errors in full duplex.
func TestErrorCounters(t *testing.T) {
	h := linkedHostileHost(t, driver.Options{})
	if speed, fd := h.a.Link(); speed == 0 || !fd {
		t.Fatalf("link %d Mb/s, full duplex %v", speed, fd)
	}
	regs := map[uint32]uint32{
		e1000.RXERRC: 3, e1000.CRCERRS: 5, e1000.ALGNERRC: 7, e1000.RUC: 11, e1000.ROC: 13,
		e1000.CEXTERR: 17, e1000.TNCRS: 19, e1000.ECOL: 23, e1000.LATECOL: 29,
	}
	for off, v := range regs {
		h.dev.regs[off] = v
	}
	st := map[string]uint64{}
	for _, s := range h.a.EthtoolStats() { // reads the registers once
		st[s.Name] = s.Value
	}
	for off := range regs {
		h.dev.regs[off] = 0
	}
	want := map[string]uint64{
		"rx_errors": 3, "rx_crc_errors": 5, "rx_align_errors": 7, "rx_frame_errors": 7,
		"rx_length_errors": 24, "rx_short_length_errors": 11, "rx_long_length_errors": 13,
		"tx_carrier_errors": 19, "tx_errors": 52, "tx_aborted_errors": 23, "tx_window_errors": 29,
	}
	for name, v := range want {
		if st[name] != v {
			t.Errorf("ethtool %s = %d, want %d", name, st[name], v)
		}
	}
	ns := h.nd.Stats
	if want := uint64(3 + 5 + 7 + 11 + 13 + 17); ns.RxErrors != want {
		t.Errorf("net_device rx_errors %d, want %d", ns.RxErrors, want)
	}
	if ns.TxCarrierErrors != 19 {
		t.Errorf("net_device tx_carrier_errors %d in full duplex, want 19", ns.TxCarrierErrors)
	}
	if ns.TxErrors != 52 || ns.RxLengthErrors != 24 || ns.RxCRCErrors != 5 {
		t.Errorf("net_device tx_errors %d rx_length_errors %d rx_crc_errors %d", ns.TxErrors, ns.RxLengthErrors, ns.RxCRCErrors)
	}
}

// TestVLANOffload: with Linux's default VLAN offloads, a received frame
// whose tag the MAC stripped (VP) reaches the stack untagged with its VLAN
// ID in skb.VLANTCI (the priority bits dropped, as Linux's
// E1000_RXD_SPC_VLAN_MASK does), and a frame sent with a tag goes out with
// VLE and the tag in the special field of every descriptor, for the MAC to
// insert. Before, VP was ignored (the tag lost) and VLANTCI never sent.
func TestVLANOffload(t *testing.T) {
	h := linkedHostileHost(t, driver.Options{})
	clk := h.k.Clock()
	if h.nd.Features&kernelmodel.NETIF_F_HW_VLAN == 0 {
		t.Error("NETIF_F_HW_VLAN not offered")
	}

	// Receive: priority 3, VLAN 5.
	rx := h.dev.ring(h.mem, e1000.RDBAL, e1000.RDLEN)
	desc := e1000.RxDesc(rx[:16])
	copy(h.viewRx(t, desc, 60), h.nd.Addr[:])
	desc.WriteBack(60, 0, e1000.RXD_STAT_DD|e1000.RXD_STAT_EOP|e1000.RXD_STAT_VP, 0, 3<<13|5)
	h.dev.raise(e1000.ICR_RXT0)
	clk.RunFor(time.Millisecond)
	if h.delivered != 1 || h.lastVLAN != 5 {
		t.Errorf("delivered %d frames, last with VLANTCI %#x, want 1 with 0x005", h.delivered, h.lastVLAN)
	}

	// Transmit: a plain frame (legacy descriptor) and a checksum-offload
	// frame (context + data descriptors), both tagged.
	for _, csum := range []bool{false, true} {
		first := int(h.dev.regs[e1000.TDT])
		skb := tcpSKB(h, 3000)
		if csum {
			skb.IPSummed = kernelmodel.CHECKSUM_PARTIAL
			skb.CsumStart, skb.CsumOffset = 34, 16
		}
		skb.VLANTCI = 2<<13 | 7
		if rc := h.a.StartXmit(skb); rc != kernelmodel.NETDEV_TX_OK {
			t.Fatalf("xmit: %v", rc)
		}
		_, cmds, specials := txDescs(h, first, int(h.dev.regs[e1000.TDT])-first)
		if len(cmds) == 0 {
			t.Fatal("no data descriptors")
		}
		for i := range cmds {
			if cmds[i]&e1000.TXD_CMD_VLE == 0 || specials[i] != 2<<13|7 {
				t.Errorf("checksum offload %v: descriptor %d command %#x special %#x, want VLE and 0x4007", csum, i, cmds[i], specials[i])
			}
		}
	}
	// An untagged frame has neither.
	first := int(h.dev.regs[e1000.TDT])
	if rc := h.a.StartXmit(tcpSKB(h, 100)); rc != kernelmodel.NETDEV_TX_OK {
		t.Fatalf("xmit: %v", rc)
	}
	_, cmds, specials := txDescs(h, first, 1)
	if cmds[0]&e1000.TXD_CMD_VLE != 0 || specials[0] != 0 {
		t.Errorf("untagged frame: command %#x special %#x", cmds[0], specials[0])
	}
}

// viewRx is the buffer of receive descriptor d, n bytes, as the device
// writes it.
func (h *hostileHost) viewRx(t *testing.T, d e1000.RxDesc, n int) []byte {
	t.Helper()
	b, ok := h.mem.View(dma.Addr(d.Addr()), n)
	if !ok {
		t.Fatalf("receive buffer at %#x not mapped", d.Addr())
	}
	return b
}

// TestVLANTwoHosts: a tagged skb sent by host A leaves with the tag the
// MAC inserted (VLE) and arrives at host B untagged with the VLAN ID in
// skb.VLANTCI (B's MAC stripped it: VP), the payload intact.
func TestVLANTwoHosts(t *testing.T) {
	tb := upE1000(t, driver.Options{})
	var got []uint16
	var payload []byte
	tb.B.Kernel.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_ALL, Func: func(skb *kernelmodel.SKB) {
		got = append(got, skb.VLANTCI)
		payload = append(payload[:0], skb.Data...)
		tb.B.Kernel.ConsumeSKB(skb) // the tap's reference
	}})
	for _, tci := range []uint16{0x0123, 0xE00A} {
		err := tb.RunTask(tb.A, "send", time.Second, func(task *kernelmodel.Task) error {
			k := tb.A.Kernel
			skb := k.AllocSKB(100)
			p := skb.Put(100)
			copy(p, tb.B.Dev.Addr[:])
			copy(p[6:], tb.A.Dev.Addr[:])
			binary.BigEndian.PutUint16(p[12:], 0x88B6)
			for i := 14; i < len(p); i++ {
				p[i] = byte(i)
			}
			skb.VLANTCI = tci
			skb.Dev = tb.A.Dev
			k.DevQueueXmit(skb)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// (QEMU's e1000 holds receive for a second after an RCTL write.)
	tb.Clock.RunWhile(func() bool { return len(got) < 2 }, tb.Clock.Now()+3*time.Second)
	if len(got) != 2 || got[0] != 0x123 || got[1] != 0x00A {
		t.Fatalf("B received VLAN IDs %#x, want [0x123 0xa]", got)
	}
	if len(payload) != 86 || payload[0] != 14 || payload[85] != 99 {
		t.Errorf("payload after the stripped tag: %d bytes % x...", len(payload), payload[:min(4, len(payload))])
	}
	if tx, rx := testbed.E1000Of(tb.A).Model.Counters(), testbed.E1000Of(tb.B).Model.Counters(); tx.RxVLANFiltered+rx.RxVLANFiltered != 0 {
		t.Errorf("frames VLAN-filtered")
	}
}
