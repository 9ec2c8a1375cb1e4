// Package vfio is nicbed's hardware backend for a real (or QEMU-emulated) PCI
// function passed to the process through Linux's vfio-pci: the same drivers
// that run against the in-process device models (e1000/driver, igb/driver)
// drive the function through it, and only the hw side differs.
//
//   - Bind puts a function on vfio-pci (driver_override, drivers_probe) and
//     waits for its group's /dev/vfio node.
//   - Open makes a container with the type 1 (v2) IOMMU, adds the function's
//     group and gets the device (VFIO_GROUP_GET_DEVICE_FD). A Device is a
//     pci.Function: configuration space through the config region, each
//     memory BAR mmapped (32-bit atomic loads and stores).
//   - NewDMA maps anonymous memory outside the Go heap for the device
//     (VFIO_IOMMU_MAP_DMA) at an IOVA and serves it as a dma.Arena, so that
//     descriptors carry IOVAs.
//   - IRQs is a kernelmodel.IRQVectorBackend: one eventfd per MSI-X or MSI
//     vector (VFIO_DEVICE_SET_IRQS), whose waiter goroutine raises the
//     interrupt on the kernel model's loop; and the INTx line, which the
//     host masks when it signals and the chip unmasks after the handler ran
//     (VFIO_IRQ_SET_ACTION_UNMASK).
//
// The ioctl numbers and structures are those of Linux's uapi vfio.h; they
// are written out here (no cgo) and tested against the header's values.
package vfio

import (
	"fmt"
	"regexp"
	"unsafe"
)

// ioctl numbers: _IO(VFIO_TYPE, VFIO_BASE + n), with VFIO_TYPE ';'. VFIO's
// ioctls carry no size or direction bits: the structures say their size in
// argsz.
const (
	vfioType = ';'
	vfioBase = 100
)

func vfioIO(n uintptr) uintptr { return vfioType<<8 | (vfioBase + n) }

// The ioctls.
var (
	VFIO_GET_API_VERSION        = vfioIO(0)
	VFIO_CHECK_EXTENSION        = vfioIO(1)
	VFIO_SET_IOMMU              = vfioIO(2)
	VFIO_GROUP_GET_STATUS       = vfioIO(3)
	VFIO_GROUP_SET_CONTAINER    = vfioIO(4)
	VFIO_GROUP_UNSET_CONTAINER  = vfioIO(5)
	VFIO_GROUP_GET_DEVICE_FD    = vfioIO(6)
	VFIO_DEVICE_GET_INFO        = vfioIO(7)
	VFIO_DEVICE_GET_REGION_INFO = vfioIO(8)
	VFIO_DEVICE_GET_IRQ_INFO    = vfioIO(9)
	VFIO_DEVICE_SET_IRQS        = vfioIO(10)
	VFIO_DEVICE_RESET           = vfioIO(11)
	VFIO_IOMMU_GET_INFO         = vfioIO(12)
	VFIO_IOMMU_MAP_DMA          = vfioIO(13)
	VFIO_IOMMU_UNMAP_DMA        = vfioIO(14)
)

// VFIO_API_VERSION is the API version VFIO_GET_API_VERSION returns.
const VFIO_API_VERSION = 0

// IOMMU types (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU).
const (
	VFIO_TYPE1_IOMMU   = 1
	VFIO_TYPE1v2_IOMMU = 3
)

// vfio_group_status flags.
const (
	VFIO_GROUP_FLAGS_VIABLE        = 1 << 0
	VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1
)

// vfio_device_info flags.
const (
	VFIO_DEVICE_FLAGS_RESET = 1 << 0
	VFIO_DEVICE_FLAGS_PCI   = 1 << 1
)

// vfio_region_info flags.
const (
	VFIO_REGION_INFO_FLAG_READ  = 1 << 0
	VFIO_REGION_INFO_FLAG_WRITE = 1 << 1
	VFIO_REGION_INFO_FLAG_MMAP  = 1 << 2
	VFIO_REGION_INFO_FLAG_CAPS  = 1 << 3
)

// Region indices of a vfio-pci device.
const (
	VFIO_PCI_BAR0_REGION_INDEX   = 0
	VFIO_PCI_BAR5_REGION_INDEX   = 5
	VFIO_PCI_ROM_REGION_INDEX    = 6
	VFIO_PCI_CONFIG_REGION_INDEX = 7
	VFIO_PCI_VGA_REGION_INDEX    = 8
)

// Interrupt indices of a vfio-pci device.
const (
	VFIO_PCI_INTX_IRQ_INDEX = 0
	VFIO_PCI_MSI_IRQ_INDEX  = 1
	VFIO_PCI_MSIX_IRQ_INDEX = 2
	VFIO_PCI_ERR_IRQ_INDEX  = 3
	VFIO_PCI_REQ_IRQ_INDEX  = 4
)

// vfio_irq_info flags.
const (
	VFIO_IRQ_INFO_EVENTFD    = 1 << 0
	VFIO_IRQ_INFO_MASKABLE   = 1 << 1
	VFIO_IRQ_INFO_AUTOMASKED = 1 << 2
	VFIO_IRQ_INFO_NORESIZE   = 1 << 3
)

// vfio_irq_set flags: one DATA_ type, one ACTION_.
const (
	VFIO_IRQ_SET_DATA_NONE      = 1 << 0
	VFIO_IRQ_SET_DATA_BOOL      = 1 << 1
	VFIO_IRQ_SET_DATA_EVENTFD   = 1 << 2
	VFIO_IRQ_SET_ACTION_MASK    = 1 << 3
	VFIO_IRQ_SET_ACTION_UNMASK  = 1 << 4
	VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5
)

// vfio_iommu_type1_dma_map flags.
const (
	VFIO_DMA_MAP_FLAG_READ  = 1 << 0
	VFIO_DMA_MAP_FLAG_WRITE = 1 << 1
)

// GroupStatus is struct vfio_group_status.
type GroupStatus struct {
	Argsz uint32
	Flags uint32
}

// DeviceInfo is struct vfio_device_info (up to cap_offset: older kernels'
// size; the kernel fills what argsz covers).
type DeviceInfo struct {
	Argsz      uint32
	Flags      uint32
	NumRegions uint32
	NumIRQs    uint32
	CapOffset  uint32
}

// RegionInfo is struct vfio_region_info.
type RegionInfo struct {
	Argsz     uint32
	Flags     uint32
	Index     uint32
	CapOffset uint32
	Size      uint64
	Offset    uint64 // of the region in the device file
}

// IRQInfo is struct vfio_irq_info.
type IRQInfo struct {
	Argsz uint32
	Flags uint32
	Index uint32
	Count uint32
}

// irqSetHeader is struct vfio_irq_set without its data[].
type irqSetHeader struct {
	Argsz uint32
	Flags uint32
	Index uint32
	Start uint32
	Count uint32
}

// dmaMap is struct vfio_iommu_type1_dma_map.
type dmaMap struct {
	Argsz uint32
	Flags uint32
	Vaddr uint64
	IOVA  uint64
	Size  uint64
}

// dmaUnmap is struct vfio_iommu_type1_dma_unmap without its data[].
type dmaUnmap struct {
	Argsz uint32
	Flags uint32
	IOVA  uint64
	Size  uint64
}

func argsz[T any](v *T) uint32 { return uint32(unsafe.Sizeof(*v)) }

var bdfRE = regexp.MustCompile(`^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$`)

// CheckBDF checks that bdf is a PCI address in sysfs's form, e.g.
// 0000:00:03.0 (domain:bus:device.function, lower-case hex).
func CheckBDF(bdf string) error {
	if !bdfRE.MatchString(bdf) {
		return fmt.Errorf("vfio: %q is not a PCI address like 0000:00:03.0 (domain:bus:device.function)", bdf)
	}
	return nil
}
