package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

const demoDescription = `Builds two modelled hosts (A and B), each a kernel model with its own CPUs,
DMA memory, NIC model and driver, joins their ports with a cable and has
pktgen on A send numbered, patterned frames to B (and B to A with --bidir).
B checks every frame byte for byte and in order. Then it prints, per host,
the driver's ethtool -S counters, interrupts, NAPI polls, the net_device
statistics and /proc/net/softnet_stat. Runs in virtual time: the same flags
and seed give the same run.`

type demoFlags struct {
	nic       string
	frames    uint64
	minSize   int
	maxSize   int
	mtu       int
	itr       int
	cpus      int
	speed     uint64
	loss      float64
	seed      uint64
	bidir     bool
	pcapFile  string
	traceFile string
	limit     time.Duration
	sysctls   sysctlFlag
}

// sysctlFlag collects --sysctl name=value settings.
type sysctlFlag []struct {
	name string
	val  int
}

func (s *sysctlFlag) String() string { return "" }

func (s *sysctlFlag) Set(v string) error {
	name, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want name=value, got %q", v)
	}
	n, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil {
		return fmt.Errorf("%s: value %q is not an integer", name, val)
	}
	var probe kernelmodel.Sysctl
	if err := probe.Set(strings.TrimSpace(name), n); err != nil {
		return err
	}
	*s = append(*s, struct {
		name string
		val  int
	}{strings.TrimSpace(name), n})
	return nil
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	var f demoFlags
	fs := newFlagSet("demo", "[flags]", demoDescription, stderr)
	fs.StringVar(&f.nic, "nic", "e1000", "NIC model and driver: e1000 (82540EM)")
	fs.Uint64Var(&f.frames, "frames", 100000, "frames to send per direction")
	fs.IntVar(&f.minSize, "min-size", 60, "smallest frame, bytes without FCS (>= 60)")
	fs.IntVar(&f.maxSize, "max-size", 1514, "largest frame, bytes without FCS (up to MTU+14)")
	fs.IntVar(&f.mtu, "mtu", 1500, "MTU of both interfaces; above 1500 the NICs take long frames (LPE)")
	fs.IntVar(&f.itr, "itr", 3, "e1000 InterruptThrottleRate: 0 off, 1 dynamic, 3 dynamic conservative, 4 simplified, or 100-100000 ints/s")
	fs.IntVar(&f.cpus, "cpus", 2, "CPUs per host")
	fs.Uint64Var(&f.speed, "speed", 1_000_000_000, "cable speed in bit/s; 0 for an infinitely fast cable")
	fs.Float64Var(&f.loss, "loss", 0, "probability that the cable loses a frame (0-1)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of frame sizes and cable impairments")
	fs.BoolVar(&f.bidir, "bidir", false, "also send from B to A")
	fs.StringVar(&f.pcapFile, "pcap", "", "write every frame the cable carries to this libpcap file")
	fs.StringVar(&f.traceFile, "trace", "", "write the trace to this file: Perfetto JSON, or text if it ends in .txt")
	fs.DurationVar(&f.limit, "limit", 10*time.Minute, "stop after this much model time")
	fs.Var(&f.sysctls, "sysctl", "set a tunable on both hosts, e.g. net.core.netdev_budget=600 (repeatable;\nnetdev_budget, netdev_budget_usecs, dev_weight, netdev_max_backlog, gro_normal_batch)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "nicbed demo: %v\n", err)
		return errUsage
	}
	return demo(f, stdout)
}

func (f *demoFlags) check() error {
	switch f.nic {
	case "e1000":
	case "igb":
		return errors.New("--nic igb: the 82576 model and driver are not part of nicbed yet; use --nic e1000")
	default:
		return fmt.Errorf("--nic %q: unknown NIC (want e1000)", f.nic)
	}
	switch {
	case f.frames == 0:
		return errors.New("--frames must be at least 1")
	case f.mtu < 68 || f.mtu > 16110:
		return fmt.Errorf("--mtu %d: want 68-16110", f.mtu)
	case f.minSize < 60:
		return fmt.Errorf("--min-size %d: frames are at least 60 bytes", f.minSize)
	case f.maxSize < f.minSize:
		return fmt.Errorf("--max-size %d is below --min-size %d", f.maxSize, f.minSize)
	case f.maxSize > f.mtu+14:
		return fmt.Errorf("--max-size %d does not fit --mtu %d (at most %d)", f.maxSize, f.mtu, f.mtu+14)
	case f.cpus < 1 || f.cpus > 64:
		return fmt.Errorf("--cpus %d: want 1-64", f.cpus)
	case f.loss < 0 || f.loss > 1:
		return fmt.Errorf("--loss %v: want a probability, 0-1", f.loss)
	case f.limit <= 0:
		return fmt.Errorf("--limit %v: must be positive", f.limit)
	}
	return nil
}

func demo(f demoFlags, stdout io.Writer) (err error) {
	cfg := testbed.Config{
		CPUs:          f.cpus,
		NIC:           testbed.E1000{Driver: driver.Options{InterruptThrottleRate: driver.Int(f.itr), MTU: f.mtu}},
		Cable:         wire.CableConfig{SpeedBPS: f.speed, Seed: f.seed, Loss: f.loss},
		InfiniteSpeed: f.speed == 0,
	}
	if f.pcapFile != "" {
		pf, err := os.Create(f.pcapFile)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(pf, 1<<20)
		defer func() {
			if e := errors.Join(bw.Flush(), pf.Close()); err == nil {
				err = e
			}
		}()
		if cfg.Pcap, err = wire.NewPcapWriter(bw); err != nil {
			return err
		}
		defer func() {
			if e := cfg.Pcap.Err(); err == nil && e != nil {
				err = fmt.Errorf("pcap: %w", e)
			}
		}()
	}
	if f.traceFile != "" {
		tf, err := os.Create(f.traceFile)
		if err != nil {
			return err
		}
		if strings.HasSuffix(f.traceFile, ".txt") {
			cfg.Tracer = kernelmodel.NewTracer(tf, nil)
		} else {
			cfg.Tracer = kernelmodel.NewTracer(nil, tf)
		}
		defer func() {
			if e := errors.Join(cfg.Tracer.Close(), tf.Close()); err == nil {
				err = e
			}
		}()
	}
	tb, err := testbed.New(cfg)
	if err != nil {
		return err
	}
	for _, h := range tb.Hosts() {
		for _, sc := range f.sysctls {
			if err := h.Kernel.Sysctl.Set(sc.name, sc.val); err != nil {
				return err
			}
		}
	}
	if err := tb.Up(10 * time.Second); err != nil {
		return err
	}
	fc := testbed.FlowConfig{Count: f.frames, MinSize: f.minSize, MaxSize: f.maxSize, Seed: f.seed}
	flows := []*testbed.Flow{}
	ab, err := tb.StartFlow(tb.A, tb.B, fc)
	if err != nil {
		return err
	}
	flows = append(flows, ab)
	if f.bidir {
		fc.Seed++
		ba, err := tb.StartFlow(tb.B, tb.A, fc)
		if err != nil {
			return err
		}
		flows = append(flows, ba)
	}
	start := tb.Clock.Now()
	wall := time.Now()
	done := runFlows(tb, f.limit, flows)
	elapsed := tb.Clock.Now() - start

	w := bufio.NewWriter(stdout)
	defer func() {
		if e := w.Flush(); err == nil {
			err = e
		}
	}()
	fmt.Fprintf(w, "nicbed demo: %s, %d CPUs per host, cable %s, seed %d\n", f.nic, f.cpus, speedString(f.speed), f.seed)
	var failed []error
	for _, fl := range flows {
		rate, span := 0.0, fl.LastArrival-start
		if s := span.Seconds(); s > 0 {
			rate = float64(fl.Received) / s
		}
		fmt.Fprintf(w, "flow %s -> %s: sent %d, received %d intact (%d bytes), lost %d, bad %d; %.0f frames/s over %v of model time\n",
			fl.From.Name, fl.To.Name, fl.Pktgen.Sent, fl.Received, fl.Bytes, fl.Lost, fl.Bad, rate, span.Round(time.Microsecond))
		if err := fl.Err(); err != nil {
			failed = append(failed, err)
		}
	}
	ca, cb := tb.Cable.Stats()
	fmt.Fprintf(w, "cable A->B: delivered %d, lost %d, dropped (queue %d, down %d, size %d)\n", ca.Delivered, ca.Lost, ca.DroppedQueue, ca.DroppedDown, ca.DroppedSize)
	fmt.Fprintf(w, "cable B->A: delivered %d, lost %d, dropped (queue %d, down %d, size %d)\n", cb.Delivered, cb.Lost, cb.DroppedQueue, cb.DroppedDown, cb.DroppedSize)
	fmt.Fprintf(w, "simulated %v in %v of wall time\n\n", elapsed.Round(time.Microsecond), time.Since(wall).Round(time.Millisecond))
	for _, h := range tb.Hosts() {
		if err := h.WriteCounters(w); err != nil {
			return err
		}
		if err := h.Check(); err != nil {
			failed = append(failed, err)
		}
		fmt.Fprintln(w)
	}
	if !done {
		failed = append(failed, fmt.Errorf("flows not complete after %v of model time (see --limit)", f.limit))
	}
	return errors.Join(failed...)
}

// runFlows runs the clock until every flow is complete, or its sender is done
// and nothing has arrived for a while (the last frames were lost on the way),
// or limit has passed. It reports whether every frame was accounted for.
func runFlows(tb *testbed.Testbed, limit time.Duration, flows []*testbed.Flow) bool {
	const quiet = 100 * time.Millisecond
	end := tb.Clock.Now() + limit
	for tb.Clock.Now() < end {
		if tb.RunFlows(min(10*time.Millisecond, end-tb.Clock.Now()), flows...) {
			return true
		}
		settled := true
		for _, fl := range flows {
			if !fl.Complete() && (!fl.Pktgen.Done || tb.Clock.Now()-max(fl.LastArrival, fl.Pktgen.Finished) < quiet) {
				settled = false
			}
		}
		if settled {
			for _, fl := range flows {
				if !fl.Complete() {
					fl.Lost += fl.Cfg.Count - fl.Next // the tail that never came
					fl.Next = fl.Cfg.Count
				}
			}
			return true
		}
	}
	return false
}

func speedString(bps uint64) string {
	switch {
	case bps == 0:
		return "infinitely fast"
	case bps%1_000_000_000 == 0:
		return fmt.Sprintf("%d Gb/s", bps/1_000_000_000)
	case bps%1_000_000 == 0:
		return fmt.Sprintf("%d Mb/s", bps/1_000_000)
	}
	return fmt.Sprintf("%d b/s", bps)
}
