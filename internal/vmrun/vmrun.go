// Package vmrun boots the nicbed guest (package initramfs) in QEMU with the
// NIC under test and a virtio-net NIC on the same QEMU hub, and reads the
// guest's check results off its serial console. `nicbed vm` and the
// vmtests both boot through it, with github.com/hugelgupf/vmtest's qemu
// package composing and running the command line.
package vmrun

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hugelgupf/vmtest/qemu"
)

// NICs are the QEMU devices nicbed's drivers bind through VFIO: QEMU's
// 82540EM ("e1000") and 82576 ("igb").
var NICs = []string{"e1000", "igb"}

// MACs of the guest's two NICs; the NIC under test sits at PCI slot 3
// (0000:00:03.0), the peer's virtio NIC at slot 4.
const (
	NICMAC  = "52:54:00:76:00:02"
	PeerMAC = "52:54:00:76:00:01"
	NICBDF  = "0000:00:03.0"
)

// Config is one boot.
type Config struct {
	NIC     string // "e1000" or "igb"
	Kernel  string // the vmlinuz
	Image   string // the initramfs (initramfs.Build)
	QEMU    string // binary and arguments; "" is $VMTEST_QEMU, else qemu-system-x86_64
	Check   bool   // run the guest's checks and power off
	CPUs    int    // guest CPUs; 0 is 2 (igb then uses 2 queue pairs, 2 vectors)
	Memory  string // guest memory; "" is 1G
	Intr    string // igb's interrupts (nicbed host --intr); "" is auto
	Timeout time.Duration
	// Console, if not nil, gets every line of the serial console.
	Console io.Writer
}

// QEMUCommand is the QEMU to run: cfg.QEMU, $VMTEST_QEMU or
// qemu-system-x86_64 from PATH; an error says to run make deps when there
// is none, or when it has no igb device.
func QEMUCommand(cfg string) (string, error) {
	if cfg == "" {
		cfg = os.Getenv("VMTEST_QEMU")
	}
	if cfg == "" {
		cfg = "qemu-system-x86_64"
	}
	bin := strings.Fields(cfg)[0]
	path, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("vm: no QEMU (%s): run `make deps` as root (it installs qemu-system-x86 10 from bookworm-backports), or set VMTEST_QEMU", bin)
	}
	out, err := exec.Command(path, "-device", "help").Output()
	if err != nil || !strings.Contains(string(out), `"igb"`) {
		return "", fmt.Errorf("vm: %s has no igb device (Debian 12's QEMU 7.2 has none): run `make deps` as root to install QEMU 10 from bookworm-backports", path)
	}
	return cfg, nil
}

// Fns are the vmtest qemu options of a boot: q35 under TCG with the
// emulated Intel IOMMU (VFIO in the guest needs it: no Debian kernel has
// VFIO no-IOMMU), the NIC under test and the peer's virtio NIC on hub 0,
// and the kernel command line that tells the guest's init what to run.
func Fns(cfg Config) ([]qemu.Fn, error) {
	if cfg.NIC != "e1000" && cfg.NIC != "igb" {
		return nil, fmt.Errorf("vm: --nic %q: want e1000 or igb", cfg.NIC)
	}
	qcmd, err := QEMUCommand(cfg.QEMU)
	if err != nil {
		return nil, err
	}
	cpus := cfg.CPUs
	if cpus == 0 {
		cpus = 2
	}
	mem := cfg.Memory
	if mem == "" {
		mem = "1G"
	}
	uinit := "guest --nic " + cfg.NIC
	if cfg.Intr != "" && cfg.Intr != "auto" {
		uinit += " --intr " + cfg.Intr
	}
	if cfg.Check {
		uinit += " --check"
	}
	fns := []qemu.Fn{
		qemu.WithQEMUCommand(qcmd),
		qemu.WithKernel(cfg.Kernel),
		qemu.WithInitramfs(cfg.Image),
		// quiet: the serial console is slow under TCG.
		qemu.WithAppendKernel("console=ttyS0", "intel_iommu=on", "quiet", "panic=-1", `uroot.uinitargs="`+uinit+`"`),
		qemu.ArbitraryArgs(
			"-M", "q35", "-accel", "tcg", "-cpu", "max", "-m", mem, "-smp", fmt.Sprint(cpus), "-no-reboot",
			"-device", "intel-iommu,intremap=on",
			"-device", cfg.NIC+",netdev=n0,addr=03.0,romfile=,mac="+NICMAC, "-netdev", "hubport,id=n0,hubid=0",
			"-device", "virtio-net-pci,netdev=n1,addr=04.0,romfile=,mac="+PeerMAC, "-netdev", "hubport,id=n1,hubid=0",
		),
	}
	if cfg.Timeout > 0 {
		fns = append(fns, qemu.WithVMTimeout(cfg.Timeout))
	}
	return fns, nil
}

// Cmdline is the QEMU command line of cfg.
func Cmdline(cfg Config) ([]string, error) {
	fns, err := Fns(cfg)
	if err != nil {
		return nil, err
	}
	o, err := qemu.OptionsFor(qemu.ArchAMD64, fns...)
	if err != nil {
		return nil, err
	}
	return o.Cmdline()
}

// Row is one line of the guest's result table.
type Row struct {
	Name   string
	OK     bool
	Took   string
	Detail string
}

// Result is what a checked boot showed.
type Result struct {
	Rows []Row
	// Pass: the guest printed "nicbed guest: PASS".
	Pass bool
	// Verdict is the guest's last line ("nicbed guest: PASS (...)" or FAIL).
	Verdict string
	// FirstFrame is the wall time from starting QEMU to the guest's
	// first ping reply from nicbed (the first frames both ways through the
	// VFIO NIC); GuestFirstFrame is the guest's uptime then.
	FirstFrame, GuestFirstFrame time.Duration
	// Ready is the wall time from starting QEMU to nicbed's ready line.
	Ready time.Duration
	// Total is QEMU start to exit.
	Total time.Duration
	// Console is the whole serial output.
	Console string
}

// Row returns the row named name.
func (r *Result) Row(name string) (Row, bool) {
	for _, x := range r.Rows {
		if x.Name == name {
			return x, true
		}
	}
	return Row{}, false
}

// Check boots cfg with the checks on and returns what the guest reported.
// The error is for a boot that did not come to a verdict (QEMU failed, the
// timeout passed); a failed check is a Result with Pass false.
func Check(ctx context.Context, cfg Config) (*Result, error) {
	cfg.Check = true
	if cfg.Timeout == 0 {
		cfg.Timeout = 3 * time.Minute
	}
	fns, err := Fns(cfg)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	fns = append(fns, qemu.WithSerialOutput(pw))
	res := &Result{}
	start := time.Now()
	vm, err := qemu.StartContext(ctx, qemu.ArchAMD64, fns...)
	if err != nil {
		return nil, fmt.Errorf("vm: starting QEMU: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		res.scan(pr, start, cfg.Console)
	}()
	// The console's pty is not read by anyone else: drain it.
	go io.Copy(io.Discard, vm.Console)
	werr := vm.Wait()
	res.Total = time.Since(start)
	pw.Close()
	wg.Wait()
	vm.Console.Close()
	if res.Verdict == "" {
		if werr == nil {
			werr = errors.New("QEMU exited")
		}
		if ctx.Err() != nil || res.Total >= cfg.Timeout {
			werr = fmt.Errorf("no verdict after %v (timeout)", cfg.Timeout)
		}
		return res, fmt.Errorf("vm: %s guest gave no verdict: %v; last console lines:\n%s", cfg.NIC, werr, tail(res.Console, 25))
	}
	return res, nil
}

// scan reads the console line by line.
func (res *Result) scan(r io.Reader, start time.Time, console io.Writer) {
	var all strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	inResults := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		all.WriteString(line)
		all.WriteByte('\n')
		if console != nil {
			fmt.Fprintln(console, line)
		}
		i := strings.Index(line, "nicbed ")
		if i < 0 {
			continue
		}
		l := line[i:]
		switch {
		case strings.HasPrefix(l, "nicbed guest: first frame at ") && res.FirstFrame == 0:
			res.FirstFrame = time.Since(start)
			d, _ := time.ParseDuration(strings.TrimSuffix(strings.TrimPrefix(l, "nicbed guest: first frame at "), " of uptime"))
			res.GuestFirstFrame = d
		case strings.HasPrefix(l, "nicbed host: ready:") && res.Ready == 0:
			res.Ready = time.Since(start)
		case l == "nicbed guest: results":
			inResults = true
			res.Rows = nil
		case strings.HasPrefix(l, "nicbed check: ") && inResults:
			res.Rows = append(res.Rows, parseRow(strings.TrimPrefix(l, "nicbed check: ")))
		case strings.HasPrefix(l, "nicbed guest: PASS"), strings.HasPrefix(l, "nicbed guest: FAIL"):
			res.Verdict = l
			res.Pass = strings.HasPrefix(l, "nicbed guest: PASS")
		}
	}
	res.Console = all.String()
}

// parseRow reads "NAME  ok|FAIL  TOOK  DETAIL" (names may hold spaces; the
// status word is the first "ok" or "FAIL" field).
func parseRow(s string) Row {
	f := strings.Fields(s)
	for i, w := range f {
		if (w == "ok" || w == "FAIL") && i > 0 && i+1 < len(f) {
			return Row{Name: strings.Join(f[:i], " "), OK: w == "ok", Took: f[i+1], Detail: strings.Join(f[i+2:], " ")}
		}
	}
	return Row{Name: s}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
