package vfio

import (
	"testing"
	"unsafe"
)

// The ioctl numbers and structure sizes are those of Linux's
// include/uapi/linux/vfio.h (6.1): the numbers are what _IO(';', 100 + n)
// expands to there, the sizes what sizeof gives for the structures (without
// their flexible data[]).
func TestIoctlNumbers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"VFIO_GET_API_VERSION", VFIO_GET_API_VERSION, 0x3b64},
		{"VFIO_CHECK_EXTENSION", VFIO_CHECK_EXTENSION, 0x3b65},
		{"VFIO_SET_IOMMU", VFIO_SET_IOMMU, 0x3b66},
		{"VFIO_GROUP_GET_STATUS", VFIO_GROUP_GET_STATUS, 0x3b67},
		{"VFIO_GROUP_SET_CONTAINER", VFIO_GROUP_SET_CONTAINER, 0x3b68},
		{"VFIO_GROUP_UNSET_CONTAINER", VFIO_GROUP_UNSET_CONTAINER, 0x3b69},
		{"VFIO_GROUP_GET_DEVICE_FD", VFIO_GROUP_GET_DEVICE_FD, 0x3b6a},
		{"VFIO_DEVICE_GET_INFO", VFIO_DEVICE_GET_INFO, 0x3b6b},
		{"VFIO_DEVICE_GET_REGION_INFO", VFIO_DEVICE_GET_REGION_INFO, 0x3b6c},
		{"VFIO_DEVICE_GET_IRQ_INFO", VFIO_DEVICE_GET_IRQ_INFO, 0x3b6d},
		{"VFIO_DEVICE_SET_IRQS", VFIO_DEVICE_SET_IRQS, 0x3b6e},
		{"VFIO_DEVICE_RESET", VFIO_DEVICE_RESET, 0x3b6f},
		{"VFIO_IOMMU_GET_INFO", VFIO_IOMMU_GET_INFO, 0x3b70},
		{"VFIO_IOMMU_MAP_DMA", VFIO_IOMMU_MAP_DMA, 0x3b71},
		{"VFIO_IOMMU_UNMAP_DMA", VFIO_IOMMU_UNMAP_DMA, 0x3b72},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
}

func TestStructLayouts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"vfio_group_status", unsafe.Sizeof(GroupStatus{}), 8},
		{"vfio_device_info (to cap_offset)", unsafe.Sizeof(DeviceInfo{}), 20},
		{"vfio_region_info", unsafe.Sizeof(RegionInfo{}), 32},
		{"vfio_region_info.size", unsafe.Offsetof(RegionInfo{}.Size), 16},
		{"vfio_region_info.offset", unsafe.Offsetof(RegionInfo{}.Offset), 24},
		{"vfio_irq_info", unsafe.Sizeof(IRQInfo{}), 16},
		{"vfio_irq_set (header)", unsafe.Sizeof(irqSetHeader{}), 20},
		{"vfio_iommu_type1_dma_map", unsafe.Sizeof(dmaMap{}), 32},
		{"vfio_iommu_type1_dma_map.vaddr", unsafe.Offsetof(dmaMap{}.Vaddr), 8},
		{"vfio_iommu_type1_dma_unmap (header)", unsafe.Sizeof(dmaUnmap{}), 24},
	} {
		if tc.got != tc.want {
			t.Errorf("sizeof/offsetof %s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"VFIO_TYPE1v2_IOMMU", VFIO_TYPE1v2_IOMMU, 3},
		{"VFIO_PCI_CONFIG_REGION_INDEX", VFIO_PCI_CONFIG_REGION_INDEX, 7},
		{"VFIO_PCI_MSIX_IRQ_INDEX", VFIO_PCI_MSIX_IRQ_INDEX, 2},
		{"VFIO_IRQ_SET_ACTION_TRIGGER|DATA_EVENTFD", VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD, 0x24},
		{"VFIO_IRQ_SET_ACTION_UNMASK|DATA_NONE", VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE, 0x11},
		{"VFIO_IRQ_SET_ACTION_MASK|DATA_NONE", VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_NONE, 0x09},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
}
