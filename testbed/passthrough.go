package testbed

import (
	"fmt"

	e1000driver "github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/hw/pci"
	igbdriver "github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/kernelmodel"
)

// PCI IDs of the functions the drivers take.
const (
	VendorIntel    = 0x8086
	DeviceE1000    = 0x100E // 82540EM
	DeviceIGB82576 = 0x10C9 // 82576
)

// Family names the driver for a PCI function by its IDs: "e1000" for the
// 82540EM, "igb" for the 82576.
func Family(fn pci.Function) (string, error) {
	v, d := uint16(fn.ConfigRead(pci.VendorID, 2)), uint16(fn.ConfigRead(pci.DeviceID, 2))
	switch {
	case v == VendorIntel && d == DeviceE1000:
		return "e1000", nil
	case v == VendorIntel && d == DeviceIGB82576:
		return "igb", nil
	}
	return "", fmt.Errorf("PCI function %04x:%04x is neither an 82540EM (8086:%04x, e1000) nor an 82576 (8086:%04x, igb)", v, d, DeviceE1000, DeviceIGB82576)
}

// Passthrough is a PCI function a host drives without a model: QEMU's (or a
// real) e1000 or igb passed to the process, with what the platform gives it.
type Passthrough struct {
	// Name is the function's address, e.g. 0000:00:03.0.
	Name string
	// Family is "e1000" or "igb"; "" takes it from the device ID.
	Family string
	// Func is the function (a vfio.Device).
	Func pci.Function
	// Vectors is the platform's interrupt backend (vfio.IRQs).
	Vectors kernelmodel.IRQVectorBackend
	// ConnectINTx routes the function's INTx pin to pdev.IRQ, as PCI
	// enumeration does. It is called for a driver that requests pdev.IRQ
	// without pci_alloc_irq_vectors (e1000); nil means the pin is not
	// routed.
	ConnectINTx func(p *kernelmodel.PCIDev) error
	// E1000 and IGB are the drivers' options (module parameters).
	E1000 e1000driver.Options
	IGB   igbdriver.Options
}

// NewPassthroughNIC enumerates the function on h's kernel (a PCIDev whose
// DMA memory is h.Mem and whose interrupts are cfg.Vectors) and returns the
// family's driver, not probed yet: an *E1000Driver or an *IGBDriver. The
// driver is the same as on a model; only the hardware differs.
func NewPassthroughNIC(h *Host, cfg Passthrough) (NIC, error) {
	fam, err := Family(cfg.Func)
	if err != nil {
		return nil, err
	}
	if cfg.Family != "" && cfg.Family != fam {
		return nil, fmt.Errorf("%s is an %s function, not %s", cfg.Name, fam, cfg.Family)
	}
	pdev := h.Kernel.NewPCIDev(cfg.Name, cfg.Func, h.Mem)
	if cfg.Vectors != nil {
		pdev.Vectors = cfg.Vectors
	}
	switch fam {
	case "e1000":
		if cfg.ConnectINTx == nil {
			return nil, fmt.Errorf("%s: e1000 needs its INTx pin routed (no MSI on the 82540EM)", cfg.Name)
		}
		if err := cfg.ConnectINTx(pdev); err != nil {
			return nil, fmt.Errorf("%s: INTx: %w", cfg.Name, err)
		}
		return &E1000Driver{nicBase: nicBase[*e1000driver.Adapter]{PCI: pdev}, opts: cfg.E1000}, nil
	default:
		return &IGBDriver{nicBase: nicBase[*igbdriver.Adapter]{PCI: pdev}, opts: cfg.IGB}, nil
	}
}
