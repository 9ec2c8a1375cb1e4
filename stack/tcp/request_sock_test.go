package tcp_test

import (
	"bytes"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/tcp"
)

// TestSynAckRetransmit: an unanswered request sock resends its SYN-ACK
// at 1, 3, 7, 15 and 31 s (initial 1 s, doubling: tcp_synack_retries =
// 5) and goes at 63 s; the client's late ACK then gets a RST from the
// listener, as Linux's would.
func TestSynAckRetransmit(t *testing.T) {
	p := newPair(t)
	p.listen(t, 81)
	p.pb.Drop = func(f []byte) bool { return isTCP(f) && header.TCP(f[34:]).DestinationPort() >= 40000 }
	ep := endpoint{port: p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA,
		local: netip.AddrPortFrom(addrB, 81), remote: netip.AddrPortFrom(addrA, 40010)}
	from := len(p.pb.Sent)
	start := p.n.Clock.Now()
	ep.send(rawSeg{seq: 5000, flags: fSYN, win: 65535, opts: []byte{2, 4, 0x05, 0xb4}})
	state := stateAt(p.b.TCP, ep.remote, ep.local)
	p.n.Clock.RunFor(62 * time.Second)
	if st := state(); st != tcp.StateSynRecv {
		t.Fatalf("request at 62 s: %v", st)
	}
	p.n.Clock.RunFor(2 * time.Second)
	if st := state(); st != tcp.StateListen {
		t.Fatalf("request at 64 s: %v, want gone", st)
	}
	var at []time.Duration
	var iss uint32
	for _, f := range p.pb.Sent[from:] {
		th := tcpFrames([]stacktest.Sent{f})
		if len(th) == 1 && th[0].DestinationPort() == 40010 {
			if th[0].Flags() != fSYN|fACK {
				t.Errorf("sent flags %#x", th[0].Flags())
			}
			iss = th[0].SequenceNumber()
			at = append(at, (f.At - start).Round(10*time.Millisecond))
		}
	}
	want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second, 15 * time.Second, 31 * time.Second}
	if len(at) != len(want) {
		t.Fatalf("SYN-ACKs at %v, want %v", at, want)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Errorf("SYN-ACK %d at %v, want %v", i, at[i], want[i])
		}
	}
	from = len(p.pb.Sent)
	ep.send(rawSeg{seq: 5001, ack: iss + 1, flags: fACK})
	p.n.Clock.RunFor(time.Millisecond)
	if k := classify(ep.sentTo(from)); k != replyRST {
		t.Errorf("late ACK: %s, want RST", k)
	}
}

// TestAcceptQueueOverflow: backlog 2 and nobody accepting: two clients
// fill the accept queue, then two connect at once — both get request
// socks, the first ACK makes the queue 3 (sk_acceptq_is_full is
// "more than the backlog"), the second's ACK finds it full: dropped
// (ListenOverflows, ListenDrops), its request kept with the SYN-ACK
// timer; once the others are accepted, the SYN-ACK sent again at 1 s
// brings the client's ACK again and that connection is accepted too.
func TestAcceptQueueOverflow(t *testing.T) {
	p := newPair(t)
	l := tcpSocket(t, p.b)
	if err := l.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 90)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(2); err != nil {
		t.Fatal(err)
	}
	var cls []*socket.Socket
	connect := func(n int) {
		done := 0
		for range n {
			cl := tcpSocket(t, p.a)
			cls = append(cls, cl)
			p.ka.Spawn(0, "connect", func(tk *kernelmodel.Task) {
				if err := cl.Connect(tk, netip.AddrPortFrom(addrB, 90)); err != nil {
					t.Errorf("connect: %v", err)
				}
				done++
			})
		}
		p.n.Clock.RunWhile(func() bool { return done < n }, p.n.Clock.Now()+time.Second)
	}
	connect(1)
	connect(1)
	connect(2)
	p.n.Clock.RunFor(10 * time.Millisecond)
	ext := p.b.TCP.Ext
	if ext.ListenOverflows != 1 || ext.ListenDrops != 1 {
		t.Errorf("ListenOverflows %d ListenDrops %d, want 1 1", ext.ListenOverflows, ext.ListenDrops)
	}
	last := stateAt(p.b.TCP, mustName(t, cls[3]), netip.AddrPortFrom(addrB, 90))
	if st := last(); st != tcp.StateSynRecv {
		t.Fatalf("last request %v, want SYN-RECV", st)
	}
	var accepted []netip.AddrPort
	p.kb.Spawn(0, "accept", func(tk *kernelmodel.Task) {
		for range 4 {
			_, peer, err := l.Accept(tk, 0)
			if err != nil {
				return
			}
			accepted = append(accepted, peer)
		}
	})
	p.n.Clock.RunFor(1500 * time.Millisecond)
	if len(accepted) != 4 || accepted[3] != mustName(t, cls[3]) {
		t.Fatalf("accepted %v", accepted)
	}
	if st := last(); st != tcp.StateEstablished {
		t.Errorf("last connection %v", st)
	}
}

// TestRequestSockRecord: a request sock is a record in the ehash until
// the handshake's ACK. Its SYN-ACK sent again at 1 s is the first one's
// bytes (built from the record); ss shows it as a SYN-RECV line without
// tcp_info; the valid ACK then makes the child, which the listener
// accepts: established, its total_retrans the request's num_retrans,
// PassiveOpens counted, and the SYN queue empty again.
func TestRequestSockRecord(t *testing.T) {
	p := newPair(t)
	l := p.listen(t, 82)
	ep := endpoint{port: p.pb, mac: stacktest.MACB, peerMAC: stacktest.MACA,
		local: netip.AddrPortFrom(addrB, 82), remote: netip.AddrPortFrom(addrA, 40020)}
	p.pb.Drop = func(f []byte) bool { return isTCP(f) && header.TCP(f[34:]).DestinationPort() == 40020 }
	from := len(p.pb.Sent)
	ep.send(rawSeg{seq: 7000, flags: fSYN, win: 65535, opts: []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7}})
	p.n.Clock.RunFor(1500 * time.Millisecond)
	synacks := ep.sentTo(from)
	if len(synacks) != 2 {
		t.Fatalf("%d SYN-ACKs in 1.5 s, want 2", len(synacks))
	}
	a, b := synacks[0][:synacks[0].DataOffset()], synacks[1][:synacks[1].DataOffset()]
	if a.Flags() != fSYN|fACK || a.AckNumber() != 7001 || !bytes.Equal(a, b) {
		t.Errorf("SYN-ACK % x, again % x", []byte(a), []byte(b))
	}
	var ss bytes.Buffer
	if err := p.b.TCP.WriteSS(&ss); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^SYN-RECV +0 +0 +10\.0\.0\.2:82 +10\.0\.0\.1:40020\n`)
	if loc := re.FindStringIndex(ss.String()); loc == nil || strings.HasPrefix(ss.String()[loc[1]:], "\t") {
		t.Errorf("ss -tani:\n%s", ss.String())
	}
	passive := p.b.TCP.MIB.PassiveOpens
	ep.send(rawSeg{seq: 7001, ack: a.SequenceNumber() + 1, flags: fACK, win: 1024})
	var info tcp.Info
	p.run(t, p.kb, time.Second, func(tk *kernelmodel.Task) {
		so, peer, err := l.Accept(tk, 0)
		if err != nil || peer != ep.remote {
			t.Errorf("accept: %v %v", peer, err)
			return
		}
		if info, err = so.TCPInfo(); err != nil {
			t.Error(err)
		}
	})
	if info.State != tcp.StateEstablished || info.TotalRetrans != 1 || info.Options&tcp.TCPIOptWscale == 0 || info.SndWscale != 7 {
		t.Errorf("child: state %v total_retrans %d options %#x snd_wscale %d", info.State, info.TotalRetrans, info.Options, info.SndWscale)
	}
	if d := p.b.TCP.MIB.PassiveOpens - passive; d != 1 {
		t.Errorf("PassiveOpens +%d, want 1", d)
	}
	if n := p.b.TCP.Ext.ListenOverflows; n != 0 {
		t.Errorf("ListenOverflows %d", n)
	}
}
