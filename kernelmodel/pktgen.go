package kernelmodel

import "time"

// PktgenConfig configures a Pktgen run.
type PktgenConfig struct {
	Dev   *NetDevice
	Count uint64 // packets to send; 0 = until stopped
	// Fill writes packet number seq (from 0) into buf (room for at least
	// MaxSize bytes) and returns its length: an Ethernet frame without FCS.
	Fill    func(seq uint64, buf []byte) int
	MaxSize int           // largest frame Fill makes (default 1514)
	Delay   time.Duration // gap between packets (pkt_dev->delay); 0 = flat out
	Queue   int           // TX queue
}

// Pktgen is a model of Linux's pktgen: a kernel thread that builds packets
// and hands them straight to the driver's ndo_start_xmit, waiting when the
// queue is stopped.
type Pktgen struct {
	cfg  PktgenConfig
	task *Task
	stop bool

	Sent       uint64 // accepted by the driver
	Busy       uint64 // NETDEV_TX_BUSY returned (packet retried)
	QueueWaits uint64 // times it waited for the queue to restart
	Done       bool
	Finished   time.Duration
}

// StartPktgen starts pktgen on CPU cpu ("kpktgend_N").
func (k *Kernel) StartPktgen(cpu int, cfg PktgenConfig) *Pktgen {
	if cfg.MaxSize == 0 {
		cfg.MaxSize = 1514
	}
	p := &Pktgen{cfg: cfg}
	p.task = k.Spawn(cpu, "kpktgend_"+itoa(cpu), p.run)
	return p
}

// Stop makes pktgen stop after the packet in hand.
func (p *Pktgen) Stop() { p.stop = true }

func (p *Pktgen) run(t *Task) {
	k := t.k
	d := p.cfg.Dev
	q := d.TxQueue(p.cfg.Queue)
	wait := WaitQueueEntry{Task: t}
	var skb *SKB // a packet the driver returned NETDEV_TX_BUSY for: retried
	for seq := uint64(0); !p.stop && (p.cfg.Count == 0 || seq < p.cfg.Count); {
		if q.Stopped() || !d.IsUp() {
			p.QueueWaits++
			q.wq.PrepareToWaitExclusive(&wait)
			if q.Stopped() || !d.IsUp() {
				t.ScheduleTimeout(10 * time.Millisecond)
			}
			q.wq.FinishWait(&wait)
			continue
		}
		if skb == nil {
			skb = k.AllocSKB(p.cfg.MaxSize)
			n := p.cfg.Fill(seq, skb.Put(p.cfg.MaxSize))
			skb.Trim(n)
			skb.Dev = d
			skb.QueueMapping = uint16(p.cfg.Queue)
			skb.Seq = seq
			k.Charge(k.Cost.PktgenPacket)
		}
		k.tracePointQ(k.cur, "pktgen_xmit", skb.ID, int64(len(skb.Data)), TxQueueName(p.cfg.Queue))
		if !DevXmitComplete(int(d.NetdevStartXmit(skb, q, false))) {
			// pktgen_xmit: NETDEV_TX_BUSY, the skb is still ours.
			p.Busy++
			t.CondResched()
			continue
		}
		skb = nil
		p.Sent++
		seq++
		if p.cfg.Delay > 0 {
			t.Sleep(p.cfg.Delay)
		} else {
			t.CondResched()
		}
	}
	if skb != nil {
		k.KfreeSKB(skb, SKB_DROP_REASON_NOT_SPECIFIED)
	}
	p.Done = true
	p.Finished = k.Now()
}
