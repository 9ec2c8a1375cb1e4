package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nicbed/nicbed/initramfs"
	"github.com/nicbed/nicbed/internal/vmrun"
)

const vmSynopsis = "--nic e1000|igb [--kernel PATH] [--check]"

const vmDescription = `Builds the u-root image (u-root's init and shell, nicbed as the uinit, the
vfio-pci and virtio-net modules) and boots it in QEMU (q35, TCG, emulated
Intel IOMMU) with QEMU's own e1000 (82540EM) or igb (82576) at 0000:00:03.0
and a virtio-net NIC on the same QEMU hub. In the guest, nicbed's driver and
stack run on the e1000/igb through VFIO, and the guest's Linux kernel,
driving the virtio NIC, is the peer (192.168.76.1; nicbed is 192.168.76.2).

With --check the guest runs the checks (ping 56 and 4000, HTTP GET and PUT of
4 MB with SHA-256, nicbed's connection to a Linux listener, interrupt counts
per vector) and nicbed vm prints the result table and the boot-to-first-frame
time; the exit status is 0 only if every check passed. Without --check you get
the guest's console (a shell) with nicbed running: Ctrl-A X quits QEMU.

It needs what 'make deps' installs: QEMU 10 (bookworm-backports) and Debian's
kernel extracted into .cache/kernel, and the nicbed source tree to build the
image from (run it inside the checkout).`

type vmFlags struct {
	nic, kernel, qemu, image, intr string
	check                          bool
	timeout                        time.Duration
	cpus                           int
	console                        bool
}

func runVM(args []string, stdout, stderr io.Writer) error {
	f := &vmFlags{}
	fs := newFlagSet("vm", vmSynopsis, vmDescription, stdout, stderr)
	fs.StringVar(&f.nic, "nic", "e1000", "QEMU's NIC under test: e1000 (82540EM, INTx) or igb (82576, MSI-X)")
	fs.StringVar(&f.kernel, "kernel", "", "the guest kernel (a Debian vmlinuz next to its lib/modules); default: the one make deps extracted, or $VMTEST_KERNEL")
	fs.BoolVar(&f.check, "check", false, "run the checks in the guest, print the result table and exit (status 1 if one failed)")
	fs.StringVar(&f.qemu, "qemu", "", "QEMU binary and arguments (default: $VMTEST_QEMU, else qemu-system-x86_64)")
	fs.StringVar(&f.image, "image", "", "boot this initramfs instead of building one")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Minute, "--check: how long the boot and checks may take")
	fs.IntVar(&f.cpus, "cpus", 2, "guest CPUs (igb uses one queue pair and MSI-X vector per CPU)")
	fs.StringVar(&f.intr, "intr", "auto", "igb's interrupts: auto (MSI-X), msix, msi or intx; --check then wants that type to fire")
	fs.BoolVar(&f.console, "console", true, "--check: copy the guest's serial console to stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.nic != "e1000" && f.nic != "igb" {
		return usageErr(stderr, "vm", "--nic %q: want e1000 or igb", f.nic)
	}
	if err := checkIntr(f.nic, f.intr); err != nil {
		return usageErr(stderr, "vm", "%v", err)
	}
	if f.timeout <= 0 || f.cpus < 1 || f.cpus > 8 {
		return usageErr(stderr, "vm", "--timeout must be positive and --cpus 1 to 8")
	}
	if _, err := vmrun.QEMUCommand(f.qemu); err != nil {
		return err
	}
	root, err := sourceRoot()
	if err != nil {
		return err
	}
	k, err := initramfs.FindKernel(root, f.kernel)
	if err != nil {
		return fmt.Errorf("vm: %w", err)
	}
	image := f.image
	if image == "" {
		dir := filepath.Join(initramfs.CacheDir(root), "vm")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		image = filepath.Join(dir, "nicbed.cpio")
		t := time.Now()
		fmt.Fprintf(stdout, "nicbed vm: building the u-root image %s\n", image)
		if err := initramfs.Build(initramfs.Options{Root: root, Kernel: k, Output: image}); err != nil {
			return fmt.Errorf("vm: building the image: %w", err)
		}
		fmt.Fprintf(stdout, "nicbed vm: image built in %v\n", time.Since(t).Round(100*time.Millisecond))
	}
	cfg := vmrun.Config{NIC: f.nic, Kernel: k.Image, Image: image, QEMU: f.qemu, CPUs: f.cpus, Timeout: f.timeout, Intr: f.intr}
	if !f.check {
		return vmInteractive(cfg, stdout)
	}
	if f.console {
		cfg.Console = stdout
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stdout, "nicbed vm: booting %s with QEMU's %s (TCG)\n", filepath.Base(k.Image), f.nic)
	res, err := vmrun.Check(ctx, cfg)
	if err != nil {
		return err
	}
	writeVMResult(stdout, f.nic, res)
	if !res.Pass {
		return errors.New("vm: " + res.Verdict)
	}
	return nil
}

// writeVMResult prints the result table and the times.
func writeVMResult(w io.Writer, nic string, res *vmrun.Result) {
	fmt.Fprintf(w, "\nnicbed vm --nic %s --check:\n", nic)
	fmt.Fprintf(w, "  %-22s %-4s %9s  %s\n", "CHECK", "", "TOOK", "DETAIL")
	for _, r := range res.Rows {
		st := "ok"
		if !r.OK {
			st = "FAIL"
		}
		fmt.Fprintf(w, "  %-22s %-4s %9s  %s\n", r.Name, st, r.Took, r.Detail)
	}
	fmt.Fprintf(w, "  boot to nicbed ready: %v; boot to first frame: %v (guest uptime %v); QEMU ran %v\n",
		res.Ready.Round(10*time.Millisecond), res.FirstFrame.Round(10*time.Millisecond), res.GuestFirstFrame, res.Total.Round(10*time.Millisecond))
	fmt.Fprintf(w, "  %s\n", res.Verdict)
}

func vmInteractive(cfg vmrun.Config, stdout io.Writer) error {
	argv, err := vmrun.Cmdline(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "nicbed vm: booting with QEMU's %s; the console follows (Ctrl-A X quits QEMU)\n", cfg.NIC)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}

// sourceRoot is the nicbed checkout the image is built from: the current
// directory's, else the one the binary sits in (bin/nicbed).
func sourceRoot() (string, error) {
	if r, err := initramfs.ProjectRoot("."); err == nil {
		return r, nil
	}
	if exe, err := os.Executable(); err == nil {
		if r, err := initramfs.ProjectRoot(filepath.Dir(exe)); err == nil {
			return r, nil
		}
	}
	return "", errors.New("vm: run nicbed vm inside the nicbed checkout: it builds the guest image from the source")
}
