package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nicbed/nicbed/hw"
	"github.com/nicbed/nicbed/hw/wire"
)

// netemFlag is --netem: impairments on the wire between the NIC model and
// Linux, as tc qdisc add ... netem loss P duplicate P reorder P delay D
// would put on it (this machine's kernels may lack sch_netem; nicbed puts
// a wire.Cable with the same impairments between its NIC and the port
// instead). dir says which frames suffer: in (Linux to nicbed, what netem
// on Linux's side does), out (nicbed to Linux) or both.
type netemFlag struct {
	set                      bool
	loss, duplicate, reorder float64
	delay                    time.Duration
	seed                     uint64
	in, out                  bool
}

const netemUsage = "impair the wire as netem would: a list of loss=P%, duplicate=P%, reorder=P%,\n" +
	"  delay=D (default 1ms; reordering needs frames in flight), seed=N, dir=in|out|both (default both;\n" +
	"  in = frames from Linux, as netem on Linux's side), e.g. loss=5%,reorder=25%,duplicate=2%"

func (n *netemFlag) String() string { return "" }

func (n *netemFlag) Set(v string) error {
	*n = netemFlag{set: true, delay: time.Millisecond, seed: 1, in: true, out: true}
	for _, item := range strings.Split(v, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return fmt.Errorf("want key=value, got %q", item)
		}
		switch key {
		case "loss", "duplicate", "reorder":
			p, err := strconv.ParseFloat(strings.TrimSuffix(val, "%"), 64)
			if err != nil || p < 0 || p > 100 {
				return fmt.Errorf("%s=%q: want a percentage 0-100, e.g. 5%%", key, val)
			}
			*map[string]*float64{"loss": &n.loss, "duplicate": &n.duplicate, "reorder": &n.reorder}[key] = p / 100
		case "delay":
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 || d > 10*time.Second {
				return fmt.Errorf("delay=%q: want a duration 0-10s, e.g. 1ms", val)
			}
			n.delay = d
		case "seed":
			s, err := strconv.ParseUint(val, 10, 64)
			if err != nil {
				return fmt.Errorf("seed=%q: want a number", val)
			}
			n.seed = s
		case "dir":
			switch val {
			case "in":
				n.in, n.out = true, false
			case "out":
				n.in, n.out = false, true
			case "both":
				n.in, n.out = true, true
			default:
				return fmt.Errorf("dir=%q: want in, out or both", val)
			}
		default:
			return fmt.Errorf("unknown key %q (want loss, duplicate, reorder, delay, seed, dir)", key)
		}
	}
	return nil
}

// netem is the impaired wire: a cable for each direction, so that each
// has its own impairments (a cable is symmetric).
type netem struct {
	out, in  *wire.Cable // nicbed to Linux, Linux to nicbed
	nicLink  wire.Link   // what the NIC transmits goes in here (out's end A)
	toNIC    wire.Link   // what the port received goes in here (in's end B)
	portSide portEnd
}

// portEnd is out's end B: frames that crossed it from the NIC go out of
// the port.
type portEnd struct{ port wire.Link }

func (p *portEnd) Receive(frame []byte) {
	if p.port != nil {
		p.port.Transmit(frame)
	}
}
func (p *portEnd) LinkChange(bool) {}

// nowhere is the unused end of a one-way cable.
type nowhere struct{}

func (nowhere) Receive([]byte)  {}
func (nowhere) LinkChange(bool) {}

// nicEnd is the port's endpoint: frames from Linux go onto in.
type nicEnd struct{ n *netem }

func (e nicEnd) Receive(frame []byte) { e.n.toNIC.Transmit(frame) }
func (e nicEnd) LinkChange(bool)      {}

// newNetem makes the impaired wire for the NIC's endpoint: each direction
// f names gets the impairments, both the delay; no serialization delay
// (the port paces).
func newNetem(clk hw.Clock, f netemFlag, nic wire.Endpoint) *netem {
	cfg := func(on bool, seed uint64) wire.CableConfig {
		c := wire.CableConfig{Delay: f.delay, Seed: seed, QueueLen: 4096, MaxFrame: 16384}
		if on {
			c.Loss, c.Duplicate, c.Reorder = f.loss, f.duplicate, f.reorder
		}
		return c
	}
	n := &netem{}
	n.out = wire.NewCable(clk, cfg(f.out, f.seed))
	n.nicLink, _ = n.out.Attach(nowhere{}, &n.portSide)
	n.in = wire.NewCable(clk, cfg(f.in, f.seed+1))
	_, n.toNIC = n.in.Attach(nic, nowhere{})
	return n
}

// writeNetem prints the impaired wire's counters in both directions.
func writeNetem(w io.Writer, n *netem) {
	if n == nil {
		return
	}
	out, _ := n.out.Stats()
	_, in := n.in.Stats()
	fmt.Fprintln(w)
	for _, d := range []struct {
		name string
		s    wire.Stats
	}{{"nicbed->linux", out}, {"linux->nicbed", in}} {
		fmt.Fprintf(w, "netem %s: sent %d delivered %d lost %d duplicated %d reordered %d dropped %d\n", d.name,
			d.s.Sent, d.s.Delivered, d.s.Lost, d.s.Duplicated, d.s.Reordered, d.s.DroppedQueue+d.s.DroppedDown+d.s.DroppedSize)
	}
}
