package tcp

import (
	"testing"
	"time"
)

// TestSipHash checks SipHash-2-4 against the reference vectors (key
// 00..0f, message 00..n-1; the same as OpenSSL's SIPHASH MAC gives).
func TestSipHash(t *testing.T) {
	k := sipKey{0x0706050403020100, 0x0f0e0d0c0b0a0908}
	msg := make([]byte, 16)
	for i := range msg {
		msg[i] = byte(i)
	}
	for _, c := range []struct {
		n    int
		want uint64
	}{
		{0, 0x726fdb47dd0e0e31},
		{8, 0x93f5f5799a932462},
		{12, 0x751e8fbc860ee5fb},
		{15, 0xa129ca6149be45e5},
		{16, 0x3f2acc7f57c29bdb},
	} {
		if got := sipHash24(k, msg[:c.n]); got != c.want {
			t.Errorf("SipHash-2-4 of %d bytes: %#x, want %#x", c.n, got, c.want)
		}
	}
}

var (
	cli = [4]byte{10, 0, 0, 1}
	srv = [4]byte{10, 0, 0, 2}
)

// TestSecureSeq: RFC 6528's ISN = M + F(4-tuple): the clock part advances
// one per 64 ns; another tuple or another stack's secret gives an
// unrelated F; the same seed gives the same ISNs.
func TestSecureSeq(t *testing.T) {
	k := NewSecrets(1)
	now := 10 * time.Second
	isn := k.SecureSeq(cli, srv, 40000, 80, now)
	if got := k.SecureSeq(cli, srv, 40000, 80, now+6400*time.Nanosecond); got-isn != 100 {
		t.Errorf("6.4 µs later the ISN moved by %d, want 100 ticks of 64 ns", got-isn)
	}
	if got := k.SecureSeq(cli, srv, 40000, 80, now+(1<<38)*time.Nanosecond); got != isn {
		t.Errorf("the clock part does not wrap after 2^32 ticks (274 s): %#x vs %#x", got, isn)
	}
	k2 := NewSecrets(1)
	if k2.SecureSeq(cli, srv, 40000, 80, now) != isn {
		t.Error("the same seed gave another ISN")
	}
	seen := map[uint32]string{isn: "base"}
	for name, v := range map[string]uint32{
		"sport":     k.SecureSeq(cli, srv, 40001, 80, now),
		"dport":     k.SecureSeq(cli, srv, 40000, 81, now),
		"saddr":     k.SecureSeq([4]byte{10, 0, 0, 3}, srv, 40000, 80, now),
		"reversed":  k.SecureSeq(srv, cli, 80, 40000, now),
		"other key": func() uint32 { o := NewSecrets(2); return o.SecureSeq(cli, srv, 40000, 80, now) }(),
	} {
		if prev, ok := seen[v]; ok {
			t.Errorf("%s gave the same ISN as %s", name, prev)
		}
		seen[v] = name
	}
	sys := NewSysctl()
	off := k.TSOff(&sys, cli, srv)
	if off == 0 || off == k.TSOff(&sys, cli, [4]byte{10, 0, 0, 9}) {
		t.Errorf("timestamp offsets %#x", off)
	}
	sys.Timestamps = 2
	if k.TSOff(&sys, cli, srv) != 0 {
		t.Error("tcp_timestamps 2 still offsets")
	}
}

func TestSyncookies(t *testing.T) {
	k := NewSecrets(7)
	now := 3600 * time.Second
	const cseq = 0xfffffff0 // the client's ISN, near the wrap
	type syn struct {
		saddr, daddr [4]byte
		sport, dport uint16
	}
	orig := syn{cli, srv, 40000, 80}
	for _, c := range []struct {
		name       string
		mss        uint16
		ack        syn
		seqDelta   uint32 // added to the ACK's seq (cseq+1 when right)
		ackDelta   uint32 // added to the ACK's ack_seq (cookie+1 when right)
		later      time.Duration
		cookieMSS  uint16
		wantChecks uint16
	}{
		{"fresh 1460", 1460, orig, 0, 0, 0, 1460, 1460},
		{"fresh 9000", 9000, orig, 0, 0, 0, 1460, 1460},
		{"1452 rounds down to 1440", 1452, orig, 0, 0, 0, 1440, 1440},
		{"1400 to 1300", 1400, orig, 0, 0, 0, 1300, 1300},
		{"1299 to 536", 1299, orig, 0, 0, 0, 536, 536},
		{"below 536 is 536", 100, orig, 0, 0, 0, 536, 536},
		{"59 s later, same minute", 1460, orig, 0, 0, 59 * time.Second, 1460, 1460},
		{"the next minute", 1460, orig, 0, 0, 119 * time.Second, 1460, 1460},
		{"two minutes on: stale", 1460, orig, 0, 0, 120 * time.Second, 1460, 0},
		{"an hour on: stale", 1460, orig, 0, 0, time.Hour, 1460, 0},
		{"ack_seq tampered", 1460, orig, 0, 1, 0, 1460, 0},
		{"ack_seq top bits tampered", 1460, orig, 0, 1 << 24, 0, 1460, 0},
		{"seq tampered", 1460, orig, 0x1000, 0, 0, 1460, 0},
		{"another source port", 1460, syn{cli, srv, 40001, 80}, 0, 0, 0, 1460, 0},
		{"another source", 1460, syn{[4]byte{10, 0, 0, 3}, srv, 40000, 80}, 0, 0, 0, 1460, 0},
		{"another destination port", 1460, syn{cli, srv, 40000, 443}, 0, 0, 0, 1460, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			cookie, mss := k.CookieV4InitSequence(orig.saddr, orig.daddr, orig.sport, orig.dport, cseq, c.mss, now)
			if mss != c.cookieMSS {
				t.Errorf("cookie MSS %d, want %d", mss, c.cookieMSS)
			}
			a := c.ack
			got := k.CookieV4Check(a.saddr, a.daddr, a.sport, a.dport, cseq+1+c.seqDelta, cookie+1+c.ackDelta, now+c.later)
			if got != c.wantChecks {
				t.Errorf("check gave MSS %d, want %d", got, c.wantChecks)
			}
		})
	}
	cookie, _ := k.CookieV4InitSequence(cli, srv, 40000, 80, cseq, 1460, now)
	other := NewSecrets(8)
	if other.CookieV4Check(cli, srv, 40000, 80, cseq+1, cookie+1, now) != 0 {
		t.Error("another stack's secret took the cookie")
	}
	// The 8-bit minute counter wraps: minute 255's cookie is good in
	// minute 256.
	m255 := 255 * TCPSyncookiePeriod
	cookie, _ = k.CookieV4InitSequence(cli, srv, 40000, 80, cseq, 1460, m255)
	if cookie>>24 == 0 && CookieTime(m255) != 255 {
		t.Fatalf("minute %d", CookieTime(m255))
	}
	if k.CookieV4Check(cli, srv, 40000, 80, cseq+1, cookie+1, m255+TCPSyncookiePeriod) != 1460 {
		t.Error("the cookie of minute 255 failed in minute 256")
	}
	if k.CookieV4Check(cli, srv, 40000, 80, cseq+1, cookie+1, m255+2*TCPSyncookiePeriod) != 0 {
		t.Error("the cookie of minute 255 passed in minute 257")
	}
}

// TestSyncookieForgery: of many guessed cookies none validate (a random
// 32-bit guess passes with probability about 2*4/2^24).
func TestSyncookieForgery(t *testing.T) {
	k := NewSecrets(9)
	now := time.Hour
	pass := 0
	for i := range uint32(20000) {
		if k.CookieV4Check(cli, srv, uint16(1024+i%5000), 80, i*7919, i*2654435761, now) != 0 {
			pass++
		}
	}
	if pass > 1 {
		t.Errorf("%d of 20000 guessed cookies validated", pass)
	}
}

func TestCookieTimestamp(t *testing.T) {
	sys := NewSysctl()
	for _, c := range []struct {
		name     string
		tsNow    uint32
		wscaleOK bool
		wscale   uint8
		sack     bool
		ecn      bool
		want     uint32
	}{
		{"wscale 7 and sack", 1000, true, 7, true, false, 960 | 0x17},
		{"no wscale: 0xf", 1000, false, 0, false, false, 960 | 0xf},
		{"all: above now, one tick of 64 back", 1000, true, 14, true, true, 896 | 0x3e},
		{"exact", 64 + 0x27, true, 7, false, true, 64 + 0x27},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := CookieInitTimestamp(c.tsNow, c.wscaleOK, c.wscale, c.sack, c.ecn)
			if ts != c.want || ts > c.tsNow {
				t.Fatalf("TSval %d (%#x), want %d (%#x), at most %d", ts, ts, c.want, c.want, c.tsNow)
			}
			rx := RxOptions{SawTstamp: true, RcvTSecr: ts, MSSClamp: 1460}
			if !CookieTimestampDecode(&sys, &rx) {
				t.Fatal("decode refused")
			}
			if !rx.TstampOK || rx.SackOK != c.sack || rx.WscaleOK != c.wscaleOK || (c.wscaleOK && rx.SndWscale != c.wscale) {
				t.Errorf("decoded %+v", rx)
			}
			if CookieECNOK(&rx, true) != c.ecn || CookieECNOK(&rx, false) {
				t.Error("ECN bit")
			}
		})
	}
	noSACK := sys
	noSACK.SACK = 0
	rx := RxOptions{SawTstamp: true, RcvTSecr: CookieInitTimestamp(5000, true, 7, true, false)}
	if CookieTimestampDecode(&noSACK, &rx) {
		t.Error("SACK restored with tcp_sack 0")
	}
	noWS := sys
	noWS.WindowScaling = 0
	rx = RxOptions{SawTstamp: true, RcvTSecr: CookieInitTimestamp(5000, true, 7, false, false)}
	if CookieTimestampDecode(&noWS, &rx) {
		t.Error("window scaling restored with tcp_window_scaling 0")
	}
	rx = RxOptions{SackOK: true, WscaleOK: true, MSSClamp: 1300}
	if !CookieTimestampDecode(&sys, &rx) || rx.SackOK || rx.WscaleOK || rx.MSSClamp != 1300 {
		t.Errorf("no timestamp: %+v", rx)
	}
}

func BenchmarkSyncookieCheck(b *testing.B) {
	k := NewSecrets(1)
	cookie, _ := k.CookieV4InitSequence(cli, srv, 40000, 80, 1, 1460, time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if k.CookieV4Check(cli, srv, 40000, 80, 2, cookie+1, time.Hour) != 1460 {
			b.Fatal("bad")
		}
	}
}
