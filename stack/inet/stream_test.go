package inet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/stack/internal/twostack"
	"github.com/nicbed/nicbed/stack/tcp/tcpinfo"
	"github.com/nicbed/nicbed/testbed"
)

// realPair is the two modelled hosts on the real clock, the loop running
// until the test ends.
func realPair(t *testing.T) *twostack.Pair {
	t.Helper()
	clk := kernelmodel.NewRealClock()
	p, err := twostack.New(testbed.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	loop := make(chan error, 1)
	go func() { loop <- clk.Run(ctx) }()
	t.Cleanup(func() {
		clk.Stop()
		if err := <-loop; err != nil {
			t.Error(err)
		}
		cancel()
	})
	return p
}

// pattern is n bytes that differ with their offset.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// TestHTTPRealClock: net/http serves on B's stack (ListenTCP) and fetches
// from A's (DialContext in an http.Transport), in process on the real
// clock: a GET of 2 MB, a PUT of 2 MB answered by its SHA-256, and 20
// requests over kept-alive connections.
func TestHTTPRealClock(t *testing.T) {
	p := realPair(t)
	l, err := p.B.ListenTCP(netip.AddrPortFrom(netip.IPv4Unspecified(), 80))
	if err != nil {
		t.Fatal(err)
	}
	body := pattern(2 << 20)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /data", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	mux.HandleFunc("PUT /sink", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello "+r.RemoteAddr) })
	srv := &http.Server{Handler: mux}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() {
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	tr := &http.Transport{DialContext: p.A.DialContext}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	base := "http://" + twostack.B.String() + ":80"

	resp, err := cl.Get(base + "/data")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, body) || resp.ContentLength != int64(len(body)) {
		t.Fatalf("GET: %d bytes (Content-Length %d), intact %v: %v", len(got), resp.ContentLength, bytes.Equal(got, body), err)
	}

	req, _ := http.NewRequest("PUT", base+"/sink", bytes.NewReader(body))
	resp, err = cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ans, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(body)
	if want := fmt.Sprintf("%d %s", len(body), hex.EncodeToString(sum[:])); string(ans) != want {
		t.Errorf("PUT answered %q, want %q", ans, want)
	}

	for i := 0; i < 20; i++ {
		resp, err := cl.Get(base + "/hello")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.HasPrefix(b, []byte("hello "+twostack.A.String()+":")) {
			t.Fatalf("hello %d: %q", i, b)
		}
	}
}

// TestConnRealClock: the stream adapters' contract on the real clock:
// a refused dial is ECONNREFUSED, CloseWrite is the peer's io.EOF after
// the data, a read past its deadline times out, Close wakes a blocked
// read with net.ErrClosed, and a closed listener's Accept returns
// net.ErrClosed.
func TestConnRealClock(t *testing.T) {
	p := realPair(t)
	ctx := context.Background()
	if _, err := p.A.DialTCP(ctx, netip.AddrPortFrom(twostack.B, 9)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial to a closed port: %v, want ECONNREFUSED", err)
	}
	l, err := p.B.ListenTCP(netip.AddrPortFrom(twostack.B, 7))
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr().String() != "10.0.0.2:7" {
		t.Errorf("listener address %v", l.Addr())
	}
	c, sc := dialAccepted(t, p, l)
	if sc.RemoteAddr().String() != c.LocalAddr().String() || c.RemoteAddr().String() != "10.0.0.2:7" {
		t.Errorf("addresses: server sees %v, client is %v → %v", sc.RemoteAddr(), c.LocalAddr(), c.RemoteAddr())
	}
	msg := pattern(3 << 20)
	go func() {
		if _, err := c.Write(msg); err != nil {
			t.Error(err)
		}
		if err := c.CloseWrite(); err != nil {
			t.Error(err)
		}
	}()
	sc.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(sc)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("read to EOF: %d of %d bytes, intact %v: %v", len(got), len(msg), bytes.Equal(got, msg), err)
	}
	rbuf := make([]byte, 10)
	checkDeadlineAndClose(t, c, func() error { _, err := c.Read(rbuf); return err })
	sc.Close()
	go func() {
		time.Sleep(20 * time.Millisecond)
		l.Close()
	}()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
}

// TestLingerRealClock: with SetLinger(5), Close returns once the peer
// has ACKed the FIN — the peer is in CLOSE_WAIT with every byte by then,
// well before the 5 s —; against a peer that does not read, so that the
// FIN cannot go out behind the full window, SetLinger(1)'s Close returns
// after the second.
func TestLingerRealClock(t *testing.T) {
	p := realPair(t)
	l, err := p.B.ListenTCP(netip.AddrPortFrom(twostack.B, 7))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, read := range []bool{true, false} {
		c, sc := dialAccepted(t, p, l)
		msg := pattern(1 << 20)
		linger := 5
		got := make(chan int, 1)
		if read {
			go func() {
				b, _ := io.ReadAll(sc)
				got <- len(b)
			}()
		} else {
			linger = 1
		}
		if err := c.SetLinger(linger); err != nil {
			t.Fatal(err)
		}
		c.SetWriteDeadline(time.Now().Add(20 * time.Second))
		if read {
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
		} else {
			// Fill the send buffer behind B's closed window.
			c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
			c.Write(msg)
		}
		start := time.Now()
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		took := time.Since(start)
		if read {
			info, err := sc.TCPInfo()
			if err != nil || info.State != tcpinfo.StateCloseWait {
				t.Errorf("peer %v (%v) when the lingering close returned, want CLOSE-WAIT", info.State, err)
			}
			if took >= time.Duration(linger)*time.Second {
				t.Errorf("close took %v, the FIN's ACK should end it", took)
			}
			if n := <-got; n != len(msg) {
				t.Errorf("peer read %d of %d bytes", n, len(msg))
			}
		} else if took < time.Second || took > 3*time.Second {
			t.Errorf("close against a full window took %v, want the 1 s linger", took)
		}
		sc.Close()
	}
}

// dialAccepted dials l's port 7 on B from A and accepts it there.
func dialAccepted(t *testing.T, p *twostack.Pair, l *inet.Listener) (c, sc *inet.Conn) {
	t.Helper()
	accepted := make(chan *inet.Conn, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	c, err := p.A.DialTCP(context.Background(), netip.AddrPortFrom(twostack.B, 7))
	if err != nil {
		t.Fatal(err)
	}
	if sc = <-accepted; sc == nil {
		t.FailNow()
	}
	return c, sc
}
