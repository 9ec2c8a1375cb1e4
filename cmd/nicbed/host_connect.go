package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/nicbed/nicbed/internal/services"
	"github.com/nicbed/nicbed/stack/inet"
)

// connectFlags are --connect and its options: an active open from the
// host's stack to a listener on Linux's side.
type connectFlags struct {
	dst     string
	bytes   int64
	timeout time.Duration

	addr netip.AddrPort
}

const connectUsage = "once up, open a TCP connection from the host's stack to ADDR:PORT (a listener on Linux's side),\n" +
	"  send --connect-bytes of the /bytes sequence, shut down the sending side and read until the peer closes;\n" +
	"  a line with the bytes and SHA-256 each way goes to stdout"

func (c *connectFlags) check() error {
	if c.dst == "" {
		return nil
	}
	ap, err := netip.ParseAddrPort(c.dst)
	if err != nil || !ap.Addr().Is4() || ap.Port() == 0 {
		return fmt.Errorf("--connect %q: want an IPv4 address and port, e.g. 10.99.0.1:5001", c.dst)
	}
	c.addr = ap
	switch {
	case c.bytes < 0:
		return fmt.Errorf("--connect-bytes %d: must not be negative", c.bytes)
	case c.timeout <= 0:
		return fmt.Errorf("--connect-timeout %v: must be positive", c.timeout)
	}
	return nil
}

// connector is the --connect connection in progress and its result.
type connector struct {
	connectFlags
	mu                 sync.Mutex
	done               bool
	sent, received     int64
	sentSum, recvSum   string
	connected, elapsed time.Duration
	info               string // the connection's ss -ti line at the end
	err                error
}

// startConnect runs the connection in a goroutine off the loop, on the
// stack's net.Conn adapter, and prints its line when it ends.
func startConnect(st *inet.Stack, f connectFlags, stdout io.Writer) *connector {
	c := &connector{connectFlags: f}
	go func() {
		c.run(st)
		c.mu.Lock()
		c.done = true
		c.mu.Unlock()
		c.writeLine(stdout)
	}()
	return c
}

func (c *connector) run(st *inet.Stack) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	start := time.Now()
	conn, err := st.DialTCP(ctx, c.addr)
	if err != nil {
		c.err = err
		return
	}
	defer conn.Close()
	c.connected = time.Since(start)
	conn.SetDeadline(start.Add(c.timeout))
	wrote := make(chan error, 1)
	go func() {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(conn, h), io.LimitReader(services.NewSequence(c.bytes), c.bytes))
		c.sent, c.sentSum = n, hex.EncodeToString(h.Sum(nil))
		if err == nil {
			err = conn.CloseWrite()
		}
		wrote <- err
	}()
	h := sha256.New()
	n, rerr := io.Copy(h, conn)
	c.received, c.recvSum = n, hex.EncodeToString(h.Sum(nil))
	werr := <-wrote
	c.elapsed = time.Since(start)
	// The info once everything sent is acknowledged (the peer may have
	// closed before our last bytes' ACKs came), as ss would show it then.
	info, err := conn.TCPInfo()
	for i := 0; err == nil && info.Unacked > 0 && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
		info, err = conn.TCPInfo()
	}
	if err == nil {
		var b strings.Builder
		info.WriteSS(&b)
		c.info = strings.TrimSpace(b.String())
	}
	switch {
	case werr != nil:
		c.err = fmt.Errorf("send: %w", werr)
	case rerr != nil:
		c.err = fmt.Errorf("receive: %w", rerr)
	}
}

// writeLine prints the connection's result.
func (c *connector) writeLine(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil && c.connected == 0 {
		fmt.Fprintf(w, "nicbed connect %s: %v\n", c.addr, c.err)
		return
	}
	fmt.Fprintf(w, "nicbed connect %s: connected in %v, sent %d bytes sha256 %s, received %d bytes sha256 %s, in %v",
		c.addr, c.connected.Round(time.Microsecond), c.sent, c.sentSum, c.received, c.recvSum, c.elapsed.Round(time.Microsecond))
	if c.err != nil {
		fmt.Fprintf(w, ": %v", c.err)
	}
	fmt.Fprintln(w)
	if c.info != "" {
		fmt.Fprintf(w, "nicbed connect %s: tcp_info: %s\n", c.addr, c.info)
	}
}

// failed is the connection's error for the exit status (nil while it
// still runs: an interrupted connection is not a failure).
func (c *connector) failed() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done && c.err != nil {
		return fmt.Errorf("--connect %s: %w", c.addr, c.err)
	}
	return nil
}
