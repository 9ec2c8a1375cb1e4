package wire

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nicbed/nicbed/hw"
)

// Port is a NIC model's wire side on a Linux device: a Link for the model's
// transmit and a reader that delivers to an Endpoint (see PortConfig). Its
// file descriptor is non-blocking and waits in the Go runtime's poller, so
// Close wakes the reader.
//
// Transmit and Attach run on the loop. Stats, Name and Err may be called
// from any goroutine. Close may be called from any goroutine once the loop
// no longer calls Transmit (after Run returned, or from the loop itself).
type Port struct {
	name string
	cfg  PortConfig
	file *os.File
	rc   syscall.RawConn

	ep     Endpoint // loop only
	outbox Outbox
	txFree time.Duration // loop only: when the paced line is free

	// Receive pacing (loop only): frames read wait in rxq, a ring of
	// every buffer, for the line to the endpoint (SpeedBPS).
	rxFree      time.Duration
	rxq         []*rxBuf
	rxHead, rxN int
	rxTimer     hw.Timer

	// Receive. The reader owns the buffers it took from free until it
	// posts them; the loop returns them to free after delivery.
	bufs     []*rxBuf
	free     chan *rxBuf
	discard  []byte // read target when no buffer is free
	offset   int    // bytes before the frame in each read (virtio_net_hdr)
	readFn   func(fd uintptr) bool
	readErr  error // reader only, until readerDone closes
	batch    []*rxBuf
	mmsg     []mmsghdr
	iov      []unix.Iovec
	readDone chan struct{}

	// Transmit (the outbox's goroutine).
	txFrame []byte
	txIov   [2]unix.Iovec
	txHdr   []byte // the zeroed virtio_net_hdr written before each frame
	txErr   error
	writeFn func(fd uintptr) bool

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	rxFrames, rxBytes, rxDroppedInbox, rxNoBuffer, rxNoEndpoint, rxErrors atomic.Uint64
	txFrames, txBytes, txDroppedOutbox, txDroppedDown, txErrors           atomic.Uint64
	lastErr                                                               atomic.Pointer[error]
}

// rxBuf is one receive buffer of the pool with its loop function, made once
// so that posting it allocates nothing.
type rxBuf struct {
	p       *Port
	b       []byte
	n       int
	deliver func()
}

// mmsghdr is struct mmsghdr (recvmmsg(2)).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// reader says how a port reads: one frame per read(2), or batches with
// recvmmsg(2).
type reader int

const (
	readOne reader = iota
	readBatch
)

// NewFdPort makes a Port on fd, a file descriptor that reads and writes one
// frame per call (a TAP without packet information, a bound AF_PACKET
// socket, one end of a SOCK_SEQPACKET socket pair). The port owns fd from
// then on, also when NewFdPort fails. It starts the reader at once.
func NewFdPort(fd int, name string, cfg PortConfig) (*Port, error) {
	return newPort(fd, name, cfg, readOne, 0)
}

func newPort(fd int, name string, cfg PortConfig, how reader, offset int) (*Port, error) {
	if cfg.Clock == nil || cfg.Inbox == nil || cfg.NewOutbox == nil {
		unix.Close(fd)
		return nil, errors.New("wire: a port needs a Clock, an Inbox and NewOutbox")
	}
	if cfg.RxBuffers <= 0 {
		cfg.RxBuffers = DefaultRxBuffers
	}
	if cfg.TxBuffers <= 0 {
		cfg.TxBuffers = DefaultTxBuffers
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("wire: %s: %w", name, err)
	}
	p := &Port{name: name, cfg: cfg, ep: cfg.Endpoint, offset: offset, readDone: make(chan struct{})}
	p.file = os.NewFile(uintptr(fd), name)
	rc, err := p.file.SyscallConn()
	if err != nil {
		p.file.Close()
		return nil, fmt.Errorf("wire: %s: %w", name, err)
	}
	p.rc = rc
	// One byte more than the largest frame, so that a longer one shows
	// as too long instead of being cut silently.
	size := offset + cfg.MaxFrame + 1
	p.free = make(chan *rxBuf, cfg.RxBuffers)
	p.rxq = make([]*rxBuf, cfg.RxBuffers)
	p.rxTimer = cfg.Clock.NewTimer(p.rxPaced)
	for range cfg.RxBuffers {
		b := &rxBuf{p: p, b: make([]byte, size)}
		b.deliver = b.run
		p.bufs = append(p.bufs, b)
		p.free <- b
	}
	p.discard = make([]byte, size)
	switch how {
	case readBatch:
		p.readFn = p.readBatch
		p.batch = make([]*rxBuf, RxBatch)
		p.mmsg = make([]mmsghdr, RxBatch)
		p.iov = make([]unix.Iovec, RxBatch)
	default:
		p.readFn = p.readOne
	}
	if offset > 0 {
		p.txHdr = make([]byte, offset)
	}
	p.writeFn = p.write
	p.outbox = cfg.NewOutbox(cfg.TxBuffers, cfg.MaxFrame, p.send)
	go p.reader()
	return p, nil
}

// Name is the device's name (the TAP's, the interface's).
func (p *Port) Name() string { return p.name }

// Attach makes ep the endpoint of the frames read. Call it before the loop
// runs or from the loop.
func (p *Port) Attach(ep Endpoint) { p.ep = ep }

// Up implements Link: a port is up until Close.
func (p *Port) Up() bool { return !p.closed.Load() }

// Transmit implements Link: frame goes to the outbox (copied), and Transmit
// returns at once.
func (p *Port) Transmit(frame []byte) (time.Duration, bool) {
	now := p.cfg.Clock.Now()
	if p.closed.Load() {
		p.txDroppedDown.Add(1)
		return now, false
	}
	if !p.outbox.Send(frame) {
		p.txDroppedOutbox.Add(1)
		return now, false
	}
	if p.cfg.Pcap != nil {
		p.cfg.Pcap.WritePacket(now, frame)
	}
	if p.cfg.SpeedBPS == 0 {
		return now, true
	}
	p.txFree = max(now, p.txFree) + WireTime(len(frame), p.cfg.SpeedBPS)
	return p.txFree, true
}

// Stats returns the port's counters.
func (p *Port) Stats() PortStats {
	return PortStats{
		RxFrames: p.rxFrames.Load(), RxBytes: p.rxBytes.Load(),
		RxDroppedInbox: p.rxDroppedInbox.Load(), RxNoBuffer: p.rxNoBuffer.Load(),
		RxNoEndpoint: p.rxNoEndpoint.Load(), RxErrors: p.rxErrors.Load(),
		TxFrames: p.txFrames.Load(), TxBytes: p.txBytes.Load(),
		TxDroppedOutbox: p.txDroppedOutbox.Load(), TxDroppedDown: p.txDroppedDown.Load(),
		TxErrors: p.txErrors.Load(),
	}
}

// Err is the last read or write error (nil if none): a read error other
// than EAGAIN and EINTR also ends the reader.
func (p *Port) Err() error {
	if e := p.lastErr.Load(); e != nil {
		return *e
	}
	return nil
}

func (p *Port) setErr(err error) {
	err = fmt.Errorf("wire: %s: %w", p.name, err)
	p.lastErr.Store(&err)
}

// Close stops the port: the outbox writes what it holds and ends, the file
// descriptor is closed, which ends the reader; Close waits for both. A
// TAP that the port created goes away with its descriptor.
func (p *Port) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		p.outbox.Close()
		p.closeErr = p.file.Close()
		<-p.readDone
	})
	return p.closeErr
}

// reader is the reader goroutine: it waits in the poller until the
// descriptor is readable and reads until it would block, until Close.
func (p *Port) reader() {
	defer close(p.readDone)
	for !p.closed.Load() && p.readErr == nil {
		if err := p.rc.Read(p.readFn); err != nil {
			return // closed
		}
	}
}

// run is a buffer's loop function: the frame goes to the endpoint now if
// the line to it is free and nothing waits, else it waits its turn.
func (b *rxBuf) run() {
	p := b.p
	if p.cfg.SpeedBPS == 0 {
		b.deliverNow()
		return
	}
	now := p.cfg.Clock.Now()
	if p.rxN == 0 && p.rxFree <= now {
		p.rxFree = now + WireTime(b.n-p.offset, p.cfg.SpeedBPS)
		b.deliverNow()
		return
	}
	p.rxq[(p.rxHead+p.rxN)%len(p.rxq)] = b
	p.rxN++
	if !p.rxTimer.Pending() {
		p.rxTimer.ResetAt(p.rxFree)
	}
}

// rxPaced is the pacing timer: the frames whose turn has come go to the
// endpoint, each taking the line for its WireTime.
func (p *Port) rxPaced() {
	now := p.cfg.Clock.Now()
	for p.rxN > 0 && p.rxFree <= now {
		b := p.rxq[p.rxHead]
		p.rxq[p.rxHead] = nil
		p.rxHead = (p.rxHead + 1) % len(p.rxq)
		p.rxN--
		p.rxFree += WireTime(b.n-p.offset, p.cfg.SpeedBPS)
		b.deliverNow()
	}
	if p.rxN > 0 {
		p.rxTimer.ResetAt(p.rxFree)
	}
}

// deliverNow delivers the frame and recycles the buffer.
func (b *rxBuf) deliverNow() {
	p := b.p
	frame := b.b[p.offset:b.n]
	if p.ep == nil || p.closed.Load() {
		p.rxNoEndpoint.Add(1)
	} else {
		if p.cfg.Pcap != nil {
			p.cfg.Pcap.WritePacket(p.cfg.Clock.Now(), frame)
		}
		p.ep.Receive(frame)
		p.rxFrames.Add(1)
		p.rxBytes.Add(uint64(len(frame)))
	}
	p.free <- b // never blocks: free holds every buffer
}

// takeBuf returns a free buffer, or nil when every one is waiting for the
// loop.
func (p *Port) takeBuf() *rxBuf {
	select {
	case b := <-p.free:
		return b
	default:
		return nil
	}
}

// post hands a buffer holding n bytes read to the loop.
func (p *Port) post(b *rxBuf, n int, truncated bool) {
	if truncated || n > p.offset+p.cfg.MaxFrame || n < p.offset {
		p.rxErrors.Add(1)
		p.free <- b
		return
	}
	b.n = n
	if p.cfg.Inbox.TryPost(b.deliver) != nil {
		p.rxDroppedInbox.Add(1)
		p.free <- b
	}
}

// What a reader does after a failed read (readErrno).
const (
	readWait  = iota // EAGAIN: wait for the poller
	readRetry        // EINTR, or a passing error (counted): read on
	readStop         // an error that ends the reader (readErr set)
)

// readErrno says what to do after a failed read. Passing errors are those
// a socket reports once and then reads on: the interface went down
// (ENETDOWN, an AF_PACKET socket's sk_err when its device goes down; the
// kernel rebinds the socket when the device comes back up), or memory ran
// short. The reader reads on until EAGAIN, as the poller is edge-triggered.
func (p *Port) readErrno(err error) int {
	switch err {
	case unix.EAGAIN:
		return readWait
	case unix.EINTR:
		return readRetry
	case unix.ENETDOWN, unix.ENXIO, unix.ENOBUFS, unix.ENOMEM:
		p.rxErrors.Add(1)
		p.setErr(err)
		return readRetry
	}
	p.rxErrors.Add(1)
	p.readErr = err
	p.setErr(err)
	return readStop
}

// readOne is the read function of a descriptor read one frame at a time.
func (p *Port) readOne(fd uintptr) bool {
	for {
		b := p.takeBuf()
		buf := p.discard
		if b != nil {
			buf = b.b
		}
		n, err := unix.Read(int(fd), buf)
		if err != nil {
			if b != nil {
				p.free <- b
			}
			if a := p.readErrno(err); a != readRetry {
				return a == readStop
			}
			continue
		}
		if b == nil {
			p.rxNoBuffer.Add(1)
			continue
		}
		p.post(b, n, false)
	}
}

// readBatch is the read function of a socket read with recvmmsg: up to
// RxBatch frames per call, each straight into a pool buffer.
func (p *Port) readBatch(fd uintptr) bool {
	for {
		n := 0
		for n < len(p.batch) {
			b := p.takeBuf()
			if b == nil {
				break
			}
			p.batch[n] = b
			n++
		}
		if n == 0 {
			if _, err := unix.Read(int(fd), p.discard); err != nil {
				if a := p.readErrno(err); a != readRetry {
					return a == readStop
				}
				continue
			}
			p.rxNoBuffer.Add(1)
			continue
		}
		for i := range n {
			p.iov[i].Base = &p.batch[i].b[0]
			p.iov[i].SetLen(len(p.batch[i].b))
			p.mmsg[i] = mmsghdr{hdr: unix.Msghdr{Iov: &p.iov[i], Iovlen: 1}}
		}
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&p.mmsg[0])), uintptr(n), unix.MSG_DONTWAIT, 0, 0)
		got := int(r)
		if e != 0 {
			got = 0
		}
		for i := range n {
			b := p.batch[i]
			p.batch[i] = nil
			if i < got {
				p.post(b, int(p.mmsg[i].len), p.mmsg[i].hdr.Flags&unix.MSG_TRUNC != 0)
			} else {
				p.free <- b
			}
		}
		if e != 0 {
			if a := p.readErrno(e); a != readRetry {
				return a == readStop
			}
		}
	}
}

// send is the outbox's send function: write one frame, waiting in the
// poller while the device cannot take it.
func (p *Port) send(frame []byte) {
	p.txFrame = frame
	p.txErr = nil
	if err := p.rc.Write(p.writeFn); err != nil {
		p.txErr = err
	}
	if p.txErr != nil {
		p.txErrors.Add(1)
		p.setErr(p.txErr)
		return
	}
	p.txFrames.Add(1)
	p.txBytes.Add(uint64(len(frame)))
}

// write is the write function for RawConn.Write.
func (p *Port) write(fd uintptr) bool {
	for {
		var err error
		if p.txHdr == nil {
			_, err = unix.Write(int(fd), p.txFrame)
		} else {
			p.txIov[0].Base = &p.txHdr[0]
			p.txIov[0].SetLen(len(p.txHdr))
			p.txIov[1].Base = unsafe.SliceData(p.txFrame)
			p.txIov[1].SetLen(len(p.txFrame))
			_, _, e := unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&p.txIov[0])), 2)
			if e != 0 {
				err = e
			}
		}
		switch err {
		case nil:
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			p.txErr = err
			return true
		}
	}
}
