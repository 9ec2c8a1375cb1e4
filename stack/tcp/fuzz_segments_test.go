package tcp_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/tcp"
)

// legalNext is the states a connection may reach from each on the
// segments of a peer (RFC 9293 3.3.2's diagram, the peer's side only:
// no close() of ours); CLOSE includes gone from the hash, after which a
// new SYN may start another request on the tuple.
var legalNext = map[tcp.State][]tcp.State{
	tcp.StateListen:      {tcp.StateListen},
	tcp.StateSynRecv:     {tcp.StateSynRecv, tcp.StateEstablished, tcp.StateCloseWait, tcp.StateClose},
	tcp.StateEstablished: {tcp.StateEstablished, tcp.StateCloseWait, tcp.StateClose},
	tcp.StateCloseWait:   {tcp.StateCloseWait, tcp.StateClose},
	tcp.StateFinWait1:    {tcp.StateFinWait1, tcp.StateFinWait2, tcp.StateClosing, tcp.StateTimeWait, tcp.StateClose},
	tcp.StateFinWait2:    {tcp.StateFinWait2, tcp.StateTimeWait, tcp.StateClose},
	tcp.StateClosing:     {tcp.StateClosing, tcp.StateTimeWait, tcp.StateClose},
	tcp.StateTimeWait:    {tcp.StateTimeWait, tcp.StateClose},
	tcp.StateClose:       {tcp.StateClose, tcp.StateSynRecv},
}

func legal(from, to tcp.State) bool {
	for _, s := range legalNext[from] {
		if s == to {
			return true
		}
	}
	return false
}

// fuzzTarget sets up a connection in one of the states and returns the
// endpoint to attack, its state and what to close at the end.
func fuzzTarget(t *testing.T, p *pair, which byte) (endpoint, func() tcp.State, []*socket.Socket) {
	l := p.listen(t, 80)
	switch which % 5 {
	case 0: // LISTEN
		ep := endpoint{port: p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA,
			local: netip.AddrPortFrom(addrB, 80), remote: netip.AddrPortFrom(addrA, 40020)}
		lc := l.Sk.Priv.(*tcp.Conn)
		return ep, lc.State, []*socket.Socket{l}
	case 1: // SYN_RECV
		ep := endpoint{port: p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA,
			local: netip.AddrPortFrom(addrB, 80), remote: netip.AddrPortFrom(addrA, 40021)}
		p.pb.Drop = func(f []byte) bool { return isTCP(f) } // A would reset the request
		ep.send(rawSeg{seq: 1000, flags: fSYN, win: 65535, opts: []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1}})
		p.n.Clock.RunFor(time.Millisecond)
		return ep, stateAt(p.b.TCP, ep.remote, ep.local), []*socket.Socket{l}
	}
	var srv *socket.Socket
	p.kb.Spawn(0, "accept", func(tk *kernelmodel.Task) { srv, _, _ = l.Accept(tk, 0) })
	cl := tcpSocket(t, p.a)
	p.run(t, p.ka, 5*time.Second, func(tk *kernelmodel.Task) {
		if err := cl.Connect(tk, netip.AddrPortFrom(addrB, 80)); err != nil {
			t.Fatalf("connect: %v", err)
		}
	})
	p.n.Clock.RunFor(10 * time.Millisecond)
	if srv == nil {
		t.Fatal("not accepted")
	}
	me := mustName(t, cl)
	socks := []*socket.Socket{l, cl, srv}
	b := endpoint{port: p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA,
		local: netip.AddrPortFrom(addrB, 80), remote: me}
	a := endpoint{port: p.pa, mac: stacktest.MACA, peerMAC: stacktest.MACB,
		local: me, remote: netip.AddrPortFrom(addrB, 80)}
	switch which % 5 {
	case 2: // ESTABLISHED
		return b, stateAt(p.b.TCP, b.remote, b.local), socks
	case 3: // FIN_WAIT1: B's FIN unacknowledged (A's segments lost)
		p.pa.Drop = func(f []byte) bool { return isTCP(f) }
		srv.Close()
		p.n.Clock.RunFor(time.Millisecond)
		return b, stateAt(p.b.TCP, b.remote, b.local), socks[:2]
	}
	// TIME_WAIT on A, B's RSTs lost.
	cl.Close()
	p.n.Clock.RunFor(10 * time.Millisecond)
	srv.Close()
	p.n.Clock.RunFor(10 * time.Millisecond)
	p.pb.Drop = func(f []byte) bool { return isTCP(f) }
	return a, stateAt(p.a.TCP, a.remote, a.local), socks[:1]
}

// FuzzTCPSegmentsStates (next to fuzz_conn_test.go's FuzzTCPSegments): after its first byte picks the connection's state
// (LISTEN, SYN_RECV, ESTABLISHED, FIN_WAIT1, TIME_WAIT), the input is a
// sequence of segments — flags, seq and ack relative to the connection's
// rcv_nxt and snd_nxt, options bytes, data — forged to it; each must
// leave the connection in a state legal from the one before; nothing
// panics; and once everything is closed and the timers ran out no skb
// is live or misused on either host (SKBAudit).
func FuzzTCPSegmentsStates(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		p := newPair(t)
		p.pa.Record, p.pb.Record = true, true
		ep, st, socks := fuzzTarget(t, p, in[0])
		state := st
		if in[0]%5 != 0 {
			state = func() tcp.State { // the tuple's: the listener's means gone
				if s := st(); s != tcp.StateListen {
					return s
				}
				return tcp.StateClose
			}
		}
		in = in[1:]
		prev := state()
		for n := 0; len(in) >= 7 && n < 64; n++ {
			flags := in[0]
			dseq := int32(int16(binary.BigEndian.Uint16(in[1:])))
			dack := int32(int16(binary.BigEndian.Uint16(in[3:])))
			olen := int(in[5]) % 41
			dlen := int(in[6])
			in = in[7:]
			olen, dlen = min(olen, len(in)), min(dlen, max(len(in)-olen, 0))
			opts := in[:olen]
			data := in[olen : olen+dlen]
			in = in[olen+dlen:]
			s, r := ep.seqs(t)
			seg := rawSeg{seq: r + uint32(dseq<<4), ack: s + uint32(dack<<4), flags: flags, opts: opts, data: data}
			if flags&0x40 != 0 { // ECE stands for "a data offset out of range"
				seg.doff = int(dseq&0xf) * 4
			}
			ep.send(seg)
			// At least the segment's processing (a softirq charged
			// CPU time, so after now) before its state is read.
			p.n.Clock.RunFor(time.Duration(dack&0x3ff)*time.Millisecond + 100*time.Microsecond)
			now := state()
			if !legal(prev, now) {
				t.Fatalf("segment %d (flags %#x): %v → %v", n, flags, prev, now)
			}
			prev = now
		}
		p.pa.Drop, p.pb.Drop = nil, nil
		for _, so := range socks {
			so.Close()
		}
		p.n.Clock.RunFor(200 * time.Second)
		for _, k := range []*kernelmodel.Kernel{p.ka, p.kb} {
			if err := k.SKBAudit(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
