package dma_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/dma/dmatest"
)

// TestArenaOverMmapContract: an arena over anonymous mmapped memory (what
// the VFIO allocator hands a device) at a bus address of its own keeps the
// Allocator contract.
func TestArenaOverMmapContract(t *testing.T) {
	const size = 16 << 20
	var maps [][]byte
	t.Cleanup(func() {
		for _, m := range maps {
			if err := unix.Munmap(m); err != nil {
				t.Error(err)
			}
		}
	})
	dmatest.Run(t, func() dma.Allocator {
		m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			t.Fatal(err)
		}
		maps = append(maps, m)
		return dma.NewArenaConfig(dma.ArenaConfig{Mem: m, Base: 0x8000_0000})
	}, size)
}
