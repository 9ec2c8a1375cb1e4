package vfio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSysfs builds the sysfs and /dev of a machine with the function bdf
// in IOMMU group 5 on driver drv ("" for none), vfio-pci loaded if
// vfioLoaded. Writing bdf to drivers_probe (after driver_override was set
// to vfio-pci) binds it to vfio-pci and makes /dev/vfio/5, as the kernel
// would.
func fakeSysfs(t *testing.T, bdf, drv string, group, vfioLoaded bool) (probed chan string) {
	t.Helper()
	root := t.TempDir()
	sys, dev := filepath.Join(root, "sys"), filepath.Join(root, "dev")
	oldSys, oldDev, oldTimeout := sysfsRoot, devRoot, BindTimeout
	sysfsRoot, devRoot, BindTimeout = sys, dev, 2*time.Second
	t.Cleanup(func() { sysfsRoot, devRoot, BindTimeout = oldSys, oldDev, oldTimeout })
	d := filepath.Join(sys, "bus/pci/devices", bdf)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{d, filepath.Join(sys, "kernel/iommu_groups/5"), filepath.Join(sys, "bus/pci/drivers/e1000"), filepath.Join(dev, "vfio")} {
		must(os.MkdirAll(p, 0o755))
	}
	if vfioLoaded {
		must(os.MkdirAll(filepath.Join(sys, "bus/pci/drivers/vfio-pci"), 0o755))
	}
	if group {
		must(os.Symlink(filepath.Join(sys, "kernel/iommu_groups/5"), filepath.Join(d, "iommu_group")))
	}
	if drv != "" {
		must(os.Symlink(filepath.Join(sys, "bus/pci/drivers", drv), filepath.Join(d, "driver")))
	}
	must(os.WriteFile(filepath.Join(sys, "bus/pci/drivers/e1000/unbind"), nil, 0o644))
	must(os.WriteFile(filepath.Join(d, "driver_override"), nil, 0o644))
	probe := filepath.Join(sys, "bus/pci/drivers_probe")
	must(os.WriteFile(probe, nil, 0o644))
	probed = make(chan string, 1)
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			b, _ := os.ReadFile(probe)
			if string(b) != bdf {
				continue
			}
			ov, _ := os.ReadFile(filepath.Join(d, "driver_override"))
			unb, _ := os.ReadFile(filepath.Join(sys, "bus/pci/drivers/e1000/unbind"))
			os.Remove(filepath.Join(d, "driver"))
			os.Symlink(filepath.Join(sys, "bus/pci/drivers", string(ov)), filepath.Join(d, "driver"))
			os.WriteFile(filepath.Join(dev, "vfio/5"), nil, 0o644)
			probed <- "override=" + string(ov) + " unbind=" + string(unb)
			return
		}
	}()
	return probed
}

func TestBind(t *testing.T) {
	const bdf = "0000:00:03.0"
	probed := fakeSysfs(t, bdf, "e1000", true, true)
	g, err := Bind(bdf)
	if err != nil {
		t.Fatal(err)
	}
	if g != 5 {
		t.Errorf("group %d, want 5", g)
	}
	if got, want := <-probed, "override=vfio-pci unbind="+bdf; got != want {
		t.Errorf("sysfs writes: %s, want %s", got, want)
	}
	if Driver(bdf) != "vfio-pci" {
		t.Errorf("driver %q after Bind", Driver(bdf))
	}
	// Bound already: nothing is written again.
	if g, err := Bind(bdf); err != nil || g != 5 {
		t.Errorf("Bind again: %d, %v", g, err)
	}
}

func TestBindErrors(t *testing.T) {
	const bdf = "0000:00:03.0"
	for _, tc := range []struct {
		name          string
		bdf           string
		group, loaded bool
		want          string
	}{
		{"bad address", "00:03.0", true, true, "not a PCI address"},
		{"no device", "0000:00:04.0", true, true, "no PCI device 0000:00:04.0"},
		{"no IOMMU", bdf, false, true, "intel_iommu=on"},
		{"no vfio-pci", bdf, true, false, "vfio-pci module is not loaded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeSysfs(t, bdf, "", tc.group, tc.loaded)
			_, err := Bind(tc.bdf)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Bind(%s): %v, want an error saying %q", tc.bdf, err, tc.want)
			}
		})
	}
}
