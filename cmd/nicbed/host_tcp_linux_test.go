package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
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
func TestHostTCPConnect(t *testing.T) {
	const up, down = 4 << 20, 1 << 20
	for _, nic := range hostNICNames() {
		t.Run(nic, func(t *testing.T) {
			ns := netns.New(t, "nbc")
			ns.DumpOnFailure(t)
			args := linuxTap(t, ns, "nbctap0")
			var l net.Listener
			ns.Do(t, func() error {
				var err error
				l, err = net.Listen("tcp4", linuxAddr+":5001")
				return err
			})
			defer l.Close()
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
			t.Log(info)
		})
	}
}
