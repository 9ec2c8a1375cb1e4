package testbed_test

import (
	"strings"
	"testing"
	"time"

	e1000model "github.com/nicbed/nicbed/e1000/model"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/irq"
	"github.com/nicbed/nicbed/hw/pci"
	igbmodel "github.com/nicbed/nicbed/igb/model"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

type lateLine struct{ l irq.Line }

func (p *lateLine) SetLevel(v bool) {
	if p.l != nil {
		p.l.SetLevel(v)
	}
}

func passthroughHost() *testbed.Host {
	clk := kernelmodel.NewVirtualClock()
	k := kernelmodel.New(kernelmodel.Config{Name: "pt", CPUs: 2, Clock: clk})
	return &testbed.Host{Name: "pt", MAC: testbed.MACA, Kernel: k, Mem: dma.NewArena(16 << 20)}
}

func probeIn(t *testing.T, h *testbed.Host) {
	t.Helper()
	var err error
	done := false
	h.Kernel.Spawn(0, "probe", func(tk *kernelmodel.Task) { err = h.NIC.Probe(tk); done = true })
	clk := h.Kernel.Clock()
	clk.RunWhile(func() bool { return !done }, clk.Now()+10*time.Second)
	if !done || err != nil {
		t.Fatalf("probe: done %v, %v", done, err)
	}
}

// TestPassthroughNIC: NewPassthroughNIC picks the driver from the device ID
// and runs it on whatever function it is given (here the models, as VFIO's
// device would be): e1000 on the INTx pin the platform connects, igb
// through pci_alloc_irq_vectors on the backend given. No model side: the
// NIC is no ModelNIC.
func TestPassthroughNIC(t *testing.T) {
	t.Run("e1000", func(t *testing.T) {
		h := passthroughHost()
		line := &lateLine{}
		m := e1000model.New(e1000model.Config{MAC: h.MAC, Clock: h.Kernel.Clock(), Mem: h.Mem, INTx: line, Profile: e1000model.ProfileQEMU})
		connected := 0
		nic, err := testbed.NewPassthroughNIC(h, testbed.Passthrough{Name: testbed.PCIAddr, Func: m,
			ConnectINTx: func(p *kernelmodel.PCIDev) error { connected++; line.l = h.Kernel.INTxLine(p.IRQ); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := nic.(*testbed.E1000Driver); !ok || connected != 1 {
			t.Fatalf("%T, INTx connected %d times", nic, connected)
		}
		h.NIC = nic
		probeIn(t, h)
		if h.Model() != nil {
			t.Error("a passthrough NIC is a ModelNIC")
		}
		if got := nic.Netdev().Addr; got != h.MAC {
			t.Errorf("MAC %v from the EEPROM, want %v", got, h.MAC)
		}
	})
	t.Run("igb", func(t *testing.T) {
		h := passthroughHost()
		m := igbmodel.New(igbmodel.Config{MAC: h.MAC, Clock: h.Kernel.Clock(), Mem: h.Mem, MSI: h.Kernel, Profile: igbmodel.ProfileQEMU})
		nic, err := testbed.NewPassthroughNIC(h, testbed.Passthrough{Name: testbed.PCIAddr, Family: "igb", Func: m})
		if err != nil {
			t.Fatal(err)
		}
		h.NIC = nic
		probeIn(t, h)
		d := testbed.IGBDriverOf(h)
		if d == nil {
			t.Fatalf("IGBDriverOf(%T) = nil", nic)
		}
		// QEMU's igb never reports the EEPROM auto-read done: Linux
		// logs it and goes on; so does the driver.
		if d.Adapter.AutoReadTimeouts() == 0 {
			t.Error("no auto-read timeout on the QEMU profile's reset")
		}
		if n := len(nic.Vectors()); n != 3 {
			t.Errorf("%d vectors, want 3 (other causes and a queue pair per CPU)", n)
		}
	})
	t.Run("errors", func(t *testing.T) {
		h := passthroughHost()
		m := igbmodel.New(igbmodel.Config{MAC: h.MAC, Clock: h.Kernel.Clock(), Mem: h.Mem})
		if _, err := testbed.NewPassthroughNIC(h, testbed.Passthrough{Name: "x", Family: "e1000", Func: m}); err == nil || !strings.Contains(err.Error(), "is an igb function") {
			t.Errorf("family mismatch: %v", err)
		}
		if _, err := testbed.NewPassthroughNIC(h, testbed.Passthrough{Name: "x", Func: otherFunc{}}); err == nil || !strings.Contains(err.Error(), "8086:1234") {
			t.Errorf("unknown function: %v", err)
		}
	})
}

// otherFunc is an Intel function neither driver takes.
type otherFunc struct{}

func (otherFunc) ConfigRead(off, size int) uint32 {
	switch off {
	case pci.VendorID:
		return 0x8086
	case pci.DeviceID:
		return 0x1234
	}
	return 0
}
func (otherFunc) ConfigWrite(int, int, uint32) {}
func (otherFunc) BAR(int) pci.BAR              { return nil }
