package wire_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/internal/netns"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// The tests of the real Linux peers run as root (make test does): each
// makes its own network namespace and devices and removes them. They fail,
// never skip, when they cannot.

// newNetns makes the test's namespace (internal/netns).
func newNetns(t *testing.T) *netns.NS { return netns.New(t, "nbw") }

// Addresses of the tests' wire: Linux's side and the model's.
var (
	linuxIP  = [4]byte{10, 201, 0, 1}
	modelIP  = [4]byte{10, 201, 0, 2}
	modelMAC = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
)

const (
	linuxPort = 7000
	modelPort = 9
)

func macString(a [6]byte) string { return net.HardwareAddr(a[:]).String() }

// setupLinux gives the Linux side of the wire, dev in ns, its address and
// a static neighbour entry for the model, and brings it up.
func setupLinux(t *testing.T, ns *netns.NS, dev string) {
	t.Helper()
	ns.IP(t, "addr", "add", "10.201.0.1/24", "dev", dev)
	ns.IP(t, "link", "set", dev, "up")
	ns.IP(t, "neigh", "replace", "10.201.0.2", "lladdr", macString(modelMAC), "dev", dev, "nud", "permanent")
}

// linuxUDP opens a UDP socket on Linux's address in ns, and reads the
// interface's MAC address there.
func linuxUDP(t *testing.T, ns *netns.NS, dev string, noCheck bool) (*net.UDPConn, [6]byte) {
	t.Helper()
	var conn *net.UDPConn
	var mac [6]byte
	ns.Do(t, func() error {
		ifc, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		copy(mac[:], ifc.HardwareAddr)
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IP(linuxIP[:]), Port: linuxPort})
		if err != nil {
			return err
		}
		if noCheck {
			return netns.NoCheck(conn)
		}
		return nil
	})
	t.Cleanup(func() { conn.Close() })
	return conn, mac
}

// udpFrame builds an Ethernet/IPv4/UDP frame with valid checksums.
func udpFrame(dstMAC, srcMAC [6]byte, src, dst [4]byte, sport, dport uint16, payload []byte) []byte {
	f := make([]byte, 14+20+8+len(payload))
	copy(f[0:], dstMAC[:])
	copy(f[6:], srcMAC[:])
	binary.BigEndian.PutUint16(f[12:], header.EtherTypeIPv4)
	ip := header.IPv4(f[14:])
	ip.SetVersionIHL(20)
	ip.SetTotalLength(uint16(20 + 8 + len(payload)))
	ip.SetTTL(64)
	ip.SetProtocol(header.ProtocolUDP)
	ip.SetSource(src)
	ip.SetDestination(dst)
	ip.SetChecksum(ip.CalculateChecksum())
	u := header.UDP(f[34:])
	u.SetSourcePort(sport)
	u.SetDestinationPort(dport)
	u.SetLength(uint16(8 + len(payload)))
	copy(f[42:], payload)
	u.SetChecksum(^checksum.Checksum(u, ip.PseudoHeaderChecksum(uint16(len(u)))))
	return f
}

// payload is datagram i's payload: its number, then a pattern.
func payload(i, n int) []byte {
	p := make([]byte, n)
	binary.BigEndian.PutUint32(p, uint32(i))
	for j := 4; j < n; j++ {
		p[j] = byte(i*7 + j)
	}
	return p
}

// udpOf returns the UDP payload of a frame from src to dst:dport with
// valid IPv4 and UDP checksums (a zero UDP checksum counts as none), or an
// error saying why the frame is not one.
func udpOf(frame []byte, dstMAC [6]byte, src, dst [4]byte, dport uint16) ([]byte, error) {
	f, err := header.Parse(frame)
	if err != nil {
		return nil, err
	}
	if f.EtherType != header.EtherTypeIPv4 || f.Protocol != header.ProtocolUDP || f.L4 == 0 {
		return nil, fmt.Errorf("not IPv4/UDP: %v", f)
	}
	if !bytes.Equal(frame[:6], dstMAC[:]) {
		return nil, fmt.Errorf("to %x, not %x", frame[:6], dstMAC)
	}
	ip := header.IPv4(frame[f.L3:f.End])
	if !ip.ChecksumValid() || ip.Source() != src || ip.Destination() != dst {
		return nil, fmt.Errorf("IPv4 header %x", []byte(ip[:20]))
	}
	u := header.UDP(frame[f.L4:f.End])
	if u.DestinationPort() != dport || int(u.Length()) != len(u) {
		return nil, fmt.Errorf("UDP header %x", []byte(u[:8]))
	}
	if u.Checksum() != 0 && checksum.Checksum(u, ip.PseudoHeaderChecksum(uint16(len(u)))) != 0xFFFF {
		return nil, fmt.Errorf("bad UDP checksum %#04x", u.Checksum())
	}
	return u[8:], nil
}

// recorder is a minimal wire.Endpoint: it copies every frame onto a
// channel (test code: it may allocate).
type recorder struct {
	frames chan []byte
	n      int
	bytes  uint64
}

func (r *recorder) Receive(frame []byte) {
	r.n++
	r.bytes += uint64(len(frame))
	select {
	case r.frames <- bytes.Clone(frame):
	default:
	}
}

func (r *recorder) LinkChange(bool) {}

// loop is a real clock's loop on a goroutine of its own, with a source for
// the test's own calls.
type loop struct {
	clk  *kernelmodel.Clock
	src  *kernelmodel.Source
	ctx  context.Context
	done chan error
}

func startLoop(t *testing.T, clk *kernelmodel.Clock) *loop {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	l := &loop{clk: clk, src: clk.NewSource("test", 4), ctx: ctx, done: make(chan error, 1)}
	go func() { l.done <- clk.Run(ctx) }()
	t.Cleanup(func() { l.stop(t); cancel() })
	return l
}

// on runs f on the loop and waits for it.
func (l *loop) on(t *testing.T, f func()) {
	t.Helper()
	ran := make(chan struct{})
	if err := l.src.Post(l.ctx, func() { f(); close(ran) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
	case <-l.ctx.Done():
		t.Fatal(l.ctx.Err())
	}
}

func (l *loop) stop(t *testing.T) {
	if l.done == nil {
		return
	}
	l.clk.Stop()
	if err := <-l.done; err != nil {
		t.Errorf("Run: %v", err)
	}
	l.done = nil
}

func newOutbox(n, maxFrame int, send func([]byte)) wire.Outbox {
	return kernelmodel.NewOutbox(n, maxFrame, send)
}

// portConfig is a port's configuration on clk, with an inbox of its own.
func portConfig(clk *kernelmodel.Clock, name string, ep wire.Endpoint) wire.PortConfig {
	return wire.PortConfig{Clock: clk, Inbox: clk.NewSource(name, 64), NewOutbox: newOutbox, Endpoint: ep}
}

// waitGoroutines waits (a second at most) until no more goroutines run
// than before, and fails otherwise.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// exchangeCount is how many datagrams exchange sends each way.
const exchangeCount = 50

// exchange is the body of the Linux peer tests: count datagrams from a UDP
// socket in ns to the model's address arrive intact at the port's endpoint,
// count frames the loop transmits on the port arrive intact at the socket,
// and the port's counters match both, with rxErrors read errors (each
// ENETDOWN). It stops the loop and closes p.
func exchange(t *testing.T, ns *netns.NS, dev string, p *wire.Port, rec *recorder, l *loop, noCheck bool, rxErrors uint64) {
	const count, size = exchangeCount, 200
	conn, linuxMAC := linuxUDP(t, ns, dev, noCheck)
	ns.DumpOnFailure(t)
	// Linux to the model.
	to := &net.UDPAddr{IP: net.IP(modelIP[:]), Port: modelPort}
	seen := make([]bool, count)
	got := 0
	deadline := time.After(10 * time.Second)
	for i := 0; i < count; i++ {
		if _, err := conn.WriteToUDP(payload(i, size), to); err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
	}
	for got < count {
		select {
		case f := <-rec.frames:
			pl, err := udpOf(f, modelMAC, linuxIP, modelIP, modelPort)
			if err != nil {
				t.Logf("not a test datagram (%v): % x", err, f[:min(len(f), 42)])
				continue
			}
			i := int(binary.BigEndian.Uint32(pl))
			if i >= count || !bytes.Equal(pl, payload(i, size)) {
				t.Fatalf("datagram %d arrived damaged: % x", i, pl)
			}
			if seen[i] {
				t.Fatalf("datagram %d arrived twice", i)
			}
			seen[i] = true
			got++
		case <-deadline:
			t.Fatalf("%d of %d datagrams from Linux arrived; port %+v", got, count, p.Stats())
		}
	}
	// The model to Linux.
	var txBytes uint64
	l.on(t, func() {
		for i := range count {
			f := udpFrame(linuxMAC, modelMAC, modelIP, linuxIP, modelPort, linuxPort, payload(i, size))
			if _, ok := p.Transmit(f); !ok {
				t.Errorf("Transmit %d refused", i)
			}
			txBytes += uint64(len(f))
		}
	})
	readDatagrams(t, conn, count, size, p)
	// Counters: everything the endpoint got, everything the loop sent.
	// Stop the loop and close the port first: the outbox counts a frame
	// after its write returned, which may be after Linux has it.
	l.stop(t)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	recN, recBytes := rec.n, rec.bytes
	want := wire.PortStats{RxFrames: uint64(recN), RxBytes: recBytes, TxFrames: count, TxBytes: txBytes, RxErrors: rxErrors}
	if st != want {
		t.Errorf("port counters %+v, want %+v", st, want)
	}
	if err := p.Err(); (err != nil) != (rxErrors != 0) || err != nil && !errors.Is(err, unix.ENETDOWN) {
		t.Errorf("port error %v with %d read errors expected", err, rxErrors)
	}
	t.Logf("%s: %+v", p.Name(), st)
}

// TestTapLinux: a TAP in a fresh namespace, Linux's side with an address
// and a static neighbour entry for the model's MAC; UDP datagrams from a
// socket in the namespace arrive intact at the port's endpoint on the
// loop, frames the loop transmits arrive intact at the socket, the
// counters match, a pcap of the port has every frame, and Close leaves no
// goroutine behind. A TAP the port
// created goes with it; a persistent one (ip tuntap add) that it attached
// to stays.
func TestTapLinux(t *testing.T) {
	for _, c := range []struct {
		name             string
		vnet, persistent bool
	}{
		{"create", false, false},
		{"create-vnet_hdr", true, false},
		{"attach", false, true},
		{"attach-vnet_hdr", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			ns := newNetns(t)
			if c.persistent {
				args := []string{"tuntap", "add", "dev", "tap0", "mode", "tap"}
				if c.vnet {
					args = append(args, "vnet_hdr")
				}
				ns.IP(t, args...)
			}
			clk := kernelmodel.NewRealClock()
			rec := &recorder{frames: make(chan []byte, 1024)}
			var capture bytes.Buffer
			pw, err := wire.NewPcapWriter(&capture)
			if err != nil {
				t.Fatal(err)
			}
			cfg := portConfig(clk, "tap0", rec)
			cfg.Pcap = pw
			var p *wire.Port
			ns.Do(t, func() (err error) {
				p, err = wire.OpenTap(wire.TapConfig{Name: "tap0", VnetHdr: c.vnet, Port: cfg})
				return err
			})
			if p.Name() != "tap0" {
				t.Errorf("TAP named %q", p.Name())
			}
			setupLinux(t, ns, "tap0")
			l := startLoop(t, clk)
			exchange(t, ns, "tap0", p, rec, l, false, 0) // stops the loop, closes p
			// The capture holds every frame either way, the
			// datagrams intact.
			recs := readPcap(t, capture.Bytes())
			if st := p.Stats(); uint64(len(recs)) != st.RxFrames+st.TxFrames {
				t.Errorf("%d frames captured, %d received and %d sent", len(recs), st.RxFrames, st.TxFrames)
			}
			var fromLinux, fromModel int
			for _, r := range recs {
				if _, err := udpOf(r.data, modelMAC, linuxIP, modelIP, modelPort); err == nil {
					fromLinux++
				}
				if len(r.data) > 12 && bytes.Equal(r.data[6:12], modelMAC[:]) {
					fromModel++
				}
			}
			if fromLinux != exchangeCount || fromModel != exchangeCount {
				t.Errorf("captured %d datagrams from Linux and %d frames from the model, want %d each", fromLinux, fromModel, exchangeCount)
			}
			out, err := exec.Command("ip", "-n", ns.Name, "link", "show", "tap0").CombinedOutput()
			if there := err == nil; there != c.persistent {
				t.Errorf("tap0 there after Close: %v, want %v (%s)", there, c.persistent, out)
			}
			if _, ok := p.Transmit(make([]byte, 60)); ok || p.Stats().TxDroppedDown != 1 {
				t.Errorf("Transmit after Close: ok %v, %+v", ok, p.Stats())
			}
			// The namespace's cleanup and the UDP socket are the
			// test's; the port's goroutines must be gone now.
			t.Cleanup(func() { waitGoroutines(t, before) })
		})
	}
}

// TestOpenErrors: what cannot be opened is an error, and leaves nothing
// open: an interface that does not exist, a name too long for IFNAMSIZ, a
// TAP on a device that is a TUN or no tun device at all, a configuration
// without an inbox.
func TestOpenErrors(t *testing.T) {
	before := runtime.NumGoroutine()
	ns := newNetns(t)
	fds := openFds(t)
	ns.IP(t, "tuntap", "add", "dev", "tun0", "mode", "tun")
	clk := kernelmodel.NewRealClock()
	cfg := portConfig(clk, "x", &recorder{})
	for _, c := range []struct {
		name string
		open func() (*wire.Port, error)
	}{
		{"packet-missing", func() (*wire.Port, error) { return wire.OpenPacket("nonexistent0", cfg) }},
		{"packet-long-name", func() (*wire.Port, error) { return wire.OpenPacket("a-name-longer-than-ifnamsiz", cfg) }},
		{"tap-long-name", func() (*wire.Port, error) {
			return wire.OpenTap(wire.TapConfig{Name: "a-name-longer-than-ifnamsiz", Port: cfg})
		}},
		{"tap-on-tun", func() (*wire.Port, error) { return wire.OpenTap(wire.TapConfig{Name: "tun0", Port: cfg}) }},
		{"tap-on-lo", func() (*wire.Port, error) { return wire.OpenTap(wire.TapConfig{Name: "lo", Port: cfg}) }},
		{"tap-no-inbox", func() (*wire.Port, error) {
			return wire.OpenTap(wire.TapConfig{Name: "tapn", Port: wire.PortConfig{Clock: clk, NewOutbox: newOutbox}})
		}},
	} {
		var p *wire.Port
		var err error
		ns.Do(t, func() error { p, err = c.open(); return nil })
		if err == nil {
			p.Close()
			t.Errorf("%s: no error", c.name)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
	if out, err := exec.Command("ip", "-n", ns.Name, "link", "show", "tapn").CombinedOutput(); err == nil {
		t.Errorf("tapn left behind: %s", out)
	}
	if n := openFds(t); n != fds {
		t.Errorf("%d file descriptors open, %d before", n, fds)
	}
	waitGoroutines(t, before)
}

// openFds is the number of the process's open file descriptors.
func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestPacketLinux is TestTapLinux over AF_PACKET on one end of a veth pair:
// Linux's side is the other end. The datagrams from Linux carry no UDP
// checksum (SO_NO_CHECK): a veth leaves a partial one to a NIC that does
// not exist. Frames the port sends are not read back (no frame from the
// model's MAC reaches the endpoint). The interface going down and up
// before does not stop the port.
func TestPacketLinux(t *testing.T) {
	before := runtime.NumGoroutine()
	ns := newNetns(t)
	ns.IP(t, "link", "add", "vlinux", "type", "veth", "peer", "name", "vmodel")
	ns.IP(t, "link", "set", "vmodel", "up")
	clk := kernelmodel.NewRealClock()
	rec := &recorder{frames: make(chan []byte, 1024)}
	own := &ownCheck{recorder: rec}
	var p *wire.Port
	ns.Do(t, func() (err error) {
		p, err = wire.OpenPacket("vmodel", portConfig(clk, "vmodel", own))
		return err
	})
	setupLinux(t, ns, "vlinux")
	// The interface goes down and up once before the traffic: the
	// socket reports ENETDOWN once (one read error), and the port reads
	// on.
	ns.IP(t, "link", "set", "vmodel", "down")
	ns.IP(t, "link", "set", "vmodel", "up")
	ns.WaitReady(t, "vmodel", "vlinux")
	l := startLoop(t, clk)
	exchange(t, ns, "vlinux", p, rec, l, true, 1) // stops the loop, closes p
	if own.own != 0 {
		t.Errorf("the port read back %d frames it sent", own.own)
	}
	t.Cleanup(func() { waitGoroutines(t, before) })
}

// ownCheck counts frames from the model's own MAC address.
type ownCheck struct {
	*recorder
	own int
}

func (o *ownCheck) Receive(frame []byte) {
	if len(frame) >= 12 && bytes.Equal(frame[6:12], modelMAC[:]) {
		o.own++
	}
	o.recorder.Receive(frame)
}

// TestPortBackPressure: a port on a socket pair (no root needed) whose loop
// is not running: the reader keeps reading, frames beyond the inbox are
// dropped and counted, memory does not grow; once the loop runs, what was
// queued is delivered intact and the books balance; too-long frames are
// errors; Close ends the reader and the outbox.
func TestPortBackPressure(t *testing.T) {
	for _, r := range fdReaders {
		t.Run(r.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			fd, peer := socketPair(t)
			clk := kernelmodel.NewRealClock()
			rec := &recorder{frames: make(chan []byte, 1024)}
			const inbox, bufs = 8, 16
			p, err := r.open(fd, "pair", wire.PortConfig{
				Clock: clk, Inbox: clk.NewSource("pair", inbox), NewOutbox: newOutbox,
				Endpoint: rec, RxBuffers: bufs, TxBuffers: 4, MaxFrame: 1514,
			})
			if err != nil {
				t.Fatal(err)
			}
			const sent = 100
			for i := range sent {
				if _, err := unix.Write(peer, payload(i, 60+i)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := unix.Write(peer, make([]byte, 1515)); err != nil {
				t.Fatal(err)
			}
			// Wait until the reader has read everything (the socket is empty).
			deadline := time.Now().Add(5 * time.Second)
			for {
				st := p.Stats()
				if st.RxDroppedInbox+st.RxNoBuffer+st.RxErrors == sent+1-inbox {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("reader stuck: %+v", st)
				}
				time.Sleep(time.Millisecond)
			}
			l := startLoop(t, clk)
			var n int
			for n < inbox {
				select {
				case f := <-rec.frames:
					i := int(binary.BigEndian.Uint32(f))
					if !bytes.Equal(f, payload(i, 60+i)) {
						t.Fatalf("frame %d damaged", i)
					}
					n++
				case <-time.After(5 * time.Second):
					t.Fatalf("%d of %d queued frames delivered", n, inbox)
				}
			}
			// Transmit reaches the peer; a frame beyond MaxFrame is dropped.
			var ok1, ok2 bool
			l.on(t, func() {
				_, ok1 = p.Transmit(payload(7, 100))
				_, ok2 = p.Transmit(make([]byte, 1515))
			})
			buf := make([]byte, 2048)
			m, err := unix.Read(peer, buf)
			if err != nil || !ok1 || ok2 || !bytes.Equal(buf[:m], payload(7, 100)) {
				t.Fatalf("transmit: ok %v/%v, read %d bytes, %v", ok1, ok2, m, err)
			}
			l.stop(t)
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			st := p.Stats() // after Close: the outbox has counted its write
			if st.RxFrames != inbox || st.RxErrors != 1 || st.RxDroppedInbox+st.RxNoBuffer != sent-inbox ||
				st.TxFrames != 1 || st.TxBytes != 100 || st.TxDroppedOutbox != 1 {
				t.Errorf("counters %+v", st)
			}
			if err := p.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			waitGoroutines(t, before)
		})
	}
}

// fdReaders are a port's two readers: one frame per read(2) (a TAP's), and
// recvmmsg batches (an AF_PACKET socket's).
var fdReaders = []struct {
	name string
	open func(fd int, name string, cfg wire.PortConfig) (*wire.Port, error)
}{
	{"read", wire.NewFdPort},
	{"recvmmsg", wire.NewFdPortBatch},
}

// BenchmarkPortRX measures the receive path of a port: the reader's read,
// the inbox, the loop and the endpoint, with 64-byte frames written into
// the other end of a socket pair. It allocates nothing per frame.
func BenchmarkPortRX(b *testing.B) {
	for _, r := range fdReaders {
		b.Run(r.name, func(b *testing.B) {
			fd, peer := socketPair(b)
			clk := kernelmodel.NewRealClock()
			ep := &atomicCounter{}
			p, err := r.open(fd, "pair", wire.PortConfig{Clock: clk, Inbox: clk.NewSource("pair", 256), NewOutbox: newOutbox, Endpoint: ep})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); clk.Run(ctx) }()
			frame := make([]byte, 64)
			b.ReportAllocs()
			b.SetBytes(64)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// Keep at most 128 frames ahead of the loop: the path, not
				// the drops, is measured.
				for uint64(i)-ep.n.Load() > 128 {
					runtime.Gosched()
				}
				if _, err := unix.Write(peer, frame); err != nil {
					b.Fatal(err)
				}
			}
			for ep.n.Load()+dropped(p) < uint64(b.N) {
				runtime.Gosched()
			}
			b.StopTimer()
			clk.Stop()
			cancel()
			wg.Wait()
			p.Close()
			if d := dropped(p); d > uint64(b.N)/100 {
				b.Errorf("%d of %d frames dropped", d, b.N)
			}
		})
	}
}

func dropped(p *wire.Port) uint64 {
	st := p.Stats()
	return st.RxDroppedInbox + st.RxNoBuffer
}

// atomicCounter is an endpoint that counts frames, from any goroutine.
type atomicCounter struct{ n atomic.Uint64 }

func (c *atomicCounter) Receive([]byte)  { c.n.Add(1) }
func (c *atomicCounter) LinkChange(bool) {}

// socketPair makes a SOCK_SEQPACKET socket pair, which carries one frame
// per read and write as a TAP does: fd for a port, peer for the test (closed
// when it ends).
func socketPair(tb testing.TB) (fd, peer int) {
	tb.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// readDatagrams reads count datagrams from the model's address on conn
// (10 s at most) and checks that each of payload(0..count-1, size) arrived
// once, intact.
func readDatagrams(t *testing.T, conn *net.UDPConn, count, size int, p *wire.Port) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	seen := make([]bool, count)
	for i := range count {
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("%d of %d datagrams from the model arrived: %v; port %+v", i, count, err, p.Stats())
		}
		j := int(binary.BigEndian.Uint32(buf))
		if !from.IP.Equal(net.IP(modelIP[:])) || from.Port != modelPort || j >= count || seen[j] || !bytes.Equal(buf[:n], payload(j, size)) {
			t.Fatalf("datagram from %v damaged or twice: % x", from, buf[:n])
		}
		seen[j] = true
	}
}

// stampRecorder records when each frame reached the endpoint.
type stampRecorder struct {
	clk   *kernelmodel.Clock
	at    []time.Duration
	sizes []int
}

func (r *stampRecorder) Receive(frame []byte) {
	r.at = append(r.at, r.clk.Now())
	r.sizes = append(r.sizes, len(frame))
}
func (r *stampRecorder) LinkChange(bool) {}

// TestTapRxPacing: frames Linux writes to the TAP in a burst reach the
// endpoint at the line's rate (SpeedBPS 100 Mb/s: a 1042-byte frame
// takes 85.3 µs), all of them, waiting in the receive buffers meanwhile.
func TestTapRxPacing(t *testing.T) {
	const count, size, speed = 100, 1000, 100_000_000
	ns := newNetns(t)
	clk := kernelmodel.NewRealClock()
	rec := &stampRecorder{clk: clk}
	cfg := portConfig(clk, "tap0", rec)
	cfg.SpeedBPS = speed
	cfg.RxBuffers = 256
	cfg.Inbox = clk.NewSource("tap0 paced", 256)
	var p *wire.Port
	ns.Do(t, func() (err error) {
		p, err = wire.OpenTap(wire.TapConfig{Name: "tap0", Port: cfg})
		return err
	})
	setupLinux(t, ns, "tap0")
	l := startLoop(t, clk)
	conn, _ := linuxUDP(t, ns, "tap0", false)
	msg := make([]byte, size)
	to := &net.UDPAddr{IP: net.IPv4(10, 201, 0, 2), Port: 9}
	for i := 0; i < count; i++ {
		if _, err := conn.WriteToUDP(msg, to); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	var n int
	for time.Now().Before(deadline) {
		l.on(t, func() { n = len(rec.at) })
		if n >= count {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.stop(t)
	p.Close()
	// Linux's own frames (IPv6 router solicitations, ARP) may come too;
	// the UDP frames are the ones of 14+20+8+size bytes.
	var at []time.Duration
	for i, s := range rec.sizes {
		if s == 14+20+8+size {
			at = append(at, rec.at[i])
		}
	}
	if len(at) != count {
		t.Fatalf("%d of %d frames reached the endpoint (%+v)", len(at), count, p.Stats())
	}
	// A late timer delivers what is due at once (those frames were on the
	// line meanwhile), so single gaps may be shorter; the rate is not.
	wt := wire.WireTime(14+20+8+size, speed)
	if total := at[len(at)-1] - at[0]; total < time.Duration(count-1)*wt {
		t.Errorf("%d frames over %v, want at least %v", count, total, time.Duration(count-1)*wt)
	}
}
