package tcp_test

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/tcp"
)

// rawSeg is a TCP segment a test forges: doff 0 means 20 + len(opts).
type rawSeg struct {
	seq, ack uint32
	flags    uint8
	win      uint16
	opts     []byte
	data     []byte
	doff     int
}

// tcpFrame is the Ethernet frame of s from src to dst (to the MAC of the
// host at dst's end of the pair), with a good TCP checksum.
func tcpFrame(src, dst netip.AddrPort, dstMAC, srcMAC [6]byte, s rawSeg) []byte {
	l4 := 20 + len(s.opts) + len(s.data)
	f := make([]byte, 14+20+l4)
	e := header.Ethernet(f)
	e.SetDestination(dstMAC)
	e.SetSource(srcMAC)
	binary.BigEndian.PutUint16(f[12:], header.EtherTypeIPv4)
	ip := header.IPv4(f[14:])
	ip.SetVersionIHL(20)
	ip.SetTotalLength(uint16(20 + l4))
	ip.SetTTL(64)
	ip.SetProtocol(6)
	ip.SetSource(src.Addr().As4())
	ip.SetDestination(dst.Addr().As4())
	ip.SetChecksum(ip.CalculateChecksum())
	th := header.TCP(f[34:])
	th.SetSourcePort(src.Port())
	th.SetDestinationPort(dst.Port())
	th.SetSequenceNumber(s.seq)
	th.SetAckNumber(s.ack)
	doff := s.doff
	if doff == 0 {
		doff = 20 + len(s.opts)
	}
	th.SetDataOffset(doff)
	th.SetFlags(s.flags)
	win := s.win
	if win == 0 {
		win = 502
	}
	th.SetWindowSize(win)
	copy(th[20:], s.opts)
	copy(th[20+len(s.opts):], s.data)
	sa, da := src.Addr().As4(), dst.Addr().As4()
	ph := checksum.PseudoHeaderIPv4(sa[:], da[:], 6, uint16(l4))
	th.SetChecksum(^checksum.Checksum(th[:l4], ph))
	return f
}

// injectFrame hands frame to port's host as its driver would (netif_rx).
func injectFrame(port *stacktest.Port, frame []byte) {
	skb := port.K.AllocSKB(len(frame))
	copy(skb.Put(len(frame)), frame)
	port.K.EthTypeTrans(skb, port.D)
	port.K.NetifRx(skb)
}

// endpoint is one end of a connection under attack: the port its host
// receives on, its address, and the forged peer's.
type endpoint struct {
	port          *stacktest.Port
	mac, peerMAC  [6]byte
	local, remote netip.AddrPort
}

// sentTo is what ep's host sent to remote since frame index from.
func (ep endpoint) sentTo(from int) []header.TCP {
	var out []header.TCP
	for _, th := range tcpFrames(ep.port.Sent[from:]) {
		if th.DestinationPort() == ep.remote.Port() && th.SourcePort() == ep.local.Port() {
			out = append(out, th)
		}
	}
	return out
}

// seqs is (snd_nxt, rcv_nxt) of ep's connection as its last segment to
// remote shows them.
func (ep endpoint) seqs(t *testing.T) (sndNxt, rcvNxt uint32) {
	t.Helper()
	var th header.TCP
	for _, x := range ep.sentTo(0) {
		if x.Flags()&header.TCPFlagRST == 0 {
			th = x
		}
	}
	if th == nil {
		return 0, 0 // a listener: the cases do not need them
	}
	n := th.SequenceNumber() + uint32(len(th)-th.DataOffset())
	if th.Flags()&(header.TCPFlagSYN|header.TCPFlagFIN) != 0 {
		n++
	}
	return n, th.AckNumber()
}

func (ep endpoint) send(s rawSeg) {
	injectFrame(ep.port, tcpFrame(ep.remote, ep.local, ep.mac, ep.peerMAC, s))
}

// The replies a hostile segment may get.
const (
	replyNone   = "none"
	replyRST    = "RST"
	replyACK    = "ACK" // a challenge or duplicate ACK: the counters tell
	replySYNACK = "SYN-ACK"
)

func classify(segs []header.TCP) string {
	if len(segs) == 0 {
		return replyNone
	}
	if len(segs) > 1 {
		return "several"
	}
	switch f := segs[0].Flags(); {
	case f&header.TCPFlagRST != 0:
		return replyRST
	case f&header.TCPFlagSYN != 0 && f&header.TCPFlagACK != 0:
		return replySYNACK
	case f == header.TCPFlagACK && len(segs[0]) == segs[0].DataOffset():
		return replyACK
	}
	return "other"
}

// hostileCase is one forged segment, built from the connection's
// snd_nxt (s) and rcv_nxt (r), with the reply and counter deltas it must
// cause; sameTick sends it without letting the per-connection limit of
// tcp_invalid_ratelimit (500 ms) pass.
type hostileCase struct {
	name     string
	seg      func(s, r uint32) rawSeg
	want     string
	sameTick bool
	counters map[string]uint64
	state    tcp.State // after it, if not the test's
}

const (
	fACK = header.TCPFlagACK
	fSYN = header.TCPFlagSYN
	fRST = header.TCPFlagRST
	fFIN = header.TCPFlagFIN
	fPSH = header.TCPFlagPSH
)

// counter reads a Tcp or TcpExt counter of st by its Linux name.
func counter(st *tcp.Table, name string) uint64 {
	switch name {
	case "InErrs":
		return st.MIB.InErrs
	case "OutRsts":
		return st.MIB.OutRsts
	case "AttemptFails":
		return st.MIB.AttemptFails
	case "TCPChallengeACK":
		return st.Ext.TCPChallengeACK
	case "TCPSYNChallenge":
		return st.Ext.TCPSYNChallenge
	case "TCPACKSkippedSeq":
		return st.Ext.TCPACKSkippedSeq
	case "TCPACKSkippedSynRecv":
		return st.Ext.TCPACKSkippedSynRecv
	case "TCPACKSkippedTimeWait":
		return st.Ext.TCPACKSkippedTimeWait
	case "TCPACKSkippedChallenge":
		return st.Ext.TCPACKSkippedChallenge
	case "EmbryonicRsts":
		return st.Ext.EmbryonicRsts
	case "TCPSynRetrans":
		return st.Ext.TCPSynRetrans
	case "DelayedACKLost":
		return st.Ext.DelayedACKLost
	}
	panic("unknown counter " + name)
}

// runHostile sends each case to ep on stack st and checks the reply and
// the counters; state() must stay want after each.
func runHostile(t *testing.T, p *pair, st *tcp.Table, ep endpoint, cases []hostileCase, state func() tcp.State, want tcp.State) {
	t.Helper()
	for _, c := range cases {
		if !c.sameTick {
			p.n.Clock.RunFor(600 * time.Millisecond)
		}
		s, r := ep.seqs(t)
		before := map[string]uint64{}
		for n := range c.counters {
			before[n] = counter(st, n)
		}
		from := len(ep.port.Sent)
		ep.send(c.seg(s, r))
		p.n.Clock.RunFor(time.Millisecond)
		got := ep.sentTo(from)
		if k := classify(got); k != c.want {
			t.Errorf("%s: reply %s, want %s", c.name, k, c.want)
		} else if k == replyACK && (got[0].SequenceNumber() != s || got[0].AckNumber() != r) {
			t.Errorf("%s: ACK seq %d ack %d, want %d %d", c.name, got[0].SequenceNumber(), got[0].AckNumber(), s, r)
		}
		for n, d := range c.counters {
			if g := counter(st, n) - before[n]; g != d {
				t.Errorf("%s: %s +%d, want +%d", c.name, n, g, d)
			}
		}
		w := want
		if c.state != 0 {
			w = c.state
		}
		if g := state(); g != w {
			t.Fatalf("%s: state %v, want %v", c.name, g, w)
		}
	}
}

// Bad options: a zero option length, one beyond the header, a truncated
// MSS, window scale 200 — parsing stops, nothing else happens.
var badOptions = [][]byte{
	{8, 0, 0, 0}, {8, 40, 1, 1}, {2, 3, 1, 1}, {3, 3, 200, 1}, {1, 1, 1, 5},
}

// TestHostileEstablished: RFC 5961 and malformed segments against an
// ESTABLISHED connection — in-window RST not at rcv_nxt and SYN get a
// challenge ACK (TCPChallengeACK, TCPSYNChallenge; a SYN also out of the
// window, and InErrs as syn_inerr); out-of-window data a
// duplicate ACK, a second within 500 ms none (TCPACKSkippedSeq); an
// out-of-window RST, segments with none of ACK/RST/SYN, an ACK of data
// never sent and bad options nothing; a data offset below 5 is InErrs, one
// beyond the segment dropped — and 1 MB goes each way intact after.
func TestHostileEstablished(t *testing.T) {
	p := newPair(t)
	cl, srv := p.connected(t, 7000)
	ep := endpoint{port: p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA,
		local: netip.AddrPortFrom(addrB, 7000), remote: mustName(t, cl)}
	chal := map[string]uint64{"TCPChallengeACK": 1}
	cases := []hostileCase{
		{"RST in window, not rcv_nxt", func(s, r uint32) rawSeg { return rawSeg{seq: r + 1, ack: s, flags: fRST | fACK} }, replyACK, false, chal, 0},
		{"RST without ACK in window", func(s, r uint32) rawSeg { return rawSeg{seq: r + 1000, flags: fRST} }, replyACK, false, chal, 0},
		{"SYN at rcv_nxt", func(s, r uint32) rawSeg { return rawSeg{seq: r, flags: fSYN} }, replyACK, false, map[string]uint64{"TCPSYNChallenge": 1, "TCPChallengeACK": 1}, 0},
		{"SYN|ACK", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fSYN | fACK} }, replyACK, false, map[string]uint64{"TCPSYNChallenge": 1}, 0},
		{"SYN|FIN", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fSYN | fFIN | fACK} }, replyACK, false, map[string]uint64{"TCPSYNChallenge": 1}, 0},
		{"SYN|RST in window", func(s, r uint32) rawSeg { return rawSeg{seq: r + 1, ack: s, flags: fSYN | fRST} }, replyACK, false, chal, 0},
		{"SYN again, same tick", func(s, r uint32) rawSeg { return rawSeg{seq: r, flags: fSYN} }, replyNone, true, map[string]uint64{"TCPSYNChallenge": 1, "TCPACKSkippedChallenge": 1, "TCPChallengeACK": 0}, 0},
		{"SYN out of window", func(s, r uint32) rawSeg { return rawSeg{seq: r + 1<<30, flags: fSYN} }, replyACK, false, map[string]uint64{"TCPSYNChallenge": 1, "TCPChallengeACK": 1, "InErrs": 1}, 0},
		{"RST out of window", func(s, r uint32) rawSeg { return rawSeg{seq: r + 1<<30, ack: s, flags: fRST | fACK} }, replyNone, false, chal0(), 0},
		{"data out of window", func(s, r uint32) rawSeg {
			return rawSeg{seq: r + 1<<30, ack: s, flags: fACK | fPSH, data: []byte("hostile")}
		}, replyACK, false, map[string]uint64{"TCPChallengeACK": 0, "DelayedACKLost": 1}, 0},
		{"data out of window, same tick", func(s, r uint32) rawSeg {
			return rawSeg{seq: r + 1<<30, ack: s, flags: fACK, data: []byte("hostile")}
		}, replyNone, true, map[string]uint64{"TCPACKSkippedSeq": 1}, 0},
		{"old data", func(s, r uint32) rawSeg { return rawSeg{seq: r - 100000, ack: s, flags: fACK, data: []byte("old")} }, replyACK, false, nil, 0},
		{"no flags, data", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, data: []byte("noflags")} }, replyNone, false, nil, 0},
		{"FIN without ACK", func(s, r uint32) rawSeg { return rawSeg{seq: r, flags: fFIN} }, replyNone, false, nil, 0},
		{"PSH|FIN|URG without ACK", func(s, r uint32) rawSeg {
			return rawSeg{seq: r, flags: fFIN | fPSH | header.TCPFlagURG, data: []byte("x")}
		}, replyNone, false, nil, 0},
		{"ACK of data never sent", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s + 100000, flags: fACK} }, replyNone, false, nil, 0},
		{"data offset 4", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fRST | fACK, doff: 16} }, replyNone, false, map[string]uint64{"InErrs": 1}, 0},
		{"data offset beyond segment", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fRST | fACK, doff: 60} }, replyNone, false, map[string]uint64{"InErrs": 0}, 0},
	}
	for i, o := range badOptions {
		cases = append(cases, hostileCase{"bad options " + string(rune('a'+i)), func(s, r uint32) rawSeg {
			return rawSeg{seq: r, ack: s, flags: fACK, opts: o}
		}, replyNone, false, map[string]uint64{"InErrs": 0}, 0})
	}
	sb := srv.Sk.Priv.(*tcp.Conn)
	runHostile(t, p, p.b.TCP, ep, cases, sb.State, tcp.StateEstablished)
	if i, _ := cl.TCPInfo(); i.State != tcp.StateEstablished {
		t.Fatalf("client %v", i.State)
	}
	p.megabyteEachWay(t, cl, srv, 9)
}

func chal0() map[string]uint64 { return map[string]uint64{"TCPChallengeACK": 0} }

// megabyteEachWay moves 1 MB from A's cl to B's srv and back and checks
// the SHA-256 of each.
func (p *pair) megabyteEachWay(t *testing.T, cl, srv *socket.Socket, seed byte) {
	t.Helper()
	data := pattern(1<<20, seed)
	want := sha256.Sum256(data)
	if got := p.transfer(t, p.ka, p.kb, cl, srv, data, 30*time.Second); got != want {
		t.Error("client to server: SHA-256 differs")
	}
	if got := p.transfer(t, p.kb, p.ka, srv, cl, data, 30*time.Second); got != want {
		t.Error("server to client: SHA-256 differs")
	}
}

// stateAt is the state of what a segment from remote to local reaches
// on st (the listener's once the connection is gone).
func stateAt(st *tcp.Table, remote, local netip.AddrPort) func() tcp.State {
	return func() tcp.State {
		if c := st.Lookup(remote, local); c != nil {
			return c.State()
		}
		return tcp.StateClose
	}
}

// TestHostileListen: a listener answers a bare ACK with a RST, ignores
// RST, SYN|FIN, SYN|RST, FIN and flagless segments, counts a short data
// offset in InErrs, and answers a SYN with bad options with a SYN-ACK.
func TestHostileListen(t *testing.T) {
	p := newPair(t)
	p.listen(t, 81)
	ep := endpoint{port: p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA,
		local: netip.AddrPortFrom(addrB, 81), remote: netip.AddrPortFrom(addrA, 40001)}
	p.pb.Drop = func(f []byte) bool { return isTCP(f) && header.TCP(f[34:]).DestinationPort() >= 40000 }
	none := func(flags uint8) func(s, r uint32) rawSeg {
		return func(s, r uint32) rawSeg { return rawSeg{seq: 1000, ack: 77, flags: flags} }
	}
	cases := []hostileCase{
		{"ACK", none(fACK), replyRST, false, map[string]uint64{"OutRsts": 1}, 0},
		{"RST", none(fRST), replyNone, false, nil, 0},
		{"RST|ACK", none(fRST | fACK), replyNone, false, nil, 0},
		{"SYN|FIN", none(fSYN | fFIN), replyNone, false, nil, 0},
		{"SYN|RST", none(fSYN | fRST), replyNone, false, nil, 0},
		{"FIN", none(fFIN), replyNone, false, nil, 0},
		{"no flags", none(0), replyNone, false, nil, 0},
		{"URG|PSH", none(header.TCPFlagURG | fPSH), replyNone, false, nil, 0},
		{"SYN, data offset 4", func(s, r uint32) rawSeg { return rawSeg{seq: 1000, flags: fSYN, doff: 16} }, replyNone, false, map[string]uint64{"InErrs": 1}, 0},
		{"SYN, bad options", func(s, r uint32) rawSeg { return rawSeg{seq: 1000, flags: fSYN, opts: []byte{8, 0, 2, 4}} }, replySYNACK, false, nil, tcp.StateSynRecv},
	}
	runHostile(t, p, p.b.TCP, ep, cases, stateAt(p.b.TCP, ep.remote, ep.local), tcp.StateListen)
	cl, _ := p.connected(t, 82)
	if i, _ := cl.TCPInfo(); i.State != tcp.StateEstablished {
		t.Errorf("a client after: %v", i.State)
	}
}

// TestHostileSynRecv: a request sock (tcp_check_req) answers its SYN
// again with the SYN-ACK again (once per 500 ms: TCPACKSkippedSynRecv),
// a wrong ACK with a RST and stays, out-of-window data with an ACK, and
// completes on the right ACK even with bad options; an in-window SYN or
// RST ends another request (EmbryonicRsts) — no challenge ACKs.
func TestHostileSynRecv(t *testing.T) {
	p := newPair(t)
	l := p.listen(t, 81)
	p.pb.Drop = func(f []byte) bool { return isTCP(f) && header.TCP(f[34:]).DestinationPort() >= 40000 }
	req := func(port uint16) endpoint {
		ep := endpoint{port: p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA,
			local: netip.AddrPortFrom(addrB, 81), remote: netip.AddrPortFrom(addrA, port)}
		ep.send(rawSeg{seq: 1000, flags: fSYN, win: 65535})
		p.n.Clock.RunFor(time.Millisecond)
		if k := classify(ep.sentTo(0)); k != replySYNACK {
			t.Fatalf("SYN from %d: %s", port, k)
		}
		return ep
	}
	ep := req(40002)
	cases := []hostileCase{
		{"SYN again", func(s, r uint32) rawSeg { return rawSeg{seq: 1000, flags: fSYN} }, replySYNACK, false, map[string]uint64{"TCPSynRetrans": 1}, 0},
		{"SYN again, same tick", func(s, r uint32) rawSeg { return rawSeg{seq: 1000, flags: fSYN} }, replyNone, true, map[string]uint64{"TCPACKSkippedSynRecv": 1}, 0},
		{"ACK of another ISN", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s + 5, flags: fACK} }, replyRST, false, nil, 0},
		{"data out of window", func(s, r uint32) rawSeg { return rawSeg{seq: r + 1<<30, ack: s, flags: fACK, data: []byte("x")} }, replyACK, false, nil, 0},
		{"RST out of window", func(s, r uint32) rawSeg { return rawSeg{seq: r + 1<<30, flags: fRST} }, replyNone, false, nil, 0},
		{"FIN without ACK", func(s, r uint32) rawSeg { return rawSeg{seq: r, flags: fFIN} }, replyNone, false, nil, 0},
		{"no flags", func(s, r uint32) rawSeg { return rawSeg{seq: r, data: []byte("x")} }, replyNone, false, nil, 0},
		{"data offset 4", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fACK, doff: 16} }, replyNone, false, map[string]uint64{"InErrs": 1}, 0},
		{"the ACK, bad options", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fACK, opts: []byte{8, 0, 1, 1}} }, replyNone, false, map[string]uint64{"TCPChallengeACK": 0}, tcp.StateEstablished},
	}
	runHostile(t, p, p.b.TCP, ep, cases, stateAt(p.b.TCP, ep.remote, ep.local), tcp.StateSynRecv)
	var got netip.AddrPort
	p.run(t, p.kb, time.Second, func(tk *kernelmodel.Task) {
		if _, peer, err := l.Accept(tk, 0); err == nil {
			got = peer
		}
	})
	if got != ep.remote {
		t.Errorf("accepted %v, want %v", got, ep.remote)
	}
	for i, kill := range []struct {
		name string
		seg  func(s, r uint32) rawSeg
		want string
	}{
		{"SYN in window", func(s, r uint32) rawSeg { return rawSeg{seq: r + 5, flags: fSYN} }, replyRST},
		{"RST in window", func(s, r uint32) rawSeg { return rawSeg{seq: r + 5, flags: fRST} }, replyNone},
	} {
		ep := req(40003 + uint16(i))
		runHostile(t, p, p.b.TCP, ep, []hostileCase{{kill.name, kill.seg, kill.want, false,
			map[string]uint64{"EmbryonicRsts": 1, "AttemptFails": 1, "TCPChallengeACK": 0}, tcp.StateListen}},
			stateAt(p.b.TCP, ep.remote, ep.local), tcp.StateSynRecv)
	}
}

// TestHostileTimeWait: TIME_WAIT (tcp_timewait_state_process) ignores a
// RST out of window (no blind assassination) and a bare ACK at rcv_nxt,
// ACKs out-of-window data once per 500 ms (TCPACKSkippedTimeWait), and
// ends on a RST at rcv_nxt.
func TestHostileTimeWait(t *testing.T) {
	p := newPair(t)
	cl, srv := p.connected(t, 7001)
	local := mustName(t, cl)
	cl.Close()
	p.n.Clock.RunFor(10 * time.Millisecond)
	srv.Close()
	p.n.Clock.RunFor(10 * time.Millisecond)
	ep := endpoint{port: p.pa, mac: stacktest.MACA, peerMAC: stacktest.MACB,
		local: local, remote: netip.AddrPortFrom(addrB, 7001)}
	// B has forgotten the connection: its RST to A's answers (at A's
	// rcv_nxt) would end TIME_WAIT as Linux's does; the link loses them.
	p.pb.Drop = func(f []byte) bool { return isTCP(f) }
	state := stateAt(p.a.TCP, ep.remote, ep.local)
	if state() != tcp.StateTimeWait {
		t.Fatalf("client %v, want TIME-WAIT", state())
	}
	cases := []hostileCase{
		{"RST out of window", func(s, r uint32) rawSeg { return rawSeg{seq: r + 1<<30, flags: fRST} }, replyNone, false, nil, 0},
		{"RST|ACK old", func(s, r uint32) rawSeg { return rawSeg{seq: r - 10, ack: s, flags: fRST | fACK} }, replyNone, false, nil, 0},
		{"bare ACK at rcv_nxt", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fACK} }, replyNone, false, nil, 0},
		{"data", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fACK, data: []byte("late")} }, replyACK, false, nil, 0},
		{"data, same tick", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fACK, data: []byte("late")} }, replyNone, true, map[string]uint64{"TCPACKSkippedTimeWait": 1}, 0},
		{"FIN again", func(s, r uint32) rawSeg { return rawSeg{seq: r - 1, ack: s, flags: fFIN | fACK} }, replyACK, false, nil, 0},
		{"SYN|ACK", func(s, r uint32) rawSeg { return rawSeg{seq: r + 100, ack: s, flags: fSYN | fACK} }, replyACK, false, nil, 0},
		{"data offset 4", func(s, r uint32) rawSeg { return rawSeg{seq: r, ack: s, flags: fRST, doff: 16} }, replyNone, false, map[string]uint64{"InErrs": 1}, 0},
		{"RST at rcv_nxt", func(s, r uint32) rawSeg { return rawSeg{seq: r, flags: fRST} }, replyNone, false, nil, tcp.StateClose},
	}
	runHostile(t, p, p.a.TCP, ep, cases, state, tcp.StateTimeWait)
}
