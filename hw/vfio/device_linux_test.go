package vfio

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// fileDevice is a Device over a plain file laid out as a vfio-pci device
// file: BAR0 (4 KiB) at 0, BAR2 (4 KiB, not mmappable) at 64 KiB, the
// 256-byte config space at 128 KiB.
func fileDevice(t *testing.T) (*Device, *os.File) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "vfio-dev")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(192 << 10); err != nil {
		t.Fatal(err)
	}
	rw := uint32(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)
	d := &Device{BDF: "0000:00:03.0", fd: int(f.Fd()), regions: make([]RegionInfo, 9)}
	d.regions[0] = RegionInfo{Index: 0, Flags: rw | VFIO_REGION_INFO_FLAG_MMAP, Size: 4096, Offset: 0}
	d.regions[2] = RegionInfo{Index: 2, Flags: rw, Size: 4096, Offset: 64 << 10}
	d.regions[7] = RegionInfo{Index: 7, Flags: rw, Size: 256, Offset: 128 << 10}
	for i := range 6 {
		if err := d.openBAR(i); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, m := range d.maps {
			unix.Munmap(m)
		}
	})
	return d, f
}

// TestDeviceConfigSpace: configuration reads and writes of 1, 2 and 4
// bytes go to the config region's offset, little-endian; out of range or
// misaligned ones read all ones, write nothing and are counted.
func TestDeviceConfigSpace(t *testing.T) {
	d, f := fileDevice(t)
	d.ConfigWrite(0, 4, 0x100E8086)
	d.ConfigWrite(4, 2, 0x0406)
	d.ConfigWrite(0x3D, 1, 1)
	var raw [4]byte
	f.ReadAt(raw[:], 128<<10)
	if raw != [4]byte{0x86, 0x80, 0x0E, 0x10} {
		t.Fatalf("config bytes % x at the region's offset", raw)
	}
	if v := d.ConfigRead(2, 2); v != 0x100E {
		t.Errorf("device ID %#x", v)
	}
	if v := d.ConfigRead(4, 4); v != 0x0406 {
		t.Errorf("command/status %#x", v)
	}
	if v := d.ConfigRead(0x3D, 1); v != 1 {
		t.Errorf("interrupt pin %#x", v)
	}
	for _, a := range []struct{ off, size int }{{256, 4}, {254, 4}, {-4, 4}, {1, 2}, {2, 4}, {0, 3}, {0, 8}} {
		if v := d.ConfigRead(a.off, a.size); v != 0xFFFFFFFF {
			t.Errorf("ConfigRead(%d, %d) = %#x, want all ones", a.off, a.size, v)
		}
		d.ConfigWrite(a.off, a.size, 0)
	}
	if n := d.BadAccesses.Load(); n != 14 {
		t.Errorf("%d bad accesses counted, want 14", n)
	}
	if v := d.ConfigRead(0, 4); v != 0x100E8086 {
		t.Errorf("a refused write changed the IDs: %#x", v)
	}
}

// TestDeviceBARs: an mmappable BAR is the shared mapping of its region (a
// store through the BAR is in the file, and back); a BAR vfio-pci does not
// let us mmap goes through pread/pwrite; both refuse out of range and
// misaligned offsets without crashing; absent BARs are nil.
func TestDeviceBARs(t *testing.T) {
	d, f := fileDevice(t)
	b0, b2 := d.BAR(0), d.BAR(2)
	if _, ok := b0.(*mmapBAR); !ok {
		t.Fatalf("BAR0 is %T, want the mmap", b0)
	}
	if _, ok := b2.(*fileBAR); !ok {
		t.Fatalf("BAR2 is %T, want the file", b2)
	}
	if d.BAR(1) != nil || d.BAR(6) != nil || d.BAR(-1) != nil {
		t.Error("an absent BAR is not nil")
	}
	b0.Write32(0x818, 0xdeadbeef)
	var raw [4]byte
	f.ReadAt(raw[:], 0x818)
	if raw != [4]byte{0xef, 0xbe, 0xad, 0xde} {
		t.Fatalf("BAR0 store reached the file as % x", raw)
	}
	f.WriteAt([]byte{1, 2, 3, 4}, 8)
	if v := b0.Read32(8); v != 0x04030201 {
		t.Errorf("BAR0 load %#x", v)
	}
	b2.Write32(0x10, 0x11223344)
	if v := b2.Read32(0x10); v != 0x11223344 {
		t.Errorf("BAR2 read back %#x", v)
	}
	f.ReadAt(raw[:], 64<<10+0x10)
	if raw != [4]byte{0x44, 0x33, 0x22, 0x11} {
		t.Errorf("BAR2 write at % x", raw)
	}
	before := d.BadAccesses.Load()
	for _, b := range []interface {
		Read32(uint32) uint32
		Write32(uint32, uint32)
	}{b0, b2} {
		for _, off := range []uint32{4096, 4094, 2, 0xFFFFFFFE, 0xFFFFFFFC} {
			if v := b.Read32(off); v != 0xFFFFFFFF {
				t.Errorf("Read32(%#x) = %#x, want all ones", off, v)
			}
			b.Write32(off, 0)
		}
	}
	if n := d.BadAccesses.Load() - before; n != 20 {
		t.Errorf("%d bad BAR accesses counted, want 20", n)
	}
}
