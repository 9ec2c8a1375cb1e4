package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/e1000/model"
	"github.com/nicbed/nicbed/hw/wire"
	igbdriver "github.com/nicbed/nicbed/igb/driver"
	igbmodel "github.com/nicbed/nicbed/igb/model"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

const demoDescription = `Builds two modelled hosts (A and B), each a kernel model with its own CPUs,
DMA memory, NIC model and driver, joins their ports with a cable and has
pktgen on A send numbered, patterned frames to B (and B to A with --bidir).
B checks every frame byte for byte and in order. Then it prints a summary:
per flow the frames and the throughput (frames/s and Mb/s in model time),
model and wall time, and per host the interrupts per vector, NAPI polls and
packets per poll, softnet_stat's time_squeeze and drops, the kernel's drop
reasons, softnet_stat per CPU and the ethtool -S counters that are not zero;
with --nic igb also each q_vector: its vector, CPU, hardirqs, NAPI polls and
the EITR value the adaptive moderation (igb_set_itr) chose. --flows N sends
N IPv4/TCP flows of distinct 4-tuples per direction, so that RSS spreads
them over --queues queue pairs. --verbose adds every
counter: the full ethtool -S list, the model's counters and
/proc/net/softnet_stat. Runs in virtual time: the same flags and seed give
the same run (--clock real paces it by wall time instead).`

type demoFlags struct {
	nic       string
	queues    int
	flows     int
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
	clock     string
	profile   string
	sysctls   sysctlFlag
	verbose   bool
	itrSet    bool
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
	fs := newFlagSet("demo", "[flags]", demoDescription, stdout, stderr)
	fs.StringVar(&f.nic, "nic", "e1000", "NIC model and driver: e1000 (82540EM) or igb (82576, MSI-X, RSS)")
	fs.IntVar(&f.queues, "queues", 0, "igb: queue pairs per host (ethtool -L combined), 1-8; 0 for one per CPU")
	fs.IntVar(&f.flows, "flows", 1, "flows per direction, 1-128; more than one are IPv4/TCP flows of distinct 4-tuples (RSS spreads them)")
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
	fs.BoolVar(&f.verbose, "verbose", false, "after the summary, print every counter of both hosts (ethtool -S, model, softnet_stat)")
	fs.DurationVar(&f.limit, "limit", 10*time.Minute, "stop after this much model time")
	fs.StringVar(&f.profile, "profile", "datasheet", "model behaviour: datasheet (the 8254x or 82576 datasheet) or qemu (QEMU's e1000 or igb, the device the VFIO path meets)")
	fs.StringVar(&f.clock, "clock", "virtual", "virtual (deterministic, as fast as the machine goes) or real (paced by wall time, as the TAP and VFIO paths run; CPU time is not modelled)")
	fs.Var(&f.sysctls, "sysctl", "set a tunable on both hosts, e.g. net.core.netdev_budget=600 (repeatable;\nnetdev_budget, netdev_budget_usecs, dev_weight, netdev_max_backlog, gro_normal_batch)")
	if err := parse(fs, args); err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "itr" {
			f.itrSet = true
		}
	})
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "nicbed demo: %v\n", err)
		return errUsage
	}
	return demo(f, stdout)
}

func (f *demoFlags) check() error {
	switch f.nic {
	case "e1000":
		if f.queues != 0 {
			return errors.New("--queues: the e1000 has one queue; use --nic igb")
		}
	case "igb":
		if f.queues < 0 || f.queues > igbdriver.MaxRSSQueues {
			return fmt.Errorf("--queues %d: want 1-%d, or 0 for one per CPU", f.queues, igbdriver.MaxRSSQueues)
		}
		if f.itrSet {
			return errors.New("--itr is the e1000's InterruptThrottleRate; igb moderates adaptively (igb_set_itr)")
		}
	default:
		return fmt.Errorf("--nic %q: unknown NIC (want e1000 or igb)", f.nic)
	}
	if f.flows < 1 || f.flows > 128 {
		return fmt.Errorf("--flows %d: want 1-128", f.flows)
	}
	switch f.profile {
	case "datasheet", "qemu":
	default:
		return fmt.Errorf("--profile %q: want datasheet or qemu", f.profile)
	}
	switch f.clock {
	case "virtual", "real":
	default:
		return fmt.Errorf("--clock %q: want virtual or real", f.clock)
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
		NIC:           demoNIC(f),
		Cable:         wire.CableConfig{SpeedBPS: f.speed, Seed: f.seed, Loss: f.loss},
		InfiniteSpeed: f.speed == 0,
	}
	if f.clock == "real" {
		cfg.Clock = kernelmodel.NewRealClock()
	}
	if f.pcapFile != "" {
		pw, done, err := createPcap(f.pcapFile)
		if err != nil {
			return err
		}
		cfg.Pcap = pw
		defer func() {
			if e := done(); err == nil {
				err = e
			}
		}()
	}
	if f.traceFile != "" {
		tr, done, err := createTracer(f.traceFile)
		if err != nil {
			return err
		}
		cfg.Tracer = tr
		defer func() {
			if e := done(); err == nil {
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
	flows, err := startDemoFlows(tb, f)
	if err != nil {
		return err
	}
	start := tb.Clock.Now()
	wall := time.Now()
	done := runFlows(tb, f.limit, flows)
	elapsed := tb.Clock.Now() - start

	wallTime := time.Since(wall)

	w := bufio.NewWriter(stdout)
	defer func() {
		if e := w.Flush(); err == nil {
			err = e
		}
	}()
	fmt.Fprintf(w, "nicbed demo: %s (%s profile), %d CPUs per host, cable %s, seed %d, %s clock\n", f.nic, f.profile, f.cpus, speedString(f.speed), f.seed, f.clock)
	var failed []error
	for _, fl := range flows {
		fmt.Fprintf(w, "flow %s -> %s: sent %d, received %d intact (%d bytes), lost %d, bad %d\n",
			fl.From.Name, fl.To.Name, fl.Pktgen.Sent, fl.Received, fl.Bytes, fl.Lost, fl.Bad)
		span := fl.LastArrival - start
		fps, mbps := 0.0, 0.0
		if s := span.Seconds(); s > 0 {
			fps, mbps = float64(fl.Received)/s, float64(fl.Bytes)*8/s/1e6
		}
		fmt.Fprintf(w, "  throughput: %.0f frames/s, %.1f Mb/s over %v of model time\n", fps, mbps, span.Round(time.Microsecond))
		if err := fl.Err(); err != nil {
			failed = append(failed, err)
		}
	}
	fmt.Fprintf(w, "time: %v of model time in %v of wall time\n", elapsed.Round(time.Microsecond), wallTime.Round(time.Millisecond))
	for i, st := range cableStats(tb) {
		dir := [2]string{"A->B", "B->A"}[i]
		fmt.Fprintf(w, "cable %s: delivered %d, lost %d, dropped %d (queue %d, down %d, size %d)\n", dir, st.Delivered, st.Lost,
			st.DroppedQueue+st.DroppedDown+st.DroppedSize, st.DroppedQueue, st.DroppedDown, st.DroppedSize)
	}
	for _, h := range tb.Hosts() {
		writeSummary(w, h, elapsed)
		if err := h.Check(); err != nil {
			failed = append(failed, err)
		}
	}
	if f.verbose {
		for _, h := range tb.Hosts() {
			fmt.Fprintln(w)
			if err := h.WriteCounters(w); err != nil {
				return err
			}
		}
	}
	if !done {
		failed = append(failed, fmt.Errorf("flows not complete after %v of model time (see --limit)", f.limit))
	}
	return errors.Join(failed...)
}

// demoNIC is the NIC factory the flags ask for.
func demoNIC(f demoFlags) testbed.Factory {
	if f.nic == "igb" {
		nic := testbed.IGB{Queues: f.queues, Driver: igbdriver.Options{MTU: f.mtu}}
		if f.profile == "qemu" {
			nic.Model = func(_ *testbed.Host, c *igbmodel.Config) { c.Profile = igbmodel.ProfileQEMU }
		}
		return nic
	}
	nic := testbed.E1000{Driver: driver.Options{InterruptThrottleRate: driver.Int(f.itr), MTU: f.mtu}}
	if f.profile == "qemu" {
		nic.Model = func(_ *testbed.Host, c *model.Config) { c.Profile = model.ProfileQEMU }
	}
	return nic
}

// startDemoFlows starts --flows flows from A to B (and B to A with
// --bidir), sharing --frames between them: one flow of test frames, or
// IPv4/TCP flows of distinct 4-tuples.
func startDemoFlows(tb *testbed.Testbed, f demoFlags) ([]*testbed.Flow, error) {
	var flows []*testbed.Flow
	dirs := [][2]*testbed.Host{{tb.A, tb.B}}
	if f.bidir {
		dirs = append(dirs, [2]*testbed.Host{tb.B, tb.A})
	}
	seed := f.seed
	for d, hosts := range dirs {
		for i := range f.flows {
			n := f.frames / uint64(f.flows)
			if uint64(i) < f.frames%uint64(f.flows) {
				n++
			}
			if n == 0 {
				continue
			}
			fc := testbed.FlowConfig{Count: n, MinSize: f.minSize, MaxSize: f.maxSize, Seed: seed}
			seed++
			if f.flows > 1 {
				fc.TCP = &testbed.TCPFlow{
					Src: [4]byte{10, byte(d), 0, byte(1 + i)}, Dst: [4]byte{10, byte(d), 1, byte(1 + i*3)},
					SrcPort: uint16(30000 + 17*i), DstPort: uint16(5001 + i%4),
				}
				fc.MinSize = max(fc.MinSize, 64)
			}
			fl, err := tb.StartFlow(hosts[0], hosts[1], fc)
			if err != nil {
				return nil, err
			}
			flows = append(flows, fl)
		}
	}
	return flows, nil
}

func cableStats(tb *testbed.Testbed) [2]wire.Stats {
	ab, ba := tb.Cable.Stats()
	return [2]wire.Stats{ab, ba}
}

// writeSummary prints a host's short summary: interrupts per vector, NAPI
// polls and packets per poll, softnet_stat totals, drop reasons and the
// ethtool -S counters that are not zero.
func writeSummary(w io.Writer, h *testbed.Host, elapsed time.Duration) {
	d := h.Dev
	fmt.Fprintf(w, "\n== %s (%s, %s)\n", h.Name, d.Name, testbed.MACString(d.Addr))
	fmt.Fprintf(w, "interrupts:")
	for _, v := range h.VectorCounts() {
		rate := 0.0
		if s := elapsed.Seconds(); s > 0 {
			rate = float64(v.Count) / s
		}
		fmt.Fprintf(w, " %s %d (%.0f/s)", v.Name, v.Count, rate)
	}
	fmt.Fprintln(w)
	var polls, full uint64
	for _, n := range h.NIC.NAPIs() {
		polls += n.Polls
		full += n.WeightUsed
	}
	perPoll := 0.0
	if polls > 0 {
		perPoll = float64(d.Stats.RxPackets) / float64(polls)
	}
	fmt.Fprintf(w, "napi: %d polls, %d rx packets, %.1f packets per poll, %d polls used the whole weight\n", polls, d.Stats.RxPackets, perPoll, full)
	var processed, dropped, squeeze, rps uint64
	for c := range h.Kernel.NumCPUs() {
		sd := &h.Kernel.CPU(c).Softnet
		processed += sd.Processed
		dropped += sd.Dropped
		squeeze += sd.TimeSqueeze
		rps += sd.ReceivedRPS
	}
	fmt.Fprintf(w, "softnet: processed %d, time_squeeze %d, dropped %d, received_rps %d\n", processed, squeeze, dropped, rps)
	for c := range h.Kernel.NumCPUs() {
		sd := &h.Kernel.CPU(c).Softnet
		fmt.Fprintf(w, "softnet_stat cpu%d: processed %d, dropped %d, time_squeeze %d, received_rps %d\n", c, sd.Processed, sd.Dropped, sd.TimeSqueeze, sd.ReceivedRPS)
	}
	if n := testbed.IGBDriverOf(h); n != nil {
		writeQVectors(w, n, elapsed)
	}
	fmt.Fprintf(w, "drops:")
	none := true
	for r, c := range h.Kernel.Drops.Reason {
		if c != 0 {
			fmt.Fprintf(w, " %s %d", kernelmodel.DropReason(r), c)
			none = false
		}
	}
	if none {
		fmt.Fprintf(w, " none")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "ethtool -S %s (not zero; --verbose for all):\n", d.Name)
	for _, s := range h.NIC.EthtoolStats() {
		if s.Value != 0 {
			fmt.Fprintf(w, "     %s: %d\n", s.Name, s.Value)
		}
	}
}

// writeQVectors prints each igb q_vector: its MSI-X vector and the CPUs its
// hardirqs and NAPI polls ran on, its counts, and the EITR value
// igb_set_itr/igb_update_ring_itr chose last (with the rate it allows).
func writeQVectors(w io.Writer, n *testbed.IGBDriver, elapsed time.Duration) {
	for _, q := range n.Adapter.QVectors() {
		rate := 0.0
		if s := elapsed.Seconds(); s > 0 {
			rate = float64(q.Hardirqs) / s
		}
		fmt.Fprintf(w, "q_vector %s: vector %d, hardirqs %d (%.0f/s) on cpus %s, polls %d on cpus %s, EITR %d (%d ints/s, %d writes)\n",
			q.Name, q.Vector, q.Hardirqs, rate, cpuList(q.HardirqCPUs), q.Polls, cpuList(q.PollCPUs), q.ITR.ITRVal, q.ITR.Rate, q.ITR.Writes)
	}
}

// cpuList prints a CPU bit mask as a list: "0,2", or "-" for none.
func cpuList(mask uint64) string {
	var b strings.Builder
	for c := range 64 {
		if mask&(1<<c) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d", c)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
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
