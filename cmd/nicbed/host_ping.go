package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/stack/socket"
)

// pingFlags are --ping and its options: nicbed's own ping, from a raw
// ICMP socket of the modelled host's stack.
type pingFlags struct {
	dst      string
	count    int
	size     int
	interval time.Duration
	timeout  time.Duration

	addr netip.Addr
}

func (p *pingFlags) check() error {
	if p.dst == "" {
		return nil
	}
	a, err := netip.ParseAddr(p.dst)
	if err != nil || !a.Is4() {
		return fmt.Errorf("--ping %q: not an IPv4 address", p.dst)
	}
	p.addr = a
	switch {
	case p.count < 1:
		return fmt.Errorf("--ping-count %d: at least 1", p.count)
	case p.size < 0 || p.size > 65507:
		return fmt.Errorf("--ping-size %d: want 0-65507", p.size)
	case p.interval <= 0:
		return fmt.Errorf("--ping-interval %v: must be positive", p.interval)
	case p.timeout <= 0:
		return fmt.Errorf("--ping-timeout %v: must be positive", p.timeout)
	}
	return nil
}

// pinger is nicbed's ping in progress, and its result: as ping(8) counts.
type pinger struct {
	pingFlags
	id                  uint16
	sent, received, bad uint64
	rttMin, rttMax, sum time.Duration
	err                 error
	done                bool
}

// startPing opens a raw ICMP socket (socket(AF_INET, SOCK_RAW,
// IPPROTO_ICMP), as ping(8) does without ICMP datagram sockets) and starts
// a task that sends count echo requests of size data bytes, interval
// apart, each waiting up to timeout (SO_RCVTIMEO) for its reply. When it
// is done it prints ping's summary on out.
func startPing(st *inet.Stack, k *kernelmodel.Kernel, f pingFlags, out io.Writer) (*pinger, error) {
	so, err := st.Socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
	if err != nil {
		return nil, fmt.Errorf("--ping: raw socket: %w", err)
	}
	if err := so.SetSockOpt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, int(f.timeout/time.Microsecond)); err != nil {
		return nil, fmt.Errorf("--ping: SO_RCVTIMEO: %w", err)
	}
	p := &pinger{pingFlags: f, id: uint16(os.Getpid())}
	k.Spawn(0, "ping", func(t *kernelmodel.Task) {
		p.run(t, k, so)
		so.Close()
		p.done = true
		p.writeSummary(out)
	})
	return p, nil
}

func (p *pinger) run(t *kernelmodel.Task, k *kernelmodel.Kernel, so *socket.Socket) {
	clk := k.Clock()
	req := make([]byte, 8+p.size)
	buf := make([]byte, 65536)
	to := netip.AddrPortFrom(p.addr, 0)
	for seq := 1; seq <= p.count; seq++ {
		if seq > 1 {
			t.Sleep(p.interval)
		}
		icmp := header.ICMPv4(req)
		req[0], req[1], req[2], req[3] = header.ICMPv4Echo, 0, 0, 0
		req[4], req[5], req[6], req[7] = byte(p.id>>8), byte(p.id), byte(seq>>8), byte(seq)
		for i := 8; i < len(req); i++ {
			req[i] = byte(i)
		}
		icmp.SetChecksum(^checksum.Checksum(req, 0))
		sent := clk.Now()
		if _, err := so.SendTo(t, req, 0, to); err != nil {
			p.err = fmt.Errorf("sendto: %w", err)
			return
		}
		p.sent++
		// Wait for this echo's reply; other ICMP (Linux's own echo
		// requests, replies to someone else) is passed over.
		for {
			n, from, err := so.RecvFrom(t, buf, 0)
			if errors.Is(err, syscall.EAGAIN) {
				break // SO_RCVTIMEO: this one is lost
			}
			if err != nil {
				p.err = fmt.Errorf("recvfrom: %w", err)
				return
			}
			rep := buf[:n]
			if n > 0 && rep[0]>>4 == 4 { // a raw socket gets the IP header too
				rep = rep[min(int(rep[0]&0xf)*4, n):]
			}
			if from.Addr() != p.addr || len(rep) < 8 || rep[0] != header.ICMPv4EchoReply ||
				uint16(rep[4])<<8|uint16(rep[5]) != p.id || uint16(rep[6])<<8|uint16(rep[7]) != uint16(seq) {
				continue
			}
			if checksum.Checksum(rep, 0) != 0xffff || len(rep) != len(req) || string(rep[8:]) != string(req[8:]) {
				p.bad++
				break
			}
			rtt := clk.Now() - sent
			p.received++
			p.sum += rtt
			if p.received == 1 || rtt < p.rttMin {
				p.rttMin = rtt
			}
			p.rttMax = max(p.rttMax, rtt)
			break
		}
	}
}

// writeSummary prints ping's two summary lines.
func (p *pinger) writeSummary(w io.Writer) {
	loss := 0.0
	if p.sent > 0 {
		loss = 100 * float64(p.sent-p.received) / float64(p.sent)
	}
	fmt.Fprintf(w, "nicbed ping %s: %d packets transmitted, %d received, %d damaged, %.0f%% packet loss", p.addr, p.sent, p.received, p.bad, loss)
	if p.err != nil {
		fmt.Fprintf(w, ", stopped: %v", p.err)
	}
	fmt.Fprintln(w)
	if p.received > 0 {
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		fmt.Fprintf(w, "nicbed ping %s: rtt min/avg/max = %.3f/%.3f/%.3f ms\n", p.addr, ms(p.rttMin), ms(p.sum)/float64(p.received), ms(p.rttMax))
	}
}
