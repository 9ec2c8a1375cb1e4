package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/wire"
	igbdriver "github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/testbed"
)

// hostInbox is the capacity of the port's inbox on the loop: as many
// frames as the port has receive buffers.
const hostInbox = 1024

// host runs nicbed host until SIGINT or SIGTERM.
func host(f *hostFlags, stdout, stderr io.Writer) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	clk := kernelmodel.NewRealClock()
	var tr *kernelmodel.Tracer
	if f.traceFile != "" {
		var done func() error
		if tr, done, err = createTracer(f.traceFile); err != nil {
			return err
		}
		defer func() {
			if e := done(); err == nil && e != nil {
				err = fmt.Errorf("trace: %w", e)
			}
		}()
	}
	var pcap *wire.PcapWriter
	if f.pcapFile != "" {
		var done func() error
		if pcap, done, err = createPcap(f.pcapFile); err != nil {
			return err
		}
		defer func() {
			if e := done(); err == nil {
				err = e
			}
		}()
	}

	k := kernelmodel.New(kernelmodel.Config{Name: "nicbed", CPUs: f.cpus, Clock: clk, Tracer: tr})
	h := &testbed.Host{Name: "nicbed", MAC: f.hwaddr, Kernel: k}
	var (
		nic    testbed.NIC
		port   *wire.Port // nil with --vfio
		nm     *netem
		pt     *passthrough // with --vfio
		family = f.nic
		kind   string
		where  string // the port's or the function's name
	)
	if f.vfio != "" {
		kind, where = "vfio", f.vfio
		if pt, err = openPassthrough(f.vfio); err != nil {
			return err
		}
		defer pt.close()
		if family, err = testbed.Family(pt.dev); err != nil {
			return fmt.Errorf("--vfio %s: %w", f.vfio, err)
		}
		if f.nicSet && family != f.nic {
			return hostUsage(stderr, "--nic %s: %s is an %s (device ID %#04x)", f.nic, f.vfio, family, pt.dev.ConfigRead(0x02, 2))
		}
		h.Mem = pt.dma.Arena
		if err := checkIntr(family, f.intr); err != nil {
			return hostUsage(stderr, "%s: %v", f.vfio, err)
		}
		var igbOpts igbdriver.Options
		igbIntr(&igbOpts, f.intr)
		nic, err = testbed.NewPassthroughNIC(h, testbed.Passthrough{Name: f.vfio, Family: family, Func: pt.dev, Vectors: pt.irqs, ConnectINTx: pt.irqs.ConnectINTx, IGB: igbOpts})
		if err != nil {
			return err
		}
	} else {
		h.Mem = dma.NewArena(testbed.DefaultArenaSize)
		fac := hostNICs[f.nic]()
		if ig, ok := fac.(testbed.IGB); ok {
			igbIntr(&ig.Driver, f.intr)
			fac = ig
		}
		m, err := fac.New(h)
		if err != nil {
			return err
		}
		nic = m
		if port, nm, err = openHostPort(f, clk, m, pcap); err != nil {
			return openError(stderr, map[bool]string{true: "tap", false: "afpacket"}[f.tap != ""], f.tap+f.afpacket, err)
		}
		defer port.Close()
		kind, where = "tap", port.Name()
		if f.afpacket != "" {
			kind = "afpacket"
		}
	}
	h.NIC = nic

	task := func(name string, fn func(tk *kernelmodel.Task) error) error {
		var err error
		done := false
		k.Spawn(0, name, func(tk *kernelmodel.Task) { err = fn(tk); done = true })
		clk.RunWhile(func() bool { return !done && ctx.Err() == nil }, clk.Now()+10*time.Second)
		if !done {
			return fmt.Errorf("%s did not finish", name)
		}
		return err
	}
	if err := task("probe", nic.Probe); err != nil {
		return err
	}
	h.Dev = nic.Netdev()
	if f.mtu != h.Dev.MTU {
		if err := task("ip-link-set-mtu", func(tk *kernelmodel.Task) error { return nic.ChangeMTU(tk, f.mtu) }); err != nil {
			return err
		}
	}
	st := inet.New(k, inet.Config{Seed: uint64(time.Now().UnixNano())})
	if err := st.AddInterface(h.Dev, f.prefix); err != nil {
		return err
	}
	if err := task("ip-link-up", func(tk *kernelmodel.Task) error { return h.Dev.DevOpen(tk) }); err != nil {
		return err
	}
	if f.gwIP.IsValid() {
		if err := st.SetGateway(f.gwIP); err != nil {
			return err
		}
	}
	ready := func() bool {
		r, ok := nic.(interface{ RxReady() bool })
		return h.Dev.NetifCarrierOK() && (!ok || r.RxReady())
	}
	clk.RunWhile(func() bool { return !ready() && ctx.Err() == nil }, clk.Now()+10*time.Second)
	if !ready() && ctx.Err() == nil {
		return fmt.Errorf("%s: no carrier 10 s after ip link set up", h.Dev.Name)
	}
	// The services open their sockets off the loop, while it runs.
	var servers []*server
	if !offLoop(clk, func() { servers, err = startServers(st, f.serve) }) {
		return errors.New("--serve: the services did not start in 10 s")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "nicbed host: ready: %s %s %s %s on %s %s\n", family, h.Dev.Name, testbed.MACString(h.Dev.Addr), f.prefix, kind, where)
	var pinger *pinger
	if f.ping.dst != "" {
		if pinger, err = startPing(st, k, f.ping, stdout); err != nil {
			return err
		}
	}

	var conn *connector
	if f.connect.dst != "" {
		conn = startConnect(st, f.connect, stdout)
	}

	start := clk.Now()
	if err := clk.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	ran := clk.Now() - start
	// The services close off the loop, while it runs.
	offLoop(clk, func() { closeServers(servers) })
	var closeErr error
	if port != nil {
		closeErr = port.Close()
	}

	w := bufio.NewWriter(stdout)
	fmt.Fprintf(w, "nicbed host: stopped after %v\n", ran.Round(time.Millisecond))
	writeHostReport(w, h, st, port, kind, ran)
	if pt != nil {
		pt.writeReport(w, h)
		// ip link set down, then the function's interrupts, DMA and
		// device go back to the host.
		done := false
		k.Spawn(0, "ip-link-down", func(tk *kernelmodel.Task) { closeErr = h.Dev.DevClose(tk); done = true })
		clk.RunWhile(func() bool { return !done }, clk.Now()+5*time.Second)
		if !done {
			closeErr = errors.New("ip link set down did not finish in 5 s")
		}
		closeErr = errors.Join(closeErr, pt.close())
	}
	writeServers(w, servers)
	writeNetem(w, nm)
	if pinger != nil && !pinger.done {
		pinger.writeSummary(w) // interrupted
	}
	if f.verbose {
		fmt.Fprintln(w)
		h.WriteCounters(w)
	}
	var failed []error
	if err := h.Check(); err != nil {
		failed = append(failed, err)
	}
	for _, s := range nic.Anomalies() {
		if s.Value != 0 {
			failed = append(failed, fmt.Errorf("%s = %d", s.Name, s.Value))
		}
	}
	if port != nil {
		failed = append(failed, port.Err())
	}
	failed = append(failed, conn.failed())
	failed = append(failed, closeErr, w.Flush())
	return errors.Join(failed...)
}

// openHostPort opens the TAP or AF_PACKET port nicbed host sits on, with
// netem between it and the NIC model if asked, and connects the model.
func openHostPort(f *hostFlags, clk *kernelmodel.Clock, nic testbed.ModelNIC, pcap *wire.PcapWriter) (*wire.Port, *netem, error) {
	cfg := wire.PortConfig{
		Clock:     clk,
		NewOutbox: func(n, maxFrame int, send func([]byte)) wire.Outbox { return kernelmodel.NewOutbox(n, maxFrame, send) },
		Endpoint:  nic.Port(),
		Pcap:      pcap,
		SpeedBPS:  testbed.DefaultSpeedBPS,
		RxBuffers: hostInbox,
	}
	var nm *netem
	if f.netem.set {
		nm = newNetem(clk, f.netem, nic.Port())
		cfg.Endpoint = nicEnd{nm}
	}
	var port *wire.Port
	var err error
	if f.tap != "" {
		cfg.Inbox = clk.NewSource(f.tap, hostInbox)
		port, err = wire.OpenTap(wire.TapConfig{Name: f.tap, Port: cfg})
	} else {
		cfg.Inbox = clk.NewSource(f.afpacket, hostInbox)
		port, err = wire.OpenPacket(f.afpacket, cfg)
	}
	if err != nil {
		return nil, nil, err
	}
	if nm != nil {
		nm.portSide.port = port
		nic.Connect(nm.nicLink)
	} else {
		nic.Connect(port)
	}
	return port, nm, nil
}

// openError turns a failure to open the port into a one-line message: a
// name that is no TAP, an interface that does not exist and missing
// privileges are usage errors (exit status 2).
func openError(stderr io.Writer, kind, name string, err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		need := map[string]string{"tap": "CAP_NET_ADMIN", "afpacket": "CAP_NET_RAW"}[kind]
		return hostUsage(stderr, "--%s %s: permission denied: run as root (or with %s)", kind, name, need)
	case kind == "afpacket" && errors.Is(err, unix.ENODEV):
		return hostUsage(stderr, "--afpacket %s: no such interface (it must exist; make a veth with ip link add)", name)
	case kind == "tap" && errors.Is(err, unix.EINVAL):
		return hostUsage(stderr, "--tap %s: %s exists and is not a TAP device", name, name)
	case kind == "tap" && errors.Is(err, unix.EBUSY):
		return hostUsage(stderr, "--tap %s: the TAP is in use by another process", name)
	}
	return err
}

// writeHostReport prints the host's counters on exit: the demo's summary
// (interrupts, NAPI, softnet, drop reasons, ethtool -S not zero), then
// /proc/net/softnet_stat, /proc/net/snmp, ip route, ip neigh and the
// port's counters.
func writeHostReport(w io.Writer, h *testbed.Host, st *inet.Stack, port *wire.Port, kind string, ran time.Duration) {
	writeSummary(w, h, ran)
	ds := h.Dev.Stats
	fmt.Fprintf(w, "ip -s link %s: rx %d packets %d bytes, tx %d packets %d bytes, rx_dropped %d, tx_dropped %d\n",
		h.Dev.Name, ds.RxPackets, ds.RxBytes, ds.TxPackets, ds.TxBytes, ds.RxDropped, ds.TxDropped)
	fmt.Fprintln(w, "/proc/net/softnet_stat:")
	h.Kernel.WriteSoftnetStat(w)
	fmt.Fprintln(w, "/proc/net/snmp:")
	st.WriteSNMP(w)
	fmt.Fprintln(w, "/proc/net/netstat:")
	st.WriteNetstat(w)
	fmt.Fprintln(w, "ss -tani:")
	st.TCP.WriteSS(w)
	fmt.Fprintln(w, "ip route:")
	st.IPv4.FIB.WriteRoutes(w, ipv4.RT_TABLE_MAIN)
	fmt.Fprintln(w, "ip neigh:")
	st.Neigh.WriteNeigh(w)
	if port == nil {
		return
	}
	ps := port.Stats()
	fmt.Fprintf(w, "port %s %s: rx %d frames %d bytes, tx %d frames %d bytes; dropped: rx inbox %d, rx no buffer %d, rx no endpoint %d, tx outbox %d, tx down %d; errors: rx %d, tx %d\n",
		kind, port.Name(), ps.RxFrames, ps.RxBytes, ps.TxFrames, ps.TxBytes, ps.RxDroppedInbox, ps.RxNoBuffer, ps.RxNoEndpoint,
		ps.TxDroppedOutbox, ps.TxDroppedDown, ps.RxErrors, ps.TxErrors)
}
