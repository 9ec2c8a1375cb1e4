package tcp

import (
	"io"
	"net/netip"
	"syscall"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/internal/prandom"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/socket"
)

// fourTuple is the key of the established hash (inet_ehashfn's inputs):
// our address and port, the peer's.
type fourTuple struct {
	laddr, raddr [4]byte
	lport, rport uint16
}

// Table is TCP of one stack: tcp_hashinfo (the established hash, the bind
// hash of ports in use, the listening hash), tcp_prot and the net's Tcp
// and TcpExt MIBs and tcp_* sysctls. It implements socket.StreamProto.
type Table struct {
	K      *kernelmodel.Kernel
	IP     *ipv4.Stack
	Sysctl Sysctl
	MIB    TcpMIB
	Ext    TcpExtMIB
	// LocalPortRange is net.ipv4.ip_local_port_range (32768 60999).
	LocalPortRange [2]int

	secrets Secrets
	ehash   map[fourTuple]*Conn        // established, SYN_RECV and TIME_WAIT connections
	reqhash map[fourTuple]*requestSock // the ehash's request socks (TCP_NEW_SYN_RECV)
	bhash   map[uint16][]*Conn         // the sockets holding each local port (inet_bind_bucket)
	lhash   map[uint16][]*Conn         // listeners by port (listening_hash)
	rng     prandom.State
	chal    ChallengeACKs
}

// New is tcp_init + tcp_v4_init for ip's stack: tcp_v4_rcv registered for
// IPPROTO_TCP. seed seeds the ISN secrets and the ephemeral ports.
func New(ip *ipv4.Stack, seed uint64) *Table {
	t := &Table{
		K: ip.K, IP: ip, Sysctl: NewSysctl(), MIB: NewTcpMIB(),
		LocalPortRange: [2]int{32768, 60999},
		secrets:        NewSecrets(seed),
		ehash:          map[fourTuple]*Conn{},
		reqhash:        map[fourTuple]*requestSock{},
		bhash:          map[uint16][]*Conn{},
		lhash:          map[uint16][]*Conn{},
		rng:            prandom.New(seed * 0x9E3779B97F4A7C15),
	}
	ip.AddProtocol(ipv4.IPPROTO_TCP, t.v4Rcv)
	return t
}

func (t *Table) random() uint32 { return t.rng.U32() }

// DefaultTTL is ip_default_ttl (IP_TTL's getsockopt).
func (t *Table) DefaultTTL() int { return t.IP.Sysctl.IPDefaultTTL }

// Init is tcp_v4_init_sock → tcp_init_sock: the connection state, the
// buffers at tcp_rmem[1] and tcp_wmem[1].
func (t *Table) Init(sk *socket.Sock, protocol int) error {
	sk.Rcvbuf = t.Sysctl.Rmem[1]
	sk.Sndbuf = t.Sysctl.Wmem[1]
	newConn(t, sk)
	return nil
}

// conn is tcp_sk(): the connection of a socket.
func conn(sk *socket.Sock) *Conn { return sk.Priv.(*Conn) }

// Conns returns the connections in the established hash (ss's view,
// TIME_WAIT and SYN_RECV included, a request sock as the child it stands
// for) and the listeners.
func (t *Table) Conns() []*Conn {
	var cs []*Conn
	for _, l := range t.lhash {
		cs = append(cs, l...)
	}
	for _, c := range t.ehash {
		cs = append(cs, c)
	}
	for _, r := range t.reqhash {
		cs = append(cs, r.child())
	}
	return cs
}

// WriteSNMP prints the Tcp lines of /proc/net/snmp.
func (t *Table) WriteSNMP(w io.Writer) error {
	t.MIB.CurrEstab = 0
	for _, c := range t.ehash {
		if c.state == StateEstablished || c.state == StateCloseWait {
			t.MIB.CurrEstab++
		}
	}
	return t.MIB.WriteSNMP(w)
}

// WriteNetstat prints the TcpExt lines of /proc/net/netstat.
func (t *Table) WriteNetstat(w io.Writer) error { return t.Ext.WriteNetstat(w) }

// ehashInsert is inet_ehash_insert / __inet_hash_nolisten.
func (t *Table) ehashInsert(c *Conn) {
	sk := c.sk
	c.key = fourTuple{laddr: sk.RcvSaddr, raddr: sk.Daddr, lport: sk.Sport, rport: sk.Dport}
	t.ehash[c.key] = c
	c.hashed = true
}

// unhash is inet_unhash: out of the established or listening hash.
func (t *Table) unhash(c *Conn) {
	if c.hashed {
		if t.ehash[c.key] == c {
			delete(t.ehash, c.key)
		}
		c.hashed = false
	}
	if c.listening {
		t.lhash[c.sk.Num] = remove(t.lhash[c.sk.Num], c)
		if len(t.lhash[c.sk.Num]) == 0 {
			delete(t.lhash, c.sk.Num)
		}
		c.listening = false
	}
}

func remove(l []*Conn, c *Conn) []*Conn {
	for i, o := range l {
		if o == c {
			return append(l[:i], l[i+1:]...)
		}
	}
	return l
}

// bindConflict is inet_csk_bind_conflict: another socket on the port
// whose bound address overlaps sk's (equal, or either the wildcard),
// unless both set SO_REUSEADDR and the other is not listening.
func (t *Table) bindConflict(c *Conn, port uint16) bool {
	sk := c.sk
	for _, o := range t.bhash[port] {
		if o == c {
			continue
		}
		if sk.Reuse && o.sk.Reuse && o.state != StateListen {
			continue
		}
		if o.sk.RcvSaddr == ([4]byte{}) || sk.RcvSaddr == ([4]byte{}) || o.sk.RcvSaddr == sk.RcvSaddr {
			return true
		}
	}
	return false
}

// bindHash is inet_bind_hash: c holds port.
func (t *Table) bindHash(c *Conn, port uint16) {
	c.sk.Num, c.sk.Sport = port, port
	t.bhash[port] = append(t.bhash[port], c)
	c.bound = true
}

// putPort is inet_put_port: the port released.
func (t *Table) putPort(c *Conn) {
	if !c.bound {
		return
	}
	p := c.sk.Num
	t.bhash[p] = remove(t.bhash[p], c)
	if len(t.bhash[p]) == 0 {
		delete(t.bhash, p)
	}
	c.bound = false
	c.sk.Num, c.sk.Sport = 0, 0
}

// getPort is inet_csk_get_port: bind to snum, or with 0 to a free port of
// ip_local_port_range (inet_csk_find_open_port). false: in use or none.
func (t *Table) getPort(c *Conn, snum uint16) bool {
	if snum != 0 {
		if t.bindConflict(c, snum) {
			return false
		}
		t.bindHash(c, snum)
		return true
	}
	lo, hi := t.LocalPortRange[0], t.LocalPortRange[1]
	n := hi - lo + 1
	first := int(t.random() % uint32(n))
	for i := 0; i < n; i++ {
		p := uint16(lo + (first+i)%n)
		if len(t.bhash[p]) == 0 {
			t.bindHash(c, p)
			return true
		}
	}
	return false
}

// hashConnect is inet_hash_connect → __inet_hash_connect: an unbound
// socket gets an ephemeral port — ports of one parity from a random
// offset first, then the other (Linux's even-first search) — whose bind
// bucket was not made by bind() and whose 4-tuple to the peer is free
// (__inet_check_established); then the socket goes in the ehash.
func (t *Table) hashConnect(c *Conn) error {
	sk := c.sk
	if sk.Num != 0 {
		k := fourTuple{laddr: sk.RcvSaddr, raddr: sk.Daddr, lport: sk.Num, rport: sk.Dport}
		if o := t.ehash[k]; o != nil && o.state != StateTimeWait || t.reqhash[k] != nil {
			return syscall.EADDRNOTAVAIL
		} else if o != nil {
			o.done()
		}
		t.ehashInsert(c)
		return nil
	}
	lo, hi := t.LocalPortRange[0], t.LocalPortRange[1]
	n := hi - lo + 1
	offset := int(t.random()%uint32(n)) &^ 1
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < n; i += 2 {
			p := uint16(lo + (offset+i+pass)%n)
			if t.portTakenForConnect(p, sk) {
				continue
			}
			t.bindHash(c, p)
			t.ehashInsert(c)
			return nil
		}
	}
	return syscall.EADDRNOTAVAIL
}

func (t *Table) portTakenForConnect(p uint16, sk *socket.Sock) bool {
	for _, o := range t.bhash[p] {
		if o.sk.Userlocks&sockBindPortLock != 0 || o.state == StateListen {
			return true
		}
	}
	k := fourTuple{laddr: sk.RcvSaddr, raddr: sk.Daddr, lport: p, rport: sk.Dport}
	return t.ehash[k] != nil || t.reqhash[k] != nil
}

// sk_userlocks bits of an explicit bind (SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK).
const (
	sockBindAddrLock = 4
	sockBindPortLock = 8
)

// lookup is __inet_lookup: the established hash's exact 4-tuple, else
// the best listener on dport (bound to daddr over the wildcard).
func (t *Table) lookup(saddr [4]byte, sport uint16, daddr [4]byte, dport uint16) *Conn {
	if c := t.ehash[fourTuple{laddr: daddr, raddr: saddr, lport: dport, rport: sport}]; c != nil {
		return c
	}
	var best *Conn
	for _, l := range t.lhash[dport] {
		switch l.sk.RcvSaddr {
		case daddr:
			return l
		case [4]byte{}:
			best = l
		}
	}
	return best
}

// Lookup is inet_lookup for tests and tools: the connection a segment
// from src to dst would reach (for a request sock, the child it stands
// for, in SYN_RECV).
func (t *Table) Lookup(src, dst netip.AddrPort) *Conn {
	if r := t.reqLookup(src.Addr().As4(), src.Port(), dst.Addr().As4(), dst.Port()); r != nil {
		return r.child()
	}
	return t.lookup(src.Addr().As4(), src.Port(), dst.Addr().As4(), dst.Port())
}
