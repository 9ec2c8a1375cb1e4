package gso_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/nicbed/nicbed/internal/fuzzmin"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
)

// TestMain bounds the minimization of new fuzz inputs (each run builds a
// kernel model).
func TestMain(m *testing.M) { fuzzmin.Main(m, 2000) }

// FuzzGSO sends any frame as a GSO skb (gso_size, gso_type, ip_summed and
// the device's features from the first 5 bytes) to a device without TSO:
// dev_queue_xmit must not panic, must leave no skb live or misused, and
// either refuse the skb (nothing sent, tx_dropped) or send segments whose
// payloads, in order, are the skb's payload, each with the skb's headers
// but lengths, ID, sequence number, flags and checksums, a valid IP header
// checksum and at most gso_size bytes of payload.
func FuzzGSO(f *testing.F) {
	f.Add([]byte{0x05, 0xa8, 1, 3, 1}, superFrame(3*mss+5, header.TCPFlagACK|header.TCPFlagFIN))
	f.Add([]byte{0x00, 0x10, 1 | 8, 0, 3}, superFrame(100, header.TCPFlagACK|header.TCPFlagCWR))
	f.Add([]byte{0x02, 0x00, 1 | 16, 1, 1}, superFrame(2000, header.TCPFlagACK))
	f.Fuzz(func(t *testing.T, ctl, frame []byte) {
		if len(ctl) < 5 || len(frame) > 70000 {
			return
		}
		r := newDev(t, kernelmodel.NETIF_F_SG|uint64(ctl[4]&1)*kernelmodel.NETIF_F_IP_CSUM)
		defer r.k.Close()
		skb := r.k.AllocSKB(len(frame))
		copy(skb.Put(len(frame)), frame)
		skb.GSOSize = binary.BigEndian.Uint16(ctl)
		skb.GSOType = uint32(ctl[2])
		skb.IPSummed = ctl[3] & 3
		skb.CsumStart, skb.CsumOffset = 34, 16
		skb.Protocol, skb.Dev = kernelmodel.ETH_P_IP, r.d
		skb.NetHeader = skb.BufOffset() + 14
		gsoSize, summed := int(skb.GSOSize), skb.IPSummed
		rc := r.k.DevQueueXmit(skb)
		if err := r.k.SKBAudit(); err != nil {
			t.Fatal(err)
		}
		if rc != kernelmodel.NET_XMIT_SUCCESS {
			if len(r.sent) != 0 || r.d.Stats.TxDropped != 1 {
				t.Fatalf("refused (%d) with %d sent, tx_dropped %d", rc, len(r.sent), r.d.Stats.TxDropped)
			}
			return
		}
		if r.k.GSOStats().Segmented == 0 {
			if len(r.sent) != 1 || !bytes.Equal(r.sent[0].frame, frame) && summed != kernelmodel.CHECKSUM_PARTIAL {
				t.Fatalf("unsegmented skb changed")
			}
			return
		}
		ihl := int(frame[14]&0xF) * 4
		hlen := 14 + ihl + header.TCP(frame[14+ihl:]).DataOffset()
		var pay []byte
		for i, s := range r.sent {
			g := s.frame
			if len(g) < hlen || len(g)-hlen > gsoSize || len(g) == hlen {
				t.Fatalf("segment %d: %d bytes, header %d, gso_size %d", i, len(g), hlen, gsoSize)
			}
			if !header.IPv4(g[14:]).ChecksumValid() || int(header.IPv4(g[14:]).TotalLength()) != len(g)-14 {
				t.Fatalf("segment %d: bad IP header", i)
			}
			for j := 0; j < hlen; j++ {
				switch {
				case j >= 16 && j < 20, j == 24 || j == 25: // tot_len, id, check
				case j >= 14+ihl+4 && j < 14+ihl+8, j == 14+ihl+13, j == 14+ihl+16 || j == 14+ihl+17:
				default:
					if g[j] != frame[j] {
						t.Fatalf("segment %d: header byte %d changed", i, j)
					}
				}
			}
			pay = append(pay, g[hlen:]...)
		}
		if !bytes.Equal(pay, frame[hlen:]) {
			t.Fatal("segments' payload is not the skb's")
		}
	})
}
