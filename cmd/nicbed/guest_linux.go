package main

import (
	"bufio"
	"bytes"

	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nicbed/nicbed/initramfs"
	"github.com/nicbed/nicbed/internal/services"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

func guest(f *guestFlags, stdout, stderr io.Writer) error {
	if _, err := os.Stat(initramfs.ModulesDir); err != nil {
		return fmt.Errorf("guest: %s is missing: nicbed guest runs only as the uinit of the image 'nicbed vm' boots", initramfs.ModulesDir)
	}
	g := &guestRun{f: f, out: stdout, start: time.Now()}
	fmt.Fprintf(stdout, "nicbed guest: up at %v of uptime\n", uptime().Round(time.Millisecond))
	err := loadModules()
	if err == nil {
		err = g.setup()
	}
	if err != nil && f.check {
		// The verdict the host waits for, then off: a check run never
		// leaves the guest hanging.
		fmt.Fprintf(stdout, "nicbed guest: FAIL (%v)\n", err)
		if g.child != nil && g.child.Process != nil {
			g.child.Process.Kill()
		}
		powerOff()
	}
	if err != nil {
		return err
	}
	if !f.check {
		return g.interactive()
	}
	g.checks()
	return g.finish()
}

// guestRun is one run of the guest's plan.
type guestRun struct {
	f     *guestFlags
	out   io.Writer
	start time.Time

	peerIf string
	nic    string
	ln     net.Listener
	child  *exec.Cmd
	lines  chan string // the child's stdout, line by line
	ready  chan struct{}
	exited chan error

	mu      sync.Mutex
	outLog  []string // lines of the child kept for the checks
	results []checkResult
}

// loadModules is the image's module loader: finit_module for each of
// initramfs.Modules, in passes, so that a module whose dependencies are not
// in yet (the kernel says ENOENT, "Unknown symbol") is tried again after
// the others, until all are in or a pass makes no progress.
func loadModules() error {
	left := append([]string(nil), initramfs.Modules...)
	for len(left) > 0 {
		var again []string
		var last error
		for _, m := range left {
			path := filepath.Join(initramfs.ModulesDir, filepath.Base(m))
			fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("guest: module %s: %w", path, err)
			}
			err = unix.FinitModule(fd, "", 0)
			unix.Close(fd)
			switch {
			case err == nil, errors.Is(err, unix.EEXIST):
			case errors.Is(err, unix.ENOENT):
				again = append(again, m)
				last = err
			default:
				return fmt.Errorf("guest: loading %s: %w", filepath.Base(m), err)
			}
		}
		if len(again) == len(left) {
			return fmt.Errorf("guest: loading %s: %v (a module it needs is not in initramfs.Modules)", strings.Join(again, ", "), last)
		}
		left = again
	}
	return nil
}

// setup configures the peer, starts the listener nicbed connects to and the
// nicbed host on the VFIO NIC, and waits for it to be ready.
func (g *guestRun) setup() error {
	var err error
	if g.peerIf, err = waitVirtioNetdev(10 * time.Second); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", g.f.peer, "dev", g.peerIf},
		{"link", "set", g.peerIf, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("guest: ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	}
	g.nic = g.f.nic
	if g.nic == "" {
		if g.nic, err = pciNIC(g.f.bdf); err != nil {
			return err
		}
	}
	fmt.Fprintf(g.out, "nicbed guest: Linux peer %s %s; nicbed %s on %s at %s\n", g.peerIf, g.f.peer, g.nic, g.f.bdf, g.f.addr)

	args := []string{"host", "--vfio", g.f.bdf, "--nic", g.nic, "--addr", g.f.addr,
		"--serve", fmt.Sprintf("echo=%d,http=%d", guestEchoPort, guestHTTPPort), "--intr", g.f.intr}
	if g.f.check {
		la := net.JoinHostPort(g.f.peerP.Addr().String(), strconv.Itoa(guestListenPort))
		if g.ln, err = net.Listen("tcp4", la); err != nil {
			return fmt.Errorf("guest: listen %s: %w", la, err)
		}
		args = append(args, "--connect", la, "--connect-bytes", strconv.FormatInt(g.f.bytes, 10))
	}
	g.child = exec.Command("/proc/self/exe", args...)
	g.child.Stderr = g.out
	var logf *os.File
	if !g.f.check {
		// Interactive: nicbed's output goes to a log, the console to the shell.
		if logf, err = os.Create("/tmp/nicbed.log"); err != nil {
			return err
		}
		g.child.Stdout, g.child.Stderr = logf, logf
	}
	var pipe io.ReadCloser
	if g.f.check {
		if pipe, err = g.child.StdoutPipe(); err != nil {
			return err
		}
	}
	if err := g.child.Start(); err != nil {
		return fmt.Errorf("guest: starting nicbed host: %w", err)
	}
	g.ready = make(chan struct{})
	g.exited = make(chan error, 1)
	if !g.f.check {
		logf.Close()
		return g.waitLog(30 * time.Second)
	}
	go g.readChild(pipe)
	t := time.Now()
	select {
	case <-g.ready:
	case err := <-g.exited:
		return fmt.Errorf("guest: nicbed host exited before it was ready: %v", err)
	case <-time.After(g.f.timeout):
		return fmt.Errorf("guest: nicbed host not ready after %v", g.f.timeout)
	}
	g.add(checkResult{name: "nicbed ready", ok: true, took: time.Since(t), detail: "vfio " + g.f.bdf + ", uptime " + uptime().Round(time.Millisecond).String()})
	return nil
}

// readChild copies the child's output to the console and keeps it for the
// checks.
func (g *guestRun) readChild(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	readied := false
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(g.out, line)
		g.mu.Lock()
		g.outLog = append(g.outLog, line)
		g.mu.Unlock()
		if !readied && strings.HasPrefix(line, "nicbed host: ready:") {
			readied = true
			close(g.ready)
		}
	}
	g.exited <- g.child.Wait()
}

// waitLog waits for the ready line in the interactive run's log.
func (g *guestRun) waitLog(limit time.Duration) error {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile("/tmp/nicbed.log")
		if bytes.Contains(b, []byte("nicbed host: ready:")) {
			return nil
		}
		if g.child.ProcessState != nil {
			break
		}
	}
	b, _ := os.ReadFile("/tmp/nicbed.log")
	return fmt.Errorf("guest: nicbed host not ready after %v:\n%s", limit, b)
}

func (g *guestRun) interactive() error {
	ip := g.f.addrP.Addr()
	fmt.Fprintf(g.out, `nicbed guest: nicbed is running (pid %d, output in /tmp/nicbed.log) at %s on the VFIO %s.
  The guest kernel is the Linux peer on %s (%s). Try:
    ping %s
    wget -O /tmp/b http://%s/bytes/1000000; ls -l /tmp/b
  'kill %d' stops nicbed and writes its report to /tmp/nicbed.log; 'shutdown' or Ctrl-A X ends the VM.
`, g.child.Process.Pid, ip, g.nic, g.peerIf, g.f.peer, ip, ip, g.child.Process.Pid)
	// The console's shell, as our child: when it exits, the VM goes off.
	sh := exec.Command("/bin/sh")
	sh.Stdin, sh.Stdout, sh.Stderr = os.Stdin, os.Stdout, os.Stderr
	sh.Env = append(os.Environ(), "PS1=nicbed-guest# ")
	// Its own session with the console as its controlling terminal, so
	// that its job control (foreground process groups) works: in ours,
	// it would stop itself taking the terminal back after a command.
	sh.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err := sh.Run()
	if err != nil {
		fmt.Fprintf(g.out, "nicbed guest: shell: %v\n", err)
	}
	powerOff()
	return err
}

func (g *guestRun) add(r checkResult) {
	g.mu.Lock()
	g.results = append(g.results, r)
	g.mu.Unlock()
	fmt.Fprintln(g.out, r.line())
}

// checks runs the checks of the issue from the Linux side, one after the
// other (the TCG guest has two slow CPUs).
func (g *guestRun) checks() {
	ip := g.f.addrP.Addr().String()
	first := true
	for _, size := range []int{56, 4000} {
		t := time.Now()
		got, err := pingICMP(ip, size, 3, 2*time.Second, func() {
			if first {
				first = false
				fmt.Fprintf(g.out, "nicbed guest: first frame at %v of uptime\n", uptime().Round(time.Millisecond))
			}
		})
		g.add(checkResult{name: fmt.Sprintf("ping -s %d", size), ok: err == nil && got == 3, took: time.Since(t),
			detail: fmt.Sprintf("%d/3 replies%s", got, errText(err))})
	}
	g.add(g.httpGet(ip))
	g.add(g.httpPut(ip))
	g.add(g.connectCheck())
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

func (g *guestRun) httpGet(ip string) (r checkResult) {
	r = checkResult{name: "http GET /bytes"}
	t := time.Now()
	defer func() { r.took = time.Since(t) }()
	c := &http.Client{Timeout: g.f.timeout}
	resp, err := c.Get(fmt.Sprintf("http://%s:%d/bytes/%d", ip, guestHTTPPort, g.f.bytes))
	if err != nil {
		r.detail = err.Error()
		return r
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	want := services.SequenceSHA256(g.f.bytes)
	sum := h.Sum(nil)
	r.ok = err == nil && resp.StatusCode == 200 && n == g.f.bytes && bytes.Equal(sum, want[:])
	r.detail = fmt.Sprintf("%d bytes sha256 %.16s (want %d %.16s)%s", n, hex.EncodeToString(sum), g.f.bytes, hex.EncodeToString(want[:]), errText(err))
	return r
}

func (g *guestRun) httpPut(ip string) (r checkResult) {
	r = checkResult{name: "http PUT /sink"}
	t := time.Now()
	defer func() { r.took = time.Since(t) }()
	c := &http.Client{Timeout: g.f.timeout}
	req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s:%d/sink", ip, guestHTTPPort), io.LimitReader(services.NewSequence(g.f.bytes), g.f.bytes))
	if err != nil {
		r.detail = err.Error()
		return r
	}
	req.ContentLength = g.f.bytes
	resp, err := c.Do(req)
	if err != nil {
		r.detail = err.Error()
		return r
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	want := services.SequenceSHA256(g.f.bytes)
	wantLine := fmt.Sprintf("%d %s", g.f.bytes, hex.EncodeToString(want[:]))
	got := strings.TrimSpace(string(body))
	r.ok = err == nil && resp.StatusCode == 200 && got == wantLine
	r.detail = fmt.Sprintf("nicbed answered %.40q (want %.40q)%s", got, wantLine, errText(err))
	return r
}

// connectCheck is the Linux listener's side of nicbed's --connect: it reads
// everything nicbed sends, checks it, answers guestConnectReply bytes and
// closes; then nicbed's line must report the reply whole.
const guestConnectReply = 64 << 10

func (g *guestRun) connectCheck() (r checkResult) {
	r = checkResult{name: "nicbed connects"}
	t := time.Now()
	defer func() { r.took = time.Since(t) }()
	if tl, ok := g.ln.(*net.TCPListener); ok {
		tl.SetDeadline(time.Now().Add(g.f.timeout))
	}
	c, err := g.ln.Accept()
	if err != nil {
		r.detail = "accept: " + err.Error()
		return r
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(g.f.timeout))
	h := sha256.New()
	n, err := io.Copy(h, c)
	want := services.SequenceSHA256(g.f.bytes)
	okIn := err == nil && n == g.f.bytes && bytes.Equal(h.Sum(nil), want[:])
	if _, werr := io.Copy(c, io.LimitReader(services.NewSequence(guestConnectReply), guestConnectReply)); werr != nil && err == nil {
		err = werr
	}
	c.Close()
	reply := services.SequenceSHA256(guestConnectReply)
	wantLine := fmt.Sprintf("received %d bytes sha256 %s", guestConnectReply, hex.EncodeToString(reply[:]))
	var line string
	for end := time.Now().Add(g.f.timeout); time.Now().Before(end) && line == ""; time.Sleep(50 * time.Millisecond) {
		g.mu.Lock()
		for _, l := range g.outLog {
			if strings.HasPrefix(l, "nicbed connect ") && strings.Contains(l, ": connected in ") {
				line = l
			}
		}
		g.mu.Unlock()
	}
	r.ok = okIn && strings.Contains(line, wantLine)
	r.detail = fmt.Sprintf("Linux got %d bytes (sha256 ok %v)%s; nicbed got the %d-byte reply whole: %v", n, okIn, errText(err), guestConnectReply, strings.Contains(line, wantLine))
	return r
}

// finish stops nicbed (its report follows on the console), checks the
// guest kernel's interrupt counts of the VFIO device, prints the verdict
// and powers off.
func (g *guestRun) finish() error {
	irqs := vfioInterrupts(g.f.bdf)
	g.child.Process.Signal(syscall.SIGINT)
	var err error
	select {
	case err = <-g.exited:
	case <-time.After(30 * time.Second):
		g.child.Process.Kill()
		err = errors.New("did not stop 30 s after SIGINT")
	}
	g.add(checkResult{name: "nicbed host exit", ok: err == nil, detail: "report above" + errText(err)})
	g.add(irqCheck(g.nic, g.f.intr, irqs))

	failed := 0
	fmt.Fprintln(g.out, "nicbed guest: results")
	for _, r := range g.results {
		fmt.Fprintln(g.out, r.line())
		if !r.ok {
			failed++
		}
	}
	if failed == 0 {
		fmt.Fprintf(g.out, "nicbed guest: PASS (%d checks, %v)\n", len(g.results), time.Since(g.start).Round(time.Millisecond))
	} else {
		fmt.Fprintf(g.out, "nicbed guest: FAIL (%d of %d checks failed)\n", failed, len(g.results))
	}
	powerOff()
	return nil
}

// vfioIRQ is one line of the guest's /proc/interrupts for the device.
type vfioIRQ struct {
	name  string // e.g. vfio-msix[1](0000:00:03.0)
	count uint64 // summed over CPUs
}

// vfioInterrupts reads /proc/interrupts: the lines vfio-pci registered for
// bdf (vfio-intx(BDF), vfio-msi[N](BDF), vfio-msix[N](BDF)).
func vfioInterrupts(bdf string) []vfioIRQ {
	b, err := os.ReadFile("/proc/interrupts")
	if err != nil {
		return nil
	}
	var out []vfioIRQ
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || !strings.HasSuffix(fields[len(fields)-1], "("+bdf+")") || !strings.HasPrefix(fields[len(fields)-1], "vfio-") {
			continue
		}
		var sum uint64
		for _, f := range fields[1:] {
			n, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				break
			}
			sum += n
		}
		out = append(out, vfioIRQ{name: fields[len(fields)-1], count: sum})
	}
	return out
}

// irqCheck: igb on MSI-X must have more than one vector that fired, on MSI
// its one vector, e1000 (and igb on INTx) the INTx line.
func irqCheck(nic, intr string, irqs []vfioIRQ) checkResult {
	r := checkResult{name: "interrupts"}
	var parts []string
	fired := 0
	kind, need := "vfio-intx", 1
	switch {
	case nic == "igb" && (intr == "auto" || intr == "msix"):
		kind, need = "vfio-msix", 2
	case nic == "igb" && intr == "msi":
		kind = "vfio-msi["
	}
	for _, q := range irqs {
		parts = append(parts, fmt.Sprintf("%s=%d", q.name, q.count))
		if strings.HasPrefix(q.name, kind) && q.count > 0 {
			fired++
		}
	}
	r.ok = fired >= need
	r.detail = fmt.Sprintf("%d %s lines fired (need %d): %s", fired, kind, need, strings.Join(parts, " "))
	return r
}

// waitVirtioNetdev finds the netdev virtio_net made for the peer's NIC.
func waitVirtioNetdev(limit time.Duration) (string, error) {
	for end := time.Now().Add(limit); ; time.Sleep(100 * time.Millisecond) {
		ents, _ := os.ReadDir("/sys/class/net")
		for _, e := range ents {
			drv, err := os.Readlink(filepath.Join("/sys/class/net", e.Name(), "device", "driver"))
			if err == nil && filepath.Base(drv) == "virtio_net" {
				return e.Name(), nil
			}
		}
		if time.Now().After(end) {
			return "", fmt.Errorf("guest: no virtio_net interface after %v: QEMU needs -device virtio-net-pci on the NIC's hub", limit)
		}
	}
}

// pciNIC names the NIC family from the device ID at bdf.
func pciNIC(bdf string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/sys/bus/pci/devices", bdf, "device"))
	if err != nil {
		return "", fmt.Errorf("guest: no PCI device %s: %w", bdf, err)
	}
	switch id := strings.TrimSpace(string(b)); id {
	case "0x100e":
		return "e1000", nil
	case "0x10c9":
		return "igb", nil
	default:
		return "", fmt.Errorf("guest: PCI device %s has device ID %s: want 0x100e (82540EM, e1000) or 0x10c9 (82576, igb)", bdf, id)
	}
}

// uptime is CLOCK_BOOTTIME: time since the guest kernel started.
func uptime() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// powerOff ends the VM once the console has sent everything written to it
// (tcdrain, then a moment for the UART): the verdict lines come last and
// the host reads them off the serial line.
func powerOff() {
	unix.IoctlSetInt(1, unix.TCSBRK, 1) // tcdrain(stdout)
	time.Sleep(500 * time.Millisecond)
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}

// pingICMP sends count echo requests with size data bytes to ip from the
// guest kernel's raw ICMP socket (the kernel fragments the large ones) and
// counts the replies; onReply runs at each.
func pingICMP(ip string, size, count int, wait time.Duration, onReply func()) (int, error) {
	c, err := net.ListenIP("ip4:icmp", nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	dst := &net.IPAddr{IP: net.ParseIP(ip)}
	id := uint16(os.Getpid())
	got := 0
	buf := make([]byte, 65536)
	for seq := 1; seq <= count; seq++ {
		req := header.ICMPv4(make([]byte, header.ICMPv4MinSize+size))
		req.SetType(header.ICMPv4Echo, 0)
		binary.BigEndian.PutUint16(req[header.ICMPv4ID:], id)
		binary.BigEndian.PutUint16(req[header.ICMPv4Seq:], uint16(seq))
		for i := header.ICMPv4MinSize; i < len(req); i++ {
			req[i] = byte(i)
		}
		req.SetChecksum(^checksum.Checksum(req, 0))
		if _, err := c.WriteTo(req, dst); err != nil {
			return got, err
		}
		c.SetReadDeadline(time.Now().Add(wait))
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				break // timeout: this one is lost
			}
			p := header.ICMPv4(buf[:n])
			if n >= header.ICMPv4MinSize && p.Type() == header.ICMPv4EchoReply &&
				binary.BigEndian.Uint16(p[header.ICMPv4ID:]) == id && binary.BigEndian.Uint16(p[header.ICMPv4Seq:]) == uint16(seq) {
				if bytes.Equal(p[header.ICMPv4MinSize:], req[header.ICMPv4MinSize:]) {
					got++
					onReply()
				}
				break
			}
		}
	}
	return got, nil
}
