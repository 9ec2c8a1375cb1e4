package dma_test

import (
	"testing"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/dma/dmatest"
)

// TestArenaContract checks the Arena against the dma.Allocator contract,
// with the default quarantine and with none.
func TestArenaContract(t *testing.T) {
	const size = 16 << 20
	t.Run("quarantine", func(t *testing.T) {
		dmatest.Run(t, func() dma.Allocator { return dma.NewArena(size) }, size)
	})
	t.Run("no quarantine", func(t *testing.T) {
		dmatest.Run(t, func() dma.Allocator {
			return dma.NewArenaConfig(dma.ArenaConfig{Size: size, QuarantineBytes: -1, QuarantineCount: -1})
		}, size)
	})
}
