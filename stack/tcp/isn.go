package tcp

import (
	"encoding/binary"
	"time"
)

// Secrets is the stack's hash keys: Linux's net_secret (ISNs), ts_secret
// (timestamp offsets) and syncookie_secret[2], which Linux draws from its
// random pool once per boot. Here a stack derives them from its seed, so
// that a run replays exactly.
type Secrets struct {
	net    sipKey
	ts     sipKey
	cookie [2]sipKey
}

// NewSecrets derives the keys from seed (SplitMix64 steps; a different
// seed gives unrelated keys).
func NewSecrets(seed uint64) Secrets {
	next := func() uint64 {
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		return z ^ z>>31
	}
	var s Secrets
	for _, k := range []*sipKey{&s.net, &s.ts, &s.cookie[0], &s.cookie[1]} {
		k[0], k[1] = next(), next()
	}
	return s
}

// tuple lays out a 4-tuple and a counter as the hashes take it: the
// addresses as on the wire, then the ports in network order, then count
// (Linux packs the same words for siphash_3u32/siphash_4u32; the byte
// order of the packing differs, which changes nothing but the values).
func tuple(buf *[16]byte, saddr, daddr [4]byte, sport, dport uint16, count uint32) {
	copy(buf[0:], saddr[:])
	copy(buf[4:], daddr[:])
	binary.BigEndian.PutUint16(buf[8:], sport)
	binary.BigEndian.PutUint16(buf[10:], dport)
	binary.BigEndian.PutUint32(buf[12:], count)
}

// SecureSeq is secure_tcp_seq: the initial sequence number of a
// connection (RFC 6528 section 3): ISN = M + F(4-tuple, secret), F a keyed
// SipHash of the local and remote address and port, and M a clock of
// 64 ns ticks (the nanoseconds of now shifted right by 6, Linux's
// seq_scale, which wraps every 274 s). saddr/sport are the connection's
// source as it sends.
func (k *Secrets) SecureSeq(saddr, daddr [4]byte, sport, dport uint16, now time.Duration) uint32 {
	var buf [16]byte
	tuple(&buf, saddr, daddr, sport, dport, 0)
	return uint32(sipHash24(k.net, buf[:12])) + uint32(uint64(now.Nanoseconds())>>6)
}

// TSOff is secure_tcpv4_ts_off: the per-address-pair offset Linux adds to
// its timestamp clock, so that TSval does not reveal the uptime (RFC 7323
// section 5.4). It is 0 when net.ipv4.tcp_timestamps is not 1 (2 means
// timestamps without random offsets).
func (k *Secrets) TSOff(sys *Sysctl, saddr, daddr [4]byte) uint32 {
	if sys.Timestamps != 1 {
		return 0
	}
	var buf [16]byte
	copy(buf[0:], saddr[:])
	copy(buf[4:], daddr[:])
	return uint32(sipHash24(k.ts, buf[:8]))
}
