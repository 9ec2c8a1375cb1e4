// Package netns makes network namespaces for the tests that have Linux as
// the peer: each test makes its own namespace (ip netns add, a unique name
// with the pid), its devices inside it, and removes them when it ends, also
// when it fails. The tests run as root (make test does); they fail, never
// skip, when they cannot.
package netns

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// NS is a network namespace made for one test.
type NS struct {
	Name string
	fd   int
}

var seq atomic.Uint32

// New makes a fresh network namespace (ip netns add) whose name starts
// with prefix (a few letters: with the pid and a sequence number it must
// fit IFNAMSIZ where tests name devices after it), with lo up and IPv6 off,
// and removes it when the test ends: the devices in it go with it.
func New(t testing.TB, prefix string) *NS {
	t.Helper()
	name := fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), seq.Add(1))
	Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open netns %s: %v", name, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	ns := &NS{Name: name, fd: fd}
	// No IPv6 in the namespace: fewer stray frames (router and neighbour
	// solicitations) on the wire under test.
	ns.IP(t, "link", "set", "lo", "up")
	ns.Exec(t, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
	return ns
}

// IP runs ip(8) in the namespace.
func (ns *NS) IP(t testing.TB, args ...string) {
	t.Helper()
	Run(t, "ip", append([]string{"-n", ns.Name}, args...)...)
}

// Exec runs a command in the namespace (ip netns exec) and returns its
// output; it fails the test if the command fails.
func (ns *NS) Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	return Run(t, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Command is exec.Command for a command in the namespace.
func (ns *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// DumpOnFailure logs the namespace's links, addresses, neighbours and
// qdiscs with their counters if the test fails: where Linux dropped what
// went missing.
func (ns *NS) DumpOnFailure(t testing.TB) {
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("sh", "-c", "ip -n "+ns.Name+" -s link; ip -n "+ns.Name+" addr; ip -n "+ns.Name+" neigh; tc -n "+ns.Name+" -s qdisc").CombinedOutput()
			t.Logf("namespace %s:\n%s", ns.Name, out)
		}
	})
}

// WaitReady waits (5 s at most) until each device's carrier change has
// gone through linkwatch: operstate UP (or UNKNOWN with the carrier on, as
// a TAP reports it) and a qdisc attached (not noop).
// Until then Linux drops what it transmits on a veth whose peer just came
// up, and the tests would see datagrams vanish.
func (ns *NS) WaitReady(t testing.TB, devs ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, dev := range devs {
		for {
			link, _ := exec.Command("ip", "-n", ns.Name, "-o", "link", "show", "dev", dev).CombinedOutput()
			qdisc, _ := exec.Command("tc", "-n", ns.Name, "qdisc", "show", "dev", dev).CombinedOutput()
			up := strings.Contains(string(link), " state UP ") ||
				strings.Contains(string(link), " state UNKNOWN ") && strings.Contains(string(link), ",LOWER_UP")
			if up && len(qdisc) > 0 && !strings.Contains(string(qdisc), "noop") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready after 5 s: %s %s", dev, link, qdisc)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// Run runs a command and fails the test if it fails; it returns the
// command's output.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Do runs fn on a thread that has entered the namespace, and puts the
// thread back into the test's namespace after: file descriptors fn opens
// (a TAP, a socket) stay in the namespace.
func (ns *NS) Do(t testing.TB, fn func() error) {
	t.Helper()
	if err := ns.do(fn); err != nil {
		t.Fatal(err)
	}
}

func (ns *NS) do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		err = fn()
		if e := unix.Setns(orig, unix.CLONE_NEWNET); e != nil {
			// The thread stays locked and ends with the goroutine:
			// the runtime throws it away instead of reusing it.
			errc <- fmt.Errorf("setns back: %w", e)
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// NoCheck sets SO_NO_CHECK on a UDP socket: its datagrams go with no
// checksum. A veth leaves the checksum of what it carries to be completed
// (CHECKSUM_PARTIAL) and AF_PACKET on its peer hands it on so: a model
// reading there would see it wrong.
func NoCheck(conn *net.UDPConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1) }); err != nil {
		return err
	}
	return serr
}
