package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/internal/netns"
	"github.com/nicbed/nicbed/internal/services"
)

// linuxTap makes the TAP dev in ns with Linux's address on it, up, and
// returns nicbed host's port flags for it.
func linuxTap(t testing.TB, ns *netns.NS, dev string) []string {
	t.Helper()
	ns.IP(t, "tuntap", "add", "dev", dev, "mode", "tap")
	ns.IP(t, "addr", "add", linuxAddr+"/24", "dev", dev)
	ns.IP(t, "link", "set", dev, "up")
	return []string{"--tap", dev, "--addr", hostAddr + "/24", "--mac", hostMAC}
}

// sequenceSum is the SHA-256 of the /bytes sequence's first n bytes.
func sequenceSum(n int64) string {
	h := sha256.New()
	io.Copy(h, io.LimitReader(services.NewSequence(n), n))
	return hex.EncodeToString(h.Sum(nil))
}

// TestHostTCPConnect: the stack's active open to a Linux listener (over
// the TAP, e1000 and igb): nicbed sends 4 MB of the /bytes sequence, Linux
// answers with 1 MB of it and closes; both ends check what they got by
// SHA-256, and nicbed's Tcp counters show the one active open.
// linuxTapListener makes a namespace (named after name) with the TAP dev
// of linuxTap and a TCP listener on Linux's address, port 5001, closed
// when the test ends; it returns nicbed's TAP arguments too.
func linuxTapListener(t *testing.T, name, dev string) (*netns.NS, []string, net.Listener) {
	t.Helper()
	ns := netns.New(t, name)
	ns.DumpOnFailure(t)
	args := linuxTap(t, ns, dev)
	var l net.Listener
	ns.Do(t, func() error {
		var err error
		l, err = net.Listen("tcp4", linuxAddr+":5001")
		return err
	})
	t.Cleanup(func() { l.Close() })
	return ns, args, l
}

func TestHostTCPConnect(t *testing.T) {
	const up, down = 4 << 20, 1 << 20
	for _, nic := range hostNICNames() {
		t.Run(nic, func(t *testing.T) {
			ns, args, l := linuxTapListener(t, "nbc", "nbctap0")
			type result struct {
				n   int64
				sum string
				err error
			}
			linux := make(chan result, 1)
			go func() {
				c, err := l.Accept()
				if err != nil {
					linux <- result{err: err}
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(60 * time.Second))
				sent := make(chan error, 1)
				go func() {
					_, err := io.Copy(c, io.LimitReader(services.NewSequence(down), down))
					if err == nil {
						err = c.(*net.TCPConn).CloseWrite()
					}
					sent <- err
				}()
				h := sha256.New()
				n, err := io.Copy(h, c)
				if e := <-sent; err == nil {
					err = e
				}
				linux <- result{n, hex.EncodeToString(h.Sum(nil)), err}
			}()
			p := startHost(t, ns, append(args, "--nic", nic, "--connect", linuxAddr+":5001", "--connect-bytes", strconv.Itoa(up))...)
			line := p.waitOutput(t, "nicbed connect "+linuxAddr+":5001: connected")
			want := fmt.Sprintf("sent %d bytes sha256 %s, received %d bytes sha256 %s,", up, sequenceSum(up), down, sequenceSum(down))
			if !strings.Contains(line, want) || strings.Count(line, ": ") > 1 {
				t.Errorf("nicbed: %q\nwant %q", line, want)
			}
			got := <-linux
			if got.err != nil || got.n != up || got.sum != sequenceSum(up) {
				t.Errorf("Linux received %d bytes sha256 %s (%v); want %d, %s", got.n, got.sum, got.err, up, sequenceSum(up))
			}
			info := p.waitOutput(t, "nicbed connect "+linuxAddr+":5001: tcp_info: ")
			if !strings.Contains(info, " cubic ") || !strings.Contains(info, fmt.Sprintf("bytes_acked:%d ", up+2)) {
				t.Errorf("tcp_info line %q: want cubic and bytes_acked:%d (the data, SYN and FIN)", info, up+2)
			}
			r := parseHostReport(t, p.stop(t, syscall.SIGINT))
			if tc := r.snmp["Tcp"]; tc["ActiveOpens"] != 1 || tc["PassiveOpens"] != 0 || tc["AttemptFails"] != 0 {
				t.Errorf("nicbed's Tcp: %v", tc)
			}
			// The connection at exit, in ss's terms: gone if Linux closed
			// first (nicbed's close was the passive one), else TIME-WAIT.
			if len(r.ss) < 1 || !strings.HasPrefix(r.ss[0], "State ") {
				t.Errorf("ss -tani at exit: %q", r.ss)
			}
			for _, l := range r.ss[1:] {
				if !strings.HasPrefix(l, "TIME-WAIT ") && !strings.HasPrefix(l, "\t") || !strings.HasPrefix(l, "\t") && !strings.Contains(l, " "+linuxAddr+":5001") {
					t.Errorf("ss -tani at exit: %q", l)
				}
			}
			if r.snmp["TcpExt"] == nil {
				t.Error("no TcpExt in the report")
			}
			t.Log(info)
		})
	}
}

// TestHostTCPClosedPort: a connection from Linux to a port nothing on
// nicbed listens on is refused by a RST: connect gets ECONNREFUSED, Linux
// counts the failed attempt and the RST in, nicbed the RST out.
func TestHostTCPClosedPort(t *testing.T) {
	ns := netns.New(t, "nbr")
	ns.DumpOnFailure(t)
	p := startHost(t, ns, linuxTap(t, ns, "nbrtap0")...)
	var refused error
	ns.Do(t, func() error {
		d := net.Dialer{Timeout: 5 * time.Second}
		c, err := d.Dial("tcp4", hostAddr+":9")
		if err == nil {
			c.Close()
		}
		refused = err
		return nil
	})
	if !errors.Is(refused, syscall.ECONNREFUSED) {
		t.Errorf("connect to a closed port: %v, want ECONNREFUSED", refused)
	}
	if lt := linuxSNMP(t, ns, "Tcp"); lt["AttemptFails"] != 1 || lt["InErrs"] != 0 {
		t.Errorf("Linux's Tcp: AttemptFails %d (want 1), InErrs %d (want 0)", lt["AttemptFails"], lt["InErrs"])
	}
	r := parseHostReport(t, p.stop(t, syscall.SIGINT))
	if tc := r.snmp["Tcp"]; tc["OutRsts"] != 1 || tc["PassiveOpens"] != 0 || tc["InSegs"] != 1 {
		t.Errorf("nicbed's Tcp: OutRsts %d (want 1), PassiveOpens %d, InSegs %d (want 1: the SYN)", tc["OutRsts"], tc["PassiveOpens"], tc["InSegs"])
	}
}

// curlGetPut has Linux's curl GET n bytes from url's /bytes/n and PUT n
// bytes to its /sink, checking both by SHA-256.
func curlGetPut(t *testing.T, ns *netns.NS, curl, dir, url string, n int64) {
	t.Helper()
	got := filepath.Join(dir, "got")
	if out, err := ns.Command(curl, "-sS", "--fail", "--max-time", "60", "-o", got, fmt.Sprintf("%s/bytes/%d", url, n)).CombinedOutput(); err != nil {
		t.Fatalf("curl GET: %v: %s", err, out)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != n || sha256.Sum256(b) != services.SequenceSHA256(n) {
		t.Errorf("GET /bytes/%d: %d bytes, SHA-256 %x, want the sequence's %x", n, len(b), sha256.Sum256(b), services.SequenceSHA256(n))
	}
	put := filepath.Join(dir, "put")
	body := make([]byte, int(n))
	services.SequenceAt(body, 999)
	if err := os.WriteFile(put, body, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if out, err := ns.Command(curl, "-sS", "--fail", "--max-time", "60", "-T", put, url+"/sink").CombinedOutput(); err != nil || string(out) != fmt.Sprintf("%d %s\n", n, hex.EncodeToString(sum[:])) {
		t.Errorf("curl PUT /sink: %v: %q, want %d and the file's SHA-256 %x", err, out, n, sum)
	}
}

// TestHostTCPNetem: the transfers of TestHostServeTCP and the active open
// of TestHostTCPConnect through a wire that loses 5%, reorders 25% and
// duplicates 2% of the frames each way (nicbed host --netem, as tc netem
// would on Linux's side): every byte arrives, SHA-256 matches, and
// nicbed's counters show the recovery.
func TestHostTCPNetem(t *testing.T) {
	const n = 20 << 20
	curl := lookTool(t, "curl")
	ns, args, l := linuxTapListener(t, "nbm", "nbmtap0")
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(60 * time.Second))
		io.Copy(c, c) // echo: nicbed checks what comes back
	}()
	p := startHost(t, ns, append(args, "--serve", "http=80", "--netem", "loss=5%,reorder=25%,duplicate=2%,seed=7",
		"--connect", linuxAddr+":5001", "--connect-bytes", strconv.Itoa(4<<20))...)
	start := time.Now()
	curlGetPut(t, ns, curl, t.TempDir(), "http://"+hostAddr, n)
	t.Logf("curl GET and PUT of %d MB through netem: %v", n>>20, time.Since(start).Round(time.Millisecond))
	line := p.waitOutput(t, "nicbed connect "+linuxAddr+":5001: connected")
	if sum := sequenceSum(4 << 20); !strings.Contains(line, "sent 4194304 bytes sha256 "+sum+", received 4194304 bytes sha256 "+sum+",") {
		t.Errorf("--connect through netem: %q", line)
	}
	out := p.stop(t, syscall.SIGINT)
	r := parseHostReport(t, out)
	var lost [2]uint64
	for i, dir := range []string{"nicbed->linux", "linux->nicbed"} {
		var sent, delivered, dup, reord, dropped uint64
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "netem "+dir+": ") {
				fmt.Sscanf(l, "netem "+dir+": sent %d delivered %d lost %d duplicated %d reordered %d dropped %d", &sent, &delivered, &lost[i], &dup, &reord, &dropped)
			}
		}
		if lost[i] == 0 || dup == 0 || reord == 0 || dropped != 0 {
			t.Errorf("netem %s: sent %d lost %d duplicated %d reordered %d dropped %d", dir, sent, lost[i], dup, reord, dropped)
		}
	}
	if tc := r.snmp["Tcp"]; tc["RetransSegs"] == 0 || tc["InErrs"] != 0 {
		t.Errorf("nicbed's Tcp: RetransSegs %d (want > 0 with %d frames lost), InErrs %d", tc["RetransSegs"], lost[0], tc["InErrs"])
	}
	ext := r.snmp["TcpExt"]
	t.Logf("nicbed's TcpExt: TCPSackRecovery %d TCPRenoRecovery %d TCPFastRetrans %d TCPTimeouts %d TCPLostRetransmit %d TCPDSACKRecv %d TCPSACKReorder %d TCPLossProbes %d TCPLossProbeRecovery %d; RetransSegs %d",
		ext["TCPSackRecovery"], ext["TCPRenoRecovery"], ext["TCPFastRetrans"], ext["TCPTimeouts"], ext["TCPLostRetransmit"], ext["TCPDSACKRecv"], ext["TCPSACKReorder"], ext["TCPLossProbes"], ext["TCPLossProbeRecovery"], r.snmp["Tcp"]["RetransSegs"])
	if ext["TCPSackRecovery"] == 0 {
		t.Errorf("nicbed's TcpExt: TCPSackRecovery 0 with %d frames lost toward Linux", lost[0])
	}
	if ext["TCPOFOQueue"] == 0 {
		t.Errorf("nicbed's TcpExt: TCPOFOQueue %d, want > 0 with reordering", ext["TCPOFOQueue"])
	}
}
