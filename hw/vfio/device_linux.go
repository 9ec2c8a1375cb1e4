package vfio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nicbed/nicbed/hw/pci"
)

func ioctlPtr(fd int, req uintptr, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

func ioctlVal(fd int, req, arg uintptr) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, arg)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Container is an open /dev/vfio/vfio: one IOMMU address space, shared by
// the groups set to it.
type Container struct {
	fd    int
	iommu bool // VFIO_SET_IOMMU done (after the first group)
}

// OpenContainer opens /dev/vfio/vfio and checks the API version and the
// type 1 v2 IOMMU.
func OpenContainer() (*Container, error) {
	path := devRoot + "/vfio/vfio"
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("vfio: %s: %w (the vfio module is not loaded, or devtmpfs is not on /dev)", path, err)
		}
		return nil, fmt.Errorf("vfio: %s: %w", path, err)
	}
	c := &Container{fd: fd}
	if v, err := ioctlVal(fd, VFIO_GET_API_VERSION, 0); err != nil || v != VFIO_API_VERSION {
		c.Close()
		return nil, fmt.Errorf("vfio: VFIO_GET_API_VERSION: %d, %v (want %d)", v, err, VFIO_API_VERSION)
	}
	if ok, err := ioctlVal(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU); err != nil || ok == 0 {
		c.Close()
		return nil, fmt.Errorf("vfio: no type 1 v2 IOMMU (VFIO_CHECK_EXTENSION: %v; is vfio_iommu_type1 loaded?)", err)
	}
	return c, nil
}

// Close closes the container.
func (c *Container) Close() error { return unix.Close(c.fd) }

// Group is an open /dev/vfio/<group>, set to a container.
type Group struct {
	N  int
	fd int
	c  *Container
}

// AddGroup opens IOMMU group n, checks it is viable (every device in it on
// vfio-pci or no driver), sets it to the container and, for the first
// group, sets the container's IOMMU to type 1 v2.
func (c *Container) AddGroup(n int) (*Group, error) {
	path := GroupPath(n)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("vfio: group %d: %w", n, err)
	}
	g := &Group{N: n, fd: fd, c: c}
	st := GroupStatus{}
	st.Argsz = argsz(&st)
	if err := ioctlPtr(fd, VFIO_GROUP_GET_STATUS, unsafe.Pointer(&st)); err != nil {
		g.Close()
		return nil, fmt.Errorf("vfio: group %d: VFIO_GROUP_GET_STATUS: %w", n, err)
	}
	if st.Flags&VFIO_GROUP_FLAGS_VIABLE == 0 {
		g.Close()
		return nil, fmt.Errorf("vfio: group %d is not viable: bind every device in %s/kernel/iommu_groups/%d/devices to vfio-pci", n, sysfsRoot, n)
	}
	cfd := int32(c.fd)
	if err := ioctlPtr(fd, VFIO_GROUP_SET_CONTAINER, unsafe.Pointer(&cfd)); err != nil {
		g.Close()
		return nil, fmt.Errorf("vfio: group %d: VFIO_GROUP_SET_CONTAINER: %w", n, err)
	}
	if !c.iommu {
		if _, err := ioctlVal(c.fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU); err != nil {
			g.Close()
			return nil, fmt.Errorf("vfio: VFIO_SET_IOMMU(type1v2): %w", err)
		}
		c.iommu = true
	}
	return g, nil
}

// Close closes the group (which leaves the container).
func (g *Group) Close() error { return unix.Close(g.fd) }

// Device is one PCI function opened through VFIO. It implements
// pci.Function: configuration space is read and written through the
// config region (vfio-pci virtualizes parts of it: the MSI and MSI-X
// capabilities, the BARs), each memory BAR is its region, mmapped where
// vfio-pci allows it.
//
// Accesses outside a BAR or the configuration space, or not of an allowed
// size and alignment, do nothing (reads return all ones) and are counted in
// BadAccesses; so are failed preads and pwrites.
type Device struct {
	BDF  string
	Info DeviceInfo

	fd      int
	regions []RegionInfo
	bars    [6]pci.BAR
	maps    [][]byte
	irqInfo []IRQInfo

	container *Container // owned when Open made them
	group     *Group

	// BadAccesses counts accesses that did nothing (see Device).
	BadAccesses atomic.Uint64
}

var _ pci.Function = (*Device)(nil)

// Open binds nothing: it opens the function at bdf, which must be on
// vfio-pci already (see Bind), in a container of its own: the container,
// its IOMMU group, the device, its regions and BARs and its interrupt
// information. Close releases all of it.
func Open(bdf string) (*Device, error) {
	g, err := IOMMUGroup(bdf)
	if err != nil {
		return nil, err
	}
	c, err := OpenContainer()
	if err != nil {
		return nil, err
	}
	grp, err := c.AddGroup(g)
	if err != nil {
		c.Close()
		return nil, err
	}
	d, err := grp.OpenDevice(bdf)
	if err != nil {
		grp.Close()
		c.Close()
		return nil, err
	}
	d.container, d.group = c, grp
	return d, nil
}

// OpenDevice is VFIO_GROUP_GET_DEVICE_FD for bdf, then the device's
// information, its regions (BARs mmapped) and interrupts.
func (g *Group) OpenDevice(bdf string) (*Device, error) {
	name, err := unix.BytePtrFromString(bdf)
	if err != nil {
		return nil, err
	}
	fd, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(g.fd), VFIO_GROUP_GET_DEVICE_FD, uintptr(unsafe.Pointer(name)))
	if e != 0 {
		return nil, fmt.Errorf("vfio: %s: VFIO_GROUP_GET_DEVICE_FD: %w", bdf, e)
	}
	d := &Device{BDF: bdf, fd: int(fd)}
	d.Info.Argsz = argsz(&d.Info)
	if err := ioctlPtr(d.fd, VFIO_DEVICE_GET_INFO, unsafe.Pointer(&d.Info)); err != nil {
		d.Close()
		return nil, fmt.Errorf("vfio: %s: VFIO_DEVICE_GET_INFO: %w", bdf, err)
	}
	if d.Info.Flags&VFIO_DEVICE_FLAGS_PCI == 0 || d.Info.NumRegions <= VFIO_PCI_CONFIG_REGION_INDEX {
		d.Close()
		return nil, fmt.Errorf("vfio: %s is not a vfio-pci device (flags %#x, %d regions)", bdf, d.Info.Flags, d.Info.NumRegions)
	}
	for i := range d.Info.NumRegions {
		ri := RegionInfo{Index: i}
		ri.Argsz = argsz(&ri)
		if err := ioctlPtr(d.fd, VFIO_DEVICE_GET_REGION_INFO, unsafe.Pointer(&ri)); err != nil {
			ri = RegionInfo{Index: i} // an index the device does not have (VGA)
		}
		d.regions = append(d.regions, ri)
	}
	for i := range d.Info.NumIRQs {
		ii := IRQInfo{Index: i}
		ii.Argsz = argsz(&ii)
		if err := ioctlPtr(d.fd, VFIO_DEVICE_GET_IRQ_INFO, unsafe.Pointer(&ii)); err != nil {
			ii = IRQInfo{Index: i}
		}
		d.irqInfo = append(d.irqInfo, ii)
	}
	for i := range 6 {
		if err := d.openBAR(i); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

// openBAR makes BAR i: the mmapped region if vfio-pci allows it, else reads
// and writes of the device file. I/O BARs and absent ones stay nil.
func (d *Device) openBAR(i int) error {
	ri := d.regions[i]
	if ri.Size == 0 || ri.Flags&VFIO_REGION_INFO_FLAG_READ == 0 {
		return nil
	}
	if d.ConfigRead(pci.BAR0+4*i, 4)&1 != 0 {
		return nil // an I/O BAR
	}
	if ri.Flags&VFIO_REGION_INFO_FLAG_MMAP != 0 && ri.Size <= 1<<30 {
		m, err := unix.Mmap(d.fd, int64(ri.Offset), int(ri.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err == nil {
			d.maps = append(d.maps, m)
			d.bars[i] = &mmapBAR{mem: m, bad: &d.BadAccesses}
			return nil
		}
	}
	d.bars[i] = &fileBAR{d: d, off: int64(ri.Offset), size: ri.Size}
	return nil
}

// Region is region i's information (BAR0..5, ROM, config, VGA).
func (d *Device) Region(i int) (RegionInfo, bool) {
	if i < 0 || i >= len(d.regions) {
		return RegionInfo{}, false
	}
	return d.regions[i], true
}

// IRQInfo is VFIO_DEVICE_GET_IRQ_INFO of index (VFIO_PCI_*_IRQ_INDEX) as read
// at open.
func (d *Device) IRQInfo(index int) IRQInfo {
	if index < 0 || index >= len(d.irqInfo) {
		return IRQInfo{Index: uint32(index)}
	}
	return d.irqInfo[index]
}

// Reset is VFIO_DEVICE_RESET (a function level or bus reset, as the host
// can do one).
func (d *Device) Reset() error {
	if d.Info.Flags&VFIO_DEVICE_FLAGS_RESET == 0 {
		return fmt.Errorf("vfio: %s: the host cannot reset the function", d.BDF)
	}
	if _, err := ioctlVal(d.fd, VFIO_DEVICE_RESET, 0); err != nil {
		return fmt.Errorf("vfio: %s: VFIO_DEVICE_RESET: %w", d.BDF, err)
	}
	return nil
}

// Container is the container Open made, nil if the device was opened from
// a group of the caller's.
func (d *Device) Container() *Container { return d.container }

// Close unmaps the BARs and closes the device (and the group and container
// Open made). Interrupts and DMA mappings are the caller's to close first.
func (d *Device) Close() error {
	var errs []error
	for i := range d.bars {
		d.bars[i] = nil
	}
	for _, m := range d.maps {
		errs = append(errs, unix.Munmap(m))
	}
	d.maps = nil
	if d.fd >= 0 {
		errs = append(errs, unix.Close(d.fd))
		d.fd = -1
	}
	if d.group != nil {
		errs = append(errs, d.group.Close())
		d.group = nil
	}
	if d.container != nil {
		errs = append(errs, d.container.Close())
		d.container = nil
	}
	return errors.Join(errs...)
}

// ConfigRead implements pci.Function: a pread of the config region.
func (d *Device) ConfigRead(off, size int) uint32 {
	var b [4]byte
	cfg := d.regions[VFIO_PCI_CONFIG_REGION_INDEX]
	if !cfgAccessOK(off, size, cfg.Size) {
		d.BadAccesses.Add(1)
		return 0xFFFFFFFF
	}
	if n, err := unix.Pread(d.fd, b[:size], int64(cfg.Offset)+int64(off)); err != nil || n != size {
		d.BadAccesses.Add(1)
		return 0xFFFFFFFF
	}
	return binary.LittleEndian.Uint32(b[:])
}

// ConfigWrite implements pci.Function: a pwrite of the config region.
func (d *Device) ConfigWrite(off, size int, val uint32) {
	var b [4]byte
	cfg := d.regions[VFIO_PCI_CONFIG_REGION_INDEX]
	if !cfgAccessOK(off, size, cfg.Size) {
		d.BadAccesses.Add(1)
		return
	}
	binary.LittleEndian.PutUint32(b[:], val)
	if n, err := unix.Pwrite(d.fd, b[:size], int64(cfg.Offset)+int64(off)); err != nil || n != size {
		d.BadAccesses.Add(1)
	}
}

// cfgAccessOK: size 1, 2 or 4, naturally aligned, inside the region.
func cfgAccessOK(off, size int, regionSize uint64) bool {
	return (size == 1 || size == 2 || size == 4) && off >= 0 && off%size == 0 && uint64(off+size) <= regionSize
}

// BAR implements pci.Function.
func (d *Device) BAR(i int) pci.BAR {
	if i < 0 || i >= len(d.bars) || d.bars[i] == nil {
		return nil
	}
	return d.bars[i]
}

// mmapBAR is a BAR mmapped from the device file. Every access is one
// 32-bit atomic load or store on the mapping: the CPU issues it as one
// access of the width the device decodes (never split, merged or torn).
//
// Ordering with DMA memory: a sync/atomic operation is sequentially
// consistent in Go's memory model, so a doorbell store here is ordered after
// every descriptor write before it (on amd64 the store is an XCHG, a full
// barrier; on arm64 a store-release), and a register load before the
// descriptor reads after it. The drivers' hw/dma barriers (Wmb before the
// tail write, LoadAcquire32 of status words) hold on this memory as they do
// in process.
type mmapBAR struct {
	mem []byte
	bad *atomic.Uint64
}

func (b *mmapBAR) reg(off uint32) *uint32 {
	if off&3 != 0 || uint64(off)+4 > uint64(len(b.mem)) {
		b.bad.Add(1)
		return nil
	}
	return (*uint32)(unsafe.Pointer(&b.mem[off]))
}

func (b *mmapBAR) Read32(off uint32) uint32 {
	if p := b.reg(off); p != nil {
		return atomic.LoadUint32(p)
	}
	return 0xFFFFFFFF
}

func (b *mmapBAR) Write32(off, v uint32) {
	if p := b.reg(off); p != nil {
		atomic.StoreUint32(p, v)
	}
}

// fileBAR is a BAR vfio-pci does not let us mmap: 4-byte preads and pwrites
// of its region.
type fileBAR struct {
	d    *Device
	off  int64
	size uint64
}

func (b *fileBAR) ok(off uint32) bool {
	if off&3 != 0 || uint64(off)+4 > b.size {
		b.d.BadAccesses.Add(1)
		return false
	}
	return true
}

func (b *fileBAR) Read32(off uint32) uint32 {
	var v [4]byte
	if !b.ok(off) {
		return 0xFFFFFFFF
	}
	if n, err := unix.Pread(b.d.fd, v[:], b.off+int64(off)); err != nil || n != 4 {
		b.d.BadAccesses.Add(1)
		return 0xFFFFFFFF
	}
	return binary.LittleEndian.Uint32(v[:])
}

func (b *fileBAR) Write32(off, val uint32) {
	var v [4]byte
	if !b.ok(off) {
		return
	}
	binary.LittleEndian.PutUint32(v[:], val)
	if n, err := unix.Pwrite(b.d.fd, v[:], b.off+int64(off)); err != nil || n != 4 {
		b.d.BadAccesses.Add(1)
	}
}

// String names the device.
func (d *Device) String() string { return "vfio " + d.BDF }
