package driver

import (
	"fmt"

	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
)

// setupMRQC is igb_setup_mrqc: the RSS key into RSSRK, the redirection
// table spread evenly over the queues (entry j is queue j × queues / 128,
// kept until the queue count changes or ethtool -X sets it), RXCSUM.PCSD so
// the hash is written back, and MRQC: RSS over IPv4, IPv4/TCP, IPv6,
// IPv6/TCP (and TCP_EX), enabled even with one queue so every frame carries
// a hash. UDP ports are not hashed (IGB_FLAG_RSS_FIELD_IPV4_UDP is off by
// default: fragments would land elsewhere).
func (a *Adapter) setupMRQC() {
	for j := range igb.NumRSSRK {
		k := a.rssKey[4*j:]
		a.wr(igb.RSSRKReg(j), uint32(k[0])|uint32(k[1])<<8|uint32(k[2])<<16|uint32(k[3])<<24)
	}
	nq := a.rssQueues
	if a.rssIndirInit != nq {
		for j := range a.rssIndir {
			a.rssIndir[j] = uint8(j * nq / RETASize)
		}
		a.rssIndirInit = nq
	}
	a.writeRSSIndirTbl()
	a.wr(igb.RXCSUM, a.rd(igb.RXCSUM)|igb.RXCSUM_PCSD|igb.RXCSUM_CRCOFL|igb.RXCSUM_IPOFLD|igb.RXCSUM_TUOFLD)
	mrqc := uint32(igb.MRQC_RSS_FIELD_IPV4 | igb.MRQC_RSS_FIELD_IPV4_TCP | igb.MRQC_RSS_FIELD_IPV6 |
		igb.MRQC_RSS_FIELD_IPV6_TCP | igb.MRQC_RSS_FIELD_IPV6_TCP_EX | igb.MRQC_ENABLE_RSS)
	if a.rssUDP4 {
		mrqc |= igb.MRQC_RSS_FIELD_IPV4_UDP
	}
	if a.rssUDP6 {
		mrqc |= igb.MRQC_RSS_FIELD_IPV6_UDP
	}
	a.wr(igb.MRQC, mrqc)
}

// SetRSSHashUDP is igb_set_rss_hash_opt for UDP (ethtool -N eth0
// rx-flow-hash udp4 sdfn / sd, and udp6): hash UDP datagrams by their
// ports too (IGB_FLAG_RSS_FIELD_IPV4_UDP, _IPV6_UDP), or by their
// addresses only, Linux's default (fragments of one datagram then stay on
// one queue). MRQC is written at once on a running interface.
func (a *Adapter) SetRSSHashUDP(ipv4, ipv6 bool) {
	a.rssUDP4, a.rssUDP6 = ipv4, ipv6
	if a.open {
		a.setupMRQC()
	}
}

// writeRSSIndirTbl is igb_write_rss_indir_tbl: four entries per RETA
// register, entry 4n in the low byte.
func (a *Adapter) writeRSSIndirTbl() {
	for i := 0; i < RETASize; i += 4 {
		var v uint32
		for j := 3; j >= 0; j-- {
			v = v<<8 | uint32(a.rssIndir[i+j])
		}
		a.wr(igb.RETAReg(i/4), v)
	}
}

// Rxfh is what ethtool -x shows and -X sets: the redirection table and
// the Toeplitz key.
type Rxfh struct {
	Indir [RETASize]uint8
	Key   [igb.RSSKeySize]byte
}

// GetRxfh is igb_get_rxfh (ethtool -x).
func (a *Adapter) GetRxfh() Rxfh { return Rxfh{Indir: a.rssIndir, Key: a.rssKey} }

// SetRxfh is igb_set_rxfh (ethtool -X): a new redirection table (indir, nil
// for no change; every entry below the queue count, else ErrInvalid) and a
// new key (nil for no change), written at once. Linux's igb refuses a key
// (-EOPNOTSUPP); nicbed takes it, so RSS can be studied with any key.
func (a *Adapter) SetRxfh(indir []uint8, key []byte) error {
	if indir != nil {
		if len(indir) != RETASize {
			return fmt.Errorf("%s: indirection table of %d entries, want %d: %w", a.netdev.Name, len(indir), RETASize, ErrInvalid)
		}
		for i, q := range indir {
			if int(q) >= a.rssQueues {
				return fmt.Errorf("%s: indirection entry %d is queue %d of %d: %w", a.netdev.Name, i, q, a.rssQueues, ErrInvalid)
			}
		}
	}
	if key != nil && len(key) != igb.RSSKeySize {
		return fmt.Errorf("%s: RSS key of %d bytes, want %d: %w", a.netdev.Name, len(key), igb.RSSKeySize, ErrInvalid)
	}
	if indir != nil {
		copy(a.rssIndir[:], indir)
		a.rssIndirInit = a.rssQueues
		a.writeRSSIndirTbl()
	}
	if key != nil {
		copy(a.rssKey[:], key)
		if a.open {
			a.setupMRQC()
		}
	}
	return nil
}

// Channels is struct ethtool_channels as igb fills it (ethtool -l / -L):
// combined queue pairs and the one other vector.
type Channels struct {
	MaxCombined, MaxOther int
	Combined, Other       int
}

// maxChannels is igb_max_channels: 8 queue pairs with MSI-X, 1 without.
func (a *Adapter) maxChannels() int {
	if a.msix {
		return MaxRSSQueues
	}
	return 1
}

// GetChannels is igb_get_channels (ethtool -l).
func (a *Adapter) GetChannels() Channels {
	c := Channels{MaxCombined: a.maxChannels(), Combined: a.rssQueues}
	if a.msix {
		c.MaxOther, c.Other = NonQVectors, NonQVectors
	}
	return c
}

// SetChannels is igb_set_channels (ethtool -L combined N): 1 to the
// maximum, else ErrInvalid; a new count rebuilds the interrupt scheme
// (igb_reinit_queues: close, new vectors and q_vectors, open), and the
// redirection table is spread over the new queues.
func (a *Adapter) SetChannels(t *kernelmodel.Task, combined int) error {
	if combined < 1 || combined > a.maxChannels() {
		return fmt.Errorf("%s: combined %d: must be 1-%d: %w", a.netdev.Name, combined, a.maxChannels(), ErrInvalid)
	}
	if combined == a.rssQueues {
		return nil
	}
	running := a.open
	if running {
		a.Stop(t)
	}
	a.resetInterruptCapability()
	a.rssQueues = combined
	if err := a.initInterruptScheme(); err != nil {
		return err
	}
	a.irqDisable()
	if running {
		return a.Open(t)
	}
	return nil
}
