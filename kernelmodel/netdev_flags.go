package kernelmodel

import (
	"fmt"
	"strings"
)

// More interface flags (IFF_*, include/uapi/linux/if.h; the others are in
// netif_rx.go): NetDevice.Flags, what ip link shows between the angle
// brackets.
const (
	IFF_UP       = 1 << 0
	IFF_PROMISC  = 1 << 8
	IFF_ALLMULTI = 1 << 9
	IFF_LOWER_UP = 1 << 16
)

// More private flags (enum netdev_priv_flags).
const (
	IFF_UNICAST_FLT = 1 << 12 // the driver filters extra unicast addresses itself
)

// More feature bits (NETIF_F_*).
const (
	NETIF_F_HW_VLAN_CTAG_TX     = 1 << 4 // the NIC inserts the 802.1Q tag
	NETIF_F_HW_VLAN_CTAG_RX     = 1 << 8 // the NIC strips the tag into the descriptor
	NETIF_F_HW_VLAN_CTAG_FILTER = 1 << 9 // the NIC filters by VLAN id
	NETIF_F_TSO6                = 1 << 10
	NETIF_F_IPV6_CSUM           = 1 << 11
	NETIF_F_LLTX                = 1 << 12 // no TX lock (loopback)
	NETIF_F_LOOPBACK            = 1 << 13
)

// More netdev notifier events (enum netdev_cmd).
const (
	NETDEV_REGISTER   = 0x5
	NETDEV_UNREGISTER = 0x6
	NETDEV_CHANGEMTU  = 0x7
)

// Netdev notifier events beyond the ones above go to the same callbacks;
// NetdevEventName names them as Linux's netdev_cmd_to_name does.
func NetdevEventName(event int) string {
	switch event {
	case NETDEV_UP:
		return "NETDEV_UP"
	case NETDEV_DOWN:
		return "NETDEV_DOWN"
	case NETDEV_CHANGE:
		return "NETDEV_CHANGE"
	case NETDEV_REGISTER:
		return "NETDEV_REGISTER"
	case NETDEV_UNREGISTER:
		return "NETDEV_UNREGISTER"
	case NETDEV_CHANGEMTU:
		return "NETDEV_CHANGEMTU"
	}
	return "NETDEV_" + itoa(event)
}

// NetDeviceSetRxMode is ndo_set_rx_mode: a driver that programs its
// receive filter from the device's flags (IFF_PROMISC, IFF_ALLMULTI) and
// address lists (UC, MC) implements it; __dev_set_rx_mode calls it on every
// change while the device is up.
type NetDeviceSetRxMode interface {
	SetRxMode()
}

// NetDeviceChangeMTU is ndo_change_mtu: a driver that must reconfigure for
// a new MTU implements it (and sets NetDevice.MTU itself). It runs in a
// task.
type NetDeviceChangeMTU interface {
	ChangeMTU(t *Task, mtu int) error
}

// HWAddr is a struct netdev_hw_addr: an address with the number of users
// that added it.
type HWAddr struct {
	Addr     [6]byte
	Refcount int
}

// HWAddrList is a struct netdev_hw_addr_list (dev->uc, dev->mc), in the
// order the addresses were added.
type HWAddrList struct {
	list []HWAddr
}

// Len is netdev_hw_addr_list_count().
func (l *HWAddrList) Len() int { return len(l.list) }

// Addrs returns the entries (netdev_for_each_uc_addr / _mc_addr).
func (l *HWAddrList) Addrs() []HWAddr { return l.list }

// add is __hw_addr_add(): a new entry, or one more user of an existing
// one. It reports whether the list changed.
func (l *HWAddrList) add(a [6]byte) bool {
	for i := range l.list {
		if l.list[i].Addr == a {
			l.list[i].Refcount++
			return false
		}
	}
	l.list = append(l.list, HWAddr{a, 1})
	return true
}

// del is __hw_addr_del(): one user fewer; the last removes the entry. It
// reports whether the list changed, and -ENOENT for an address not there.
func (l *HWAddrList) del(a [6]byte) (bool, error) {
	for i := range l.list {
		if l.list[i].Addr == a {
			if l.list[i].Refcount--; l.list[i].Refcount > 0 {
				return false, nil
			}
			l.list = append(l.list[:i], l.list[i+1:]...)
			return true, nil
		}
	}
	return false, fmt.Errorf("%s not in the list (-ENOENT)", macString(a))
}

func macString(a [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5])
}

// DevUcAdd is dev_uc_add(): add a secondary unicast address (a macvlan's,
// a bridge port's); the receive filter is reprogrammed if the list changed.
func (d *NetDevice) DevUcAdd(a [6]byte) {
	if d.UC.add(a) {
		d.devSetRxMode()
	}
}

// DevUcDel is dev_uc_del().
func (d *NetDevice) DevUcDel(a [6]byte) error {
	changed, err := d.UC.del(a)
	if changed {
		d.devSetRxMode()
	}
	if err != nil {
		return fmt.Errorf("%s: dev_uc_del: %w", d.Name, err)
	}
	return nil
}

// DevMcAdd is dev_mc_add(): join a link-layer multicast group (IP
// multicast joins map to 01:00:5e:...); refcounted per address.
func (d *NetDevice) DevMcAdd(a [6]byte) error {
	if a[0]&1 == 0 {
		return fmt.Errorf("%s: dev_mc_add: %s is not a multicast address (-EINVAL)", d.Name, macString(a))
	}
	if d.MC.add(a) {
		d.devSetRxMode()
	}
	return nil
}

// DevMcDel is dev_mc_del().
func (d *NetDevice) DevMcDel(a [6]byte) error {
	changed, err := d.MC.del(a)
	if changed {
		d.devSetRxMode()
	}
	if err != nil {
		return fmt.Errorf("%s: dev_mc_del: %w", d.Name, err)
	}
	return nil
}

// DevSetPromiscuity is dev_set_promiscuity(): inc users more (or fewer)
// want promiscuous mode; IFF_PROMISC is on while any do. A change
// reprograms the receive filter.
func (d *NetDevice) DevSetPromiscuity(inc int) error {
	if d.promiscuity+inc < 0 {
		return fmt.Errorf("%s: promiscuity count would go negative (-EOVERFLOW)", d.Name)
	}
	if d.setCount(&d.promiscuity, inc, IFF_PROMISC) {
		d.k.tracePoint(d.k.cur, "dev_set_promiscuity", 0, int64(d.promiscuity))
		d.devSetRxMode()
	}
	return nil
}

// DevSetAllmulti is dev_set_allmulti(): as DevSetPromiscuity for
// IFF_ALLMULTI (every multicast frame).
func (d *NetDevice) DevSetAllmulti(inc int) error {
	if d.allmulti+inc < 0 {
		return fmt.Errorf("%s: allmulti count would go negative (-EOVERFLOW)", d.Name)
	}
	if d.setCount(&d.allmulti, inc, IFF_ALLMULTI) {
		d.devSetRxMode()
	}
	return nil
}

// setCount moves a flag's user count and sets or clears the flag with it;
// it reports whether the flag changed.
func (d *NetDevice) setCount(n *int, inc int, flag uint32) bool {
	old := d.Flags & flag
	*n += inc
	if *n > 0 {
		d.Flags |= flag
	} else {
		d.Flags &^= flag
	}
	return d.Flags&flag != old
}

// Promiscuity is dev->promiscuity: the users of promiscuous mode.
func (d *NetDevice) Promiscuity() int { return d.promiscuity }

// devSetRxMode is __dev_set_rx_mode(): on a running device, a driver
// without unicast filtering (no IFF_UNICAST_FLT) is made promiscuous while
// it has secondary unicast addresses (uc_promisc); then ndo_set_rx_mode.
func (d *NetDevice) devSetRxMode() {
	if !d.up {
		return
	}
	if d.PrivFlags&IFF_UNICAST_FLT == 0 {
		switch {
		case d.UC.Len() > 0 && !d.ucPromisc:
			d.ucPromisc = true
			d.setCount(&d.promiscuity, 1, IFF_PROMISC)
		case d.UC.Len() == 0 && d.ucPromisc:
			d.ucPromisc = false
			d.setCount(&d.promiscuity, -1, IFF_PROMISC)
		}
	}
	if m, ok := d.Ops.(NetDeviceSetRxMode); ok {
		m.SetRxMode()
	}
}

// DevSetMTU is dev_set_mtu() (ip link set mtu): the MTU must lie within
// MinMTU..MaxMTU (MaxMTU 0: no upper bound); the driver's ndo_change_mtu
// applies it, or the field is set; NETDEV_CHANGEMTU is sent after a
// change. It runs in a task.
func (d *NetDevice) DevSetMTU(t *Task, mtu int) error {
	if mtu == d.MTU {
		return nil
	}
	if mtu < d.MinMTU {
		return fmt.Errorf("%s: mtu %d less than device minimum %d (-EINVAL)", d.Name, mtu, d.MinMTU)
	}
	if d.MaxMTU > 0 && mtu > d.MaxMTU {
		return fmt.Errorf("%s: mtu %d greater than device maximum %d (-EINVAL)", d.Name, mtu, d.MaxMTU)
	}
	if c, ok := d.Ops.(NetDeviceChangeMTU); ok {
		if err := c.ChangeMTU(t, mtu); err != nil {
			return fmt.Errorf("%s: %w", d.Name, err)
		}
		d.MTU = mtu // drivers set it; make sure
	} else {
		d.MTU = mtu
	}
	d.k.callNetdevNotifiers(NETDEV_CHANGEMTU, d)
	return nil
}

// UnregisterNetdev is unregister_netdev(): close the device if it is up
// (dev_close: NETDEV_DOWN), send NETDEV_UNREGISTER, drop its qdiscs and the
// protocol handlers and taps bound to it, and take it off the device list.
// Its name and ifindex may be reused. It runs in a task.
func (k *Kernel) UnregisterNetdev(t *Task, d *NetDevice) error {
	i := -1
	for j, o := range k.devs {
		if o == d {
			i = j
		}
	}
	if i < 0 {
		return fmt.Errorf("unregister_netdev: %s is not registered", d.Name)
	}
	if err := d.DevClose(t); err != nil {
		return err
	}
	k.callNetdevNotifiers(NETDEV_UNREGISTER, d)
	for _, l := range []*[]*PacketType{&k.ptype, &k.ptypeAll} {
		kept := (*l)[:0]
		for _, pt := range *l {
			if pt.Dev != d {
				kept = append(kept, pt)
			}
		}
		*l = kept
	}
	// dev_shutdown: the qdiscs go (qdisc_put); dev_close reset them.
	for j := range d.tx {
		d.tx[j].qdisc, d.tx[j].qdiscSleeping = nil, nil
	}
	d.qdisc = nil
	k.devs = append(k.devs[:i], k.devs[i+1:]...)
	d.registered = false
	return nil
}

// FlagsString is the flags as ip link prints them: "<BROADCAST,MULTICAST,UP,LOWER_UP>".
func (d *NetDevice) FlagsString() string {
	var s []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{
		{IFF_LOOPBACK, "LOOPBACK"}, {IFF_BROADCAST, "BROADCAST"}, {IFF_POINTOPOINT, "POINTOPOINT"}, {IFF_NOARP, "NOARP"},
		{IFF_PROMISC, "PROMISC"}, {IFF_ALLMULTI, "ALLMULTI"}, {IFF_MULTICAST, "MULTICAST"},
		{IFF_UP, "UP"}, {IFF_LOWER_UP, "LOWER_UP"},
	} {
		if d.Flags&f.bit != 0 {
			s = append(s, f.name)
		}
	}
	return "<" + strings.Join(s, ",") + ">"
}
