package kernelmodel

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/nicbed/nicbed/hw/wire"
)

// frame60 is a 60-byte Ethernet frame to dst of EtherType 0x88b5 whose
// payload starts with seq.
func frame60(k *Kernel, d *NetDevice, dst [6]byte, seq uint16) *SKB {
	s := k.AllocSKB(60)
	p := s.Put(60)
	copy(p, dst[:])
	copy(p[6:], []byte{0x52, 0x54, 0, 0, 0, 9})
	binary.BigEndian.PutUint16(p[12:], 0x88b5)
	binary.BigEndian.PutUint16(p[14:], seq)
	s.Dev = d
	return s
}

// Every tap gets a reference of its own, on receive (deliver_skb) and on
// transmit (one clone between the taps, dev_queue_xmit_nit); a tap may
// keep it after the handler and the driver are done, and the skb lives
// until the last reference goes. The pcap tap writes what it sees, sent
// and received, readable by gopacket.
func TestTapReferences(t *testing.T) {
	q := newQdev(t, nil)
	k, d := q.k, q.d
	d.Addr = [6]byte{0x52, 0x54, 0, 0, 0, 1}
	var buf bytes.Buffer
	pw, err := wire.NewPcapWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	pcap := k.AddPcapTap(d, pw)
	var kept []*SKB
	var keptShared []bool
	k.DevAddPack(&PacketType{Type: ETH_P_ALL, Func: func(s *SKB) {
		kept = append(kept, s)
		keptShared = append(keptShared, s.Shared())
	}})
	var users []int
	k.DevAddPack(&PacketType{Type: 0x88b5, Dev: d, Func: func(s *SKB) {
		users = append(users, s.Users())
		k.ConsumeSKB(s)
	}})

	// Receive three frames.
	for i := uint16(0); i < 3; i++ {
		s := frame60(k, d, d.Addr, i)
		k.EthTypeTrans(s, d)
		k.NetifReceiveSKB(s)
	}
	if len(users) != 3 || users[0] != 2 || len(kept) != 3 || !keptShared[0] {
		t.Fatalf("receive: handler saw users %v (want 2: its own and the keeping tap's), tap kept %d shared %v", users, len(kept), keptShared)
	}
	if n := k.SKBsInUse(); n != 3 {
		t.Errorf("%d skbs live while the tap keeps 3", n)
	}
	for _, s := range kept {
		if s.PktType != PACKET_HOST || s.Users() != 1 {
			t.Errorf("kept rx skb: pkt_type %d users %d", s.PktType, s.Users())
		}
		k.ConsumeSKB(s)
	}
	kept = kept[:0]

	// Send three.
	for i := uint16(10); i < 13; i++ {
		if rc := k.DevQueueXmit(frame60(k, d, [6]byte{0x52, 0x54, 0, 0, 0, 2}, i)); rc != NET_XMIT_SUCCESS {
			t.Fatalf("xmit %d", rc)
		}
	}
	if len(kept) != 3 || len(q.inRing) != 3 {
		t.Fatalf("transmit: tap kept %d, driver holds %d", len(kept), len(q.inRing))
	}
	for i, s := range kept {
		if s.PktType != PACKET_OUTGOING || s == q.inRing[i] || !s.Cloned() || s.MACHeader != s.BufOffset() {
			t.Errorf("tx tap skb %d: pkt_type %d, the driver's own %v, cloned %v", i, s.PktType, s == q.inRing[i], s.Cloned())
		}
	}
	q.complete(3) // the driver frees its skbs; the taps' clones stay
	if n := k.SKBsInUse(); n != 3 {
		t.Errorf("%d skbs live after the driver freed its own, want the 3 clones", n)
	}
	for _, s := range kept {
		if binary.BigEndian.Uint16(s.Data[14:]) < 10 {
			t.Error("a kept clone's data changed")
		}
		k.ConsumeSKB(s)
	}
	if pcap.Packets != 6 || pcap.Errors != 0 {
		t.Errorf("pcap tap: %d packets, %d errors; want 6, 0", pcap.Packets, pcap.Errors)
	}
	k.DevRemovePack(&pcap.PacketType)

	// Read the capture back: the received frames with their Ethernet
	// header (the MAC header, before the pull), then the sent ones.
	r, err := pcapgo.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint16
	var last time.Time
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		eth, ok := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if !ok || eth.EthernetType != 0x88b5 || len(data) != 60 || ci.Timestamp.Before(last) {
			t.Fatalf("record %d: %d bytes, ethernet %v", len(seqs), len(data), ok)
		}
		last = ci.Timestamp
		seqs = append(seqs, binary.BigEndian.Uint16(eth.Payload))
	}
	if want := []uint16{0, 1, 2, 10, 11, 12}; len(seqs) != 6 || seqs[0] != want[0] || seqs[3] != want[3] || seqs[5] != want[5] {
		t.Errorf("pcap sequence %v, want %v", seqs, want)
	}
	q.audit(t)
}
