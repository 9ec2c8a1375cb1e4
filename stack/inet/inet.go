// Package inet assembles one host's IPv4 stack (what inet_init and a
// struct net put together): the neighbour table and ipv4.Stack, the
// protocols registered in inetsw (UDP, raw sockets, later TCP), the
// net.core socket buffer tunables, and interfaces, routes and a default
// gateway configured as ip addr and ip route would. Socket is socket(2)
// for AF_INET (inet_create).
package inet

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/neigh"
	"github.com/nicbed/nicbed/stack/ping"
	"github.com/nicbed/nicbed/stack/raw"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/tcp"
	"github.com/nicbed/nicbed/stack/udp"
)

// Config describes a stack.
type Config struct {
	// Seed seeds the stack's pseudo-random choices (IP IDs, reachable
	// times, ephemeral ports), so runs replay.
	Seed uint64
}

// Protosw is a struct inet_protosw: the Proto behind socket(AF_INET, Type,
// Protocol). A Protocol of IPPROTO_IP is a wildcard (SOCK_RAW's entry).
type Protosw struct {
	Type     int
	Protocol int
	Proto    socket.Proto
}

// Initer is a Proto with a struct proto init (udp_init_sock,
// raw_sk_init), called on each new socket with the protocol asked for.
type Initer interface {
	Init(sk *socket.Sock, protocol int) error
}

// SNMPWriter is a protocol that prints its /proc/net/snmp lines (Udp).
type SNMPWriter interface {
	WriteSNMP(w io.Writer) error
}

// Stack is one host's IPv4 stack.
type Stack struct {
	K     *kernelmodel.Kernel
	IPv4  *ipv4.Stack
	Neigh *neigh.Table
	UDP   *udp.Table
	TCP   *tcp.Table
	Raw   *raw.Table
	Ping  *ping.Table
	Core  socket.CoreSysctl

	inetsw []Protosw
	snmp   []SNMPWriter

	srcOnce sync.Once
	src     *kernelmodel.Source // the Go adapters' inbox on a real clock's loop
}

// New assembles the stack of k: ARP, IPv4 with ICMP, and the socket
// protocols (UDP, raw) as they are registered by the packages that make
// them.
func New(k *kernelmodel.Kernel, cfg Config) *Stack {
	ip := ipv4.New(k, cfg.Seed)
	s := &Stack{K: k, IPv4: ip, Neigh: ip.Neigh, Core: socket.DefaultCoreSysctl()}
	s.TCP = tcp.New(ip, cfg.Seed+4)
	s.Add(Protosw{Type: socket.SOCK_STREAM, Protocol: socket.IPPROTO_TCP, Proto: s.TCP})
	s.UDP = udp.New(ip, cfg.Seed+1)
	s.Add(Protosw{Type: socket.SOCK_DGRAM, Protocol: socket.IPPROTO_UDP, Proto: s.UDP})
	s.Ping = ping.New(ip, cfg.Seed+3)
	s.Add(Protosw{Type: socket.SOCK_DGRAM, Protocol: socket.IPPROTO_ICMP, Proto: s.Ping})
	s.Raw = raw.New(ip, cfg.Seed+2)
	s.Add(Protosw{Type: socket.SOCK_RAW, Protocol: socket.IPPROTO_IP, Proto: s.Raw})
	return s
}

// Add is inet_register_protosw(): p serves socket(AF_INET, p.Type,
// p.Protocol).
func (s *Stack) Add(p Protosw) {
	s.inetsw = append(s.inetsw, p)
	if w, ok := p.Proto.(SNMPWriter); ok {
		for _, o := range s.snmp {
			if o == w {
				return
			}
		}
		s.snmp = append(s.snmp, w)
	}
}

// Socket is socket(2) (__sock_create → inet_create): family AF_INET
// only (EAFNOSUPPORT), a type below SOCK_MAX (EINVAL), then the inetsw
// entry of the type that matches protocol — IPPROTO_IP picks the type's
// default protocol, the raw wildcard takes any protocol but IPPROTO_IP;
// no entry for the type is ESOCKTNOSUPPORT, none for the protocol
// EPROTONOSUPPORT.
func (s *Stack) Socket(family, typ, protocol int) (*socket.Socket, error) {
	if family != socket.AF_INET {
		return nil, syscall.EAFNOSUPPORT
	}
	if typ < 0 || typ >= socket.SOCK_MAX {
		return nil, syscall.EINVAL
	}
	if protocol < 0 || protocol >= socket.IPPROTO_MAX {
		return nil, syscall.EINVAL
	}
	var err error = syscall.ESOCKTNOSUPPORT
	var answer *Protosw
	for i := range s.inetsw {
		p := &s.inetsw[i]
		if p.Type != typ {
			continue
		}
		err = nil
		if protocol == p.Protocol {
			if protocol != socket.IPPROTO_IP {
				answer = p
				break
			}
		} else {
			if protocol == socket.IPPROTO_IP {
				protocol = p.Protocol
				answer = p
				break
			}
			if p.Protocol == socket.IPPROTO_IP {
				answer = p
				break
			}
		}
		err = syscall.EPROTONOSUPPORT
	}
	if answer == nil {
		if err == nil {
			err = syscall.EPROTONOSUPPORT
		}
		return nil, err
	}
	so := socket.NewSock(s.K, &s.Core, family, typ, protocol, answer.Proto)
	if in, ok := answer.Proto.(Initer); ok {
		if err := in.Init(so.Sk, protocol); err != nil {
			return nil, err
		}
	}
	return so, nil
}

func addr4(a netip.Addr) ([4]byte, error) {
	if !a.Is4() {
		return [4]byte{}, fmt.Errorf("%v: not an IPv4 address", a)
	}
	return a.As4(), nil
}

// AddInterface is ip addr add prefix dev dev: the address, its local and
// broadcast routes and the connected prefix.
func (s *Stack) AddInterface(dev *kernelmodel.NetDevice, prefix netip.Prefix) error {
	a, err := addr4(prefix.Addr())
	if err != nil {
		return fmt.Errorf("ip addr: %w", err)
	}
	return s.IPv4.AddAddress(dev, a, prefix.Bits())
}

// AddRoute is ip route add dst [via gw] [dev dev]: without gw a connected
// route on dev; with gw and no dev, the device whose address prefix holds
// gw.
func (s *Stack) AddRoute(dst netip.Prefix, gw netip.Addr, dev *kernelmodel.NetDevice) error {
	d, err := addr4(dst.Addr())
	if err != nil {
		return fmt.Errorf("ip route: %w", err)
	}
	var g [4]byte
	if gw.IsValid() {
		if g, err = addr4(gw); err != nil {
			return fmt.Errorf("ip route: %w", err)
		}
		if dev == nil {
			dev = s.devFor(gw)
			if dev == nil {
				return fmt.Errorf("ip route: gateway %v: no interface on its network (Nexthop has invalid gateway)", gw)
			}
		}
	}
	if dev == nil {
		return fmt.Errorf("ip route: %v: no device", dst)
	}
	return s.IPv4.AddRoute(d, dst.Bits(), g, dev, 0)
}

// SetGateway is ip route add default via gw.
func (s *Stack) SetGateway(gw netip.Addr) error {
	return s.AddRoute(netip.PrefixFrom(netip.IPv4Unspecified(), 0), gw, nil)
}

// devFor is the device with an address on a's network.
func (s *Stack) devFor(a netip.Addr) *kernelmodel.NetDevice {
	for _, ifa := range s.IPv4.Addrs() {
		p := netip.PrefixFrom(netip.AddrFrom4(ifa.Local), ifa.PrefixLen).Masked()
		if p.Contains(a) {
			return ifa.Dev
		}
	}
	return nil
}

// WriteNetstat prints /proc/net/netstat's TcpExt lines.
func (s *Stack) WriteNetstat(w io.Writer) error { return s.TCP.WriteNetstat(w) }

// WriteSNMP prints /proc/net/snmp: Ip, Icmp, IcmpMsg, then the lines of
// the protocols (Tcp, Udp).
func (s *Stack) WriteSNMP(w io.Writer) error {
	if err := s.IPv4.WriteSNMP(w); err != nil {
		return err
	}
	for _, p := range s.snmp {
		if err := p.WriteSNMP(w); err != nil {
			return err
		}
	}
	return nil
}

// SetSysctl sets a tunable by its sysctl name: net.core.rmem_default,
// rmem_max, wmem_default, wmem_max here, the rest as ipv4.Stack's
// SetSysctl.
func (s *Stack) SetSysctl(name string, val int) error {
	if p := s.coreSysctl(name); p != nil {
		if val <= 0 {
			return fmt.Errorf("sysctl: %s: invalid value %d", name, val)
		}
		*p = val
		return nil
	}
	if strings.HasPrefix(name, "net.ipv4.tcp_") {
		return s.TCP.Sysctl.Set(name, strconv.Itoa(val))
	}
	return s.IPv4.SetSysctl(name, val)
}

// GetSysctl reads a tunable by its sysctl name.
func (s *Stack) GetSysctl(name string) (int, error) {
	if p := s.coreSysctl(name); p != nil {
		return *p, nil
	}
	return s.IPv4.GetSysctl(name)
}

func (s *Stack) coreSysctl(name string) *int {
	switch strings.TrimPrefix(name, "net.core.") {
	case "rmem_default":
		return &s.Core.RmemDefault
	case "rmem_max":
		return &s.Core.RmemMax
	case "wmem_default":
		return &s.Core.WmemDefault
	case "wmem_max":
		return &s.Core.WmemMax
	case "somaxconn":
		return &s.Core.Somaxconn
	}
	return nil
}
