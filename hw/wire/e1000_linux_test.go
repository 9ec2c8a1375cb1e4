package wire_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/internal/netns"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// linuxWire is one kind of real peer: how a test makes Linux's device in a
// namespace and the port the model sits on.
type linuxWire struct {
	name    string
	dev     string // Linux's side
	noCheck bool   // Linux's datagrams carry no UDP checksum (a veth leaves it partial)
	peer    string // the port's device, if it is not dev (a veth's other end)
	open    func(t *testing.T, ns *netns.NS, cfg wire.PortConfig) *wire.Port
}

var linuxWires = []linuxWire{
	{name: "tap", dev: "tap0", open: func(t *testing.T, ns *netns.NS, cfg wire.PortConfig) (p *wire.Port) {
		ns.Do(t, func() (err error) {
			p, err = wire.OpenTap(wire.TapConfig{Name: "tap0", Port: cfg})
			return err
		})
		return p
	}},
	{name: "afpacket", dev: "vlinux", peer: "vmodel", noCheck: true, open: func(t *testing.T, ns *netns.NS, cfg wire.PortConfig) (p *wire.Port) {
		ns.IP(t, "link", "add", "vlinux", "type", "veth", "peer", "name", "vmodel")
		ns.IP(t, "link", "set", "vmodel", "up")
		ns.Do(t, func() (err error) {
			p, err = wire.OpenPacket("vmodel", cfg)
			return err
		})
		return p
	}},
}

// TestE1000Linux puts an e1000 host — the 82540EM model and the e1000
// driver from the testbed's factory, on a kernel model on the real clock —
// on a real Linux peer: a TAP, and AF_PACKET on a veth, each in a fresh
// namespace. UDP datagrams from a socket in the namespace go through the
// port, the model, the driver and NAPI to a protocol handler on the host
// and arrive intact; datagrams the host sends with dev_queue_xmit go
// through the driver, the model and the port to the socket and arrive
// intact. The port's counters, the net_device's and the datagrams agree;
// the driver's books and DMA are clean; Close leaves no goroutine.
func TestE1000Linux(t *testing.T) {
	for _, w := range linuxWires {
		t.Run(w.name, func(t *testing.T) {
			ns := newNetns(t)
			ns.DumpOnFailure(t)
			clk := kernelmodel.NewRealClock()
			h := newE1000Host(t, clk)
			// The kernel model's threads (ksoftirqd) are goroutines of
			// their own: count from here.
			before := runtime.NumGoroutine()
			p := w.open(t, ns, portConfig(clk, w.dev, h.Model().Port()))
			h.Model().Connect(p)
			setupLinux(t, ns, w.dev)
			if w.peer != "" {
				ns.WaitReady(t, w.dev, w.peer)
			}
			hostUp(t, clk, h)
			conn, linuxMAC := linuxUDP(t, ns, w.dev, w.noCheck)

			const count, size = 50, 300
			got := make(chan []byte, 2*count)
			h.Kernel.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_IP, Dev: h.Dev, Func: func(skb *kernelmodel.SKB) {
				got <- append(bytes.Clone(skb.MAC()), skb.Data...)
				h.Kernel.ConsumeSKB(skb)
			}})
			l := startLoop(t, clk)

			// Linux to the host.
			to := &net.UDPAddr{IP: net.IP(modelIP[:]), Port: modelPort}
			for i := range count {
				if _, err := conn.WriteToUDP(payload(i, size), to); err != nil {
					t.Fatal(err)
				}
			}
			seen := make([]bool, count)
			deadline := time.After(10 * time.Second)
			for n := 0; n < count; {
				select {
				case f := <-got:
					pl, err := udpOf(f, modelMAC, linuxIP, modelIP, modelPort)
					if err != nil {
						t.Fatalf("host got a frame that is no test datagram (%v): % x", err, f[:min(len(f), 42)])
					}
					i := int(binary.BigEndian.Uint32(pl))
					if i >= count || seen[i] || !bytes.Equal(pl, payload(i, size)) {
						t.Fatalf("datagram %d damaged or twice", i)
					}
					seen[i] = true
					n++
				case <-deadline:
					t.Fatalf("%d of %d datagrams from Linux reached the host; port %+v", n, count, p.Stats())
				}
			}

			// The host to Linux: a task queues each frame with
			// dev_queue_xmit.
			xmit := make(chan error, 1)
			var txBytes uint64
			l.on(t, func() {
				h.Kernel.Spawn(0, "udp-send", func(tk *kernelmodel.Task) {
					for i := range count {
						f := udpFrame(linuxMAC, modelMAC, modelIP, linuxIP, modelPort, linuxPort, payload(i, size))
						txBytes += uint64(len(f))
						skb := h.Kernel.AllocSKB(len(f))
						copy(skb.Put(len(f)), f)
						skb.Dev = h.Dev
						if rc := h.Kernel.DevQueueXmit(skb); rc != kernelmodel.NET_XMIT_SUCCESS {
							xmit <- fmt.Errorf("dev_queue_xmit %d: %d", i, rc)
							return
						}
						tk.CondResched()
					}
					xmit <- nil
				})
			})
			if err := <-xmit; err != nil {
				t.Fatal(err)
			}
			readDatagrams(t, conn, count, size, p)
			// Wait for the driver to clean the last transmit
			// descriptors (tx_packets counts at completion).
			for done := false; !done; {
				l.on(t, func() { done = h.Dev.Stats.TxPackets >= count })
				if !done {
					time.Sleep(time.Millisecond)
				}
			}
			l.stop(t)
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}

			st, ds := p.Stats(), h.Dev.Stats
			want := wire.PortStats{RxFrames: count, RxBytes: st.RxBytes, TxFrames: count, TxBytes: txBytes}
			if st != want || st.RxBytes < count*(14+20+8+size) {
				t.Errorf("port counters %+v, want %+v", st, want)
			}
			if ds.RxPackets != count || ds.TxPackets != count {
				t.Errorf("ip -s link: rx %d tx %d packets, want %d each", ds.RxPackets, ds.TxPackets, count)
			}
			if err := h.Check(); err != nil {
				t.Error(err)
			}
			for _, s := range h.NIC.Anomalies() {
				if s.Value != 0 {
					t.Errorf("%s = %d", s.Name, s.Value)
				}
			}
			if err := h.Kernel.SKBAudit(); err != nil {
				t.Error(err)
			}
			t.Logf("%s: port %+v", w.name, st)
			t.Cleanup(func() { waitGoroutines(t, before) })
		})
	}
}

// newE1000Host makes one host as the testbed does — a 2-CPU kernel model
// on clk with DMA memory and an e1000 NIC from testbed.E1000 — and probes
// the driver. The NIC is not connected yet.
func newE1000Host(t *testing.T, clk *kernelmodel.Clock) *testbed.Host {
	t.Helper()
	k := kernelmodel.New(kernelmodel.Config{Name: "host", CPUs: 2, Clock: clk})
	h := &testbed.Host{Name: "host", MAC: modelMAC, Kernel: k, Mem: dma.NewArena(testbed.DefaultArenaSize)}
	nic, err := testbed.E1000{}.New(h)
	if err != nil {
		t.Fatal(err)
	}
	h.NIC = nic
	return h
}

// hostUp probes the driver and opens the interface (ip link set up) in
// tasks, and runs the loop until the carrier is on and the model takes
// frames.
func hostUp(t *testing.T, clk *kernelmodel.Clock, h *testbed.Host) {
	t.Helper()
	task := func(name string, fn func(tk *kernelmodel.Task) error) {
		t.Helper()
		var err error
		done := false
		h.Kernel.Spawn(0, name, func(tk *kernelmodel.Task) { err = fn(tk); done = true })
		clk.RunWhile(func() bool { return !done }, clk.Now()+10*time.Second)
		if !done || err != nil {
			t.Fatalf("%s: done %v, %v", name, done, err)
		}
	}
	task("probe", h.NIC.Probe)
	h.Dev = h.NIC.Netdev()
	task("ip-link-up", func(tk *kernelmodel.Task) error { return h.Dev.DevOpen(tk) })
	ready := func() bool {
		r, ok := h.NIC.(interface{ RxReady() bool })
		return h.Dev.NetifCarrierOK() && (!ok || r.RxReady())
	}
	clk.RunWhile(func() bool { return !ready() }, clk.Now()+10*time.Second)
	if !ready() {
		t.Fatalf("no carrier 10 s after ip link set up")
	}
}
