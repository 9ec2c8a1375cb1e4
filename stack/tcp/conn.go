package tcp

import (
	"encoding/binary"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/socket"
)

// TCP header flags.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagPSH = 0x08
	flagACK = 0x10
	flagURG = 0x20
)

// maxTCPHeader is MAX_TCP_HEADER: the headroom of a segment's skb for the
// TCP header with options, IP and Ethernet.
const maxTCPHeader = 128

// TCPTimewaitLen is TCP_TIMEWAIT_LEN: 60 s in TIME_WAIT.
const TCPTimewaitLen = 60 * time.Second

// skbCB is TCP_SKB_CB(skb), kept in skb.CB: the sequence range, the
// flags, and for a sent skb its transmit time and state.
type skbCB struct {
	seq, endSeq uint32
	flags       uint8 // tcp_flags
	sacked      uint8 // TCPCB_* bits
	pcount      uint8 // tcp_skb_pcount: the segments of a TSO/GSO skb (0 until sent)
	when        time.Duration
}

// The TCPCB_* bits of skbCB.sacked.
const (
	tcpcbRetrans  = 0x10 // TCPCB_RETRANS: retransmitted
	tcpcbEverRetr = 0x80 // TCPCB_EVER_RETRANS
	tcpcbInflight = 0x01 // counted in packets_out (the model's own bit)
)

func getCB(skb *kernelmodel.SKB) skbCB {
	b := skb.CB[:]
	return skbCB{
		seq: binary.LittleEndian.Uint32(b[0:]), endSeq: binary.LittleEndian.Uint32(b[4:]),
		flags: b[8], sacked: b[9], pcount: b[10], when: time.Duration(binary.LittleEndian.Uint64(b[16:])),
	}
}

func setCB(skb *kernelmodel.SKB, cb skbCB) {
	b := skb.CB[:]
	binary.LittleEndian.PutUint32(b[0:], cb.seq)
	binary.LittleEndian.PutUint32(b[4:], cb.endSeq)
	b[8], b[9], b[10] = cb.flags, cb.sacked, cb.pcount
	binary.LittleEndian.PutUint64(b[16:], uint64(cb.when))
}

// ssState is struct socket's state (SS_UNCONNECTED, SS_CONNECTING,
// SS_CONNECTED) that inet_stream_connect keeps.
type ssState uint8

const (
	ssUnconnected ssState = iota
	ssConnecting
	ssConnected
)

// Conn is a struct tcp_sock (with its inet_connection_sock): one
// connection, a listener, a request sock in SYN_RECV or a TIME_WAIT
// sock.
type Conn struct {
	t     *Table
	sk    *socket.Sock
	so    *socket.Socket // the socket of a child until accept
	state State
	ss    ssState
	done_ bool // SOCK_DONE: the connection ran and ended

	key       fourTuple
	hashed    bool // in the ehash
	bound     bool // in the bhash
	listening bool // in the lhash

	// Listener: the accept queue (icsk_accept_queue) and the SYN queue's
	// length; a child's parent until accept.
	acceptQ    []*Conn
	synQLen    int
	maxBacklog int
	parent     *Conn
	// Listener: when it last answered with a SYN cookie
	// (tcp_synq_overflow), and whether it said so (synflood_warned).
	synqOverflowAt time.Duration
	synFloodWarned bool

	// Send sequence space (RFC 9293 3.3.1).
	iss, sndUna, sndNxt, sndMax uint32
	sndWnd, sndWl1, maxWindow   uint32
	writeSeq, pushedSeq         uint32
	highSeq                     uint32 // high_seq: snd_nxt at the start of recovery/loss
	mssCache, advMSS            uint32
	wq                          socket.Queue     // sk_write_queue + tcp_rtx_queue, in order
	sendHead                    *kernelmodel.SKB // tcp_send_head: the first unsent
	wmemQueued                  int              // sk_wmem_queued
	packetsOut, retransOut      uint32
	dupAcks                     int
	rec                         recovery // SACK scoreboard counters, RACK, PRR (recovery.go)
	retransmits                 int      // icsk_retransmits
	retransStamp                uint32   // retrans_stamp (ms)
	totalRetrans                uint32
	nonagle                     int
	sml                         SendState

	// Receive sequence space.
	irs, rcvNxt, copiedSeq uint32
	rw                     RcvWindow
	rcvQueued              int // bytes on the receive queue not yet read
	rcvq                   rcvqSpace
	rcvTruesize            int // truesize of the last full segment received
	ofo                    socket.Queue
	rsack                  RcvSACK // the SACK and D-SACK blocks we send
	lastOOW                uint32

	rx       RxOptions
	paws     PAWS
	tsOffset uint32

	rtt    RTTEstimator
	cong   Sock
	ca     CongestionOps
	delack DelAck

	rtxTimer, delackTimer, swTimer kernelmodel.TimerList
	probeTimer                     kernelmodel.TimerList // the zero-window probe timer (ICSK_TIME_PROBE0)
	probesOut                      int                   // icsk_probes_out
	probeBackoff                   uint8                 // icsk_backoff of the probe timer
	rcvTstamp                      time.Duration         // rcv_tstamp: when an ACK last came
	keepalive                      Keepalive
	userMSS                        int

	bytesAcked, bytesReceived uint64
	segsOut, segsIn           uint32
	rt                        ipv4.Rtable
	haveRoute                 bool
}

// newConn is tcp_init_sock: the state of a new socket.
func newConn(t *Table, sk *socket.Sock) *Conn {
	c := &Conn{t: t, sk: sk, state: StateClose, rtt: NewRTTEstimator(), cong: NewSock()}
	c.rec.rack = NewRACK()
	c.cong.MIB = &t.Ext
	c.mssCache = TCPMSSDefault
	c.delack = NewDelAck(TCPMSSDefault)
	sk.Priv = c
	k := t.K
	k.TimerSetup(&c.rtxTimer, func(*kernelmodel.TimerList) { c.writeTimer() })
	k.TimerSetup(&c.delackTimer, func(*kernelmodel.TimerList) { c.delackTimerHandler() })
	k.TimerSetup(&c.swTimer, func(*kernelmodel.TimerList) { c.keepaliveTimer() })
	k.TimerSetup(&c.probeTimer, func(*kernelmodel.TimerList) { c.probeTimerHandler() })
	return c
}

// State is the connection's state.
func (c *Conn) State() State { return c.state }

// Sock is the connection's struct sock.
func (c *Conn) Sock() *socket.Sock { return c.sk }

// now is tcp_mstamp: the kernel's clock.
func (c *Conn) now() time.Duration { return c.t.K.Now() }

// tsNow is tcp_time_stamp_raw: the millisecond timestamp clock, without
// the connection's offset.
func (c *Conn) tsNow() uint32 { return uint32(c.now() / time.Millisecond) }

// setState is tcp_set_state: sk_state follows; CLOSE unhashes and
// releases the port (unless bind locked it).
func (c *Conn) setState(st State) {
	old := c.state
	c.state = st
	c.sk.State = int(st)
	if st == StateClose {
		if old == StateCloseWait || old == StateEstablished {
			// tcp_set_state counts the reset in tcp_reset.
		}
		c.t.unhash(c)
		if c.sk.Userlocks&sockBindPortLock == 0 || c.sk.Dead {
			c.t.putPort(c)
		}
	}
}

// stateChange is sk_state_change (sock_def_wakeup): every waiter woken.
func (c *Conn) stateChange() {
	if !c.sk.Dead {
		c.sk.Wq.WakeUpAll()
	}
}

// clearTimers is tcp_clear_xmit_timers.
func (c *Conn) clearTimers() {
	k := c.t.K
	k.DelTimer(&c.rtxTimer)
	k.DelTimer(&c.delackTimer)
	k.DelTimer(&c.swTimer)
	k.DelTimer(&c.probeTimer)
	c.delack.Pending = 0
}

// purgeQueues is tcp_write_queue_purge and the out-of-order queue's purge.
func (c *Conn) purgeQueues() {
	k := c.t.K
	for skb := c.wq.Dequeue(); skb != nil; skb = c.wq.Dequeue() {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
	}
	c.sendHead = nil
	c.wmemQueued = 0
	c.packetsOut, c.retransOut = 0, 0
	c.rec.sackedOut, c.rec.lostOut = 0, 0
	for skb := c.ofo.Dequeue(); skb != nil; skb = c.ofo.Dequeue() {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
	}
}

// done is tcp_done: CLOSE, timers stopped, queues purged, waiters woken.
func (c *Conn) done() {
	if c.state == StateSynSent || c.state == StateSynRecv {
		c.t.MIB.AttemptFails++
	}
	c.setState(StateClose)
	c.clearTimers()
	c.purgeQueues()
	c.sk.Shutdown = socket.SHUTDOWN_MASK
	c.done_ = true
	if c.parent != nil && c.so != nil {
		c.parent.synQLen--
		c.parent = nil
	}
	c.stateChange()
}

// Info is tcp_get_info: the connection's struct tcp_info.
func (c *Conn) Info() Info {
	var i Info
	i.State = c.state
	i.CAState = c.cong.CAState
	i.Retransmits = uint8(c.retransmits)
	SetInfoRTT(&i, &c.rtt)
	if c.ca != nil {
		SetInfoCong(&i, &c.cong, c.ca)
	} else {
		i.SndCwnd, i.SndSsthresh = c.cong.SndCwnd, c.cong.SndSsthresh
	}
	if c.rx.TstampOK {
		i.Options |= TCPIOptTimestamps
	}
	if c.rx.SackOK {
		i.Options |= TCPIOptSACK
	}
	if c.rx.WscaleOK {
		i.Options |= TCPIOptWscale
		i.SndWscale, i.RcvWscale = c.rx.SndWscale, c.rw.RcvWscale
	}
	i.ATO = uint32(c.delack.ATO / time.Microsecond)
	i.SndMSS, i.RcvMSS = c.mssCache, c.delack.RcvMSS
	i.Unacked = c.packetsOut
	i.Retrans = c.retransOut
	i.PMTU = uint32(c.rt.MTU)
	i.RcvSsthresh = c.rw.RcvSsthresh
	i.AdvMSS = c.advMSS
	i.Reordering = uint32(c.t.Sysctl.Reordering)
	i.TotalRetrans = c.totalRetrans
	i.BytesAcked, i.BytesReceived = c.bytesAcked, c.bytesReceived
	i.SegsOut, i.SegsIn = c.segsOut, c.segsIn
	i.NotsentBytes = c.writeSeq - c.sndNxt
	i.SndWnd = c.sndWnd
	return i
}
