package vfio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Where sysfs and the device nodes are (tests point them at a fake tree).
var (
	sysfsRoot = "/sys"
	devRoot   = "/dev"
)

// BindTimeout bounds how long Bind waits for the driver and the group's
// device node.
var BindTimeout = 5 * time.Second

func devicePath(bdf string) string { return filepath.Join(sysfsRoot, "bus/pci/devices", bdf) }

// IOMMUGroup is the IOMMU group of the function at bdf (the iommu_group
// link of its sysfs directory).
func IOMMUGroup(bdf string) (int, error) {
	if err := CheckBDF(bdf); err != nil {
		return 0, err
	}
	dev := devicePath(bdf)
	if _, err := os.Stat(dev); err != nil {
		return 0, fmt.Errorf("vfio: no PCI device %s (%s): %w", bdf, dev, err)
	}
	l, err := os.Readlink(filepath.Join(dev, "iommu_group"))
	if err != nil {
		return 0, fmt.Errorf("vfio: %s has no IOMMU group: boot with intel_iommu=on (and in QEMU -device intel-iommu, before the NIC)", bdf)
	}
	g, err := strconv.Atoi(filepath.Base(l))
	if err != nil {
		return 0, fmt.Errorf("vfio: %s: iommu_group link %q names no group number", bdf, l)
	}
	return g, nil
}

// Driver is the name of the driver bound to the function at bdf, "" if none.
func Driver(bdf string) string {
	l, err := os.Readlink(filepath.Join(devicePath(bdf), "driver"))
	if err != nil {
		return ""
	}
	return filepath.Base(l)
}

// GroupPath is the device node of IOMMU group g.
func GroupPath(g int) string { return filepath.Join(devRoot, "vfio", strconv.Itoa(g)) }

// Bind puts the function at bdf on vfio-pci, as one would with sysfs by
// hand: unbind its driver if it has one (driver/unbind), write "vfio-pci" to
// its driver_override and its address to /sys/bus/pci/drivers_probe, then
// wait (at most BindTimeout) until vfio-pci has it and its group's node
// /dev/vfio/<group> exists. A function already on vfio-pci is left alone.
// It returns the IOMMU group.
func Bind(bdf string) (int, error) {
	g, err := IOMMUGroup(bdf)
	if err != nil {
		return 0, err
	}
	dev := devicePath(bdf)
	if _, err := os.Stat(filepath.Join(sysfsRoot, "bus/pci/drivers/vfio-pci")); err != nil {
		return 0, errors.New("vfio: the vfio-pci module is not loaded (modprobe vfio-pci; it needs vfio, vfio_iommu_type1, vfio_virqfd, vfio-pci-core, irqbypass)")
	}
	if drv := Driver(bdf); drv != "vfio-pci" {
		if drv != "" {
			if err := writeSysfs(filepath.Join(dev, "driver/unbind"), bdf); err != nil {
				return 0, fmt.Errorf("vfio: %s: unbinding %s: %w", bdf, drv, err)
			}
		}
		if err := writeSysfs(filepath.Join(dev, "driver_override"), "vfio-pci"); err != nil {
			return 0, fmt.Errorf("vfio: %s: %w", bdf, err)
		}
		if err := writeSysfs(filepath.Join(sysfsRoot, "bus/pci/drivers_probe"), bdf); err != nil {
			return 0, fmt.Errorf("vfio: %s: drivers_probe: %w", bdf, err)
		}
	}
	node := GroupPath(g)
	deadline := time.Now().Add(BindTimeout)
	for {
		drv := Driver(bdf)
		_, err := os.Stat(node)
		if drv == "vfio-pci" && err == nil {
			return g, nil
		}
		if time.Now().After(deadline) {
			if drv != "vfio-pci" {
				return 0, fmt.Errorf("vfio: %s: still on driver %q %v after drivers_probe, not vfio-pci", bdf, drv, BindTimeout)
			}
			return 0, fmt.Errorf("vfio: %s is on vfio-pci but %s did not appear in %v (is devtmpfs mounted on /dev?)", bdf, node, BindTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeSysfs(path, val string) error {
	err := os.WriteFile(path, []byte(val), 0)
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%s: permission denied: run as root", path)
	}
	return err
}
