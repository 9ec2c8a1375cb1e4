package kernelmodel

import (
	"testing"
	"time"
)

// benchDev is a NIC that always has packets: each poll fills its budget.
type benchDev struct {
	k    *Kernel
	dev  *NetDevice
	napi NAPI
	left int
	irq  int
}

func (d *benchDev) poll(n *NAPI, budget int) int {
	work := 0
	for work < budget && d.left > 0 {
		skb := d.k.AllocSKB(64)
		p := skb.Put(60)
		p[12], p[13] = 0x88, 0xb5
		d.k.EthTypeTrans(skb, d.dev)
		d.k.Charge(d.k.Cost.RxDescriptor)
		n.NAPIGROReceive(skb)
		d.left--
		work++
	}
	if work < budget {
		n.NAPICompleteDone(work)
	}
	return work
}

// BenchmarkKernelRx measures the kernel model's own cost per received
// packet: hardirq, NET_RX softirq, net_rx_action, NAPI poll, gro_normal
// batching, __netif_receive_skb_core and a protocol handler that frees it.
func BenchmarkKernelRx(b *testing.B) {
	k := New(Config{CPUs: 1})
	d := &benchDev{k: k}
	d.dev = k.AllocEtherdev("bench0", 1, 1)
	d.dev.Ops = testOps{}
	d.dev.up = true
	d.irq = k.AllocIRQ()
	k.RequestIRQ(d.irq, func(int) IRQReturn { d.napi.NAPISchedule(); return IRQ_HANDLED }, "bench")
	k.NetifNAPIAdd(d.dev, &d.napi, d.poll, 0)
	d.napi.NAPIEnable()
	k.DevAddPack(&PacketType{Type: 0x88b5, Func: func(s *SKB) { k.ConsumeSKB(s) }})
	clk := k.Clock()
	run := func(n int) {
		d.left = n
		k.Raise(d.irq)
		for d.left > 0 || d.napi.state&NAPI_STATE_SCHED != 0 {
			clk.RunFor(time.Millisecond)
		}
	}
	run(10000) // warm the pools
	b.ReportAllocs()
	b.ResetTimer()
	run(b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}
