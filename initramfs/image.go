// Package initramfs builds the guest nicbed boots in QEMU: a u-root
// initramfs (made with mkuimage, from Go) holding u-root's init, a few u-root
// commands for the console, the nicbed binary as the uinit, and the kernel
// modules the guest needs (vfio-pci for the NIC under test, virtio-net for
// the guest kernel's own NIC, which is the Linux peer). Both `nicbed vm` and
// the vmtests build their image here.
package initramfs

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/uio/llog"
)

// Commands are the u-root commands in the image's busybox: init (PID 1,
// which loads modules_load= and runs the uinit), a shell for the
// interactive console, and the tools a user reaches the Linux peer with.
// Few, so that a rebuild takes seconds.
var Commands = []string{
	"github.com/u-root/u-root/cmds/core/init",
	"github.com/u-root/u-root/cmds/core/gosh",
	"github.com/u-root/u-root/cmds/core/cat",
	"github.com/u-root/u-root/cmds/core/dmesg",
	"github.com/u-root/u-root/cmds/core/ip",
	"github.com/u-root/u-root/cmds/core/kill",
	"github.com/u-root/u-root/cmds/core/ls",
	"github.com/u-root/u-root/cmds/core/ping",
	"github.com/u-root/u-root/cmds/core/ps",
	"github.com/u-root/u-root/cmds/core/shutdown",
	"github.com/u-root/u-root/cmds/core/wget",
}

// NicbedPackage is the command the image runs as its uinit.
const NicbedPackage = "github.com/nicbed/nicbed/cmd/nicbed"

// Modules are the kernel modules the guest loads (`nicbed guest` loads
// them with finit_module, retrying those whose dependencies are not in yet,
// so the image needs neither modules.dep nor depmod): virtio-pci, vfio-pci and what it needs under type1 through
// the emulated Intel IOMMU, and virtio-net for the peer. Paths are under
// lib/modules/VERSION/kernel/; in the image they are at ModulesDir.
var Modules = []string{
	"drivers/virtio/virtio_ring.ko",
	"drivers/virtio/virtio.ko",
	"drivers/virtio/virtio_pci_legacy_dev.ko",
	"drivers/virtio/virtio_pci_modern_dev.ko",
	"drivers/virtio/virtio_pci.ko",
	"virt/lib/irqbypass.ko",
	"drivers/vfio/vfio.ko",
	"drivers/vfio/vfio_iommu_type1.ko",
	"drivers/vfio/vfio_virqfd.ko",
	"drivers/vfio/pci/vfio-pci-core.ko",
	"drivers/vfio/pci/vfio-pci.ko",
	"net/core/failover.ko",
	"drivers/net/net_failover.ko",
	"drivers/net/virtio_net.ko",
}

// ModulesDir is where the image holds Modules (flat, by file name).
const ModulesDir = "/lib/modules/nicbed"

// Kernel is a Debian kernel package extracted by `make deps`: the vmlinuz
// and its modules folder.
type Kernel struct {
	Image   string // boot/vmlinuz-VERSION
	Version string // e.g. 6.1.0-57-amd64
	Modules string // lib/modules/VERSION, or "" when the image is not in such a tree
}

// ProjectRoot finds the checkout this code runs from (the folder with
// go.mod naming module github.com/nicbed/nicbed), from dir upwards.
func ProjectRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/nicbed/nicbed\n") {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", fmt.Errorf("initramfs: %s is not inside the nicbed checkout (no go.mod of github.com/nicbed/nicbed above it)", dir)
		}
		d = p
	}
}

// CacheDir is where `make deps` extracts the kernel: $NICBED_CACHE, else
// .cache in the project root.
func CacheDir(root string) string {
	if d := os.Getenv("NICBED_CACHE"); d != "" {
		return d
	}
	return filepath.Join(root, ".cache")
}

// ErrNoKernel says that no kernel was found where `make deps` puts it.
var ErrNoKernel = errors.New("no guest kernel: run `make deps` (it extracts Debian's linux-image-*-amd64 into .cache/kernel), or give one with --kernel or VMTEST_KERNEL")

// FindKernel returns the kernel to boot: path if not empty, else
// $VMTEST_KERNEL, else the one `make deps` extracted under root's cache.
// A kernel given by path is used with the modules of the extracted tree it
// sits in (boot/vmlinuz-V next to lib/modules/V), if there is one.
func FindKernel(root, path string) (Kernel, error) {
	if path == "" {
		path = os.Getenv("VMTEST_KERNEL")
	}
	if path == "" {
		m, _ := filepath.Glob(filepath.Join(CacheDir(root), "kernel", "boot", "vmlinuz-*"))
		sort.Strings(m)
		if len(m) == 0 {
			return Kernel{}, ErrNoKernel
		}
		path = m[len(m)-1]
	}
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return Kernel{}, fmt.Errorf("kernel %s: not a readable file", path)
	}
	k := Kernel{Image: path}
	base := filepath.Base(path)
	if v, ok := strings.CutPrefix(base, "vmlinuz-"); ok {
		k.Version = v
		mods := filepath.Join(filepath.Dir(filepath.Dir(path)), "lib", "modules", v)
		if _, err := os.Stat(filepath.Join(mods, "kernel")); err == nil {
			k.Modules = mods
		}
	}
	return k, nil
}

// Options describe one image.
type Options struct {
	Root   string // the nicbed checkout (its go.mod builds the commands)
	Kernel Kernel // whose modules go in
	Output string // the cpio file to write
	TmpDir string // for the build; "" makes and removes one
	// BaseDir caches the u-root part of the image; "" is CacheDir/vm.
	BaseDir string
	Log     io.Writer // build messages; nil for none
}

// Build writes the image: u-root's busybox (Commands), nicbed as
// /bin/nicbed and the uinit (run with uroot.uinitargs= from the kernel
// command line, "guest ..." for nicbed guest), and Modules from the
// kernel's tree in ModulesDir.
func Build(o Options) error {
	if o.Kernel.Modules == "" {
		return fmt.Errorf("initramfs: kernel %s has no modules folder next to it (../lib/modules/VERSION/kernel): the guest needs vfio-pci and virtio-net", o.Kernel.Image)
	}
	var files []string
	for _, f := range Modules {
		src := filepath.Join(o.Kernel.Modules, "kernel", f)
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("initramfs: module %s: %w", f, err)
		}
		files = append(files, src+":"+strings.TrimPrefix(ModulesDir, "/")+"/"+filepath.Base(f))
	}
	tmp := o.TmpDir
	if tmp == "" {
		d, err := os.MkdirTemp("", "nicbed-uimage-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		tmp = d
	}
	var l *llog.Logger
	if o.Log != nil {
		l = llog.New(slog.LevelInfo, llog.WritePrintf(o.Log))
	} else {
		l = llog.New(slog.LevelError, func(string, ...any) {})
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	// mkuimage resolves the packages against the current directory's module.
	if err := os.Chdir(o.Root); err != nil {
		return err
	}
	defer os.Chdir(wd)
	env := uimage.WithEnv(golang.DisableCGO(), golang.WithGOARCH(runtime.GOARCH))
	base, err := o.base(l, env, tmp)
	if err != nil {
		return err
	}
	return uimage.Create(l,
		env,
		uimage.WithBaseFile(base),
		uimage.WithExistingInit(true),
		uimage.WithBinaryCommands(NicbedPackage),
		uimage.WithUinit("nicbed"),
		uimage.WithFiles(files...),
		uimage.WithSkipLDD(),
		uimage.WithTempDir(tmp),
		uimage.WithCPIOOutput(o.Output),
	)
}

// base is the u-root part of the image (init, shell, Commands), which
// changes only with go.sum and the command list: built once into the cache
// (BaseDir) and reused, so that a rebuild compiles nicbed only.
func (o Options) base(l *llog.Logger, env uimage.Modifier, tmp string) (string, error) {
	sum, err := os.ReadFile(filepath.Join(o.Root, "go.sum"))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(sum)
	fmt.Fprintln(h, runtime.GOARCH, runtime.Version(), strings.Join(Commands, " "))
	dir := o.BaseDir
	if dir == "" {
		dir = filepath.Join(CacheDir(o.Root), "vm")
	}
	path := filepath.Join(dir, fmt.Sprintf("uroot-%x.cpio", h.Sum(nil)[:8]))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	part := path + ".part"
	err = uimage.Create(l,
		env,
		uimage.WithBaseArchive(uimage.DefaultRamfs()),
		uimage.WithBusyboxCommands(Commands...),
		uimage.WithInit("init"),
		uimage.WithShell("gosh"),
		uimage.WithSkipLDD(),
		uimage.WithTempDir(tmp),
		uimage.WithCPIOOutput(part),
	)
	if err != nil {
		os.Remove(part)
		return "", fmt.Errorf("initramfs: building u-root's part: %w", err)
	}
	return path, os.Rename(part, path)
}
