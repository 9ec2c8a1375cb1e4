package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
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
			info := p.waitOutput(t, "nicbed connect "+linuxAddr+":5001: ")
			r := parseHostReport(t, p.stop(t, syscall.SIGINT))
			if tc := r.snmp["Tcp"]; tc["ActiveOpens"] != 1 || tc["PassiveOpens"] != 0 || tc["AttemptFails"] != 0 {
				t.Errorf("nicbed's Tcp: %v", tc)
			}
			t.Log(info)
		})
	}
}

// TestHostTCPClosedPort: a connection from Linux to a port nicbed does not
// serve is refused by a RST (connect gets ECONNREFUSED), counted in
// nicbed's OutRsts; a connection to a port it serves still works after.
func TestHostTCPClosedPort(t *testing.T) {
	ns := netns.New(t, "nbr")
	ns.DumpOnFailure(t)
	p := startHost(t, ns, append(linuxTap(t, ns, "nbrtap0"), "--serve", "echo=7")...)
	var refused, echoed error
	ns.Do(t, func() error {
		d := net.Dialer{Timeout: 5 * time.Second}
		_, refused = d.Dial("tcp4", hostAddr+":9")
		c, err := d.Dial("tcp4", hostAddr+":7")
		if err != nil {
			echoed = err
			return nil
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		msg := []byte("after the refusal\n")
		buf := make([]byte, len(msg))
		if _, err := c.Write(msg); err != nil {
			echoed = err
		} else if _, err := io.ReadFull(c, buf); err != nil || !bytes.Equal(buf, msg) {
			echoed = fmt.Errorf("echo %q: %v", buf, err)
		}
		return nil
	})
	if !errors.Is(refused, syscall.ECONNREFUSED) {
		t.Errorf("connect to a closed port: %v, want ECONNREFUSED", refused)
	}
	if echoed != nil {
		t.Errorf("echo after: %v", echoed)
	}
	r := parseHostReport(t, p.stop(t, syscall.SIGINT))
	if tc := r.snmp["Tcp"]; tc["OutRsts"] < 1 || tc["PassiveOpens"] != 1 {
		t.Errorf("nicbed's Tcp: OutRsts %d (want ≥ 1), PassiveOpens %d (want 1)", tc["OutRsts"], tc["PassiveOpens"])
	}
}

// TestHostTCPEcho200: 200 connections from Linux to nicbed's TCP echo
// server, open at once, each sending 64 KiB and reading it back intact.
func TestHostTCPEcho200(t *testing.T) {
	const conns, size = 200, 64 << 10
	ns := netns.New(t, "nbe")
	ns.DumpOnFailure(t)
	p := startHost(t, ns, append(linuxTap(t, ns, "nbetap0"), "--serve", "echo=7")...)
	cs := make([]net.Conn, 0, conns)
	ns.Do(t, func() error {
		d := net.Dialer{Timeout: 10 * time.Second}
		for i := 0; i < conns; i++ {
			c, err := d.Dial("tcp4", hostAddr+":7")
			if err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			cs = append(cs, c)
		}
		return nil
	})
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			msg := make([]byte, size)
			services.SequenceAt(msg, int64(i)*size)
			go c.Write(msg)
			got := make([]byte, size)
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
				errs <- fmt.Errorf("connection %d: intact %v: %v", i, bytes.Equal(got, msg), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r := parseHostReport(t, p.stop(t, syscall.SIGINT))
	if tc := r.snmp["Tcp"]; tc["PassiveOpens"] != conns {
		t.Errorf("nicbed's PassiveOpens = %d, want %d", tc["PassiveOpens"], conns)
	}
}
