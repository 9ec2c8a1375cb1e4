package services

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The iperf3 control protocol's facts (iperf3 3.x, src/iperf_api.h and
// src/iperf.h): the states are single signed bytes on the control
// connection, the parameters and results 4-byte big-endian lengths and
// then JSON, the cookie 36 characters of a UUID and a NUL.
const (
	iperfCookieSize = 37

	iperfTestStart       = 1
	iperfTestRunning     = 2
	iperfTestEnd         = 4
	iperfParamExchange   = 9
	iperfCreateStreams   = 10
	iperfServerTerminate = 11
	iperfClientTerminate = 12
	iperfExchangeResults = 13
	iperfDisplayResults  = 14
	iperfDone            = 16
	iperfAccessDenied    = -1
	iperfServerError     = -2

	// iperf3's i_errno values the server sends with SERVER_ERROR.
	iperfIEStreamListen = 202 // "unable to start stream listener"
	iperfIEUnimp        = 13  // "an option you are trying to set is not implemented yet"

	iperfDefaultBlksize = 128 << 10 // DEFAULT_TCP_BLKSIZE
	iperfMaxBlksize     = 16 << 20
	iperfMaxStreams     = 128 // iperf3's limit on -P
	iperfMaxJSON        = 1 << 20

	// iperfSetupTimeout bounds each step of setting a test up (the
	// cookie, the parameters, the streams' connects, the results).
	iperfSetupTimeout = 10 * time.Second
	// iperfGrace is what a timed test may run past its -t and -O before
	// the server gives up on the client's TEST_END: iperf3's server
	// timer, 4 s of round trip for each of 10 state changes.
	iperfGrace = 40 * time.Second
	// iperfDrainIdle and iperfDrainMax bound how long receiving streams
	// read after TEST_END (drain).
	iperfDrainIdle = 50 * time.Millisecond
	iperfDrainMax  = 2 * time.Second
)

// Iperf3 is a server for the iperf3 3.x client's TCP tests (iperf3 -c
// ADDR -p PORT): one test at a time, forward (the client sends) or
// reverse (-R: the server sends) or both (--bidir), with -P parallel
// streams, -t seconds or -n bytes, -l block size, -O omitted seconds and
// --get-server-output. A second client while a test runs is told
// ACCESS_DENIED, as iperf3 -s does; a UDP or SCTP test is refused with
// SERVER_ERROR ("unable to start stream listener: Protocol not
// supported" on the client).
//
// Stats count the test connections (control and data) in Conns and the
// data streams' bytes in BytesIn and BytesOut.
type Iperf3 struct {
	base
	Tests  atomic.Uint64 // tests run to their end (IPERF_DONE)
	Denied atomic.Uint64 // connections refused with ACCESS_DENIED

	tmu sync.Mutex
	cur *iperfTest // the test being set up or run, nil when idle
}

// iperfParams are the parameters the client sends (send_parameters()).
// Numbers are float64: cJSON writes what it holds as a double (a -1 in
// an unsigned field comes as 18446744073709551615).
type iperfParams struct {
	TCP             bool    `json:"tcp"`
	UDP             bool    `json:"udp"`
	SCTP            bool    `json:"sctp"`
	Omit            float64 `json:"omit"`
	Time            float64 `json:"time"`
	Num             float64 `json:"num"`
	Blockcount      float64 `json:"blockcount"`
	Parallel        float64 `json:"parallel"`
	Reverse         bool    `json:"reverse"`
	Bidirectional   bool    `json:"bidirectional"`
	Window          float64 `json:"window"`
	Len             float64 `json:"len"`
	Bandwidth       float64 `json:"bandwidth"`
	NoDelay         bool    `json:"nodelay"`
	GetServerOutput float64 `json:"get_server_output"`
	ClientVersion   string  `json:"client_version"`
}

// iperfStreamResult is one stream in the results (send_results()).
type iperfStreamResult struct {
	ID          int     `json:"id"`
	Bytes       uint64  `json:"bytes"`
	Retransmits int     `json:"retransmits"`
	Jitter      float64 `json:"jitter"`
	Errors      int     `json:"errors"`
	Packets     int     `json:"packets"`
	StartTime   float64 `json:"start_time"`
	EndTime     float64 `json:"end_time"`
}

type iperfResults struct {
	CPUUtilTotal         float64             `json:"cpu_util_total"`
	CPUUtilUser          float64             `json:"cpu_util_user"`
	CPUUtilSystem        float64             `json:"cpu_util_system"`
	SenderHasRetransmits int                 `json:"sender_has_retransmits"`
	Streams              []iperfStreamResult `json:"streams"`
	ServerOutputText     string              `json:"server_output_text,omitempty"`
}

// iperfTest is one test: its control connection and streams.
type iperfTest struct {
	ctrl   net.Conn
	cookie [iperfCookieSize]byte
	p      iperfParams
	// From p, checked.
	parallel, blksize int

	mu        sync.Mutex
	accepting bool // in CREATE_STREAMS: connections are its streams
	streams   []*iperfStream
	want      int           // streams to accept: receivers first, then senders
	all       chan struct{} // closed when want streams are in

	running   atomic.Bool
	ending    atomic.Bool // TEST_END came: receivers drain (drain)
	drainEnd  time.Time   // set before ending
	rwg       sync.WaitGroup
	omitUntil time.Time
	start     time.Time
	wg        sync.WaitGroup
}

type iperfStream struct {
	c      net.Conn
	id     int
	sender bool   // the server sends on it (-R, or --bidir's second half)
	bytes  uint64 // counted while running and past -O (atomically)
}

// Serve serves iperf3 clients on l until Close.
func (s *Iperf3) Serve(l net.Listener) error {
	return s.loop(l, func() error {
		c, err := s.accept(l)
		if err != nil {
			return err
		}
		s.tmu.Lock()
		t := s.cur
		switch {
		case t == nil:
			// Idle: a new test's control connection (iperf_accept()).
			t = &iperfTest{ctrl: c, all: make(chan struct{})}
			s.cur = t
			s.tmu.Unlock()
			s.spawn(c, func(net.Conn) {
				s.run(t)
				s.tmu.Lock()
				s.cur = nil
				s.tmu.Unlock()
			})
		case t.isAccepting():
			s.tmu.Unlock()
			s.acceptStream(t, c) // in order: stream ids follow connects
		default:
			s.tmu.Unlock()
			s.deny(c)
		}
		return nil
	})
}

// deny tells a client the server is busy (ACCESS_DENIED) and closes.
func (s *Iperf3) deny(c net.Conn) {
	s.Denied.Add(1)
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write([]byte{byte(iperfAccessDenied & 0xff)})
	c.Close()
}

func (t *iperfTest) isAccepting() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.accepting
}

// acceptStream is iperf_tcp_accept(): a data connection sends the test's
// cookie first; one with another cookie, or one too many, is denied.
func (s *Iperf3) acceptStream(t *iperfTest, c net.Conn) {
	var cookie [iperfCookieSize]byte
	c.SetReadDeadline(time.Now().Add(iperfSetupTimeout))
	if _, err := io.ReadFull(c, cookie[:]); err != nil {
		s.Errors.Add(1)
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	t.mu.Lock()
	ok := t.accepting && cookie == t.cookie && len(t.streams) < t.want
	if ok {
		nrecv := t.parallel
		if t.p.Reverse {
			nrecv = 0
		}
		sp := &iperfStream{c: c, id: iperfStreamID(len(t.streams)), sender: len(t.streams) >= nrecv}
		t.streams = append(t.streams, sp)
		if len(t.streams) == t.want {
			t.accepting = false
			close(t.all)
		}
	}
	t.mu.Unlock()
	if !ok {
		s.deny(c)
		return
	}
	if !s.track(c) {
		return
	}
	if t.p.NoDelay {
		if nd, ok := c.(interface{ SetNoDelay(bool) error }); ok {
			nd.SetNoDelay(true)
		}
	}
	if w := int(t.p.Window); w > 0 {
		if b, ok := c.(interface {
			SetReadBuffer(int) error
			SetWriteBuffer(int) error
		}); ok {
			b.SetReadBuffer(w)
			b.SetWriteBuffer(w)
		}
	}
}

// iperfStreamID is the id iperf_add_stream() gives the i-th stream: 1,
// then 3, 4, 5 ... (iperf3 skips 2, and keeps doing so for compatibility).
func iperfStreamID(i int) int {
	if i == 0 {
		return 1
	}
	return i + 2
}

// iperfError is a test that failed on the server's side: the i_errno and
// errno to send the client with SERVER_ERROR, if any.
type iperfError struct {
	ierrno int32
	errno  syscall.Errno
	msg    string
}

func (e *iperfError) Error() string { return e.msg }

// run is one test from the control connection's cookie to IPERF_DONE
// (iperf_run_server() and iperf_handle_message_server()).
func (s *Iperf3) run(t *iperfTest) {
	err := s.runTest(t)
	t.closeStreams()
	t.wg.Wait()
	var ie *iperfError
	if errors.As(err, &ie) && ie.ierrno != 0 {
		var b [9]byte
		b[0] = byte(iperfServerError & 0xff)
		binary.BigEndian.PutUint32(b[1:], uint32(ie.ierrno))
		binary.BigEndian.PutUint32(b[5:], uint32(ie.errno))
		t.ctrl.SetWriteDeadline(time.Now().Add(time.Second))
		t.ctrl.Write(b[:])
	}
	if err != nil {
		s.Errors.Add(1)
		return
	}
	s.Tests.Add(1)
}

func (s *Iperf3) runTest(t *iperfTest) error {
	c := t.ctrl
	c.SetDeadline(time.Now().Add(iperfSetupTimeout))
	if _, err := io.ReadFull(c, t.cookie[:]); err != nil {
		return fmt.Errorf("cookie: %w", err)
	}
	if err := iperfState(c, iperfParamExchange); err != nil {
		return err
	}
	if err := readJSON(c, &t.p); err != nil {
		return fmt.Errorf("parameters: %w", err)
	}
	p := &t.p
	parallel, blksize := int(p.Parallel), int(p.Len)
	switch {
	case p.UDP || p.SCTP || !p.TCP:
		return &iperfError{iperfIEStreamListen, syscall.EPROTONOSUPPORT, "iperf3: only TCP tests are served"}
	case parallel < 1 || parallel > iperfMaxStreams:
		return &iperfError{iperfIEUnimp, 0, fmt.Sprintf("iperf3: %v parallel streams", p.Parallel)}
	case blksize < 0 || blksize > iperfMaxBlksize:
		return &iperfError{iperfIEUnimp, 0, fmt.Sprintf("iperf3: block size %v", p.Len)}
	}
	if blksize == 0 {
		blksize = iperfDefaultBlksize
	}
	t.parallel, t.blksize = parallel, blksize
	if p.Bidirectional {
		p.Reverse = false
	}
	t.mu.Lock()
	t.want = parallel
	if p.Bidirectional {
		t.want *= 2
	}
	t.accepting = true
	t.mu.Unlock()
	if err := iperfState(c, iperfCreateStreams); err != nil {
		return err
	}
	// The client's next state (TEST_END, or its going away) is read from
	// now on, so a client that closes while its streams are awaited ends
	// the test at once (IECTRLCLOSE on iperf3 -s).
	var st [1]byte
	next := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(c, st[:])
		next <- err
	}()
	select {
	case <-t.all:
	case err := <-next:
		if err == nil {
			err = fmt.Errorf("state %d", int8(st[0]))
		}
		return fmt.Errorf("iperf3: the client, while its streams were awaited: %w", err)
	case <-time.After(iperfSetupTimeout):
		return errors.New("iperf3: the client did not connect its streams")
	}

	// TEST_START, TEST_RUNNING: the streams run.
	t.start = time.Now()
	t.omitUntil = t.start.Add(time.Duration(p.Omit * float64(time.Second)))
	t.running.Store(true)
	if err := iperfState(c, iperfTestStart); err != nil {
		return err
	}
	for _, sp := range t.streams {
		t.wg.Add(1)
		if !sp.sender {
			t.rwg.Add(1)
		}
		go s.stream(t, sp)
	}
	if err := iperfState(c, iperfTestRunning); err != nil {
		return err
	}
	c.SetDeadline(time.Time{})
	if p.Time > 0 {
		c.SetReadDeadline(t.start.Add(time.Duration((p.Time+p.Omit)*float64(time.Second)) + iperfGrace))
	}
	if err := <-next; err != nil {
		return fmt.Errorf("iperf3: waiting for TEST_END: %w", err)
	}
	switch int8(st[0]) {
	case iperfTestEnd:
	case iperfClientTerminate:
		return errors.New("iperf3: the client terminated the test")
	default:
		return fmt.Errorf("iperf3: state %d while running", int8(st[0]))
	}
	end := time.Now()
	t.drain()
	t.running.Store(false)
	t.closeStreams()
	t.wg.Wait()

	// EXCHANGE_RESULTS: the client's, then ours; DISPLAY_RESULTS.
	c.SetDeadline(time.Now().Add(iperfSetupTimeout))
	if err := iperfState(c, iperfExchangeResults); err != nil {
		return err
	}
	var theirs any // checked as JSON; the client prints both sides
	if err := readJSON(c, &theirs); err != nil {
		return fmt.Errorf("iperf3: the client's results: %w", err)
	}
	if err := writeJSON(c, t.results(end)); err != nil {
		return err
	}
	if err := iperfState(c, iperfDisplayResults); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, st[:]); err != nil {
		return fmt.Errorf("iperf3: waiting for IPERF_DONE: %w", err)
	}
	if int8(st[0]) != iperfDone {
		return fmt.Errorf("iperf3: state %d after DISPLAY_RESULTS", int8(st[0]))
	}
	return nil
}

// stream moves one stream's data until the test ends and closes it
// (iperf_tcp_recv(), iperf_tcp_send()): what moves while running and
// after -O counts in the results; every byte counts in Stats.
// Blocking writes of the whole block stand for iperf3's non-blocking ones.
func (s *Iperf3) stream(t *iperfTest, sp *iperfStream) {
	defer t.wg.Done()
	if !sp.sender {
		defer t.rwg.Done()
	}
	buf := make([]byte, t.blksize)
	if sp.sender {
		SequenceAt(buf, 0)
	}
	for {
		var n int
		var err error
		if sp.sender {
			n, err = sp.c.Write(buf)
			s.BytesOut.Add(uint64(n))
		} else {
			n, err = sp.c.Read(buf)
			s.BytesIn.Add(uint64(n))
		}
		// A receiver counts while running, as iperf_tcp_recv() does. A
		// sender counts what its writes return, also the write that the
		// end cut short: the client may have read part of it while it
		// still ran, and the sender's count must not fall below that.
		if (sp.sender || t.running.Load()) && !time.Now().Before(t.omitUntil) {
			atomic.AddUint64(&sp.bytes, uint64(n))
		}
		if err != nil {
			return
		}
		if !sp.sender && t.ending.Load() {
			d := time.Now().Add(iperfDrainIdle)
			if d.After(t.drainEnd) {
				d = t.drainEnd
			}
			sp.c.SetReadDeadline(d)
		}
	}
}

// drain lets the receiving streams read, after TEST_END, what the client
// wrote before it: what is in flight or in their receive queues, until
// none has had anything for iperfDrainIdle (iperfDrainMax at most).
// iperf3 -s closes them at once and loses it; over a slow link that is
// much, and the client's count and the server's would differ by it.
func (t *iperfTest) drain() {
	now := time.Now()
	t.drainEnd = now.Add(iperfDrainMax)
	t.ending.Store(true)
	for _, sp := range t.streams {
		if !sp.sender {
			sp.c.SetReadDeadline(now.Add(iperfDrainIdle))
		}
	}
	t.rwg.Wait()
}

func (t *iperfTest) closeStreams() {
	t.mu.Lock()
	t.accepting = false
	streams := t.streams
	t.mu.Unlock()
	for _, sp := range streams {
		sp.c.Close()
	}
}

// results are the server's results (send_results()): each stream's bytes,
// sent or received.
func (t *iperfTest) results(end time.Time) *iperfResults {
	r := &iperfResults{SenderHasRetransmits: -1}
	if t.p.Reverse || t.p.Bidirectional {
		r.SenderHasRetransmits = 0 // no TCP_INFO through net.Conn
	}
	secs := end.Sub(t.omitUntil).Seconds() // -O's seconds do not count, as iperf_reset_stats() has it
	var sent, rcvd uint64
	for _, sp := range t.streams {
		b := atomic.LoadUint64(&sp.bytes)
		if sp.sender {
			sent += b
		} else {
			rcvd += b
		}
		r.Streams = append(r.Streams, iperfStreamResult{ID: sp.id, Bytes: b, Retransmits: -1, EndTime: secs})
	}
	if t.p.GetServerOutput != 0 {
		r.ServerOutputText = fmt.Sprintf("nicbed iperf3 server: %d streams, %.2f s, %d bytes received, %d bytes sent\n", len(t.streams), secs, rcvd, sent)
	}
	return r
}

// iperfState is iperf_set_send_state(): one state byte.
func iperfState(c net.Conn, state int8) error {
	if _, err := c.Write([]byte{byte(state)}); err != nil {
		return fmt.Errorf("iperf3: sending state %d: %w", state, err)
	}
	return nil
}

// readJSON is JSON_read(): a 4-byte big-endian length and that much JSON.
func readJSON(c net.Conn, v any) error {
	var l [4]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(l[:])
	if n > iperfMaxJSON {
		return fmt.Errorf("%d bytes of JSON", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// writeJSON is JSON_write().
func writeJSON(c net.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var msg bytes.Buffer
	binary.Write(&msg, binary.BigEndian, uint32(len(b)))
	msg.Write(b)
	_, err = c.Write(msg.Bytes())
	return err
}

// Close ends the server: a test that runs is told SERVER_TERMINATE, as
// iperf3 -s tells its client when it is killed.
func (s *Iperf3) Close() error {
	s.tmu.Lock()
	if t := s.cur; t != nil {
		t.ctrl.SetWriteDeadline(time.Now().Add(time.Second))
		iperfState(t.ctrl, iperfServerTerminate)
	}
	s.tmu.Unlock()
	return s.base.Close()
}

// runningNow says whether a test is in TEST_RUNNING (for tests).
func (s *Iperf3) runningNow() bool {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	return s.cur != nil && s.cur.running.Load()
}

// busy says whether a test is being set up or run.
func (s *Iperf3) busy() bool {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	return s.cur != nil
}
