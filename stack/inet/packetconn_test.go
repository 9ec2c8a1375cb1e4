package inet_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/internal/twostack"
	"github.com/nicbed/nicbed/testbed"
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

// deadliner is what checkDeadlineAndClose needs of a connection.
type deadliner interface {
	SetReadDeadline(time.Time) error
	Close() error
}

// checkDeadlineAndClose: a read past a 50 ms read deadline ends with a
// timeout no earlier; without a deadline, Close wakes a blocked read
// with net.ErrClosed.
func checkDeadlineAndClose(t *testing.T, c deadliner, read func() error) {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(50 * time.Millisecond))
	if err := read(); !isTimeout(err) {
		t.Errorf("read past the deadline: %v", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("deadline after %v", d)
	}
	c.SetReadDeadline(time.Time{})
	var wg sync.WaitGroup
	var rerr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		rerr = read()
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	wg.Wait()
	if !errors.Is(rerr, net.ErrClosed) {
		t.Errorf("blocked read after Close: %v", rerr)
	}
}

// echo serves RFC 862 on c until it is closed.
func echo(c net.PacketConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		c.WriteTo(buf[:n], from)
	}
}

// TestPacketConnTask: on the virtual clock, PacketConns in tasks: an echo
// server on B, a client on A; a read deadline ends a read after exactly
// its model time with a timeout error; an unconnected socket is not
// told of a port unreachable; reads after Close are net.ErrClosed.
func TestPacketConnTask(t *testing.T) {
	p, err := twostack.New(testbed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p.TB.B.Kernel.Spawn(0, "echo", func(tk *kernelmodel.Task) {
		c, err := p.B.ListenUDPTask(tk, netip.AddrPortFrom(netip.IPv4Unspecified(), 7))
		if err != nil {
			t.Error(err)
			return
		}
		c.SetReadDeadline(c.Now().Add(time.Second))
		echo(c)
		c.Close()
	})
	err = p.TB.RunTask(p.TB.A, "client", 2*time.Second, func(tk *kernelmodel.Task) error {
		c, err := p.A.ListenUDPTask(tk, netip.AddrPort{})
		if err != nil {
			return err
		}
		srv := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 7}
		if _, err := c.WriteTo([]byte("hello"), srv); err != nil {
			return err
		}
		buf := make([]byte, 100)
		c.SetReadDeadline(c.Now().Add(10 * time.Millisecond))
		n, from, err := c.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "hello" || from.String() != "10.0.0.2:7" {
			t.Errorf("echo: %q from %v: %v", buf[:n], from, err)
		}
		start := c.Now()
		c.SetReadDeadline(start.Add(5 * time.Millisecond))
		if _, _, err := c.ReadFrom(buf); !isTimeout(err) {
			t.Errorf("read past the deadline: %v", err)
		}
		if d := c.Now().Sub(start); d < 5*time.Millisecond || d > 5*time.Millisecond+100*time.Microsecond {
			t.Errorf("the deadline ended the read after %v", d)
		}
		if _, _, err := c.ReadFrom(buf); !isTimeout(err) {
			t.Errorf("read with the deadline passed: %v", err)
		}
		// An unconnected socket is not told of the port unreachable:
		// the read waits for its deadline.
		c.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 9})
		c.SetReadDeadline(c.Now().Add(10 * time.Millisecond))
		if _, _, err := c.ReadFrom(buf); !isTimeout(err) {
			t.Errorf("after a port unreachable: %v, want the deadline", err)
		}
		c.Close()
		if _, _, err := c.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
			t.Errorf("read after close: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p.TB.Clock.RunFor(2 * time.Second)
	if err := p.Settle(); err != nil {
		t.Fatal(err)
	}
}

// TestPacketConnRealClock: on the real clock, PacketConns used from
// goroutines enter the loop through their sources: echo from A to B
// and back, a wall-clock read deadline, a write to a port with nobody
// there, and Close waking a blocked reader with net.ErrClosed.
func TestPacketConnRealClock(t *testing.T) {
	clk := kernelmodel.NewRealClock()
	p, err := twostack.New(testbed.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	loop := make(chan error, 1)
	go func() { loop <- clk.Run(ctx) }()
	defer func() {
		clk.Stop()
		if err := <-loop; err != nil {
			t.Error(err)
		}
	}()
	srv, err := p.B.ListenUDP(netip.AddrPortFrom(netip.IPv4Unspecified(), 7))
	if err != nil {
		t.Fatal(err)
	}
	go echo(srv)
	c, err := p.A.ListenUDP(netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	if la := c.LocalAddr().(*net.UDPAddr); la.Port < 32768 || la.Port > 60999 {
		t.Errorf("local address %v", la)
	}
	buf := make([]byte, 2000)
	for i := 0; i < 20; i++ {
		msg := make([]byte, 100+i*100)
		for j := range msg {
			msg[j] = byte(i + j)
		}
		if _, err := c.WriteToUDPAddrPort(msg, netip.AddrPortFrom(twostack.B, 7)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil || n != len(msg) || from != netip.AddrPortFrom(twostack.B, 7) || string(buf[:n]) != string(msg) {
			t.Fatalf("echo %d: %d bytes from %v: %v", i, n, from, err)
		}
	}
	checkDeadlineAndClose(t, c, func() error { _, _, err := c.ReadFrom(buf); return err })
	srv.Close()
	if _, err := c.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 7}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}
