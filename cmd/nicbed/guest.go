package main

import (
	"fmt"
	"io"
	"net/netip"
	"time"
)

// nicbed guest is the uinit of the QEMU image (initramfs.Build): it runs in
// the guest, as root, after u-root's init. It loads the kernel modules,
// configures the guest kernel's own virtio NIC as the Linux peer, and
// starts `nicbed host --vfio BDF` on the NIC under test, which QEMU models
// and vfio-pci passes to nicbed. With --check it runs the checks of the
// vmtests from the Linux side, prints a result table and powers off;
// without, it leaves nicbed running and the console to a shell.

const guestSynopsis = "[--nic e1000|igb] [--check]"

const guestDescription = `Runs inside the QEMU guest that 'nicbed vm' boots (it is the image's uinit;
on another machine it refuses to run). It loads vfio-pci and virtio-net,
gives the guest kernel's virtio NIC (the Linux peer) --peer, binds --bdf to
vfio-pci and starts 'nicbed host --vfio' on it with --addr, serving echo and
HTTP. --check then runs, from the Linux side: ping of nicbed with 56 and 4000
data bytes, HTTP GET and PUT of 4 MB with SHA-256 compared, a TCP connection
nicbed opens to a Linux listener, and the guest's interrupt counts of the
VFIO device; it prints one line per check and "nicbed guest: PASS" or
"nicbed guest: FAIL", then powers the guest off.`

type guestFlags struct {
	nic     string
	bdf     string
	addr    string
	peer    string
	check   bool
	intr    string
	bytes   int64
	timeout time.Duration

	addrP, peerP netip.Prefix
}

// The guest's fixed plan: one /24 between the peer and nicbed.
const (
	guestPeerAddr   = "192.168.76.1/24"
	guestNicbedAddr = "192.168.76.2/24"
	guestHTTPPort   = 80
	guestEchoPort   = 7
	guestListenPort = 9000 // the Linux listener nicbed connects to
)

func runGuest(args []string, stdout, stderr io.Writer) error {
	f := &guestFlags{}
	fs := newFlagSet("guest", guestSynopsis, guestDescription, stdout, stderr)
	fs.StringVar(&f.nic, "nic", "", "the NIC under test: e1000 or igb (default: from the device ID at --bdf)")
	fs.StringVar(&f.bdf, "bdf", "0000:00:03.0", "PCI address of the NIC under test (nicbed vm puts it at slot 3)")
	fs.StringVar(&f.addr, "addr", guestNicbedAddr, "nicbed's IPv4 address and prefix")
	fs.StringVar(&f.peer, "peer", guestPeerAddr, "the Linux peer's address on the guest kernel's virtio NIC")
	fs.StringVar(&f.intr, "intr", "auto", "igb's interrupts for nicbed host --intr: auto, msix, msi or intx")
	fs.BoolVar(&f.check, "check", false, "run the checks, print the result table and power off")
	fs.Int64Var(&f.bytes, "bytes", 4<<20, "--check: bytes of the HTTP GET and PUT and of nicbed's connection")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "--check: how long each check may take")
	if err := parse(fs, args); err != nil {
		return err
	}
	var err error
	if f.addrP, err = netip.ParsePrefix(f.addr); err != nil || !f.addrP.Addr().Is4() {
		return usageErr(stderr, "guest", "--addr %q: want an IPv4 address and prefix", f.addr)
	}
	if f.peerP, err = netip.ParsePrefix(f.peer); err != nil || !f.peerP.Addr().Is4() || !f.peerP.Masked().Contains(f.addrP.Addr()) {
		return usageErr(stderr, "guest", "--peer %q: want an IPv4 address and prefix that holds --addr", f.peer)
	}
	switch {
	case f.nic != "" && f.nic != "e1000" && f.nic != "igb":
		return usageErr(stderr, "guest", "--nic %q: want e1000 or igb", f.nic)
	case checkIntr(f.nic, f.intr) != nil:
		return usageErr(stderr, "guest", "%v", checkIntr(f.nic, f.intr))
	case f.bytes < 1:
		return usageErr(stderr, "guest", "--bytes %d: must be positive", f.bytes)
	case f.timeout <= 0:
		return usageErr(stderr, "guest", "--timeout %v: must be positive", f.timeout)
	}
	return guest(f, stdout, stderr)
}

// usageErr prints one line about a usage error of command cmd and returns
// errUsage.
func usageErr(stderr io.Writer, cmd, format string, args ...any) error {
	fmt.Fprintf(stderr, "nicbed %s: %s (nicbed %s --help lists the flags)\n", cmd, fmt.Sprintf(format, args...), cmd)
	return errUsage
}

// checkResult is one row of the guest's result table.
type checkResult struct {
	name   string
	ok     bool
	detail string
	took   time.Duration
}

// guestCheckLine is how a row is printed; nicbed vm and the vmtests parse it
// (internal/vmrun).
func (c checkResult) line() string {
	st := "ok"
	if !c.ok {
		st = "FAIL"
	}
	return fmt.Sprintf("nicbed check: %-22s %-4s %8s  %s", c.name, st, c.took.Round(time.Millisecond), c.detail)
}
