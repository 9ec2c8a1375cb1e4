package main

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/internal/netns"
	"github.com/nicbed/nicbed/internal/services"
)

// TestHostServeUDP: nicbed host over a TAP with --serve
// echo=7,discard=9,chargen=19, Linux's UDP sockets as the clients: echo
// answers intact, discard answers nothing and counts, chargen answers each
// datagram with 0-512 bytes of RFC 864's pattern from the next line; the
// exit report holds each service's counters.
func TestHostServeUDP(t *testing.T) {
	ns := netns.New(t, "nbsu")
	ns.DumpOnFailure(t)
	w := hostWires[0]
	p := startHost(t, ns, append(w.before(t, ns), "--addr", hostAddr+"/24", "--mac", hostMAC, "--serve", "echo=7,discard=9", "--serve", "chargen=19")...)
	w.after(t, ns)
	const discards, chargens = 3, 2 * services.ChargenLines
	ns.Do(t, func() error {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(linuxAddr)})
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		to := func(port int) *net.UDPAddr { return &net.UDPAddr{IP: net.ParseIP(hostAddr), Port: port} }
		buf := make([]byte, 2048)
		if _, err := c.WriteToUDP([]byte("hello"), to(7)); err != nil {
			return err
		}
		if n, from, err := c.ReadFromUDP(buf); err != nil || string(buf[:n]) != "hello" || from.Port != 7 {
			return fmt.Errorf("echo: %q from %v, %v", buf[:n], from, err)
		}
		for range discards {
			if _, err := c.WriteToUDP(make([]byte, 100), to(9)); err != nil {
				return err
			}
		}
		for k := range chargens {
			if _, err := c.WriteToUDP([]byte("x"), to(19)); err != nil {
				return err
			}
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return fmt.Errorf("chargen reply %d: %v", k, err)
			}
			want := make([]byte, n)
			services.ChargenAt(want, int64(k%services.ChargenLines)*services.ChargenLineLen)
			if from.Port != 19 || n > services.ChargenMaxUDP || !bytes.Equal(buf[:n], want) {
				return fmt.Errorf("chargen reply %d from %v: %q, want up to 512 bytes of the pattern from line %d", k, from, buf[:n], k)
			}
		}
		// Nothing came from discard: the next read times out.
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if n, from, err := c.ReadFromUDP(buf); err == nil {
			return fmt.Errorf("%d bytes from %v after the tests: discard answered?", n, from)
		}
		return nil
	})
	out := p.stop(t, syscall.SIGINT)
	for _, want := range []string{
		"serve echo=7: 1 datagrams (5 bytes) in, 1 (5 bytes) out, 0 errors",
		fmt.Sprintf("serve discard=9: %d datagrams (%d bytes) in, 0 (0 bytes) out, 0 errors", discards, 100*discards),
		fmt.Sprintf("serve chargen=19: %d datagrams (%d bytes) in, %d (", chargens, chargens, chargens),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
