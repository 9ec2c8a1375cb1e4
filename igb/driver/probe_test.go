package driver_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nicbed/nicbed/hw/nvm"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/igb/model"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// TestProbe: igb_probe on the 82576 model reads the address from the
// EEPROM, takes one queue pair per CPU with MSI-X (a vector per pair and one
// for the other causes, named as /proc/interrupts names them), and after
// open the watchdog brings the carrier up at 1000 Mb/s full duplex; frames
// then flow both ways.
func TestProbe(t *testing.T) {
	for _, cpus := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("%dcpu", cpus), func(t *testing.T) {
			tb := bed(t, testbed.IGB{}, cpus)
			for _, h := range tb.Hosts() {
				a := nic(t, h).Adapter
				if a.MAC() != h.MAC || h.Dev.Addr != h.MAC {
					t.Errorf("%s: MAC %v, netdev %v, want %v", h.Name, a.MAC(), h.Dev.Addr, h.MAC)
				}
				if !a.MSIX() || a.Queues() != cpus {
					t.Errorf("%s: MSI-X %v, %d queues, want MSI-X and %d", h.Name, a.MSIX(), a.Queues(), cpus)
				}
				vs := a.Vectors()
				if len(vs) != cpus+1 || vs[0].Name != "eth0" {
					t.Fatalf("%s: vectors %v", h.Name, vs)
				}
				for i, v := range vs[1:] {
					if want := fmt.Sprintf("eth0-TxRx-%d", i); v.Name != want {
						t.Errorf("vector %d named %q, want %q", i+1, v.Name, want)
					}
				}
				if s, fd := a.Link(); s != 1000 || !fd || !h.Dev.NetifCarrierOK() {
					t.Errorf("%s: link %d full %v carrier %v", h.Name, s, fd, h.Dev.NetifCarrierOK())
				}
				if got := reg(h, igb.CTRL_EXT) & igb.CTRL_EXT_DRV_LOAD; got == 0 {
					t.Errorf("%s: CTRL_EXT.DRV_LOAD clear after probe", h.Name)
				}
			}
			flow(t, tb, tb.A, tb.B, 2000, nil, 1)
			flow(t, tb, tb.B, tb.A, 2000, nil, 2)
			settle(t, tb)
		})
	}
}

// TestProbeEEPROM: an EEPROM whose words do not sum to 0xBABA fails probe
// with ErrEEPROMChecksum, one with a multicast address with ErrInvalidMAC.
func TestProbeEEPROM(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(w *[igb.EEPROMWords]uint16)
		want error
	}{
		{"bad checksum", func(w *[igb.EEPROMWords]uint16) { w[5]++ }, driver.ErrEEPROMChecksum},
		{"multicast MAC", func(w *[igb.EEPROMWords]uint16) { w[0] |= 1; nvm.FixChecksum(w[:]) }, driver.ErrInvalidMAC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testbed.IGB{Model: func(h *testbed.Host, c *model.Config) {
				w := model.DefaultEEPROM(h.MAC)
				tc.edit(&w)
				c.EEPROM = &w
			}}
			_, err := testbed.New(testbed.Config{NIC: f})
			if !errors.Is(err, tc.want) {
				t.Fatalf("probe: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestInterruptFallback: without MSI-X the driver runs one queue pair on
// MSI, without MSI on the INTx pin (igb_set_interrupt_capability's
// fallbacks), and traffic flows each way on each.
func TestInterruptFallback(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     driver.Options
		msi      bool
		wantType int
	}{
		{"msi", driver.Options{NoMSIX: true}, true, kernelmodel.PCI_IRQ_MSI},
		{"intx", driver.Options{NoMSIX: true, NoMSI: true}, false, kernelmodel.PCI_IRQ_LEGACY},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := bed(t, testbed.IGB{Driver: tc.opts}, 2)
			for _, h := range tb.Hosts() {
				n := nic(t, h)
				a := n.Adapter
				if a.MSIX() || a.MSI() != tc.msi || a.Queues() != 1 || n.PCI.IRQType() != tc.wantType {
					t.Fatalf("%s: MSI-X %v MSI %v queues %d type %#x", h.Name, a.MSIX(), a.MSI(), a.Queues(), n.PCI.IRQType())
				}
				if v := a.Vectors(); len(v) != 1 {
					t.Fatalf("vectors %v", v)
				}
				if g := reg(h, igb.GPIE); g&igb.GPIE_MSIX_MODE != 0 {
					t.Errorf("GPIE %#x in MSI-X mode", g)
				}
			}
			flow(t, tb, tb.A, tb.B, 3000, nil, 3)
			flow(t, tb, tb.B, tb.A, 3000, nil, 4)
			settle(t, tb)
			for _, h := range tb.Hosts() {
				if n := h.Interrupts(); n == 0 {
					t.Errorf("%s: no interrupts", h.Name)
				}
			}
		})
	}
}
