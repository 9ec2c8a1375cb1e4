package kernelmodel

import (
	"bufio"
	"io"
	"strconv"
	"time"
)

// Tracer records trace points of one or more kernels: every named step with
// the Linux function name, host, CPU, timestamp and packet id. It writes text
// (one line per step) and/or Chrome/Perfetto Trace Event Format JSON, where
// each host is a process and each CPU has two tracks (threads): one for
// softirq, NAPI and task work, one for hardirqs. Open the JSON in
// ui.perfetto.dev or chrome://tracing.
//
// A step about one queue or interrupt vector carries its name (the queue
// field): irq_handler_entry/exit the interrupt's name as /proc/interrupts
// shows it (eth0, eth0-TxRx-0), napi_poll the NAPI instance's, pktgen_xmit,
// net_dev_start_xmit and napi_gro_receive_entry the queue (tx-0, rx-0, as
// under /sys/class/net/<dev>/queues). Text lines show it as queue=NAME
// after the name, the JSON as args.queue.
//
// Timestamps are what the CPU sees (Kernel.Now), so within one context they
// are monotonic; lines of different contexts may interleave out of order in
// the text output.
type Tracer struct {
	text  *bufio.Writer
	json  *bufio.Writer
	first bool
	hosts map[*Kernel]int
	buf   []byte
	err   error
}

// NewTracer makes a tracer writing text and/or JSON (either may be nil).
func NewTracer(text, perfetto io.Writer) *Tracer {
	t := &Tracer{hosts: map[*Kernel]int{}, first: true}
	if text != nil {
		t.text = bufio.NewWriterSize(text, 64<<10)
	}
	if perfetto != nil {
		t.json = bufio.NewWriterSize(perfetto, 64<<10)
		t.json.WriteString("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")
	}
	return t
}

// Close finishes the JSON document and flushes both outputs.
func (t *Tracer) Close() error {
	if t.json != nil {
		t.json.WriteString("\n]}\n")
		if err := t.json.Flush(); err != nil && t.err == nil {
			t.err = err
		}
	}
	if t.text != nil {
		if err := t.text.Flush(); err != nil && t.err == nil {
			t.err = err
		}
	}
	return t.err
}

// Hardirq spans go on a track of their own, so that spans nest per track.
const hardirqTrack = 1000

func (t *Tracer) pid(k *Kernel) int {
	if p, ok := t.hosts[k]; ok {
		return p
	}
	p := len(t.hosts) + 1
	t.hosts[k] = p
	if t.json != nil {
		t.meta(p, 0, "process_name", k.Name)
		for _, c := range k.cpus {
			t.meta(p, c.ID, "thread_name", "CPU"+strconv.Itoa(c.ID))
			t.meta(p, hardirqTrack+c.ID, "thread_name", "CPU"+strconv.Itoa(c.ID)+" hardirq")
		}
	}
	return p
}

func (t *Tracer) meta(pid, tid int, what, name string) {
	b := t.sep()
	b = append(b, `{"ph":"M","name":"`...)
	b = append(b, what...)
	b = append(b, `","pid":`...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendInt(b, int64(tid), 10)
	b = append(b, `,"args":{"name":`...)
	b = strconv.AppendQuote(b, name)
	b = append(b, "}}"...)
	t.json.Write(b)
	t.buf = b
}

func (t *Tracer) sep() []byte {
	b := t.buf[:0]
	if !t.first {
		b = append(b, ",\n"...)
	}
	t.first = false
	return b
}

func appendMicros(b []byte, ts time.Duration) []byte {
	// Microseconds with nanosecond precision, as the format wants.
	b = strconv.AppendInt(b, int64(ts/time.Microsecond), 10)
	ns := int64(ts % time.Microsecond)
	b = append(b, '.', byte('0'+ns/100), byte('0'+ns/10%10), byte('0'+ns%10))
	return b
}

func (t *Tracer) event(k *Kernel, cpu int, ph byte, name string, ts time.Duration, pkt uint64, arg int64, track int) {
	t.eventQ(k, cpu, ph, name, ts, pkt, arg, track, "")
}

// eventQ is event for a step about one queue or vector, named queue.
func (t *Tracer) eventQ(k *Kernel, cpu int, ph byte, name string, ts time.Duration, pkt uint64, arg int64, track int, queue string) {
	pid := t.pid(k)
	if t.text != nil && ph == 'i' {
		b := t.buf[:0]
		sec := int64(ts / time.Second)
		b = strconv.AppendInt(b, sec, 10)
		b = append(b, '.')
		ns := int64(ts % time.Second)
		for d := int64(100000000); d > 0; d /= 10 {
			b = append(b, byte('0'+ns/d%10))
		}
		b = append(b, ' ')
		b = append(b, k.Name...)
		b = append(b, " cpu"...)
		b = strconv.AppendInt(b, int64(cpu), 10)
		b = append(b, ' ')
		b = append(b, name...)
		if queue != "" {
			b = append(b, " queue="...)
			b = append(b, queue...)
		}
		if pkt != 0 {
			b = append(b, " pkt="...)
			b = strconv.AppendUint(b, pkt, 10)
		}
		b = append(b, " arg="...)
		b = strconv.AppendInt(b, arg, 10)
		b = append(b, '\n')
		t.text.Write(b)
		t.buf = b
	}
	if t.json != nil {
		b := t.sep()
		b = append(b, `{"ph":"`...)
		b = append(b, ph)
		b = append(b, `","name":`...)
		b = strconv.AppendQuote(b, name)
		b = append(b, `,"ts":`...)
		b = appendMicros(b, ts)
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(pid), 10)
		b = append(b, `,"tid":`...)
		b = strconv.AppendInt(b, int64(track+cpu), 10)
		if ph == 'i' {
			b = append(b, `,"s":"t","args":{"pkt":`...)
			b = strconv.AppendUint(b, pkt, 10)
			b = append(b, `,"arg":`...)
			b = strconv.AppendInt(b, arg, 10)
			if queue != "" {
				b = append(b, `,"queue":`...)
				b = strconv.AppendQuote(b, queue)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
		t.json.Write(b)
		t.buf = b
	}
}

func (k *Kernel) traceTime(c *CPU) time.Duration {
	if c != nil && c == k.cur {
		return k.Now()
	}
	return k.clock.Now()
}

// tracePoint records one step: fn is the Linux function name.
func (k *Kernel) tracePoint(c *CPU, fn string, pkt uint64, arg int64) {
	k.tracePointQ(c, fn, pkt, arg, "")
}

// tracePointQ is tracePoint for a step about one queue or vector, named
// queue.
func (k *Kernel) tracePointQ(c *CPU, fn string, pkt uint64, arg int64, queue string) {
	if k.tr == nil {
		return
	}
	cpu, track := 0, 0
	if c != nil {
		cpu, track = c.ID, k.track(c)
	}
	k.tr.eventQ(k, cpu, 'i', fn, k.traceTime(c), pkt, arg, track, queue)
}

// TracePointQ is TracePoint for a step about one queue or interrupt vector
// (a driver's clean of one ring): queue names it (tx-0, rx-0, eth0-TxRx-0).
func (k *Kernel) TracePointQ(fn string, pkt uint64, arg int64, queue string) {
	k.tracePointQ(k.cur, fn, pkt, arg, queue)
}

// queueNames are the names of the first TX and RX queues, made once so
// that tracing a queue allocates nothing.
var queueNames = func() (n [2][16]string) {
	for i := range n[0] {
		n[0][i], n[1][i] = "tx-"+strconv.Itoa(i), "rx-"+strconv.Itoa(i)
	}
	return n
}()

// TxQueueName and RxQueueName name queue i as sysfs does (tx-0, rx-0).
func TxQueueName(i int) string { return queueName(0, "tx-", i) }

// RxQueueName: see TxQueueName.
func RxQueueName(i int) string { return queueName(1, "rx-", i) }

func queueName(dir int, prefix string, i int) string {
	if i >= 0 && i < len(queueNames[dir]) {
		return queueNames[dir][i]
	}
	return prefix + strconv.Itoa(i)
}

// TracePoint records a step from outside the package (a driver, a model, the
// stack): fn is the Linux function name, pkt the skb id (0 if none).
func (k *Kernel) TracePoint(fn string, pkt uint64, arg int64) {
	k.tracePoint(k.cur, fn, pkt, arg)
}

func (k *Kernel) track(c *CPU) int {
	if c.inHardirq {
		return hardirqTrack
	}
	return 0
}

func (k *Kernel) traceBegin(c *CPU, name string) {
	if k.tr == nil {
		return
	}
	k.tr.event(k, c.ID, 'B', name, k.traceTime(c), 0, 0, k.track(c))
}

func (k *Kernel) traceEnd(c *CPU, name string) {
	if k.tr == nil {
		return
	}
	k.tr.event(k, c.ID, 'E', name, k.traceTime(c), 0, 0, k.track(c))
}

func (k *Kernel) traceEndAt(c *CPU, name string, ts time.Duration) {
	if k.tr == nil {
		return
	}
	k.tr.event(k, c.ID, 'E', name, ts, 0, 0, hardirqTrack)
}
