package stacktest

import (
	"fmt"
	"time"

	"github.com/nicbed/nicbed/hw"
	"github.com/nicbed/nicbed/kernelmodel"
)

// Net is a set of one-CPU kernels on one virtual clock, joined by
// point-to-point Ethernet links (Link), for tests of more than one stack:
// forwarding through a router, gateways.
type Net struct {
	Clock *kernelmodel.Clock
	// Delay is each frame's time on a link (default 10 µs).
	Delay time.Duration
	hosts []*kernelmodel.Kernel
}

// NewNet makes an empty Net on a new virtual clock.
func NewNet() *Net { return &Net{Clock: kernelmodel.NewVirtualClock(), Delay: 10 * time.Microsecond} }

// Host adds a kernel named name.
func (n *Net) Host(name string) *kernelmodel.Kernel {
	k := kernelmodel.New(kernelmodel.Config{Name: name, CPUs: 1, Clock: n.Clock})
	n.hosts = append(n.hosts, k)
	return k
}

// Close stops every kernel.
func (n *Net) Close() {
	for _, k := range n.hosts {
		k.Close()
	}
}

// Port is one end of a Link: a net_device whose ndo_start_xmit hands a
// copy of the frame to the other end after the link's delay, where it is
// received through eth_type_trans and netif_rx (the backlog, NET_RX).
type Port struct {
	K    *kernelmodel.Kernel
	D    *kernelmodel.NetDevice
	Peer *Port
	// Sent and Received are copies of the frames (Record set).
	Sent, Received []Sent
	Record         bool
	// Drop, if set, is asked about each frame sent: true loses it.
	Drop func(frame []byte) bool
	net  *Net

	// The frames on their way to the peer, in order: a ring whose
	// buffers are reused, and one timer for the head, so that a frame
	// sent allocates nothing once the ring has grown to the traffic.
	q      []inflight
	qh, qn int
	timer  hw.Timer
}

// inflight is one frame on the link and when it arrives.
type inflight struct {
	at  time.Duration
	buf []byte
}

// Open is ndo_open: start the queue, carrier on.
func (p *Port) Open(*kernelmodel.Task) error {
	p.D.NetifStartQueue()
	p.D.NetifCarrierOn()
	return nil
}

// Stop is ndo_stop.
func (p *Port) Stop(*kernelmodel.Task) error { p.D.NetifCarrierOff(); return nil }

// StartXmit is ndo_start_xmit: the frame goes to the peer.
func (p *Port) StartXmit(skb *kernelmodel.SKB) kernelmodel.NetdevTx {
	p.D.Stats.TxPackets++
	p.D.Stats.TxBytes += uint64(skb.Len())
	if p.Record {
		p.Sent = append(p.Sent, Sent{p.net.Clock.Now(), append([]byte(nil), skb.Data...)})
	}
	if p.Drop != nil && p.Drop(skb.Data) {
		p.K.ConsumeSKB(skb)
		return kernelmodel.NETDEV_TX_OK
	}
	if p.qn == len(p.q) {
		// Grow the ring, keeping the order.
		q := make([]inflight, max(2*len(p.q), 64))
		for i := 0; i < p.qn; i++ {
			q[i] = p.q[(p.qh+i)%len(p.q)]
		}
		p.q, p.qh = q, 0
	}
	f := &p.q[(p.qh+p.qn)%len(p.q)]
	f.at = p.net.Clock.Now() + p.net.Delay
	f.buf = append(f.buf[:0], skb.Data...)
	p.qn++
	p.K.ConsumeSKB(skb)
	if p.timer == nil {
		p.timer = p.net.Clock.NewTimer(p.deliver)
	}
	if !p.timer.Pending() {
		p.timer.ResetAt(f.at)
	}
	return kernelmodel.NETDEV_TX_OK
}

// deliver hands the peer every frame whose time has come, in order.
func (p *Port) deliver() {
	now := p.net.Clock.Now()
	for p.qn > 0 && p.q[p.qh].at <= now {
		f := &p.q[p.qh]
		p.qh = (p.qh + 1) % len(p.q)
		p.qn--
		p.Peer.receive(f.buf)
	}
	if p.qn > 0 {
		p.timer.ResetAt(p.q[p.qh].at)
	}
}

func (p *Port) receive(frame []byte) {
	if !p.D.IsUp() {
		return
	}
	if p.Record {
		p.Received = append(p.Received, Sent{p.net.Clock.Now(), append([]byte(nil), frame...)})
	}
	p.D.Stats.RxPackets++
	p.D.Stats.RxBytes += uint64(len(frame))
	skb := p.K.AllocSKB(len(frame))
	copy(skb.Put(len(frame)), frame)
	p.K.EthTypeTrans(skb, p.D)
	p.K.NetifRx(skb)
}

// Link joins a new device on a (named na, address ma) and one on b,
// registers and opens both, and returns their ends.
func (n *Net) Link(a *kernelmodel.Kernel, na string, ma [6]byte, b *kernelmodel.Kernel, nb string, mb [6]byte) (*Port, *Port, error) {
	pa := &Port{K: a, net: n, Record: true}
	pb := &Port{K: b, net: n, Record: true}
	pa.Peer, pb.Peer = pb, pa
	for _, x := range []struct {
		p    *Port
		name string
		mac  [6]byte
	}{{pa, na, ma}, {pb, nb, mb}} {
		d := x.p.K.AllocEtherdev(x.name, 1, 1)
		d.Addr = x.mac
		d.Ops = x.p
		x.p.D = d
		if err := x.p.K.RegisterNetdev(d); err != nil {
			return nil, nil, err
		}
	}
	for _, p := range []*Port{pa, pb} {
		var err error
		p.K.Spawn(0, "ip-link-up", func(t *kernelmodel.Task) { err = p.D.DevOpen(t) })
		n.Clock.RunFor(time.Millisecond)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p.D.Name, err)
		}
	}
	return pa, pb, nil
}
