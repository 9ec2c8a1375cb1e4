package driver_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/igb/model"
	"github.com/nicbed/nicbed/kernelmodel"
)

// fewVectors is a platform that gives a function at most max MSI-X
// vectors (an interrupt remapping table nearly full, a hypervisor's limit).
type fewVectors struct {
	kernelmodel.IRQVectorBackend
	max int
}

func (f fewVectors) VecCount(p *kernelmodel.PCIDev, typ int) int {
	n := f.IRQVectorBackend.VecCount(p, typ)
	if typ == kernelmodel.PCI_IRQ_MSIX {
		n = min(n, f.max)
	}
	return n
}

// TestFewerVectors: on 4 CPUs igb wants 5 MSI-X vectors; a platform that
// has only 3 makes it fall back to one queue pair on MSI, as
// igb_set_interrupt_capability does when pci_enable_msix_range fails.
func TestFewerVectors(t *testing.T) {
	k := kernelmodel.New(kernelmodel.Config{CPUs: 4})
	defer k.Close()
	mem := dma.NewArena(16 << 20)
	m := model.New(model.Config{MAC: [6]byte{2, 0, 0, 0, 0, 1}, Clock: k.Clock(), Mem: mem, MSI: k})
	pdev := k.NewPCIDev("0000:00:04.0", m, mem)
	pdev.Vectors = fewVectors{kernelmodel.InProcessVectors, 3}
	var a *driver.Adapter
	var err error
	done := false
	k.Spawn(0, "probe", func(t *kernelmodel.Task) { a, err = driver.Probe(t, pdev, driver.Options{}); done = true })
	k.Clock().RunWhile(func() bool { return !done }, k.Clock().Now()+10*time.Second)
	if !done || err != nil {
		t.Fatalf("probe: done %v, %v", done, err)
	}
	if a.MSIX() || !a.MSI() || a.Queues() != 1 || pdev.IRQType() != kernelmodel.PCI_IRQ_MSI {
		t.Errorf("MSI-X %v, MSI %v, %d queues, type %#x: want one queue pair on MSI", a.MSIX(), a.MSI(), a.Queues(), pdev.IRQType())
	}
	if c := a.GetChannels(); c.MaxCombined != 1 {
		t.Errorf("ethtool -l max combined %d without MSI-X", c.MaxCombined)
	}
}
