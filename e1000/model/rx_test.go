package model

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/stack/checksum"
)

// mtaHash is the multicast table index of addr for RCTL.MO = mo, computed
// the way a driver does.
func mtaHash(addr [6]byte, mo int) uint32 {
	var h uint32
	switch mo {
	case 0:
		h = uint32(addr[4])>>4 | uint32(addr[5])<<4
	case 1:
		h = uint32(addr[4])>>3 | uint32(addr[5])<<5
	case 2:
		h = uint32(addr[4])>>2 | uint32(addr[5])<<6
	case 3:
		h = uint32(addr[4]) | uint32(addr[5])<<8
	}
	return h & 0xFFF
}

func setMTA(r *rig, addr [6]byte, mo int) {
	h := mtaHash(addr, mo)
	off := e1000.MTA + 4*(h>>5)
	r.wr(off, r.rd(off)|1<<(h&31))
}

func TestRxFilter(t *testing.T) {
	mcast := [6]byte{0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB}
	other := [6]byte{0x01, 0x00, 0x5E, 0x7F, 0x12, 0x34}
	stranger := [6]byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	extra := [6]byte{0x02, 0x99, 0x88, 0x77, 0x66, 0x55}
	for _, c := range []struct {
		name   string
		rctl   uint32
		setup  func(r *rig)
		dst    [6]byte
		accept bool
		pif    bool
	}{
		{"own address", 0, nil, testMAC, true, false},
		{"other unicast", 0, nil, stranger, false, false},
		{"other unicast, UPE", e1000.RCTL_UPE, nil, stranger, true, true},
		{"broadcast without BAM", 0, nil, bcastMAC, false, false},
		{"broadcast with BAM", e1000.RCTL_BAM, nil, bcastMAC, true, false},
		{"multicast, no MTA bit", 0, nil, mcast, false, false},
		{"multicast, MPE", e1000.RCTL_MPE, nil, mcast, true, true},
		{"unicast, MPE only", e1000.RCTL_MPE, nil, stranger, false, false},
		{"RA[5] with AV", 0, func(r *rig) {
			r.wr(e1000.RAL(5), binary.LittleEndian.Uint32(extra[:]))
			r.wr(e1000.RAH(5), uint32(binary.LittleEndian.Uint16(extra[4:]))|e1000.RAH_AV)
		}, extra, true, false},
		{"RA[5] without AV", 0, func(r *rig) {
			r.wr(e1000.RAL(5), binary.LittleEndian.Uint32(extra[:]))
			r.wr(e1000.RAH(5), uint32(binary.LittleEndian.Uint16(extra[4:])))
		}, extra, false, false},
		{"RA[0] invalidated", 0, func(r *rig) { r.wr(e1000.RAH0, 0) }, testMAC, false, false},
		{"multicast exact in RA[1]", 0, func(r *rig) {
			r.wr(e1000.RAL(1), binary.LittleEndian.Uint32(mcast[:]))
			r.wr(e1000.RAH(1), uint32(binary.LittleEndian.Uint16(mcast[4:]))|e1000.RAH_AV)
		}, mcast, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpt{})
			r.setupRx(8, 2048, c.rctl|e1000.RCTL_SECRC)
			if c.setup != nil {
				c.setup(r)
			}
			r.dev.Receive(ethFrame(c.dst, peerMAC, 0x88B5, pattern(64, 3)))
			f, descs := r.rxPop()
			if (f != nil) != c.accept {
				t.Fatalf("accepted %v, want %v", f != nil, c.accept)
			}
			if f != nil && (descs[0].Status()&e1000.RXD_STAT_PIF != 0) != c.pif {
				t.Fatalf("PIF %v, want %v", descs[0].Status()&e1000.RXD_STAT_PIF != 0, c.pif)
			}
		})
	}
	// The multicast table, each MO: the addressed bit accepts, a
	// neighbouring address that hashes elsewhere does not.
	for mo := range 4 {
		r := newRig(t, rigOpt{})
		r.setupRx(8, 2048, uint32(mo)<<e1000.RCTL_MO_SHIFT)
		setMTA(r, mcast, mo)
		if mtaHash(other, mo) == mtaHash(mcast, mo) {
			t.Fatalf("test addresses collide for MO %d", mo)
		}
		r.dev.Receive(ethFrame(mcast, peerMAC, 0x88B5, pattern(64, 3)))
		r.dev.Receive(ethFrame(other, peerMAC, 0x88B5, pattern(64, 3)))
		if got := r.dev.Counters().RxFrames; got != 1 {
			t.Fatalf("MO %d: %d frames accepted, want 1", mo, got)
		}
		f, descs := r.rxPop()
		if f == nil || !bytes.Equal(f[:6], mcast[:]) || descs[0].Status()&e1000.RXD_STAT_PIF == 0 {
			t.Fatalf("MO %d: wrong frame accepted or PIF clear", mo)
		}
		if got := r.rd(e1000.MPRC); got != 1 {
			t.Fatalf("MO %d: MPRC %d", mo, got)
		}
	}
}

func TestRxWriteBack(t *testing.T) {
	payload := pattern(1500, 9)
	frame := ethFrame(testMAC, peerMAC, 0x88B5, payload) // 1514 bytes
	fcs := crc32.ChecksumIEEE(frame)
	for _, c := range []struct {
		name    string
		bufSize int
		rctl    uint32
		descs   int
		withFCS bool
	}{
		{"2048 buffers, FCS kept", 2048, e1000.RCTL_BSIZE_2048, 1, true},
		{"2048 buffers, SECRC", 2048, e1000.RCTL_BSIZE_2048 | e1000.RCTL_SECRC, 1, false},
		{"256 buffers, FCS kept", 256, e1000.RCTL_BSIZE_256, 6, true},                  // 1518 = 5×256 + 238
		{"512 buffers, SECRC", 512, e1000.RCTL_BSIZE_512 | e1000.RCTL_SECRC, 3, false}, // 1514 = 2×512 + 490
		{"1024 buffers, FCS straddles", 1024, e1000.RCTL_BSIZE_1024, 2, true},
		{"4096 buffers, BSEX", 4096, e1000.RCTL_BSEX | e1000.RCTL_BSIZE_4096, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpt{})
			r.setupRx(16, c.bufSize, c.rctl)
			// A guard byte right after each buffer's share must stay.
			for _, b := range r.rxBufs {
				for i := range b.Bytes {
					b.Bytes[i] = 0xA5
				}
			}
			r.dev.Receive(frame)
			got, descs := r.rxPop()
			want := frame
			if c.withFCS {
				want = binary.LittleEndian.AppendUint32(append([]byte(nil), frame...), fcs)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("stored %d bytes, want %d (FCS %v)", len(got), len(want), c.withFCS)
			}
			if len(descs) != c.descs {
				t.Fatalf("%d descriptors, want %d", len(descs), c.descs)
			}
			for i, d := range descs {
				eop := d.Status()&e1000.RXD_STAT_EOP != 0
				if eop != (i == len(descs)-1) {
					t.Fatalf("descriptor %d EOP %v", i, eop)
				}
				if i < len(descs)-1 && int(d.Length()) != c.bufSize {
					t.Fatalf("descriptor %d length %d, want full buffer %d", i, d.Length(), c.bufSize)
				}
				if d.Errors() != 0 {
					t.Fatalf("descriptor %d errors %#x", i, d.Errors())
				}
				if i < len(descs)-1 && r.rxBufs[i].Bytes[c.bufSize-1] == 0xA5 && want[(i+1)*c.bufSize-1] != 0xA5 {
					t.Fatalf("buffer %d not filled", i)
				}
			}
			last := descs[len(descs)-1]
			if last.Status()&e1000.RXD_STAT_IXSM == 0 {
				t.Fatalf("non-IP frame without IXSM: status %#x", last.Status())
			}
			// Packet checksum from PCSS = 0 over the frame.
			if got, want := last.Checksum(), checksum.Checksum(frame, 0); got != want {
				t.Fatalf("packet checksum %#04x, want %#04x", got, want)
			}
			if r.rd(e1000.RDH) != uint32(c.descs) {
				t.Fatalf("RDH %d, want %d", r.rd(e1000.RDH), c.descs)
			}
			if r.rd(e1000.GPRC) != 1 || r.rd(e1000.PRC1522) != 1 || r.rd(e1000.GORCL) != 1518 {
				t.Fatalf("statistics not counted")
			}
		})
	}
}

// ipv4Packet builds an Ethernet/IPv4 frame with a TCP or UDP payload and
// correct checksums.
func ipv4Packet(dst [6]byte, proto uint8, payload []byte) []byte {
	l4Len := 20
	if proto == 17 {
		l4Len = 8
	}
	ip := make([]byte, 20+l4Len+len(payload))
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	binary.BigEndian.PutUint16(ip[4:], 0x1234)
	ip[6] = 0x40 // DF
	ip[8] = 64
	ip[9] = proto
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(ip[10:], ^checksum.Checksum(ip[:20], 0))
	l4 := ip[20:]
	binary.BigEndian.PutUint16(l4[0:], 12345)
	binary.BigEndian.PutUint16(l4[2:], 80)
	csumAt := 16
	if proto == 6 {
		binary.BigEndian.PutUint32(l4[4:], 1000)
		l4[12] = 5 << 4
		l4[13] = 0x18
		binary.BigEndian.PutUint16(l4[14:], 65535)
	} else {
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
		csumAt = 6
	}
	copy(l4[l4Len:], payload)
	binary.BigEndian.PutUint16(l4[csumAt:], ^pseudoSum(ip[12:16], ip[16:20], proto, l4))
	return ethFrame(dst, peerMAC, 0x0800, ip)
}

// pseudoSum is the folded sum of the IPv4 pseudo-header and l4.
func pseudoSum(src, dst []byte, proto uint8, l4 []byte) uint16 {
	ph := append(append(append([]byte(nil), src...), dst...), 0, proto, byte(len(l4)>>8), byte(len(l4)))
	s := uint32(checksum.Checksum(ph, 0)) + uint32(checksum.Checksum(l4, 0))
	for s>>16 != 0 {
		s = s>>16 + s&0xFFFF
	}
	return uint16(s)
}

func TestRxChecksumOffload(t *testing.T) {
	good := ipv4Packet(testMAC, 6, pattern(100, 1))
	badIP := append([]byte(nil), good...)
	badIP[14+10] ^= 0xFF
	badTCP := append([]byte(nil), good...)
	badTCP[len(badTCP)-1] ^= 0x01
	udp := ipv4Packet(testMAC, 17, pattern(33, 2))
	badUDP := append([]byte(nil), udp...)
	badUDP[len(badUDP)-3] ^= 0x10
	noUDPsum := append([]byte(nil), udp...)
	binary.BigEndian.PutUint16(noUDPsum[14+20+6:], 0)
	frag := append([]byte(nil), good...)
	frag[14+6] = 0x20 // MF
	binary.BigEndian.PutUint16(frag[14+10:], 0)
	binary.BigEndian.PutUint16(frag[14+10:], ^checksum.Checksum(frag[14:34], 0))
	arp := ethFrame(testMAC, peerMAC, 0x0806, pattern(28, 0))
	const both = e1000.RXCSUM_IPOFLD | e1000.RXCSUM_TUOFLD
	for _, c := range []struct {
		name   string
		rxcsum uint32
		frame  []byte
		status uint8
		errs   uint8
	}{
		{"TCP good", both, good, e1000.RXD_STAT_IPCS | e1000.RXD_STAT_TCPCS, 0},
		{"TCP, IP offload only", e1000.RXCSUM_IPOFLD, good, e1000.RXD_STAT_IPCS, 0},
		{"TCP, offload off", 0, good, e1000.RXD_STAT_IXSM, 0},
		{"bad IP header checksum", both, badIP, e1000.RXD_STAT_IPCS | e1000.RXD_STAT_TCPCS, e1000.RXD_ERR_IPE},
		{"bad TCP checksum", both, badTCP, e1000.RXD_STAT_IPCS | e1000.RXD_STAT_TCPCS, e1000.RXD_ERR_TCPE},
		{"UDP good", both, udp, e1000.RXD_STAT_IPCS | e1000.RXD_STAT_TCPCS, 0},
		{"bad UDP checksum", both, badUDP, e1000.RXD_STAT_IPCS | e1000.RXD_STAT_TCPCS, e1000.RXD_ERR_TCPE},
		{"UDP without checksum", both, noUDPsum, e1000.RXD_STAT_IPCS | e1000.RXD_STAT_TCPCS, 0},
		{"fragment: IP only", both, frag, e1000.RXD_STAT_IPCS, 0},
		{"ARP", both, arp, e1000.RXD_STAT_IXSM, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpt{})
			r.setupRx(8, 2048, e1000.RCTL_SECRC)
			r.wr(e1000.RXCSUM, c.rxcsum)
			r.dev.Receive(c.frame)
			_, descs := r.rxPop()
			if descs == nil {
				t.Fatalf("frame not received")
			}
			d := descs[0]
			const mask = e1000.RXD_STAT_IXSM | e1000.RXD_STAT_IPCS | e1000.RXD_STAT_TCPCS
			if d.Status()&mask != c.status || d.Errors() != c.errs {
				t.Fatalf("status %#x errors %#x, want %#x %#x", d.Status()&mask, d.Errors(), c.status, c.errs)
			}
		})
	}
}

func TestRxVLAN(t *testing.T) {
	inner := ethFrame(testMAC, peerMAC, 0x88B5, pattern(80, 4))
	tagged := append(append(append([]byte(nil), inner[:12]...), 0x81, 0x00, 0x20, 0x07), inner[12:]...) // PCP 1, VID 7
	r := newRig(t, rigOpt{})
	r.setupRx(8, 2048, e1000.RCTL_SECRC|e1000.RCTL_VFE)
	r.wr(e1000.CTRL, r.rd(e1000.CTRL)|e1000.CTRL_VME)
	r.dev.Receive(tagged)
	if r.dev.Counters().RxVLANFiltered != 1 {
		t.Fatalf("VLAN 7 not filtered with an empty VFTA")
	}
	r.wr(e1000.VFTA, 1<<7)
	r.dev.Receive(tagged)
	f, descs := r.rxPop()
	if !bytes.Equal(f, inner) {
		t.Fatalf("tag not stripped")
	}
	if descs[0].Status()&e1000.RXD_STAT_VP == 0 || descs[0].Special() != 0x2007 {
		t.Fatalf("VP %#x special %#x", descs[0].Status(), descs[0].Special())
	}
}

// TestRxRingFull: a stalled receiver. Frames beyond the free descriptors are
// dropped whole and counted (RNBC, MPC, RXO); nothing the device did not own
// changes; when software returns descriptors, reception resumes in order.
// TestRxFIFO stalls a receiver with a small ring: the frames that find no
// descriptor wait in the receive FIFO (PBA.RXA) and are counted in RNBC; only
// the frames beyond the FIFO's capacity are lost, exactly those, counted in
// MPC with RXO. When the driver returns descriptors the FIFO drains in order
// and nothing is corrupted; memory the device does not own is untouched.
func TestRxFIFO(t *testing.T) {
	for _, c := range []struct {
		name    string
		pba     uint32 // PBA.RXA in KB (0: reset value, 48)
		payload int    // frame = 14 + payload bytes
		fit     int    // frames of that size the FIFO holds
	}{
		{"48K-64B", 0, 46, 48 << 10 / 64},
		{"2K-250B", 2, 236, 2048 / 254},
		{"0K", 0xFFFF0000, 100, 0}, // RXA 0 (the high bits are not RXA): no FIFO at all
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpt{})
			if c.pba != 0 {
				r.wr(e1000.PBA, c.pba)
			}
			const n = 8
			r.setupRx(n, 2048, e1000.RCTL_SECRC) // RDT = 7: 7 descriptors free
			r.wr(e1000.IMS, e1000.ICR_RXO|e1000.ICR_RXT0)
			for _, b := range r.rxBufs {
				for i := range b.Bytes {
					b.Bytes[i] = 0xEE
				}
			}
			guardDesc := append([]byte(nil), r.rxDesc(7)...)
			const lost = 5
			total := 7 + c.fit + lost
			frames := make([][]byte, total)
			for i := range frames {
				frames[i] = ethFrame(testMAC, peerMAC, 0x88B5, pattern(c.payload, byte(i)))
				binary.BigEndian.PutUint32(frames[i][14:], uint32(i)) // sequence number
				r.dev.Receive(frames[i])
				if i == 7+c.fit-1 && r.rd(e1000.ICR)&e1000.ICR_RXO != 0 {
					t.Fatalf("RXO raised while the FIFO still had room")
				}
			}
			if got := r.dev.Counters().RxFrames; got != 7 {
				t.Fatalf("stored %d frames, want 7", got)
			}
			if rnbc, mpc := r.rd(e1000.RNBC), r.rd(e1000.MPC); rnbc != uint32(c.fit) || mpc != lost {
				t.Fatalf("RNBC %d MPC %d, want %d and %d", rnbc, mpc, c.fit, lost)
			}
			if r.rd(e1000.ICR)&e1000.ICR_RXO == 0 {
				t.Fatalf("RXO not raised")
			}
			if !bytes.Equal(r.rxDesc(7), guardDesc) {
				t.Fatalf("descriptor the device did not own was written")
			}
			for _, b := range r.rxBufs[7].Bytes {
				if b != 0xEE {
					t.Fatalf("buffer the device did not own was written")
				}
			}
			if r.rd(e1000.RDH) != 7 {
				t.Fatalf("RDH %d, want 7", r.rd(e1000.RDH))
			}
			// The driver takes frames and returns descriptors one by
			// one (rxPop writes RDT): the FIFO drains in order.
			for i := range 7 + c.fit {
				f, _ := r.rxPop()
				if !bytes.Equal(f, frames[i]) {
					t.Fatalf("frame %d: got seq %d, corrupted or out of order", i, binary.BigEndian.Uint32(f[14:]))
				}
			}
			if f, _ := r.rxPop(); f != nil {
				t.Fatalf("a lost frame (seq %d) appeared", binary.BigEndian.Uint32(f[14:]))
			}
			if got := r.dev.Counters(); got.RxFIFODrained != uint64(c.fit) || got.RxFIFOOverflow != lost {
				t.Fatalf("drained %d, overflowed %d", got.RxFIFODrained, got.RxFIFOOverflow)
			}
			// Traffic resumes straight into the ring.
			for i := range 3 {
				fr := ethFrame(testMAC, peerMAC, 0x88B5, pattern(c.payload, byte(100+i)))
				r.dev.Receive(fr)
				if f, _ := r.rxPop(); !bytes.Equal(f, fr) {
					t.Fatalf("frame after resume wrong")
				}
			}
			if r.rd(e1000.RNBC) != 0 || r.rd(e1000.MPC) != 0 {
				t.Fatalf("drops after resume")
			}
		})
	}
}

// TestRxFIFOFrameTooBigForRing: a frame that needs more descriptors than
// the ring can ever offer does not block the FIFO: it is lost (MPC, RXO)
// and the next frame is stored.
func TestRxFIFOFrameTooBigForRing(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.setupRx(8, 256, e1000.RCTL_SECRC|e1000.RCTL_LPE|e1000.RCTL_BSIZE_256)
	r.dev.Receive(ethFrame(testMAC, peerMAC, 0x88B5, pattern(2100, 1))) // needs 9 of 7
	small := ethFrame(testMAC, peerMAC, 0x88B5, pattern(100, 2))
	r.dev.Receive(small)
	if f, _ := r.rxPop(); !bytes.Equal(f, small) {
		t.Fatalf("small frame not stored after the oversized one: %+v", r.dev.Counters())
	}
	if r.rd(e1000.MPC) != 1 || r.dev.Counters().RxTooManyDescs != 1 {
		t.Fatalf("MPC %d, counters %+v", r.rd(e1000.MPC), r.dev.Counters())
	}
}

func TestRxDescriptorMinimumThreshold(t *testing.T) {
	for _, c := range []struct {
		rdmts uint32
		frac  int // free descriptors at which RXDMT0 fires: n >> frac
	}{
		{e1000.RCTL_RDMTS_HALF, 1}, {e1000.RCTL_RDMTS_QUAT, 2}, {e1000.RCTL_RDMTS_EIGTH, 3},
	} {
		r := newRig(t, rigOpt{})
		const n = 64
		r.setupRx(n, 2048, e1000.RCTL_SECRC|c.rdmts)
		r.wr(e1000.RDT, 0) // all n descriptors... RDT = 0 with RDH = 0 is empty; give n-1
		r.wr(e1000.RDT, n-1)
		r.rd(e1000.ICR)
		free := n - 1
		for free > 0 {
			r.dev.Receive(ethFrame(testMAC, peerMAC, 0x88B5, pattern(60, 0)))
			free--
			icr := r.rd(e1000.ICR)
			want := free == n>>c.frac
			if (icr&e1000.ICR_RXDMT0 != 0) != want {
				t.Fatalf("RDMTS %#x: RXDMT0 %v with %d free, want it only at %d", c.rdmts, icr&e1000.ICR_RXDMT0 != 0, free, n>>c.frac)
			}
		}
	}
}

func TestRxShortAndLongFrames(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.setupRx(16, 2048, e1000.RCTL_SECRC|e1000.RCTL_BAM)
	short := ethFrame(testMAC, peerMAC, 0x0806, pattern(28, 0)) // 42 bytes
	r.dev.Receive(short)
	f, _ := r.rxPop()
	if len(f) != 60 || !bytes.Equal(f[:42], short) || !bytes.Equal(f[42:], make([]byte, 18)) {
		t.Fatalf("short frame not padded to 60: %d bytes", len(f))
	}
	r.dev.Receive(make([]byte, 10))
	if r.dev.Counters().RxRunt != 1 || r.rd(e1000.RUC) != 1 {
		t.Fatalf("runt not counted")
	}
	long := ethFrame(testMAC, peerMAC, 0x88B5, pattern(1501, 0)) // 1515 bytes + FCS = 1519
	r.dev.Receive(long)
	if r.dev.Counters().RxOversize != 1 || r.rd(e1000.ROC) != 1 {
		t.Fatalf("oversize frame not counted")
	}
	// With LPE and 2048 buffers a 9000-byte jumbo spans 5 descriptors.
	r.wr(e1000.RCTL, r.rd(e1000.RCTL)|e1000.RCTL_LPE)
	jumbo := ethFrame(testMAC, peerMAC, 0x88B5, pattern(9000-14, 5))
	r.dev.Receive(jumbo)
	f, descs := r.rxPop()
	if !bytes.Equal(f, jumbo) || len(descs) != 5 {
		t.Fatalf("jumbo: %d bytes in %d descriptors", len(f), len(descs))
	}
}

func TestRxHostileRing(t *testing.T) {
	frame := ethFrame(testMAC, peerMAC, 0x88B5, pattern(100, 0))
	for _, c := range []struct {
		name  string
		setup func(r *rig)
		check func(c Counters) bool
	}{
		{"RDLEN 0", func(r *rig) { r.wr(e1000.RDLEN, 0) }, func(c Counters) bool { return c.RxBadRing == 1 }},
		{"RDLEN not a multiple of 128", func(r *rig) { r.wr(e1000.RDLEN, 100) }, func(c Counters) bool { return c.BadRingLength == 1 && c.RxBadRing == 1 }},
		{"RDH beyond the ring (CVE-2016-1981)", func(r *rig) { r.wr(e1000.RDH, 9000) }, func(c Counters) bool { return c.RxBadRing == 1 && c.BadRingIndex == 1 }},
		{"RDT beyond the ring", func(r *rig) { r.wr(e1000.RDT, 0xFFFF) }, func(c Counters) bool { return c.RxBadRing == 1 }},
		{"ring outside DMA memory", func(r *rig) { r.wr(e1000.RDBAH, 7) }, func(c Counters) bool { return c.RxDescFaults == 1 }},
		{"buffer outside DMA memory", func(r *rig) { r.rxDesc(0).SetAddr(0x10) }, func(c Counters) bool { return c.RxBufferFaults == 1 && c.RxFrames == 1 }},
		{"reserved buffer size", func(r *rig) { r.wr(e1000.RCTL, e1000.RCTL_EN|e1000.RCTL_BSEX) }, func(c Counters) bool { return c.RxBadBufferSize == 1 }},
		{"no bus master", func(r *rig) { r.dev.ConfigWrite(0x04, 2, 0x2) }, func(c Counters) bool { return c.RxNoBusMaster == 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpt{})
			r.setupRx(8, 2048, 0)
			before := r.arena.Faults()
			c.setup(r)
			r.dev.Receive(frame)
			ctr := r.dev.Counters()
			if !c.check(ctr) {
				t.Fatalf("counters %+v", ctr)
			}
			if c.name == "buffer outside DMA memory" {
				if r.rxDesc(0).Errors()&e1000.RXD_ERR_RXE == 0 || r.arena.Faults() != before+1 {
					t.Fatalf("buffer fault not reported in the descriptor")
				}
			} else if ctr.RxFrames != 0 {
				t.Fatalf("frame stored")
			}
		})
	}
}
