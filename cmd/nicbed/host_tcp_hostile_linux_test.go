package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/internal/netns"
)

// tcpHostileFrame is an Ethernet frame from src:sport to nicbed's
// hostAddr:dport with the given TCP header fields, options and data;
// doff 0 means 20 + len(opts); the TCP checksum is right.
func tcpHostileFrame(srcMAC, dstMAC net.HardwareAddr, src string, sport, dport uint16, seq, ack uint32, flags byte, doff int, opts, data []byte) []byte {
	l4 := 20 + len(opts) + len(data)
	f := make([]byte, 14+20+l4)
	copy(f[0:], dstMAC)
	copy(f[6:], srcMAC)
	f[12], f[13] = 0x08, 0x00
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+l4))
	ip[8], ip[9] = 64, 6
	copy(ip[12:], net.ParseIP(src).To4())
	copy(ip[16:], net.ParseIP(hostAddr).To4())
	binary.BigEndian.PutUint16(ip[10:], ^onesSum(ip, 0))
	th := f[34:]
	binary.BigEndian.PutUint16(th[0:], sport)
	binary.BigEndian.PutUint16(th[2:], dport)
	binary.BigEndian.PutUint32(th[4:], seq)
	binary.BigEndian.PutUint32(th[8:], ack)
	if doff == 0 {
		doff = 20 + len(opts)
	}
	th[12] = byte(doff/4) << 4
	th[13] = flags
	binary.BigEndian.PutUint16(th[14:], 29200)
	copy(th[20:], opts)
	copy(th[20+len(opts):], data)
	var ph [12]byte
	copy(ph[0:], ip[12:20])
	ph[9] = 6
	binary.BigEndian.PutUint16(ph[10:], uint16(l4))
	binary.BigEndian.PutUint16(th[16:], ^onesSum(th, uint32(onesSum(ph[:], 0))))
	return f
}

// onesSum is the Internet checksum's folded one's complement sum of b
// (RFC 1071) on top of acc.
func onesSum(b []byte, acc uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		acc += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		acc += uint32(b[len(b)-1]) << 8
	}
	for acc > 0xffff {
		acc = acc>>16 + acc&0xffff
	}
	return uint16(acc)
}

// TestHostTCPHostile: hostile TCP from a raw socket in the namespace at
// nicbed host --serve echo=7 over a TAP (issue 9): flag combinations
// (SYN|FIN, SYN|RST, SYN|FIN|RST|PSH|URG, FIN alone, none), data offsets
// below 5 and beyond the segment, bad option lengths, RSTs and SYNs out
// of nowhere into an established Linux connection's tuple, then a SYN
// flood of 6000 SYNs from forged sources past the listener's backlog
// (4096). nicbed keeps serving: the established connection still echoes,
// a new one made during the flood (through a SYN cookie) echoes 1 MB
// intact, and the exit report counts it all (about 6000-4096 cookies) (InErrs, TCPChallengeACK,
// SyncookiesSent, SyncookiesRecv, TCPReqQFullDoCookies).
func TestHostTCPHostile(t *testing.T) {
	ns := netns.New(t, "nbth")
	ns.DumpOnFailure(t)
	w := hostWires[0]
	p := startHost(t, ns, append(w.before(t, ns), "--nic", "e1000", "--addr", hostAddr+"/24", "--mac", hostMAC, "--serve", "echo=7")...)
	w.after(t, ns)
	linuxMAC, _ := net.ParseMAC(strings.TrimSpace(ns.Exec(t, "cat", "/sys/class/net/"+w.linuxDev+"/address")))
	hmac, _ := net.ParseMAC(hostMAC)
	echo := func(c net.Conn, msg []byte) error {
		c.SetDeadline(time.Now().Add(20 * time.Second))
		errc := make(chan error, 1)
		go func() { _, err := c.Write(msg); errc <- err }()
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil {
			return err
		}
		if err := <-errc; err != nil {
			return err
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("echo of %d bytes differs", len(msg))
		}
		return nil
	}
	var c net.Conn
	ns.Do(t, func() error {
		var err error
		if c, err = net.DialTimeout("tcp4", hostAddr+":7", 5*time.Second); err != nil {
			return err
		}
		return echo(c, []byte("before"))
	})
	defer c.Close()
	lport := uint16(c.LocalAddr().(*net.TCPAddr).Port)

	const fSYN, fRST, fACK, fFIN, fPSH, fURG = 0x02, 0x04, 0x10, 0x01, 0x08, 0x20
	var frames [][]byte
	forged := func(sport uint16, flags byte, doff int, opts []byte) {
		frames = append(frames, tcpHostileFrame(linuxMAC, hmac, linuxAddr, sport, 7, 1000, 0, flags, doff, opts, []byte("hostile")))
	}
	for i, fl := range []byte{fSYN | fFIN, fSYN | fRST, fSYN | fFIN | fRST | fPSH | fURG, fFIN, 0, fPSH | fURG, fRST} {
		forged(50000+uint16(i), fl, 0, nil)
	}
	forged(50100, fSYN, 16, nil)                      // data offset 4: InErrs
	forged(50101, fSYN, 60, nil)                      // beyond the segment
	forged(50102, fSYN, 0, []byte{2, 0, 5, 0xb4})     // MSS of length 0
	forged(50103, fSYN, 0, []byte{8, 40, 0, 0})       // TS past the header
	forged(50104, fSYN|fACK, 0, []byte{3, 3, 200, 1}) // a SYN-ACK to a listener: RST
	for i := range 10 {
		// Into the established tuple: SYNs (challenge or duplicate ACKs) and
		// RSTs at arbitrary sequence numbers (dropped or challenged).
		seq := uint32(i) * 0x19660d01
		frames = append(frames,
			tcpHostileFrame(linuxMAC, hmac, linuxAddr, lport, 7, seq, 0, fSYN, 0, nil, nil),
			tcpHostileFrame(linuxMAC, hmac, linuxAddr, lport, 7, seq, 0, fRST, 0, nil, nil))
	}
	sendRaw(t, ns, w.linuxDev, frames)
	time.Sleep(300 * time.Millisecond)
	ns.Do(t, func() error { return echo(c, []byte("after hostile segments")) })

	// The flood: 6000 SYNs from 12 forged addresses nobody answers ARP for.
	frames = frames[:0]
	for i := range 6000 {
		src := fmt.Sprintf("10.77.0.%d", 200+i%12)
		frames = append(frames, tcpHostileFrame(linuxMAC, hmac, src, 1024+uint16(i), 7, uint32(i)*7919, 0, fSYN, 0, []byte{2, 4, 5, 0xb4}, nil))
	}
	for off := 0; off < len(frames); off += 500 {
		sendRaw(t, ns, w.linuxDev, frames[off:off+500])
		time.Sleep(20 * time.Millisecond)
	}
	ns.Do(t, func() error {
		c2, err := net.DialTimeout("tcp4", hostAddr+":7", 5*time.Second)
		if err != nil {
			return fmt.Errorf("connect during the flood: %w", err)
		}
		defer c2.Close()
		msg := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
		if err := echo(c2, msg); err != nil {
			return fmt.Errorf("1 MB echo through a cookie connection: %w", err)
		}
		return echo(c, []byte("after the flood"))
	})

	out := p.stop(t, syscall.SIGINT)
	r := parseHostReport(t, out)
	defer func() {
		if t.Failed() {
			t.Logf("report:\n%s", out)
		}
	}()
	tcp, ext := r.snmp["Tcp"], r.snmp["TcpExt"]
	if tcp["InErrs"] < 1 {
		t.Errorf("Tcp InErrs %d, want the data offset 4", tcp["InErrs"])
	}
	if ext["TCPChallengeACK"] < 1 || ext["TCPSYNChallenge"] < 1 {
		t.Errorf("TCPChallengeACK %d TCPSYNChallenge %d, want some", ext["TCPChallengeACK"], ext["TCPSYNChallenge"])
	}
	if ext["SyncookiesSent"] < 1000 || ext["TCPReqQFullDoCookies"] != ext["SyncookiesSent"] || ext["SyncookiesRecv"] < 1 {
		t.Errorf("SyncookiesSent %d TCPReqQFullDoCookies %d SyncookiesRecv %d", ext["SyncookiesSent"], ext["TCPReqQFullDoCookies"], ext["SyncookiesRecv"])
	}
}
