// Package tcp is the TCP of the stack, built up from self-contained
// pieces, each after its Linux counterpart in net/ipv4/tcp*.c and named
// so that grepping the Linux name finds it:
//
//	seq.go        before(), after(), between(): sequence space (RFC 9293 3.4)
//	options.go    tcp_parse_options, tcp_fast_parse_options, tcp_syn_options,
//	              tcp_synack_options, tcp_established_options, tcp_options_write
//	              (RFC 9293 3.2, RFC 7323, RFC 2018, RFC 2883), in Linux's order
//	              and layout: <mss,sackOK,TS,nop,wscale> on a SYN
//	rtt.go        tcp_rtt_estimator, tcp_set_rto, tcp_ack_update_rtt,
//	              tcp_rtt_tsopt_us: SRTT/RTTVAR in Linux's fixed point, RTO
//	              1 s initial, SRTT+200 ms minimum, 120 s maximum (RFC 6298)
//	cong.go       struct tcp_congestion_ops, the tcp_cong_list registry,
//	              tcp_slow_start, tcp_cong_avoid_ai (RFC 5681)
//	reno.go       tcp_reno
//	cubic.go      tcp_cubic with HyStart (RFC 9438)
//	sysctl.go     the net.ipv4.tcp_* tunables with Linux 6.1's defaults
//	snmp.go       the Tcp line of /proc/net/snmp and TcpExt of /proc/net/netstat
//	isn.go        secure_tcp_seq, secure_tcpv4_ts_off (RFC 6528) with SipHash-2-4
//	              (siphash.go) under per-stack keys derived from a seed
//	syncookies.go __cookie_v4_init_sequence, __cookie_v4_check,
//	              cookie_init_timestamp, cookie_timestamp_decode (RFC 4987 3.6)
//	sack.go       the RFC 6675 scoreboard: Update, IsLost, SetPipe, NextSeg
//	rack.go       RACK-TLP (RFC 8985): tcp_rack_advance, tcp_rack_detect_loss,
//	              tcp_rack_reo_wnd, the loss probe timeout
//	prr.go        tcp_init_cwnd_reduction, tcp_cwnd_reduction (RFC 6937)
//	minmax.go     lib/win_minmax.c, the windowed min_rtt filter
//	window.go     tcp_select_initial_window, tcp_win_from_space
//	states.go     the TCP states (tcp_states.h) with ss's names
//	validate.go   tcp_validate_incoming's checks: PAWS (tcp_paws_check,
//	              tcp_paws_reject, tcp_disordered_ack, RFC 7323 5),
//	              tcp_sequence, the RST rules and challenge ACK limits of
//	              RFC 5961 (tcp_send_challenge_ack, tcp_oow_rate_limited)
//	delack.go     the delayed ACK engine (icsk_ack): tcp_event_data_recv's ato,
//	              quick-ACK mode, tcp_send_delayed_ack, the delack timer
//	timeout.go    tcp_model_timeout, retransmits_timed_out (tcp_retries2,
//	              tcp_syn_retries)
//	rcvsack.go    the receiver's SACK and D-SACK blocks (tcp_sack_new_ofo_skb,
//	              tcp_sack_remove, tcp_dsack_set/extend; RFC 2018, RFC 2883)
//	rcvwnd.go     tcp_select_window/__tcp_select_window (never shrinking, SWS
//	              avoidance, "win 502" with the defaults), tcp_grow_window
//	output.go     tcp_nagle_test with Minshall's check, tcp_cwnd_test,
//	              tcp_snd_wnd_test, tcp_cwnd_restart after idle
//	timers.go     tcp_probe0_when (zero-window probes), tcp_keepalive_timer
//	info.go       struct tcp_info and its `ss -ti` line
//
// The connection (struct tcp_sock, tcp_v4_rcv and the socket calls) comes
// on top of these once the socket layer exists; until then each piece is a
// plain function or a small struct the connection will hold, driven by its
// caller in virtual time: nothing here reads a clock, every time is passed
// in (Sock.Now, the arguments).
package tcp
