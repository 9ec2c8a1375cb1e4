package tcp

import (
	"strings"
	"testing"
	"time"
)

// TestWriteSS: a connection's tcp_info printed as `ss -ti` prints it
// (iproute2 6.1's field order and formats).
func TestWriteSS(t *testing.T) {
	e := NewRTTEstimator()
	e.Estimate(62, 1, 2) // 62 µs over loopback
	e.SetRTO()
	s := NewSock()
	ca, err := NewCongestionControl("cubic", &s)
	if err != nil {
		t.Fatal(err)
	}
	i := Info{State: StateEstablished, Options: TCPIOptTimestamps | TCPIOptSACK | TCPIOptWscale, SndWscale: 7, RcvWscale: 7,
		ATO: 40000, SndMSS: 1448, PMTU: 1500, RcvMSS: 536, AdvMSS: 1448, BytesSent: 100, BytesAcked: 101, SegsOut: 3, SegsIn: 2,
		DataSegsOut: 1, LastDataSent: 1040, LastDataRecv: 1040, LastAckRecv: 1040, PacingRate: 2 * 1448 * 10 * 1000000 / 62,
		DeliveryRate: 12345678, Delivered: 2, DeliveryRateAppLimited: true, BusyTime: 1000, Reordering: 3, RcvSpace: 14480,
		RcvSsthresh: 64088, MinRTT: 62, SndWnd: 64256}
	SetInfoRTT(&i, &e)
	SetInfoCong(&i, &s, ca)
	var b strings.Builder
	if err := i.WriteSS(&b); err != nil {
		t.Fatal(err)
	}
	want := " ts sack cubic wscale:7,7 rto:201 rtt:0.062/0.031 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:10" +
		" bytes_sent:100 bytes_acked:101 segs_out:3 segs_in:2 data_segs_out:1 send 1.87Gbps lastsnd:1040 lastrcv:1040" +
		" lastack:1040 pacing_rate 3.74Gbps delivery_rate 98.8Mbps delivered:2 app_limited busy:1ms rcv_space:14480" +
		" rcv_ssthresh:64088 minrtt:0.062 snd_wnd:64256"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	// Recovery shows its counts; ssthresh once below 0xffff.
	i = Info{SndCwnd: 7, SndSsthresh: 7, Retrans: 1, TotalRetrans: 4, Lost: 1, Sacked: 3, Reordering: 5, Backoff: 2, RTO: 3000000,
		BusyTime: 2000000, RwndLimited: 500000}
	b.Reset()
	i.WriteSS(&b)
	want = " backoff:2 cwnd:7 ssthresh:7 busy:2000ms rwnd_limited:500ms(25.0%) retrans:1/4 lost:1 sacked:3 reordering:5"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if e.RTO != 201*time.Millisecond {
		t.Errorf("rto %v", e.RTO)
	}
}
