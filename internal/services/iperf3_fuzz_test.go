package services

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// pipeListener is a net.Listener whose connections are net.Pipe ends
// handed to it by dial.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) dial() net.Conn {
	c, s := net.Pipe()
	l.conns <- s
	return c
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{} }

// FuzzIperf3Control feeds the iperf3 server a control connection's bytes
// from a client: whatever they are, the server does not panic, ends the
// test when the client goes away, and is idle again.
func FuzzIperf3Control(f *testing.F) {
	cookie := []byte("abcdefghijklmnopqrstuvwxyz0123456789\x00")
	frame := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	js := func(s string) []byte { return binary.BigEndian.AppendUint32(nil, uint32(len(s))) }
	params := `{"tcp":true,"omit":0,"time":1,"num":0,"blockcount":0,"parallel":1,"len":131072,"client_version":"3.12"}`
	f.Add([]byte{})
	f.Add(cookie)
	f.Add(frame(cookie, js(params), []byte(params)))
	f.Add(frame(cookie, js(params), []byte(params), []byte{iperfTestEnd}))
	f.Add(frame(cookie, []byte{0xff, 0xff, 0xff, 0xff}))
	f.Add(frame(cookie, js(`{"udp":true}`), []byte(`{"udp":true}`)))
	f.Add(frame(cookie, js(`{"tcp":true,"parallel":1e300}`), []byte(`{"tcp":true,"parallel":1e300}`)))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &Iperf3{}
		l := newPipeListener()
		done := make(chan error, 1)
		go func() { done <- s.Serve(l) }()
		c := l.dial()
		go io.Copy(io.Discard, c)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(in)
		c.Close()
		for deadline := time.Now().Add(5 * time.Second); s.busy(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the server still runs the test 5 s after the client closed")
			}
		}
		s.Close()
		if err := <-done; err != nil {
			t.Fatalf("Serve: %v", err)
		}
	})
}
