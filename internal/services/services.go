// Package services are the small Internet services nicbed host offers on
// its stack (nicbed host --serve): echo (RFC 862), discard (RFC 863),
// chargen (RFC 864), an HTTP/1.1 server of deterministic bytes and a sink
// (RFC 9110, RFC 9112), and a server for the iperf3 3.x client's TCP
// tests. They are written against net.Listener, net.Conn and
// net.PacketConn only, so the same servers run on the stack's adapters
// and on the operating system's sockets (which the tests use).
//
// Every server has Serve(l net.Listener) (and ServePacket(pc
// net.PacketConn) where the service has a UDP form), Close, and Stats:
// counters that are safe to read while it runs.
package services

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are a server's counters, updated atomically as it runs.
type Stats struct {
	Conns     atomic.Uint64 // TCP connections accepted
	Datagrams atomic.Uint64 // UDP datagrams received
	Replies   atomic.Uint64 // UDP datagrams sent
	BytesIn   atomic.Uint64 // payload bytes received (TCP and UDP)
	BytesOut  atomic.Uint64 // payload bytes sent
	Errors    atomic.Uint64 // failed reads, writes and accepts, bad requests
}

// String is the counters on one line, for nicbed host's exit report.
func (s *Stats) String() string {
	return fmt.Sprintf("%d connections, %d datagrams in, %d out, %d bytes in, %d bytes out, %d errors",
		s.Conns.Load(), s.Datagrams.Load(), s.Replies.Load(), s.BytesIn.Load(), s.BytesOut.Load(), s.Errors.Load())
}

// base is what every server shares: its counters, and the listeners,
// packet connections and connections it serves, so Close can end them.
type base struct {
	Stats
	mu     sync.Mutex
	closed bool
	open   map[closer]struct{}
	wg     sync.WaitGroup
}

type closer interface{ Close() error }

// track registers c to be closed by Close; false if the server is closed
// (c is closed then).
func (b *base) track(c closer) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		c.Close()
		return false
	}
	if b.open == nil {
		b.open = map[closer]struct{}{}
	}
	b.open[c] = struct{}{}
	return true
}

func (b *base) untrack(c closer) {
	b.mu.Lock()
	delete(b.open, c)
	b.mu.Unlock()
}

func (b *base) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// Close closes every listener, packet connection and connection of the
// server and waits for its handlers to return. Serve and ServePacket
// return nil after it.
func (b *base) Close() error {
	b.mu.Lock()
	b.closed = true
	open := b.open
	b.open = nil
	b.mu.Unlock()
	for c := range open {
		c.Close()
	}
	b.wg.Wait()
	return nil
}

// loop calls next until it fails for good or the server is closed (c,
// the listener or socket next uses, is closed by Close). A failure (a
// failed accept: EMFILE, a deadline; a datagram that failed: an ICMP
// error reported on the socket) is counted and retried after a pause that
// doubles from 5 ms up to a second (net/http's rule for temporary
// errors), so an error that repeats does not spin; net.ErrClosed ends it.
func (b *base) loop(c closer, next func() error) error {
	if !b.track(c) {
		return nil
	}
	defer b.untrack(c)
	var pause time.Duration
	for {
		err := next()
		switch {
		case err == nil:
			pause = 0
			continue
		case b.isClosed():
			return nil
		}
		b.Errors.Add(1)
		if errors.Is(err, net.ErrClosed) {
			return err
		}
		pause = min(max(2*pause, 5*time.Millisecond), time.Second)
		time.Sleep(pause)
	}
}

// accept is one Accept of l, the connection counted.
func (b *base) accept(l net.Listener) (net.Conn, error) {
	c, err := l.Accept()
	if err == nil {
		b.Conns.Add(1)
	}
	return c, err
}

// serve is the accept loop (inet_csk_accept's caller, as a server's main
// loop is): each connection goes to handle on its own goroutine, its
// bytes counted, and is closed when handle returns.
func (b *base) serve(l net.Listener, handle func(c net.Conn)) error {
	return b.loop(l, func() error {
		c, err := b.accept(l)
		if err != nil {
			return err
		}
		b.spawn(&countingConn{Conn: c, s: &b.Stats}, handle)
		return nil
	})
}

// spawn runs handle(c) on its own goroutine, which Close waits for, and
// closes c after it.
func (b *base) spawn(c net.Conn, handle func(c net.Conn)) {
	if !b.track(c) {
		return
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer b.untrack(c)
		defer c.Close()
		handle(c)
	}()
}

// servePacket runs handle for each datagram read from pc until pc fails
// or the server is closed. handle gets the datagram and its sender.
func (b *base) servePacket(pc net.PacketConn, handle func(p []byte, from net.Addr)) error {
	buf := make([]byte, 65536)
	return b.loop(pc, func() error {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		b.Datagrams.Add(1)
		b.BytesIn.Add(uint64(n))
		handle(buf[:n], from)
		return nil
	})
}

// copyFrom copies what c receives to w until c's end, counting a failure.
func (b *base) copyFrom(w io.Writer, c net.Conn) {
	if _, err := io.CopyBuffer(writerOnly{w}, readerOnly{c}, make([]byte, 64<<10)); err != nil {
		b.Errors.Add(1)
	}
}

// readerOnly and writerOnly hide a connection's ReadFrom and WriteTo so
// io.CopyBuffer uses the buffer it is given.
type readerOnly struct{ io.Reader }
type writerOnly struct{ io.Writer }

// reply sends one datagram back and counts it.
func (b *base) reply(pc net.PacketConn, p []byte, to net.Addr) {
	if _, err := pc.WriteTo(p, to); err != nil {
		b.Errors.Add(1)
		return
	}
	b.Replies.Add(1)
	b.BytesOut.Add(uint64(len(p)))
}

// countingConn counts the bytes read and written on a connection into
// the server's Stats.
type countingConn struct {
	net.Conn
	s *Stats
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.s.BytesIn.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.s.BytesOut.Add(uint64(n))
	return n, err
}

// CloseWrite half-closes the connection when the underlying one can
// (shutdown(SHUT_WR)).
func (c *countingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Counters are the server's Stats (for a caller that holds it as an
// interface).
func (b *base) Counters() *Stats { return &b.Stats }
