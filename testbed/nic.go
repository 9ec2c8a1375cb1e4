package testbed

import (
	"reflect"

	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/kernelmodel/ethtool"
)

// adapter is what the testbed needs of a driver's adapter (e1000's and
// igb's are both).
type adapter interface {
	Netdev() *kernelmodel.NetDevice
	EthtoolStats() []Stat
	CheckInvariants() error
	Link() (speedMbps int, fullDuplex bool)
	GetRingparam() ethtool.Ringparam
	SetRingparam(t *kernelmodel.Task, rx, tx int) error
	ChangeMTU(t *kernelmodel.Task, mtu int) error
}

// device is what the testbed needs of a device model.
type device interface {
	Port() wire.Endpoint
	Connect(l wire.Link)
}

// nicBase is the part of a NIC that only forwards to its driver's adapter
// A: each driver type embeds it.
type nicBase[A adapter] struct {
	PCI     *kernelmodel.PCIDev
	Adapter A
}

// modelBase is the part of a ModelNIC that only forwards to its device
// model M.
type modelBase[M device] struct {
	Model M
}

// Port implements ModelNIC.
func (m *modelBase[M]) Port() wire.Endpoint { return m.Model.Port() }

// Connect implements ModelNIC.
func (m *modelBase[M]) Connect(l wire.Link) { m.Model.Connect(l) }

// Netdev implements NIC.
func (n *nicBase[A]) Netdev() *kernelmodel.NetDevice { return n.Adapter.Netdev() }

// EthtoolStats implements NIC.
func (n *nicBase[A]) EthtoolStats() []Stat { return n.Adapter.EthtoolStats() }

// CheckInvariants implements NIC.
func (n *nicBase[A]) CheckInvariants() error { return n.Adapter.CheckInvariants() }

// Link implements NIC.
func (n *nicBase[A]) Link() (int, bool) { return n.Adapter.Link() }

// Ringparam implements NIC.
func (n *nicBase[A]) Ringparam() (rx, tx int) {
	r := n.Adapter.GetRingparam()
	return r.RxPending, r.TxPending
}

// SetRingparam implements NIC.
func (n *nicBase[A]) SetRingparam(t *kernelmodel.Task, rx, tx int) error {
	return n.Adapter.SetRingparam(t, rx, tx)
}

// ChangeMTU implements NIC.
func (n *nicBase[A]) ChangeMTU(t *kernelmodel.Task, mtu int) error {
	return n.Adapter.ChangeMTU(t, mtu)
}

// fieldStats lists the uint64 fields of the struct counters as Stats named
// prefix + field name, those in only (if not nil) alone.
func fieldStats(prefix string, counters any, only map[string]bool) []Stat {
	var out []Stat
	v := reflect.ValueOf(counters)
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			// An embedded group of counters (kernelmodel/rxframe's).
			out = append(out, fieldStats(prefix, f.Interface(), only)...)
			continue
		}
		name := v.Type().Field(i).Name
		if only == nil || only[name] {
			out = append(out, Stat{Name: prefix + name, Value: f.Uint()})
		}
	}
	return out
}
