package services

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os/exec"
	"testing"
	"time"
)

// server is what the tests start: any of the services.
type server interface {
	Serve(l net.Listener) error
	Close() error
}

// packetServer is a service with a UDP form.
type packetServer interface {
	ServePacket(pc net.PacketConn) error
	Close() error
}

// run runs serve on its goroutine until the test ends, then closes the
// server and checks serve returned nil.
func run(t *testing.T, serve func() error, s interface{ Close() error }) {
	done := make(chan error, 1)
	go func() { done <- serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// listen serves s on a TCP listener of 127.0.0.1 on an ephemeral port
// until the test ends.
func listen(t *testing.T, s server) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	run(t, func() error { return s.Serve(l) }, s)
	return l.Addr().String()
}

// listenPacket serves s on a UDP socket of 127.0.0.1 until the test
// ends, and returns a client socket connected to it.
func listenPacket(t *testing.T, s packetServer) net.Conn {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	run(t, func() error { return s.ServePacket(pc) }, s)
	c, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dial connects to addr with a deadline for the whole exchange.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// tool is the path of a command the test needs: it fails (make deps
// installs them) when it is missing.
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed (make deps installs it): %v", name, err)
	}
	return p
}

// eventually waits (5 s at most) for cond: the server's counters move
// after the client has seen the bytes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("not after 5 s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestEchoTCP(t *testing.T) {
	s := &Echo{}
	addr := listen(t, s)
	for _, n := range []int{1, 100, 1 << 20} {
		c := dial(t, addr)
		want := make([]byte, n)
		SequenceAt(want, int64(n))
		errc := make(chan error, 1)
		go func() {
			_, err := c.Write(want)
			if err == nil {
				err = c.(*net.TCPConn).CloseWrite()
			}
			errc <- err
		}()
		got, err := io.ReadAll(c) // to the server's FIN, after ours
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d bytes: %d back, not the same", n, len(got))
		}
	}
	const total = 1 + 100 + 1<<20
	eventually(t, "echo counters", func() bool { return s.Conns.Load() == 3 && s.BytesIn.Load() == total && s.BytesOut.Load() == total })
	if s.Errors.Load() != 0 {
		t.Errorf("errors: %s", &s.Stats)
	}
}

func TestEchoUDP(t *testing.T) {
	s := &Echo{}
	c := listenPacket(t, s)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	total := 0
	for _, n := range []int{0, 1, 1472, 65507} {
		p := make([]byte, n)
		SequenceAt(p, 7)
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 65536)
		m, err := c.Read(buf)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(buf[:m], p) {
			t.Errorf("%d bytes: %d back, not the same", n, m)
		}
		total += n
	}
	// The server counts a reply after it is sent: the client may have it
	// first.
	eventually(t, fmt.Sprintf("counters of 4 datagrams of %d bytes each way", total), func() bool {
		return s.Datagrams.Load() == 4 && s.Replies.Load() == 4 && s.BytesIn.Load() == uint64(total) && s.BytesOut.Load() == uint64(total)
	})
}

func TestDiscard(t *testing.T) {
	s := &Discard{}
	addr := listen(t, s)
	c := dial(t, addr)
	if _, err := c.Write(make([]byte, 3<<20)); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	if n, err := c.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("discard sent %d bytes (%v), want its FIN only", n, err)
	}
	u := listenPacket(t, s)
	for range 3 {
		u.Write(make([]byte, 100))
	}
	eventually(t, "discard counters", func() bool {
		return s.Conns.Load() == 1 && s.Datagrams.Load() == 3 && s.BytesIn.Load() == 3<<20+300
	})
	if s.BytesOut.Load() != 0 || s.Replies.Load() != 0 {
		t.Errorf("discard sent: %s", &s.Stats)
	}
}

func TestChargenTCP(t *testing.T) {
	s := &Chargen{}
	c := dial(t, listen(t, s))
	got := make([]byte, 5*ChargenPeriod+123)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	// RFC 864's lines, built here by their definition.
	var want []byte
	for l := 0; len(want) < len(got); l++ {
		for i := range 72 {
			want = append(want, byte(' '+(l+i)%95))
		}
		want = append(want, "\r\n"...)
	}
	if !bytes.Equal(got, want[:len(got)]) {
		t.Errorf("the stream differs from RFC 864's pattern; first line %q", got[:ChargenLineLen])
	}
	if first := string(got[:ChargenLineLen]); first != ` !"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`+"`abcdefg\r\n" {
		t.Errorf("first line %q", first)
	}
}

func TestChargenUDP(t *testing.T) {
	s := &Chargen{}
	c := listenPacket(t, s)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	lengths := map[int]bool{}
	for k := range 2 * ChargenLines {
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n > ChargenMaxUDP {
			t.Fatalf("reply %d: %d bytes, more than 512", k, n)
		}
		want := make([]byte, n)
		ChargenAt(want, int64(k%ChargenLines)*ChargenLineLen)
		if !bytes.Equal(buf[:n], want) {
			t.Fatalf("reply %d: %q, want the pattern from line %d", k, buf[:n], k%ChargenLines)
		}
		lengths[n] = true
	}
	if len(lengths) < 20 {
		t.Errorf("190 replies had only %d lengths: not random", len(lengths))
	}
}

// TestSequence pins the /bytes sequence (a client's expected SHA-256
// depends on it) and checks SequenceAt at every offset and length.
func TestSequence(t *testing.T) {
	all := make([]byte, 64)
	SequenceAt(all, 0)
	r := NewSequence(64)
	b, _ := io.ReadAll(io.LimitReader(r, 64))
	if !bytes.Equal(b, all) {
		t.Errorf("reader and SequenceAt differ")
	}
	for off := range 24 {
		for n := range 24 {
			p := make([]byte, n)
			SequenceAt(p, int64(off))
			if !bytes.Equal(p, all[off:off+n]) {
				t.Fatalf("SequenceAt(%d bytes, %d) = %x, want %x", n, off, p, all[off:off+n])
			}
		}
	}
	// SplitMix64's published first output from seed 0.
	if got := splitmix64(splitmixGamma); got != 0xe220a8397b1dcdaf {
		t.Errorf("splitmix64 from seed 0: %#x, want 0xe220a8397b1dcdaf", got)
	}
	// Pinned: changing the generator changes every client's expectation.
	if got := hex.EncodeToString(all[:16]); got != "86da10f0596bda7481354ce5c7120a24" {
		t.Errorf("first 16 bytes %s", got)
	}
	if got := SequenceSHA256(20 << 20); hex.EncodeToString(got[:]) != "962f0cca41951d16ef3e1120660c643cfe88b4b64a64bc663f066da338815faa" {
		t.Errorf("SHA-256 of 20 MiB %x", got)
	}
}
