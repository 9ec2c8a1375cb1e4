package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nicbed/nicbed/hw/vfio"
	igbdriver "github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/testbed"
)

const hostSynopsis = "--nic e1000|igb (--tap NAME | --afpacket IFACE | --vfio BDF) --addr CIDR [flags]"

const hostDescription = `Runs one modelled host — the NIC model, its driver, the kernel model on the
real clock and the network stack (ARP, IPv4, ICMP, UDP) — whose wire side is a
real Linux interface: a TAP (--tap; created if it does not exist) or an
existing interface through AF_PACKET (--afpacket; one end of a veth, say).
Linux's frames go through the model, the driver, NAPI and the stack, and
the host's answers back out the same way. It runs until SIGINT or SIGTERM,
then prints its counters (softnet_stat, the ethtool -S counters that are
not zero, /proc/net/snmp's Ip, Icmp, IcmpMsg and Udp, the kfree_skb drop
reasons, the neighbour table, the port's and each service's counters) and
exits 0. --serve runs services on the host's sockets: echo, discard and
chargen on UDP and TCP, http and iperf3 on TCP.

With --vfio there is no model: the same driver, kernel model and stack
drive a real PCI function passed to the process through vfio-pci — QEMU's
e1000 (82540EM, 8086:100e) or igb (82576, 8086:10c9) inside a guest booted
with intel_iommu=on and -device intel-iommu. nicbed binds the function to
vfio-pci if it is not there yet (the vfio-pci module must be loaded), maps
its BAR0, gives it DMA memory through the IOMMU and takes its interrupts
through eventfds (INTx on e1000, MSI-X on igb). The family comes from the
device ID (--nic, if given, must agree); the Ethernet address is the
NIC's EEPROM's (--mac does not apply, nor --pcap or --netem: no frame
passes through nicbed outside the device). On exit the report adds each
vector's interrupts (name, vector, CPU, count, eventfd signals) and, for
INTx, the unmasks.

Once it is up it prints a line starting "nicbed host: ready" on stdout.
It needs root (CAP_NET_ADMIN for a TAP, CAP_NET_RAW for AF_PACKET, root
for --vfio).

Example: a host at 10.99.0.2 behind the TAP nicbed0, pinged from Linux:

  nicbed host --nic e1000 --tap nicbed0 --addr 10.99.0.2/24 --serve echo=7 &
  ip addr add 10.99.0.1/24 dev nicbed0 && ip link set nicbed0 up
  ping -c 3 10.99.0.2
  kill -INT %1      # the counters`

// hostFlags are nicbed host's flags, and what check made of them.
type hostFlags struct {
	nic       string
	nicSet    bool // --nic was given
	tap       string
	afpacket  string
	vfio      string
	intr      string
	macSet    bool // --mac was given
	addr      string
	gw        string
	mac       string
	mtu       int
	cpus      int
	serve     serveFlag
	pcapFile  string
	traceFile string
	verbose   bool
	ping      pingFlags
	netem     netemFlag
	connect   connectFlags

	// Filled in by check.
	prefix netip.Prefix // the address and its prefix length
	gwIP   netip.Addr   // invalid without --gw
	hwaddr [6]byte
}

// service is one --serve entry: a service name and its port.
type service struct {
	name string
	port uint16
}

// serveFlag collects --serve LIST (comma-separated name=PORT, repeatable).
type serveFlag []service

func (s *serveFlag) String() string { return "" }

func (s *serveFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		name, port, ok := strings.Cut(item, "=")
		if !ok {
			return fmt.Errorf("want name=PORT, got %q", item)
		}
		if _, ok := lookupService(name); !ok {
			return fmt.Errorf("unknown service %q (want one of %s)", name, serviceNames())
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return fmt.Errorf("%s: port %q is not 1-65535", name, port)
		}
		for _, o := range *s {
			if o.port == uint16(p) {
				return fmt.Errorf("port %d is served twice", p)
			}
		}
		*s = append(*s, service{name, uint16(p)})
	}
	return nil
}

// hostNICs are the NICs nicbed host runs: each a testbed factory.
var hostNICs = map[string]func() testbed.Factory{
	"e1000": func() testbed.Factory { return testbed.E1000{} },
	"igb":   func() testbed.Factory { return testbed.IGB{} },
}

// checkIntr checks --intr for a NIC family ("" while it is not known
// yet): one of auto, msix, msi and intx, and for the 82540EM, which has
// neither MSI nor MSI-X, auto or intx.
func checkIntr(nic, intr string) error {
	switch intr {
	case "auto", "msix", "msi", "intx":
	default:
		return fmt.Errorf("--intr %q: want auto, msix, msi or intx", intr)
	}
	if nic == "e1000" && intr != "auto" && intr != "intx" {
		return fmt.Errorf("--intr %s: the 82540EM has INTx only", intr)
	}
	return nil
}

// igbIntr sets the igb driver's options for --intr: as a platform that
// offers no MSI-X (NoMSIX), or neither MSI-X nor MSI (NoMSI).
func igbIntr(o *igbdriver.Options, intr string) {
	o.NoMSIX = intr == "msi" || intr == "intx"
	o.NoMSI = intr == "intx"
}

// hostNICNames are hostNICs' names, sorted.
func hostNICNames() []string {
	names := make([]string, 0, len(hostNICs))
	for n := range hostNICs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func runHost(args []string, stdout, stderr io.Writer) error {
	f, err := parseHost(args, stdout, stderr)
	if err != nil {
		return err
	}
	return host(f, stdout, stderr)
}

// parseHost parses and checks nicbed host's flags. --help prints the usage
// on stdout (flag.ErrHelp); anything wrong is one line on stderr and
// errUsage (exit status 2).
func parseHost(args []string, stdout, stderr io.Writer) (*hostFlags, error) {
	f := &hostFlags{}
	fs := newFlagSet("host", hostSynopsis, hostDescription, stdout, stderr)
	fs.StringVar(&f.nic, "nic", "e1000", "NIC model and driver: e1000 (82540EM) or igb (82576)")
	fs.StringVar(&f.tap, "tap", "", "the TAP device to sit on, e.g. nicbed0 (created if it does not exist; Linux's side of the wire)")
	fs.StringVar(&f.afpacket, "afpacket", "", "an existing interface to sit on through AF_PACKET, e.g. one end of a veth (its peer is Linux's side)")
	fs.StringVar(&f.intr, "intr", "auto", "igb's interrupts: auto (MSI-X, else MSI, else INTx, as pci_alloc_irq_vectors), msix, msi or intx;\n  e1000 has INTx only")
	fs.StringVar(&f.vfio, "vfio", "", "drive this PCI function through VFIO instead of a model, e.g. 0000:00:03.0\n  (QEMU's e1000 or igb in a guest with an IOMMU; bound to vfio-pci if it is not)")
	fs.StringVar(&f.addr, "addr", "", "the host's IPv4 address and prefix, e.g. 10.99.0.2/24 (required)")
	fs.StringVar(&f.gw, "gw", "", "default gateway, an address in --addr's prefix, e.g. 10.99.0.1")
	fs.StringVar(&f.mac, "mac", testbed.MACString(testbed.MACA), "the NIC's Ethernet address (its EEPROM's)")
	fs.IntVar(&f.mtu, "mtu", 1500, "MTU of the host's interface (68-16110; above 1500 the NIC takes long frames)")
	fs.IntVar(&f.cpus, "cpus", 2, "CPUs of the modelled host")
	fs.Var(&f.serve, "serve", serveUsage())
	fs.StringVar(&f.pcapFile, "pcap", "", "write every frame the host receives and sends to this libpcap file")
	fs.StringVar(&f.traceFile, "trace", "", "write the trace to this file: Perfetto JSON, or text if it ends in .txt")
	fs.StringVar(&f.ping.dst, "ping", "", "once up, ping this address from a raw ICMP socket of the host's stack, e.g. 10.99.0.1;\n  the summary, as ping's, goes to stdout")
	fs.IntVar(&f.ping.count, "ping-count", 5, "--ping: echo requests to send")
	fs.IntVar(&f.ping.size, "ping-size", 56, "--ping: data bytes per echo request (0-65507; above 1472 they go in fragments)")
	fs.DurationVar(&f.ping.interval, "ping-interval", time.Second, "--ping: time between echo requests")
	fs.DurationVar(&f.ping.timeout, "ping-timeout", time.Second, "--ping: how long to wait for each reply")
	fs.Var(&f.netem, "netem", netemUsage)
	fs.StringVar(&f.connect.dst, "connect", "", connectUsage)
	fs.Int64Var(&f.connect.bytes, "connect-bytes", 1<<20, "--connect: bytes to send")
	fs.DurationVar(&f.connect.timeout, "connect-timeout", time.Minute, "--connect: how long the connection may take, connect to close")
	fs.BoolVar(&f.verbose, "verbose", false, "on exit, print every counter (the full ethtool -S list, the model's counters)")
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.usage(stdout)
		return nil, err
	case err != nil:
		return nil, hostUsage(stderr, "%v", err)
	case fs.NArg() > 0:
		return nil, hostUsage(stderr, "unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "nic":
			f.nicSet = true
		case "mac":
			f.macSet = true
		}
	})
	if err := f.check(); err != nil {
		return nil, hostUsage(stderr, "%v", err)
	}
	return f, nil
}

// hostUsage prints one line about a usage error and returns errUsage.
func hostUsage(stderr io.Writer, format string, args ...any) error {
	fmt.Fprintf(stderr, "nicbed host: %s (nicbed host --help lists the flags)\n", fmt.Sprintf(format, args...))
	return errUsage
}

// check validates the flags and fills in the parsed values.
func (f *hostFlags) check() error {
	nic := f.nic
	if f.vfio != "" {
		nic = "" // the device ID tells, once the function is open
	}
	if err := checkIntr(nic, f.intr); err != nil {
		return err
	}
	if _, ok := hostNICs[f.nic]; !ok {
		return fmt.Errorf("--nic %q: unknown NIC (want e1000 or igb)", f.nic)
	}
	ports := 0
	for _, p := range []string{f.tap, f.afpacket, f.vfio} {
		if p != "" {
			ports++
		}
	}
	switch {
	case ports == 0:
		return errors.New("one of --tap NAME and --afpacket IFACE (or --vfio BDF) is needed")
	case ports > 1 && f.vfio == "":
		return errors.New("--tap and --afpacket exclude each other")
	case ports > 1:
		return errors.New("--vfio excludes --tap and --afpacket (the wire is the device's own)")
	}
	if f.vfio != "" {
		if vfio.CheckBDF(f.vfio) != nil {
			return fmt.Errorf("--vfio %q: not a PCI address like 0000:00:03.0 (domain:bus:device.function, lower-case hex)", f.vfio)
		}
		switch {
		case f.macSet:
			return errors.New("--mac does not apply with --vfio: the address is the NIC's EEPROM's (QEMU's mac= property)")
		case f.pcapFile != "":
			return errors.New("--pcap needs --tap or --afpacket: with --vfio no frame passes through nicbed outside the device")
		case f.netem.set:
			return errors.New("--netem needs --tap or --afpacket: with --vfio the wire is the device's own")
		}
	}
	for _, n := range []struct{ flag, name string }{{"tap", f.tap}, {"afpacket", f.afpacket}} {
		if n.name != "" && (len(n.name) > 15 || strings.ContainsAny(n.name, "/ \t\n:") || n.name == "." || n.name == "..") {
			return fmt.Errorf("--%s %q: not an interface name (at most 15 characters, no '/', ':' or blanks)", n.flag, n.name)
		}
	}
	if f.addr == "" {
		return errors.New("--addr CIDR is needed, e.g. --addr 10.99.0.2/24")
	}
	p, err := netip.ParsePrefix(f.addr)
	if err != nil || !p.Addr().Is4() {
		return fmt.Errorf("--addr %q: want an IPv4 address with a prefix length, e.g. 10.99.0.2/24", f.addr)
	}
	a, bcast := p.Addr(), ipv4Broadcast(p)
	switch {
	case p.Bits() == 0:
		return fmt.Errorf("--addr %q: prefix length 0", f.addr)
	case a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("--addr %q: %s is not a unicast host address", f.addr, a)
	case p.Bits() <= 30 && (a == p.Masked().Addr() || a == bcast):
		return fmt.Errorf("--addr %q: %s is the prefix's network or broadcast address", f.addr, a)
	}
	f.prefix = p
	if f.gw != "" {
		g, err := netip.ParseAddr(f.gw)
		if err != nil || !g.Is4() {
			return fmt.Errorf("--gw %q: not an IPv4 address", f.gw)
		}
		if !p.Masked().Contains(g) || g == a || g == bcast || (p.Bits() <= 30 && g == p.Masked().Addr()) {
			return fmt.Errorf("--gw %s: not a host on %s (Linux: Nexthop has invalid gateway)", g, p.Masked())
		}
		f.gwIP = g
	}
	hw, err := net.ParseMAC(f.mac)
	if err != nil || len(hw) != 6 {
		return fmt.Errorf("--mac %q: want an Ethernet address, e.g. 52:54:00:12:34:56", f.mac)
	}
	copy(f.hwaddr[:], hw)
	if f.hwaddr[0]&1 != 0 || f.hwaddr == [6]byte{} {
		return fmt.Errorf("--mac %s: not a unicast address", f.mac)
	}
	if err := f.ping.check(); err != nil {
		return err
	}
	if err := f.connect.check(); err != nil {
		return err
	}
	switch {
	case f.mtu < 68 || f.mtu > 16110:
		return fmt.Errorf("--mtu %d: want 68-16110", f.mtu)
	case f.cpus < 1 || f.cpus > 64:
		return fmt.Errorf("--cpus %d: want 1-64", f.cpus)
	}
	return nil
}

// ipv4Broadcast is the broadcast address of an IPv4 prefix (the address
// itself for a /32).
func ipv4Broadcast(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= ^uint32(0) >> p.Bits()
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
