// Package vmtests boots QEMU (github.com/hugelgupf/vmtest's qemu package,
// through internal/vmrun) with QEMU's own e1000 and igb, which nicbed's
// drivers drive through VFIO in a u-root guest, the guest's Linux kernel
// being the peer on a virtio NIC of the same QEMU hub. They need what
// `make deps` installs (QEMU 10, Debian's kernel in .cache/kernel) or
// VMTEST_QEMU / VMTEST_KERNEL, and fail, not skip, without them.
package vmtests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nicbed/nicbed/initramfs"
	"github.com/nicbed/nicbed/internal/vmrun"
)

// VMBudget is what one boot-and-check may take under TCG.
const VMBudget = 90 * time.Second

// The image is the same for both NICs (the NIC comes on the kernel command
// line): build it once.
var image struct {
	once          sync.Once
	kernel, path  string
	err           error
	built, inited time.Duration
}

func buildImage(t *testing.T) (kernel, path string) {
	t.Helper()
	image.once.Do(func() {
		if _, image.err = vmrun.QEMUCommand(""); image.err != nil {
			return
		}
		root, err := initramfs.ProjectRoot(".")
		if err != nil {
			image.err = err
			return
		}
		k, err := initramfs.FindKernel(root, "")
		if err != nil {
			image.err = err
			return
		}
		dir, err := os.MkdirTemp("", "nicbed-vmtests-")
		if err != nil {
			image.err = err
			return
		}
		image.kernel, image.path = k.Image, filepath.Join(dir, "nicbed.cpio")
		start := time.Now()
		image.err = initramfs.Build(initramfs.Options{Root: root, Kernel: k, Output: image.path})
		image.built = time.Since(start)
	})
	if image.err != nil {
		t.Fatalf("the VM tests need QEMU and a kernel (`make deps` as root installs both): %v", image.err)
	}
	t.Logf("image %s built in %v", image.path, image.built.Round(time.Millisecond))
	return image.kernel, image.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if image.path != "" {
		os.RemoveAll(filepath.Dir(image.path))
	}
	os.Exit(code)
}

// The rows every guest must report ok.
var wantRows = []string{"nicbed ready", "ping -s 56", "ping -s 4000", "http GET /bytes", "http PUT /sink", "nicbed connects", "nicbed host exit", "interrupts"}

func check(t *testing.T, nic string) *vmrun.Result {
	kernel, img := buildImage(t)
	var console strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), VMBudget+10*time.Second)
	defer cancel()
	res, err := vmrun.Check(ctx, vmrun.Config{NIC: nic, Kernel: kernel, Image: img, Timeout: VMBudget, Console: &console})
	if err != nil {
		t.Fatalf("%v", err)
	}
	for _, name := range wantRows {
		r, ok := res.Row(name)
		switch {
		case !ok:
			t.Errorf("%s: the guest reported no %q check", nic, name)
		case !r.OK:
			t.Errorf("%s: %s failed: %s", nic, name, r.Detail)
		}
	}
	if !res.Pass {
		t.Errorf("%s: %s", nic, res.Verdict)
	}
	if res.FirstFrame <= 0 || res.FirstFrame > res.Total {
		t.Errorf("%s: boot to first frame %v of %v: no first frame seen", nic, res.FirstFrame, res.Total)
	}
	if t.Failed() {
		t.Logf("console:\n%s", console.String())
	}
	t.Logf("%s: boot to nicbed ready %v, to first frame %v (guest uptime %v), QEMU ran %v",
		nic, res.Ready.Round(10*time.Millisecond), res.FirstFrame.Round(10*time.Millisecond), res.GuestFirstFrame, res.Total.Round(10*time.Millisecond))
	return res
}

// QEMU's 82540EM has no MSI: the e1000 driver runs on INTx, which VFIO
// signals through an eventfd and nicbed unmasks after each interrupt.
func TestE1000(t *testing.T) {
	res := check(t, "e1000")
	r, _ := res.Row("interrupts")
	if !strings.Contains(r.Detail, "vfio-intx(") {
		t.Errorf("e1000 interrupts: %s, want the vfio-intx line", r.Detail)
	}
	if strings.Contains(res.Console, "vfio-msix") {
		t.Error("e1000 used MSI-X: QEMU's 82540EM has none")
	}
}

// QEMU's 82576 with 2 CPUs: igb takes MSI-X, one vector for the other
// causes and one per queue pair; more than one vector must have fired.
func TestIGB(t *testing.T) {
	res := check(t, "igb")
	r, _ := res.Row("interrupts")
	if !strings.Contains(r.Detail, "vfio-msix[1]") || !strings.Contains(r.Detail, "vfio-msix[2]") {
		t.Errorf("igb interrupts: %s, want the queue vectors vfio-msix[1] and [2]", r.Detail)
	}
}
