package services

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxBytes is the largest N GET /bytes/N serves (1 TiB).
const MaxBytes = 1 << 40

// HTTP is an HTTP/1.1 server (RFC 9110, RFC 9112) of two resources:
//
//   - GET (or HEAD) /bytes/N: N bytes of the sequence (SequenceAt), with
//     Content-Length: N, streamed (the server holds 64 KiB of them at a
//     time, whatever N). N is decimal, 0 to MaxBytes; anything else is
//     400 Bad Request.
//   - PUT or POST /sink: the body is read (streamed) and hashed, and the
//     answer is "<length> <hex SHA-256>\n".
//
// Other paths are 404 Not Found, other methods 405 Method Not Allowed.
type HTTP struct {
	base
	Requests atomic.Uint64 // requests answered

	once sync.Once
	srv  *http.Server
}

func (s *HTTP) server() *http.Server {
	s.once.Do(func() {
		s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	})
	return s.srv
}

// Serve serves HTTP on the connections of l until Close.
func (s *HTTP) Serve(l net.Listener) error {
	srv := s.server()
	if !s.track(l) {
		return nil
	}
	defer s.untrack(l)
	err := srv.Serve(&countingListener{Listener: l, s: &s.Stats})
	if err == http.ErrServerClosed || s.isClosed() {
		return nil
	}
	return err
}

// Close closes the listeners and every connection.
func (s *HTTP) Close() error {
	s.base.Close()
	return s.server().Close()
}

// countingListener counts and wraps the connections it accepts.
type countingListener struct {
	net.Listener
	s *Stats
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.Conns.Add(1)
	return &countingConn{Conn: c, s: l.s}, nil
}

// ServeHTTP is the handler.
func (s *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Requests.Add(1)
	switch {
	case strings.HasPrefix(r.URL.Path, "/bytes/"):
		s.bytes(w, r, strings.TrimPrefix(r.URL.Path, "/bytes/"))
	case r.URL.Path == "/sink":
		s.sink(w, r)
	default:
		s.fail(w, http.StatusNotFound, "no such resource: GET /bytes/N or PUT /sink")
	}
}

// fail answers with an error status and counts it.
func (s *HTTP) fail(w http.ResponseWriter, code int, msg string) {
	s.Errors.Add(1)
	http.Error(w, msg, code)
}

func (s *HTTP) bytes(w http.ResponseWriter, r *http.Request, arg string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, http.StatusMethodNotAllowed, "GET /bytes/N")
		return
	}
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || n < 0 || n > MaxBytes || arg[0] == '+' {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("/bytes/%s: N must be 0 to %d", arg, int64(MaxBytes)))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	buf := make([]byte, 64<<10)
	if _, err := io.CopyBuffer(writerOnly{w}, NewSequence(n), buf); err != nil {
		s.Errors.Add(1) // the client went away
	}
}

func (s *HTTP) sink(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		w.Header().Set("Allow", "PUT, POST")
		s.fail(w, http.StatusMethodNotAllowed, "PUT or POST /sink")
		return
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, readerOnly{r.Body}, make([]byte, 64<<10))
	if err != nil {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("reading the body: %v", err))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "%d %s\n", n, hex.EncodeToString(h.Sum(nil)))
}
