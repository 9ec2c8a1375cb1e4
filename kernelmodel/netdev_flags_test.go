package kernelmodel

import (
	"strings"
	"testing"
	"time"
)

// rxModeDev records ndo_set_rx_mode and ndo_change_mtu calls.
type rxModeDev struct {
	countDev
	d       *NetDevice
	rxModes []string // flags and list sizes at each ndo_set_rx_mode
	mtus    []int
	mtuErr  error
}

func (r *rxModeDev) SetRxMode() {
	r.rxModes = append(r.rxModes, r.d.FlagsString()+" uc"+itoa(r.d.UC.Len())+" mc"+itoa(r.d.MC.Len()))
}

func (r *rxModeDev) ChangeMTU(t *Task, mtu int) error {
	if r.mtuErr != nil {
		return r.mtuErr
	}
	r.mtus = append(r.mtus, mtu)
	r.d.MTU = mtu
	return nil
}

func newRxModeDev(t *testing.T, k *Kernel, name string, priv uint32) *rxModeDev {
	r := &rxModeDev{countDev: countDev{k: k}}
	r.d = k.AllocEtherdev(name, 1, 1)
	r.d.Ops = r
	r.d.PrivFlags |= priv
	if err := k.RegisterNetdev(r.d); err != nil {
		t.Fatal(err)
	}
	return r
}

func runTask(t *testing.T, k *Kernel, fn func(tk *Task)) {
	t.Helper()
	tk := k.Spawn(0, "test", fn)
	k.Clock().RunWhile(func() bool { return !tk.Done() }, k.Clock().Now()+time.Second)
	if !tk.Done() {
		t.Fatal("task did not finish")
	}
}

// Flags follow dev_open/dev_close and the carrier; the address lists are
// refcounted per address and every change of a list or of IFF_PROMISC /
// IFF_ALLMULTI on a running device calls ndo_set_rx_mode once; a device
// without unicast filtering goes promiscuous for its secondary unicast
// addresses.
func TestNetdevRxMode(t *testing.T) {
	k := New(Config{CPUs: 1})
	r := newRxModeDev(t, k, "eth0", IFF_UNICAST_FLT)
	d := r.d
	if got := d.FlagsString(); got != "<BROADCAST,MULTICAST>" {
		t.Errorf("new device flags %s", got)
	}
	uc := [6]byte{0x02, 0, 0, 0, 0, 1}
	mc := [6]byte{0x01, 0, 0x5e, 0, 0, 1}
	d.DevUcAdd(uc) // down: the list changes, the driver is not called
	if len(r.rxModes) != 0 || d.UC.Len() != 1 {
		t.Fatalf("while down: %v, uc %d", r.rxModes, d.UC.Len())
	}
	runTask(t, k, func(tk *Task) { d.DevOpen(tk) })
	d.NetifCarrierOn()
	if got := d.FlagsString(); got != "<BROADCAST,MULTICAST,UP,LOWER_UP>" || len(r.rxModes) != 1 {
		t.Errorf("after open: flags %s, rx modes %v (dev_open calls ndo_set_rx_mode)", got, r.rxModes)
	}
	steps := []struct {
		name string
		do   func() error
		want string // the ndo_set_rx_mode call it causes, "" none
	}{
		{"uc add again", func() error { d.DevUcAdd(uc); return nil }, ""},
		{"uc del one user", func() error { return d.DevUcDel(uc) }, ""},
		{"uc del last user", func() error { return d.DevUcDel(uc) }, "<BROADCAST,MULTICAST,UP,LOWER_UP> uc0 mc0"},
		{"mc add", func() error { return d.DevMcAdd(mc) }, "<BROADCAST,MULTICAST,UP,LOWER_UP> uc0 mc1"},
		{"mc add again", func() error { return d.DevMcAdd(mc) }, ""},
		{"promisc on", func() error { return d.DevSetPromiscuity(1) }, "<BROADCAST,PROMISC,MULTICAST,UP,LOWER_UP> uc0 mc1"},
		{"promisc second user", func() error { return d.DevSetPromiscuity(1) }, ""},
		{"promisc one off", func() error { return d.DevSetPromiscuity(-1) }, ""},
		{"promisc off", func() error { return d.DevSetPromiscuity(-1) }, "<BROADCAST,MULTICAST,UP,LOWER_UP> uc0 mc1"},
		{"allmulti", func() error { return d.DevSetAllmulti(1) }, "<BROADCAST,ALLMULTI,MULTICAST,UP,LOWER_UP> uc0 mc1"},
	}
	for _, s := range steps {
		n := len(r.rxModes)
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		switch {
		case s.want == "" && len(r.rxModes) != n:
			t.Errorf("%s: ndo_set_rx_mode called (%s)", s.name, r.rxModes[n])
		case s.want != "" && (len(r.rxModes) != n+1 || r.rxModes[n] != s.want):
			t.Errorf("%s: rx modes %v, want one more: %s", s.name, r.rxModes[n:], s.want)
		}
	}
	for _, bad := range []func() error{
		func() error { return d.DevUcDel(uc) },
		func() error { return d.DevMcAdd(uc) },
		func() error { return d.DevSetPromiscuity(-1) },
	} {
		if bad() == nil {
			t.Error("a bad list or count change did not fail")
		}
	}
	if d.MC.Addrs()[0].Refcount != 2 {
		t.Errorf("mc refcount %d", d.MC.Addrs()[0].Refcount)
	}

	// Without IFF_UNICAST_FLT a secondary unicast address makes the
	// device promiscuous (__dev_set_rx_mode's uc_promisc).
	r2 := newRxModeDev(t, k, "eth1", 0)
	runTask(t, k, func(tk *Task) { r2.d.DevOpen(tk) })
	r2.d.DevUcAdd(uc)
	if r2.d.Flags&IFF_PROMISC == 0 || r2.d.Promiscuity() != 1 {
		t.Error("no uc_promisc without IFF_UNICAST_FLT")
	}
	r2.d.DevUcDel(uc)
	if r2.d.Flags&IFF_PROMISC != 0 {
		t.Error("still promiscuous with no secondary address")
	}
	runTask(t, k, func(tk *Task) { d.DevClose(tk) })
	if d.Flags&IFF_UP != 0 || strings.Contains(d.FlagsString(), "UP,") {
		t.Errorf("after close: %s", d.FlagsString())
	}
}

// dev_set_mtu checks the device's bounds, lets ndo_change_mtu apply it
// and sends NETDEV_CHANGEMTU; register and unregister send NETDEV_REGISTER
// and NETDEV_UNREGISTER (after NETDEV_DOWN for a running device), and
// unregister drops the handlers bound to the device.
func TestNetdevMTUAndRegister(t *testing.T) {
	k := New(Config{CPUs: 1})
	var events []string
	k.RegisterNetdevNotifier(func(ev int, d *NetDevice) { events = append(events, NetdevEventName(ev)+" "+d.Name) })
	r := newRxModeDev(t, k, "eth0", 0)
	d := r.d
	if d.MinMTU != 68 || d.MaxMTU != 1500 || d.TxQueueLen != 1000 {
		t.Errorf("ether_setup: min %d max %d txqueuelen %d", d.MinMTU, d.MaxMTU, d.TxQueueLen)
	}
	d.MaxMTU = 9000
	for _, tc := range []struct {
		mtu     int
		wantErr bool
		wantMTU int
	}{
		{67, true, 1500}, {9001, true, 1500}, {1500, false, 1500}, {9000, false, 9000}, {68, false, 68},
	} {
		var err error
		runTask(t, k, func(tk *Task) { err = d.DevSetMTU(tk, tc.mtu) })
		if (err != nil) != tc.wantErr || d.MTU != tc.wantMTU {
			t.Errorf("mtu %d: err %v, mtu %d", tc.mtu, err, d.MTU)
		}
	}
	if len(r.mtus) != 2 || r.mtus[0] != 9000 || r.mtus[1] != 68 {
		t.Errorf("ndo_change_mtu calls %v", r.mtus)
	}
	runTask(t, k, func(tk *Task) { d.DevOpen(tk) })
	k.DevAddPack(&PacketType{Type: 0x88b5, Dev: d, Func: func(s *SKB) { k.ConsumeSKB(s) }})
	idx := d.Ifindex
	var err error
	runTask(t, k, func(tk *Task) { err = k.UnregisterNetdev(tk, d) })
	if err != nil || k.DevGetByName("eth0") != nil || len(k.ptype) != 0 || d.Qdisc() != nil {
		t.Fatalf("unregister: %v, still found %v, %d handlers", err, k.DevGetByName("eth0") != nil, len(k.ptype))
	}
	r2 := newRxModeDev(t, k, "eth0", 0)
	if r2.d.Ifindex == idx {
		t.Error("ifindex reused at once")
	}
	want := []string{"NETDEV_REGISTER eth0", "NETDEV_CHANGEMTU eth0", "NETDEV_CHANGEMTU eth0", "NETDEV_UP eth0", "NETDEV_DOWN eth0", "NETDEV_UNREGISTER eth0", "NETDEV_REGISTER eth0"}
	if strings.Join(events, ", ") != strings.Join(want, ", ") {
		t.Errorf("notifier events\n%v\nwant\n%v", events, want)
	}
	if err := k.SKBAudit(); err != nil {
		t.Error(err)
	}
}
