package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	"github.com/nicbed/nicbed/internal/netns"
)

// The tests of nicbed host have Linux as the peer: each makes a network
// namespace, Linux's device in it (a TAP that nicbed creates, or a veth
// whose other end nicbed takes with AF_PACKET), starts nicbed host in it —
// this test binary re-executed as nicbed (runMainEnv), under
// ip netns exec — and talks to it with Linux's own tools and sockets.

// Addresses of the tests' wire.
const (
	linuxAddr = "10.77.0.1"
	hostAddr  = "10.77.0.2"
	hostMAC   = "52:54:00:ab:cd:02"
)

// hostWire is one kind of port nicbed host sits on, and how a test makes
// Linux's side of it.
type hostWire struct {
	name     string
	linuxDev string
	// noCheck: Linux's UDP datagrams go with no checksum (SO_NO_CHECK):
	// a veth leaves the checksum of what it carries to be completed
	// (CHECKSUM_PARTIAL), and AF_PACKET hands it on so.
	noCheck bool
	// before makes what must exist before nicbed starts; it returns
	// nicbed's port flags.
	before func(t testing.TB, ns *netns.NS) []string
	// after configures Linux's side once nicbed is up.
	after func(t testing.TB, ns *netns.NS)
}

var hostWires = []hostWire{
	{
		name: "tap", linuxDev: "nbtap0",
		before: func(testing.TB, *netns.NS) []string { return []string{"--tap", "nbtap0"} },
		after: func(t testing.TB, ns *netns.NS) {
			ns.IP(t, "addr", "add", linuxAddr+"/24", "dev", "nbtap0")
			ns.IP(t, "link", "set", "nbtap0", "up")
			ns.WaitReady(t, "nbtap0")
		},
	},
	{
		name: "afpacket", linuxDev: "vlinux", noCheck: true,
		before: func(t testing.TB, ns *netns.NS) []string {
			ns.IP(t, "link", "add", "vlinux", "type", "veth", "peer", "name", "vmodel")
			ns.IP(t, "link", "set", "vmodel", "up")
			ns.IP(t, "addr", "add", linuxAddr+"/24", "dev", "vlinux")
			ns.IP(t, "link", "set", "vlinux", "up")
			return []string{"--afpacket", "vmodel"}
		},
		after: func(t testing.TB, ns *netns.NS) { ns.WaitReady(t, "vlinux", "vmodel") },
	},
}

// hostProc is a nicbed host process a test started.
type hostProc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	stderr bytes.Buffer
	done   chan error
}

// startHost starts nicbed host with args in ns and waits (10 s at most)
// for its ready line. The process is killed when the test ends, if it
// still runs.
func startHost(t testing.TB, ns *netns.NS, args ...string) *hostProc {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &hostProc{done: make(chan error, 1)}
	p.cmd = ns.Command(self, append([]string{"host"}, args...)...)
	p.cmd.Env = append(os.Environ(), runMainEnv+"=1")
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if !seen && strings.HasPrefix(sc.Text(), "nicbed host: ready: ") {
				seen = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stdout)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case <-ready:
	case err := <-p.done:
		p.done <- err
		t.Fatalf("nicbed host exited before it was ready (%v): %s%s", err, p.output(), p.stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("nicbed host not ready after 10 s: %s%s", p.output(), p.stderr.String())
	}
	return p
}

func (p *hostProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// stop sends SIGINT (or sig) and waits (10 s at most) for nicbed to exit;
// it must exit 0 with nothing on stderr. It returns nicbed's stdout.
func (p *hostProc) stop(t testing.TB, sig os.Signal) string {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil || p.stderr.Len() != 0 {
			t.Fatalf("nicbed host: %v\nstdout:\n%s\nstderr:\n%s", err, p.output(), p.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("nicbed host still runs 10 s after %v:\n%s", sig, p.output())
	}
	return p.output()
}

// hostReport is nicbed host's exit report, parsed.
type hostReport struct {
	drops map[string]uint64
	snmp  map[string]map[string]uint64 // Ip, Icmp, IcmpMsg, Udp, Tcp, TcpExt: name → value
	neigh []string                     // ip neigh lines
	route []string                     // ip route lines
	ss    []string                     // ss -tani lines, the header first
	port  string                       // the port's line
	text  string
}

func parseHostReport(t testing.TB, out string) hostReport {
	t.Helper()
	_, rep, ok := strings.Cut(out, "nicbed host: stopped after ")
	if !ok {
		t.Fatalf("no report in:\n%s", out)
	}
	r := hostReport{drops: map[string]uint64{}, snmp: map[string]map[string]uint64{}, text: rep}
	reDrop := regexp.MustCompile(` ([A-Z_]+) (\d+)`)
	names := map[string][]string{}
	section := ""
	for _, l := range strings.Split(rep, "\n") {
		switch {
		case strings.HasPrefix(l, "drops:"):
			for _, m := range reDrop.FindAllStringSubmatch(l, -1) {
				r.drops[m[1]] = atoi(t, m[2])
			}
		case strings.HasSuffix(l, ":") && !strings.HasPrefix(l, " "):
			section = l
		case strings.HasPrefix(l, "port "):
			r.port = l
		case strings.HasPrefix(l, "serve "):
			section = ""
		case section == "ip neigh:" && l != "":
			r.neigh = append(r.neigh, l)
		case section == "ip route:" && l != "":
			r.route = append(r.route, l)
		case section == "ss -tani:" && l != "":
			r.ss = append(r.ss, l)
		case section == "/proc/net/snmp:" || section == "/proc/net/netstat:":
			prefix, rest, ok := strings.Cut(l, ": ")
			if !ok {
				continue
			}
			f := strings.Fields(rest)
			if names[prefix] == nil {
				names[prefix] = f
				continue
			}
			if len(f) != len(names[prefix]) {
				t.Fatalf("%s: %d names, %d values", prefix, len(names[prefix]), len(f))
			}
			r.snmp[prefix] = map[string]uint64{}
			for i, n := range names[prefix] {
				r.snmp[prefix][n] = atoi(t, f[i])
			}
		}
	}
	if r.snmp["Ip"] == nil || r.snmp["Icmp"] == nil || r.port == "" {
		t.Fatalf("report lacks Ip, Icmp or the port:\n%s", rep)
	}
	return r
}

func atoi(t testing.TB, s string) uint64 {
	t.Helper()
	if s == "-1" { // Tcp MaxConn, which Linux prints signed
		return ^uint64(0)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var rePingStats = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)
var rePingRTT = regexp.MustCompile(`rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms`)

// ping runs Linux's ping in ns: count echoes of size bytes, 2 ms apart
// (not flood mode: that sends one more when a reply is slow, the first
// one waiting for ARP, and stops at count replies without waiting for
// it), and fails the test unless every one was answered. It returns the average RTT.
// opts are more of ping's options.
func ping(t testing.TB, ns *netns.NS, dst string, size, count int, opts ...string) time.Duration {
	t.Helper()
	start := time.Now()
	args := append([]string{"-n", "-q", "-i", "0.002", "-c", strconv.Itoa(count), "-s", strconv.Itoa(size), "-w", "20"}, opts...)
	out, err := ns.Command("ping", append(args, dst)...).CombinedOutput()
	m := rePingStats.FindStringSubmatch(string(out))
	// With -w, ping sends again every -i until count replies came: on a
	// loaded machine a reply slower than 2 ms means more sent than
	// count, which is no loss; count replies are what must come.
	if err != nil || m == nil || m[2] != strconv.Itoa(count) {
		t.Fatalf("ping -s %d -c %d %s: %v\n%s", size, count, dst, err, out)
	}
	rtt := rePingRTT.FindStringSubmatch(string(out))
	if rtt == nil {
		t.Fatalf("no rtt in %s", out)
	}
	avg, _ := strconv.ParseFloat(rtt[2], 64)
	t.Logf("ping -s %d: %d/%d answered in %v, rtt avg %s ms", size, count, count, time.Since(start).Round(time.Millisecond), rtt[2])
	return time.Duration(avg * float64(time.Millisecond))
}

// linuxSNMP reads the namespace's /proc/net/snmp line pair prefix.
func linuxSNMP(t testing.TB, ns *netns.NS, prefix string) map[string]uint64 {
	t.Helper()
	var names []string
	out := map[string]uint64{}
	for _, l := range strings.Split(ns.Exec(t, "cat", "/proc/net/snmp"), "\n") {
		p, rest, ok := strings.Cut(l, ": ")
		if !ok || p != prefix {
			continue
		}
		if names == nil {
			names = strings.Fields(rest)
			continue
		}
		for i, v := range strings.Fields(rest) {
			out[names[i]] = atoi(t, v)
		}
	}
	return out
}

// TestHostLinux: nicbed host on a TAP and on AF_PACKET over a veth, with
// Linux in the namespace as its peer.
//   - ARP both ways: with a permanent entry for nicbed on Linux's side,
//     Linux's first echo request makes nicbed resolve Linux (nicbed's ARP
//     request, Linux's reply); with it deleted, Linux resolves nicbed.
//     The pcap nicbed writes holds both exchanges; Linux's neighbour table
//     ends with nicbed's MAC address and nicbed's with Linux's.
//   - ping: 100 echoes each of 56, 1472 and 4000 bytes, none lost; the
//     4000-byte ones are fragmented both ways (nicbed reassembles 100
//     datagrams of 3 fragments and fragments 100 replies into 3 each).
//   - Hostile frames from an AF_PACKET socket on Linux's side: each is
//     dropped by nicbed under its kfree_skb reason and SNMP counter, the
//     unknown protocol answered with a protocol unreachable that Linux
//     counts; nicbed still answers pings after.
//   - UDP echo (--serve echo=7): datagrams of 0 to 65507 bytes from a
//     socket in the namespace come back intact from port 7; nicbed's and
//     Linux's Udp counters agree.
//   - SIGINT ends nicbed with exit status 0 and its report.
//
// It runs for each NIC nicbed host offers (e1000, igb).
func TestHostLinux(t *testing.T) {
	for _, nic := range hostNICNames() {
		for _, w := range hostWires {
			t.Run(nic+"/"+w.name, func(t *testing.T) {
				start := time.Now()
				ns := netns.New(t, "nbh")
				ns.DumpOnFailure(t)
				pcapFile := filepath.Join(t.TempDir(), "host.pcap")
				args := append(w.before(t, ns), "--addr", hostAddr+"/24", "--mac", hostMAC, "--pcap", pcapFile, "--serve", "echo=7", "--nic", nic)
				p := startHost(t, ns, args...)
				w.after(t, ns)
				linuxMAC := strings.TrimSpace(ns.Exec(t, "cat", "/sys/class/net/"+w.linuxDev+"/address"))

				// nicbed resolves Linux: Linux knows nicbed already.
				ns.IP(t, "neigh", "replace", hostAddr, "lladdr", hostMAC, "dev", w.linuxDev, "nud", "permanent")
				ping(t, ns, hostAddr, 56, 1)
				// Linux resolves nicbed.
				ns.IP(t, "neigh", "del", hostAddr, "dev", w.linuxDev)
				ping(t, ns, hostAddr, 56, 1)

				pings := 2
				for _, size := range []int{56, 1472, 4000} {
					ping(t, ns, hostAddr, size, 100)
					pings += 100
				}
				neigh := ns.Exec(t, "ip", "neigh", "show", hostAddr, "dev", w.linuxDev)
				if !regexp.MustCompile(`lladdr ` + hostMAC + ` (REACHABLE|STALE|DELAY|PROBE)`).MatchString(neigh) {
					t.Errorf("Linux's neighbour entry for nicbed: %q", neigh)
				}

				echoed, frags := udpEcho(t, ns, w.noCheck)

				hostile := hostileFrames(t, linuxMAC)
				sendRaw(t, ns, w.linuxDev, hostile.frames)
				ping(t, ns, hostAddr, 56, 5)
				pings += 5

				out := p.stop(t, syscall.SIGINT)
				r := parseHostReport(t, out)
				if w.name == "tap" && strings.Contains(ns.Exec(t, "ip", "-o", "link", "show"), w.linuxDev) {
					t.Errorf("the TAP nicbed made is still there after it exited")
				}
				if t.Failed() {
					t.Logf("report:\n%s", r.text)
				}
				for reason, n := range hostile.drops {
					if r.drops[reason] != n {
						t.Errorf("drop reason %s: %d, want %d", reason, r.drops[reason], n)
					}
				}
				for reason, n := range r.drops {
					if _, ok := hostile.drops[reason]; !ok {
						t.Errorf("drop reason %s: %d, want none", reason, n)
					}
				}
				ip, icmp := r.snmp["Ip"], r.snmp["Icmp"]
				for name, want := range map[string]uint64{
					"InHdrErrors": hostile.inHdrErrors, "InUnknownProtos": 1, "ReasmFails": 2,
					"ReasmOKs": 100 + frags.datagrams, "ReasmReqds": 300 + frags.fragments + hostile.fragments,
					"FragOKs": 100 + frags.datagrams, "FragCreates": 300 + frags.fragments,
				} {
					if ip[name] != want {
						t.Errorf("nicbed's Ip %s = %d, want %d", name, ip[name], want)
					}
				}
				for name, want := range map[string]uint64{
					"InEchos": uint64(pings), "OutEchoReps": uint64(pings), "InCsumErrors": 1, "OutDestUnreachs": 2,
				} {
					if icmp[name] != want {
						t.Errorf("nicbed's Icmp %s = %d, want %d", name, icmp[name], want)
					}
				}
				if u := r.snmp["Udp"]; u["InDatagrams"] != echoed || u["OutDatagrams"] != echoed || u["NoPorts"] != 1 || u["InErrors"] != 2 || u["InCsumErrors"] != 1 {
					t.Errorf("nicbed's Udp %v, want %d datagrams in and out, and of the hostile ones 1 NoPorts, 2 InErrors, 1 InCsumErrors", u, echoed)
				}
				if want := fmt.Sprintf("serve echo=7: %d datagrams", echoed); !strings.Contains(r.text, want) {
					t.Errorf("report lacks %q", want)
				}
				if lu := linuxSNMP(t, ns, "Udp"); lu["InDatagrams"] != echoed || lu["InErrors"] != 0 {
					t.Errorf("Linux's Udp: %v, want %d datagrams in", lu, echoed)
				}
				if li := linuxSNMP(t, ns, "Icmp"); li["InDestUnreachs"] != 2 || li["InEchoReps"] != uint64(pings) {
					t.Errorf("Linux's Icmp: InDestUnreachs %d (want 2: protocol and port), InEchoReps %d (want %d)", li["InDestUnreachs"], li["InEchoReps"], pings)
				}
				if len(r.neigh) != 1 || !regexp.MustCompile(`^`+linuxAddr+` dev eth0 lladdr `+linuxMAC+` (REACHABLE|STALE|DELAY|PROBE)$`).MatchString(r.neigh[0]) {
					t.Errorf("nicbed's neighbour table: %q, want Linux at %s", r.neigh, linuxMAC)
				}
				checkARP(t, pcapFile, hostMAC, linuxMAC)
				t.Logf("%s/%s: %v in all", nic, w.name, time.Since(start).Round(time.Millisecond))
			})
		}
	}
}

// udpEchoSizes are the payloads udpEcho sends: empty, small, the largest
// in one 1500-byte frame and one byte more, fragmented, and the largest.
var udpEchoSizes = []int{0, 1, 100, 1472, 1473, 4000, 65507}

// udpEcho sends a datagram of each of udpEchoSizes from a UDP socket in ns
// to nicbed's echo service (port 7) and reads each back: it must come from
// nicbed's port 7, intact. It returns the datagrams echoed, and how many
// of them went in fragments at an MTU of 1500 and in how many fragments:
// what nicbed reassembled, and fragmented again for the echo.
func udpEcho(t testing.TB, ns *netns.NS, noCheck bool) (uint64, fragCount) {
	t.Helper()
	start := time.Now()
	ns.Do(t, func() error {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(linuxAddr)})
		if err != nil {
			return err
		}
		defer conn.Close()
		if noCheck {
			if err := netns.NoCheck(conn); err != nil {
				return err
			}
		}
		to := &net.UDPAddr{IP: net.ParseIP(hostAddr), Port: 7}
		buf := make([]byte, 65536)
		for _, n := range udpEchoSizes {
			msg := make([]byte, n)
			for i := range msg {
				msg[i] = byte(i*31 + n)
			}
			if _, err := conn.WriteToUDP(msg, to); err != nil {
				return fmt.Errorf("send %d bytes: %w", n, err)
			}
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			got, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return fmt.Errorf("echo of %d bytes: %w", n, err)
			}
			if from.String() != to.String() || !bytes.Equal(buf[:got], msg) {
				return fmt.Errorf("echo of %d bytes: %d bytes from %v, intact %v", n, got, from, bytes.Equal(buf[:got], msg))
			}
		}
		return nil
	})
	t.Logf("UDP echo of %v bytes: intact, in %v", udpEchoSizes, time.Since(start).Round(time.Millisecond))
	var fc fragCount
	for _, n := range udpEchoSizes {
		if 20+8+n > 1500 {
			fc.datagrams++
			fc.fragments += uint64(8+n+1479) / 1480
		}
	}
	return uint64(len(udpEchoSizes)), fc
}

// fragCount counts datagrams sent in fragments and their fragments.
type fragCount struct{ datagrams, fragments uint64 }

// checkARP reads nicbed's pcap and checks both resolutions: nicbed asked
// for Linux's address and Linux answered; Linux asked for nicbed's and
// nicbed answered.
func checkARP(t testing.TB, file, hostMAC, linuxMAC string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for {
		data, _, err := rd.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		a, _ := pk.Layer(layers.LayerTypeARP).(*layers.ARP)
		if a == nil {
			continue
		}
		op := map[uint16]string{layers.ARPRequest: "request", layers.ARPReply: "reply"}[a.Operation]
		seen[fmt.Sprintf("%s %s %v for %v", op, net.HardwareAddr(a.SourceHwAddress), net.IP(a.SourceProtAddress), net.IP(a.DstProtAddress))] = true
	}
	for _, want := range []string{
		fmt.Sprintf("request %s %s for %s", hostMAC, hostAddr, linuxAddr),
		fmt.Sprintf("reply %s %s for %s", linuxMAC, linuxAddr, hostAddr),
		fmt.Sprintf("request %s %s for %s", linuxMAC, linuxAddr, hostAddr),
		fmt.Sprintf("reply %s %s for %s", hostMAC, hostAddr, linuxAddr),
	} {
		if !seen[want] {
			t.Errorf("pcap: no ARP %s; saw %v", want, seen)
		}
	}
}

// hostile is a set of hostile frames and what nicbed must count for them.
type hostile struct {
	frames      [][]byte
	drops       map[string]uint64 // kfree_skb reasons
	inHdrErrors uint64            // Ip InHdrErrors
	fragments   uint64            // fragments among the frames (ReasmReqds)
}

// hostileFrames builds frames from Linux's address to nicbed's that nicbed
// must drop, each with the reason it must drop it for.
func hostileFrames(t testing.TB, linuxMAC string) hostile {
	t.Helper()
	src, _ := net.ParseMAC(linuxMAC)
	dst, _ := net.ParseMAC(hostMAC)
	data := []byte("nicbed hostile frame, padding to a few dozen bytes")
	build := func(ip *layers.IPv4, l ...gopacket.SerializableLayer) []byte {
		b := gopacket.NewSerializeBuffer()
		ip.Version, ip.TTL, ip.SrcIP, ip.DstIP = 4, 64, net.ParseIP(linuxAddr).To4(), net.ParseIP(hostAddr).To4()
		if ip.Protocol == 0 {
			ip.Protocol = layers.IPProtocolICMPv4
		}
		ls := append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeIPv4}, ip}, l...)
		if err := gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	echoOf := func(data []byte) []byte {
		return build(&layers.IPv4{}, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 7, Seq: 1}, gopacket.Payload(data))
	}
	echo := func() []byte { return echoOf(data) }
	// fix recomputes the IPv4 header checksum over the IHL's length.
	fix := func(f []byte) []byte {
		hl := int(f[14]&0xf) * 4
		f[24], f[25] = 0, 0
		var sum uint32
		for i := 14; i < 14+hl && i+1 < len(f); i += 2 {
			sum += uint32(f[i])<<8 | uint32(f[i+1])
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		f[24], f[25] = byte(^sum>>8), byte(^sum)
		return f
	}
	setLen := func(f []byte, n int) []byte { f[16], f[17] = byte(n>>8), byte(n); return f }
	frag := func(id uint16, off int, mf bool, n int) []byte {
		flags := layers.IPv4Flag(0)
		if mf {
			flags = layers.IPv4MoreFragments
		}
		return build(&layers.IPv4{Id: id, Flags: flags, FragOffset: uint16(off / 8)}, gopacket.Payload(bytes.Repeat([]byte{0xa5}, n)))
	}
	udp := func(dport uint16, mangle func(f []byte)) []byte {
		u := &layers.UDP{SrcPort: 4242, DstPort: layers.UDPPort(dport)}
		ip := &layers.IPv4{Protocol: layers.IPProtocolUDP}
		ip.Version, ip.TTL, ip.SrcIP, ip.DstIP = 4, 64, net.ParseIP(linuxAddr).To4(), net.ParseIP(hostAddr).To4()
		u.SetNetworkLayerForChecksum(ip)
		f := build(ip, u, gopacket.Payload(data))
		mangle(f)
		return f
	}
	h := hostile{drops: map[string]uint64{}}
	for _, c := range []struct {
		frame  []byte
		reason string
		hdrErr bool
		frags  int
	}{
		{echo()[:14], "IP_INHDR", true, 0},                                                       // the Ethernet header alone: nothing of IPv4 but the padding
		{fix(setLen(echo(), 200))[:14+40], "PKT_TOO_SMALL", false, 0},                            // IP header truncated: total length beyond the frame
		{func() []byte { f := echo(); f[24] ^= 0xff; return f }(), "IP_CSUM", true, 0},           // bad header checksum
		{func() []byte { f := echo(); f[14] = 0x43; return fix(f) }(), "IP_INHDR", true, 0},      // IHL 3
		{func() []byte { f := echoOf(nil); f[14] = 0x4f; return fix(f) }(), "IP_INHDR", true, 0}, // IHL 15: beyond the packet (28 bytes, 46 with the padding)
		{func() []byte { f := echo(); f[14] = 0x65; return fix(f) }(), "IP_INHDR", true, 0},      // version 6
		{fix(setLen(echo(), 1400)), "PKT_TOO_SMALL", false, 0},                                   // total length beyond the frame
		{fix(setLen(echo(), 12)), "IP_INHDR", true, 0},                                           // total length below the header
		{func() []byte { f := echo(); f[14+9] = 200; return fix(f) }(), "IP_NOPROTO", false, 0},
		{func() []byte { f := echo(); f[14+20+8] ^= 0xff; return f }(), "ICMP_CSUM", false, 0}, // bad ICMP checksum
		// UDP: a bad checksum to the echo port (dropped when the server's
		// recvmsg verifies it), a datagram to a port nobody serves (port
		// unreachable), a UDP length beyond the IP payload.
		{udp(7, func(f []byte) { f[14+20+6] ^= 0xff }), "UDP_CSUM", false, 0},
		{udp(9999, func([]byte) {}), "NO_SOCKET", false, 0},
		{udp(7, func(f []byte) { f[14+20+4], f[14+20+5] = 0x10, 0 }), "PKT_TOO_SMALL", false, 0},
		// Overlapping fragments: the second overlaps the first; both go.
		{frag(0x5151, 0, true, 24), "NOT_SPECIFIED", false, 1},
		{frag(0x5151, 16, true, 24), "NOT_SPECIFIED", false, 1},
		// An oversized train: its last fragment ends beyond 65535 bytes.
		{frag(0x5252, 0, true, 1480), "NOT_SPECIFIED", false, 1},
		{frag(0x5252, 1480, true, 1480), "NOT_SPECIFIED", false, 1},
		{frag(0x5252, 65528, false, 16), "NOT_SPECIFIED", false, 1},
	} {
		h.frames = append(h.frames, c.frame)
		h.drops[c.reason]++
		if c.hdrErr {
			h.inHdrErrors++
		}
		h.fragments += uint64(c.frags)
	}
	return h
}

// sendRaw sends frames as they are from an AF_PACKET socket on dev in ns
// (Linux's side of the wire).
func sendRaw(t testing.TB, ns *netns.NS, dev string, frames [][]byte) {
	t.Helper()
	ns.Do(t, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		sa := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: 0x0008} // ETH_P_IP, network order
		for i, f := range frames {
			if err := unix.Sendto(fd, f, 0, sa); err != nil {
				return fmt.Errorf("frame %d (%d bytes): %w", i, len(f), err)
			}
		}
		return nil
	})
}

// runHostIn runs nicbed host with args in ns to its end (10 s at most),
// through wrap (a command that runs the rest, setpriv say) if given, and
// returns its exit status, stdout and stderr.
func runHostIn(t testing.TB, ns *netns.NS, wrap []string, args ...string) (int, string, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv := append(append(append([]string(nil), wrap...), self, "host"), args...)
	cmd := ns.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err = cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// TestHostOpenErrors: what nicbed host cannot open is one line on stderr
// and exit status 2 — missing privileges (all capabilities dropped with
// setpriv: no CAP_NET_ADMIN for the TAP, no CAP_NET_RAW for AF_PACKET), a
// --tap name that is another kind of device — and leaves nothing behind.
func TestHostOpenErrors(t *testing.T) {
	ns := netns.New(t, "nbe")
	ns.IP(t, "link", "add", "nbveth0", "type", "veth", "peer", "name", "nbveth1")
	noCaps := []string{"setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"}
	for _, tc := range []struct {
		name    string
		wrap    []string
		args    []string
		wantErr string
	}{
		{"tap without CAP_NET_ADMIN", noCaps, []string{"--tap", "nbtap0"}, "--tap nbtap0: permission denied: run as root (or with CAP_NET_ADMIN)"},
		{"afpacket without CAP_NET_RAW", noCaps, []string{"--afpacket", "lo"}, "--afpacket lo: permission denied: run as root (or with CAP_NET_RAW)"},
		{"tap on a device that is no TAP", nil, []string{"--tap", "nbveth0"}, "--tap nbveth0: nbveth0 exists and is not a TAP device"},
		{"afpacket on no device", nil, []string{"--afpacket", "nbnone0"}, "--afpacket nbnone0: no such interface"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runHostIn(t, ns, tc.wrap, append(tc.args, "--addr", hostAddr+"/24")...)
			if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.wantErr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line with %q", code, out, errs, tc.wantErr)
			}
		})
	}
	if links := ns.Exec(t, "ip", "-o", "link", "show"); strings.Contains(links, "nbtap0") {
		t.Errorf("a TAP was left behind:\n%s", links)
	}
}

// TestHostPersistentTap: nicbed host attaches to a TAP that exists
// (ip tuntap add), answers pings on it, ends on SIGTERM with exit status 0,
// and the TAP stays (it is Linux's, not nicbed's). Options on the way: an
// MTU of 9000 on both sides (a 8000-byte ping goes whole, no fragments),
// a default gateway (the replies to an address off nicbed's network go
// through it), and a text trace that follows the echoes through
// the driver and the stack.
func TestHostPersistentTap(t *testing.T) {
	ns := netns.New(t, "nbp")
	ns.DumpOnFailure(t)
	ns.IP(t, "tuntap", "add", "dev", "nbptap0", "mode", "tap")
	ns.IP(t, "link", "set", "nbptap0", "mtu", "9000")
	trace := filepath.Join(t.TempDir(), "trace.txt")
	p := startHost(t, ns, "--tap", "nbptap0", "--addr", hostAddr+"/24", "--gw", linuxAddr, "--mtu", "9000", "--mac", hostMAC, "--trace", trace)
	ns.IP(t, "addr", "add", linuxAddr+"/24", "dev", "nbptap0")
	ns.IP(t, "link", "set", "nbptap0", "up")
	ns.WaitReady(t, "nbptap0")
	ping(t, ns, hostAddr, 8000, 20)
	// From an address of Linux's off nicbed's network: the replies go by
	// the default route, through the gateway.
	ns.IP(t, "addr", "add", "10.88.0.1/32", "dev", "lo")
	ping(t, ns, hostAddr, 56, 5, "-I", "10.88.0.1")
	r := parseHostReport(t, p.stop(t, syscall.SIGTERM))
	wantRoutes := []string{"default via " + linuxAddr + " dev eth0", "10.77.0.0/24 dev eth0 proto kernel scope link src " + hostAddr}
	if strings.Join(r.route, "\n") != strings.Join(wantRoutes, "\n") {
		t.Errorf("ip route: %q, want %q", r.route, wantRoutes)
	}
	if ip := r.snmp["Ip"]; ip["ReasmReqds"] != 0 || ip["FragCreates"] != 0 || ip["OutNoRoutes"] != 0 || r.snmp["Icmp"]["OutEchoReps"] != 25 {
		t.Errorf("at MTU 9000: Ip %v, Icmp OutEchoReps %d; want 25 replies, no fragments", ip, r.snmp["Icmp"]["OutEchoReps"])
	}
	if !strings.Contains(ns.Exec(t, "ip", "-o", "link", "show"), "nbptap0") {
		t.Error("the persistent TAP is gone after nicbed exited")
	}
	tr, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	// The reply leaves through the neighbour's output: neigh_hh_output
	// once the entry is connected (REACHABLE), neigh_resolve_output while
	// it is STALE or DELAY (Linux's entry learnt from its ARP request).
	for _, steps := range [][]string{{"irq_handler_entry"}, {"napi_poll"}, {"ip_list_rcv"}, {"icmp_rcv"}, {"ip_output"},
		{"neigh_hh_output", "neigh_resolve_output"}, {"net_dev_start_xmit"}} {
		n := 0
		for _, s := range steps {
			n += bytes.Count(tr, []byte(" "+s+" "))
		}
		if n < 20 {
			t.Errorf("trace: %d %v, want one per echo at least (20)", n, steps)
		}
	}
}

// waitOutput waits (10 s at most) until nicbed's stdout has a line that
// starts with prefix, and returns it.
func (p *hostProc) waitOutput(t testing.TB, prefix string) string {
	t.Helper()
	// 30 s: TestHostNetem's 200 pings with 20% of the replies lost wait
	// out about 40 timeouts of 200 ms, which a loaded machine stretches.
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, l := range strings.Split(p.output(), "\n") {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q after 30 s:\n%s", prefix, p.output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHostPing: nicbed host pings Linux (--ping) from a raw ICMP socket
// of its stack, over a TAP (a persistent one, configured before nicbed
// attaches, so that Linux answers from the first echo) and over AF_PACKET
// on a veth: 20 echoes of 56 bytes and of 4000 (fragmented both ways),
// all answered intact; nicbed resolved Linux first (Linux has no entry
// for it), and Linux counts the echoes it answered.
func TestHostPing(t *testing.T) {
	wires := []struct {
		name, dev string
		setup     func(t testing.TB, ns *netns.NS) []string
	}{
		{"tap", "nbptap0", func(t testing.TB, ns *netns.NS) []string {
			ns.IP(t, "tuntap", "add", "dev", "nbptap0", "mode", "tap")
			ns.IP(t, "addr", "add", linuxAddr+"/24", "dev", "nbptap0")
			ns.IP(t, "link", "set", "nbptap0", "up")
			return []string{"--tap", "nbptap0"}
		}},
		{"afpacket", "vlinux", func(t testing.TB, ns *netns.NS) []string {
			return hostWires[1].before(t, ns)
		}},
	}
	for _, nic := range hostNICNames() {
		for _, w := range wires {
			size := map[string]int{"tap": 56, "afpacket": 4000}[w.name]
			t.Run(fmt.Sprintf("%s/%s/%d", nic, w.name, size), func(t *testing.T) {
				ns := netns.New(t, "nbq")
				ns.DumpOnFailure(t)
				args := append(w.setup(t, ns), "--addr", hostAddr+"/24", "--mac", hostMAC,
					"--ping", linuxAddr, "--ping-count", "20", "--ping-interval", "5ms", "--ping-size", strconv.Itoa(size), "--nic", nic)
				p := startHost(t, ns, args...)
				sum := p.waitOutput(t, "nicbed ping "+linuxAddr+": ")
				want := "nicbed ping " + linuxAddr + ": 20 packets transmitted, 20 received, 0 damaged, 0% packet loss"
				if sum != want {
					t.Errorf("%q, want %q", sum, want)
				}
				rtt := p.waitOutput(t, "nicbed ping "+linuxAddr+": rtt ")
				// Before nicbed exits: a TAP loses its carrier then, and
				// Linux its neighbours on it.
				neigh := ns.Exec(t, "ip", "neigh", "show", hostAddr, "dev", w.dev)
				if !strings.Contains(neigh, "lladdr "+hostMAC) {
					t.Errorf("Linux's entry for nicbed: %q", neigh)
				}
				r := parseHostReport(t, p.stop(t, syscall.SIGINT))
				if li := linuxSNMP(t, ns, "Icmp"); li["InEchos"] != 20 || li["OutEchoReps"] != 20 {
					t.Errorf("Linux's Icmp: InEchos %d, OutEchoReps %d; want 20", li["InEchos"], li["OutEchoReps"])
				}
				if ic := r.snmp["Icmp"]; ic["OutEchos"] != 20 || ic["InEchoReps"] != 20 {
					t.Errorf("nicbed's Icmp: OutEchos %d, InEchoReps %d; want 20", ic["OutEchos"], ic["InEchoReps"])
				}
				if frags := r.snmp["Ip"]["FragOKs"]; size > 1472 && frags != 20 || size <= 1472 && frags != 0 {
					t.Errorf("nicbed fragmented %d datagrams", frags)
				}
				t.Log(rtt)
			})
		}
	}
}

// TestHostNetem: --netem impairs the wire in the direction it names. With
// 20% loss on frames from Linux, Linux answers each of nicbed's 200 echo
// requests (its Icmp InEchos is 200: nothing to Linux is lost) while
// nicbed sees only the replies that were not lost; the report counts the
// losses, and every echo request is either answered or lost.
func TestHostNetem(t *testing.T) {
	ns := netns.New(t, "nbn")
	ns.DumpOnFailure(t)
	ns.IP(t, "tuntap", "add", "dev", "nbntap0", "mode", "tap")
	ns.IP(t, "addr", "add", linuxAddr+"/24", "dev", "nbntap0")
	ns.IP(t, "link", "set", "nbntap0", "up")
	p := startHost(t, ns, "--tap", "nbntap0", "--addr", hostAddr+"/24", "--mac", hostMAC, "--netem", "loss=20%,dir=in,seed=3,delay=100us",
		"--ping", linuxAddr, "--ping-count", "200", "--ping-interval", "2ms", "--ping-timeout", "200ms")
	sum := p.waitOutput(t, "nicbed ping "+linuxAddr+": ")
	var sent, got int
	if _, err := fmt.Sscanf(sum, "nicbed ping "+linuxAddr+": %d packets transmitted, %d received", &sent, &got); err != nil {
		t.Fatalf("summary %q: %v", sum, err)
	}
	out := p.stop(t, syscall.SIGINT)
	var in struct{ sent, delivered, lost, dup, reord, dropped uint64 }
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "netem linux->nicbed: ") {
			line = l
		}
	}
	if _, err := fmt.Sscanf(line, "netem linux->nicbed: sent %d delivered %d lost %d duplicated %d reordered %d dropped %d",
		&in.sent, &in.delivered, &in.lost, &in.dup, &in.reord, &in.dropped); err != nil {
		t.Fatalf("netem line %q: %v\n%s", line, err, out)
	}
	if li := linuxSNMP(t, ns, "Icmp"); li["InEchos"] != 200 {
		t.Errorf("Linux's InEchos = %d, want 200 (nicbed->linux is not impaired)", li["InEchos"])
	}
	switch {
	case sent != 200:
		t.Errorf("%d echo requests sent, want 200", sent)
	case in.lost < 10 || in.lost > 80:
		t.Errorf("lost %d of %d frames from Linux at 20%%", in.lost, in.sent)
	case got >= 200 || got+int(in.lost) < 200:
		t.Errorf("%d replies received with %d frames lost: want fewer than 200, and every request answered or lost", got, in.lost)
	case in.delivered+in.lost != in.sent || in.dup != 0 || in.reord != 0:
		t.Errorf("netem linux->nicbed counters do not add up: %+v", in)
	}
}
