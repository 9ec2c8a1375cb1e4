package vfio

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nicbed/nicbed/hw/dma"
)

// DMA is memory the device reaches through the IOMMU: anonymous memory
// mapped outside the Go heap (page aligned, zeroed by the kernel, never
// moved by the garbage collector), mapped for the device with
// VFIO_IOMMU_MAP_DMA (read and write) at IOVA and handed out by Arena, whose
// regions' addresses are IOVAs. The device's accesses bypass the Arena's
// checks: an access outside the mapping is an IOMMU fault the host kernel
// logs (DMAR), not an Arena fault.
type DMA struct {
	*dma.Arena
	IOVA dma.Addr
	mem  []byte
	c    *Container
}

// NewDMA maps size bytes (rounded up to pages) at iova (page aligned; 0
// means dma.DefaultBase) in the container's IOMMU. The memory is pinned
// while mapped (it counts against RLIMIT_MEMLOCK unless the process has
// CAP_IPC_LOCK).
func (c *Container) NewDMA(size int, iova dma.Addr) (*DMA, error) {
	pg := unix.Getpagesize()
	if size <= 0 {
		return nil, fmt.Errorf("vfio: DMA size %d", size)
	}
	if iova == 0 {
		iova = dma.DefaultBase
	}
	if uint64(iova)%uint64(pg) != 0 {
		return nil, fmt.Errorf("vfio: DMA IOVA %#x is not page aligned", uint64(iova))
	}
	size = (size + pg - 1) &^ (pg - 1)
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("vfio: mmap of %d bytes of DMA memory: %w", size, err)
	}
	m := dmaMap{Flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		Vaddr: uint64(uintptr(unsafe.Pointer(&mem[0]))), IOVA: uint64(iova), Size: uint64(size)}
	m.Argsz = argsz(&m)
	if err := ioctlPtr(c.fd, VFIO_IOMMU_MAP_DMA, unsafe.Pointer(&m)); err != nil {
		unix.Munmap(mem)
		if errors.Is(err, unix.ENOMEM) {
			return nil, fmt.Errorf("vfio: VFIO_IOMMU_MAP_DMA of %d bytes: %w (locked memory: raise ulimit -l or run as root)", size, err)
		}
		return nil, fmt.Errorf("vfio: VFIO_IOMMU_MAP_DMA of %d bytes at %#x: %w", size, uint64(iova), err)
	}
	return &DMA{Arena: dma.NewArenaConfig(dma.ArenaConfig{Mem: mem, Base: iova}), IOVA: iova, mem: mem, c: c}, nil
}

// Close unmaps the memory from the IOMMU (VFIO_IOMMU_UNMAP_DMA) and from
// the process. The device must be stopped (bus mastering off) and no region
// used after.
func (d *DMA) Close() error {
	if d.mem == nil {
		return nil
	}
	u := dmaUnmap{IOVA: uint64(d.IOVA), Size: uint64(len(d.mem))}
	u.Argsz = argsz(&u)
	err := ioctlPtr(d.c.fd, VFIO_IOMMU_UNMAP_DMA, unsafe.Pointer(&u))
	if err != nil {
		err = fmt.Errorf("vfio: VFIO_IOMMU_UNMAP_DMA: %w", err)
	} else if u.Size != uint64(len(d.mem)) {
		err = fmt.Errorf("vfio: VFIO_IOMMU_UNMAP_DMA unmapped %d of %d bytes", u.Size, len(d.mem))
	}
	err = errors.Join(err, unix.Munmap(d.mem))
	d.mem = nil
	return err
}
