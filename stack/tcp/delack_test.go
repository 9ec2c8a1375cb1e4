package tcp

import (
	"testing"
	"time"
)

// TestDelAckQuickStart: a connection ACKs its first segments at once
// (quick-ACK mode: half the window's segments, at most 16), then delays.
func TestDelAckQuickStart(t *testing.T) {
	for _, c := range []struct {
		name   string
		rcvWnd uint32
		quick  uint32
	}{
		{"64240 window, mss 1460: 16", 64240, 16},
		{"8760 window: 3", 8760, 3},
		{"tiny window: 2", 1000, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := NewDelAck(1460)
			now := 10 * time.Second
			d.EventDataRecv(now, time.Second, c.rcvWnd)
			if d.Quick != c.quick || d.ATO != 40*time.Millisecond || !d.InQuickackMode() {
				t.Fatalf("quick %d ato %v", d.Quick, d.ATO)
			}
			n := 0
			for d.AckNeededNow(0, 0, false) {
				d.AckSent(1)
				n++
				d.EventDataRecv(now, time.Second, c.rcvWnd)
			}
			if n != int(c.quick) || d.ATO != TCPATOMin {
				t.Errorf("%d quick ACKs (ato %v), want %d", n, d.ATO, c.quick)
			}
			d.Pingpong = true
			d.Quick = 5
			if d.InQuickackMode() {
				t.Error("quick ACKs in interactive mode")
			}
		})
	}
}

// TestDelAckATO: ato follows the spacing of arriving data.
func TestDelAckATO(t *testing.T) {
	ms := time.Millisecond
	rto := 300 * ms
	for _, c := range []struct {
		name string
		gaps []time.Duration
		ato  time.Duration
	}{
		// A gap of at most 20 ms: ato/2 + 20 ms, so it stays at 40.
		{"fast data", []time.Duration{5 * ms, 5 * ms}, 40 * ms},
		// A gap of 30 ms (< ato 40): 40/2 + 30 = 50.
		{"gap below ato", []time.Duration{30 * ms}, 50 * ms},
		// Then 45 (< 50): 25 + 45 = 70; then 69: 35+69 = 104.
		{"growing gaps", []time.Duration{30 * ms, 45 * ms, 69 * ms}, 104 * ms},
		// Pulled toward the gap but at most the RTO.
		// 103 (< 104): 52+103 = 155; 154: 77+154 = 231; 230: 115+230 =
		// 345, capped at the RTO.
		{"capped at rto", []time.Duration{30 * ms, 45 * ms, 69 * ms, 103 * ms, 154 * ms, 230 * ms}, 300 * ms},
		// A gap at ato leaves it.
		{"gap at ato", []time.Duration{30 * ms, 50 * ms}, 50 * ms},
		// A gap beyond ato but within the RTO: unchanged.
		{"gap above ato", []time.Duration{100 * ms}, 40 * ms},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := NewDelAck(1460)
			now := 10 * time.Second
			d.EventDataRecv(now, rto, 64240)
			d.AckSent(100) // out of quick-ACK mode
			for _, g := range c.gaps {
				now += g
				d.EventDataRecv(now, rto, 64240)
			}
			if d.ATO != c.ato {
				t.Errorf("ato %v, want %v", d.ATO, c.ato)
			}
		})
	}
	// A gap above the RTO: quick ACKs again.
	d := NewDelAck(1460)
	d.EventDataRecv(time.Second, rto, 64240)
	d.AckSent(100)
	d.EventDataRecv(time.Second+400*ms, rto, 64240)
	if !d.InQuickackMode() {
		t.Error("no quick ACKs after an idle sender")
	}
}

func TestSendDelayedAck(t *testing.T) {
	ms := time.Millisecond
	now := 10*time.Second + 300*time.Microsecond // between jiffies
	for _, c := range []struct {
		name     string
		ato      time.Duration
		pingpong bool
		pushed   bool
		srttUS   uint32
		delMax   time.Duration // icsk_delack_max, 0: TCP_DELACK_MAX
		want     time.Duration // from the jiffy of now
	}{
		{"ato 40ms", 40 * ms, false, false, 0, 0, 40 * ms},
		{"bounded by icsk_delack_max", 450 * ms, false, false, 0, 0, 200 * ms},
		{"bulk with a larger delack_max: up to 500ms", 450 * ms, false, false, 0, time.Second, 450 * ms},
		{"bulk: 500ms", 800 * ms, false, false, 0, time.Second, 500 * ms},
		{"interactive: 200ms", 300 * ms, true, false, 0, time.Second, 200 * ms},
		{"after PSH: 200ms", 300 * ms, false, true, 0, time.Second, 200 * ms},
		{"bounded by SRTT", 150 * ms, false, false, 8 * 60000, 0, 60 * ms},
		{"but not below 40ms", 150 * ms, false, false, 8 * 10000, 0, 40 * ms},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := NewDelAck(1460)
			d.ATO, d.Pingpong = c.ato, c.pingpong
			if c.delMax != 0 {
				d.DelackMax = c.delMax
			}
			if c.pushed {
				d.Pending |= ICSKAckPushed
			}
			now, to := d.SendDelayedAck(now, c.srttUS)
			if now || to != 10*time.Second+c.want || d.Pending&ICSKAckTimer == 0 {
				t.Errorf("send now %v timeout %v, want +%v", now, to, c.want)
			}
		})
	}
	// With the timer running, the earlier deadline stays; near it, the
	// ACK goes now.
	d := NewDelAck(1460)
	d.ATO = 100 * ms
	_, first := d.SendDelayedAck(now, 0)
	if _, to := d.SendDelayedAck(now+10*ms, 0); to != first {
		t.Errorf("rescheduled to %v from %v", to, first)
	}
	if send, _ := d.SendDelayedAck(first-25*ms, 0); !send {
		t.Error("25 ms (ato/4) before the timer: not sent at once")
	}
}

func TestDelackTimer(t *testing.T) {
	var mib TcpExtMIB
	d := NewDelAck(1460)
	d.ATO = 100 * time.Millisecond
	if d.DelackTimer(time.Second, &mib) {
		t.Fatal("fired with nothing due")
	}
	d.Pending = ICSKAckSched | ICSKAckTimer
	if !d.DelackTimer(150*time.Millisecond, &mib) || d.ATO != 150*time.Millisecond || mib.DelayedACKs != 1 {
		t.Errorf("bulk: ato %v DelayedACKs %d, want doubled up to the rto", d.ATO, mib.DelayedACKs)
	}
	d.Pending, d.Pingpong = ICSKAckSched, true
	if !d.DelackTimer(time.Second, &mib) || d.Pingpong || d.ATO != TCPATOMin {
		t.Errorf("interactive: pingpong %v ato %v", d.Pingpong, d.ATO)
	}
	if !d.AckNeededNow(3000, 0, true) || d.AckNeededNow(3000, 0, false) || d.AckNeededNow(1460, 0, true) {
		t.Error("more than one full segment with a window that does not shrink")
	}
	d.Pending |= ICSKAckNow
	if !d.AckNeededNow(0, 0, false) {
		t.Error("ICSK_ACK_NOW")
	}
}
