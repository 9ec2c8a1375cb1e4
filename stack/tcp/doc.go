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
//	tcpinfo/      struct tcp_info and its `ss -ti` line, the TCP states
//	              (tcp_states.h) with ss's names, enum tcp_ca_state; info.go
//	              re-exports them (Info, State, CAState) and fills tcp_info
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
//
// The connection is built on these pieces:
//
//	table.go      tcp_hashinfo: the ehash (4-tuple), bhash (ports in use,
//	              inet_csk_get_port, inet_csk_bind_conflict with SO_REUSEADDR)
//	              and listening hash; inet_hash_connect's ephemeral ports;
//	              __inet_lookup; New (tcp_v4_init), WriteSNMP, WriteNetstat
//	conn.go       struct tcp_sock (Conn), TCP_SKB_CB in skb.CB, tcp_set_state,
//	              tcp_done, tcp_get_info
//	input.go      tcp_v4_rcv (checksum, lookup), tcp_v4_do_rcv,
//	              tcp_rcv_state_process, tcp_rcv_synsent_state_process,
//	              tcp_rcv_established (slow path only), tcp_validate_incoming,
//	              tcp_ack with tcp_clean_rtx_queue, NewReno fast retransmit,
//	              tcp_data_queue with the out-of-order queue, tcp_fin,
//	              tcp_timewait_state_process, tcp_conn_request, tcp_reset
//	xmit.go       __tcp_transmit_skb (GSO skbs with CHECKSUM_PARTIAL when the
//	              route's device has NETIF_F_GSO: tcp_xmit_size_goal,
//	              tcp_tso_autosize, tso_fragment), tcp_write_xmit, tcp_send_ack,
//	              tcp_send_fin, tcp_connect, tcp_v4_send_reset,
//	              tcp_retransmit_skb, tcp_retransmit_timer, the delayed ACK
//	              timer, tcp_time_wait, tcp_sync_mss, tcp_sndbuf_expand
//	recovery.go   the sender's SACK loss recovery on these pieces:
//	              tcp_sacktag_write_queue (tcp_check_dsack,
//	              tcp_is_sackblock_valid), sacked_out/lost_out and
//	              tcp_packets_in_flight, tcp_fastretrans_alert with RACK
//	              (tcp_rack_mark_lost, tcp_rack_reo_timeout), PRR,
//	              tcp_xmit_retransmit_queue, tcp_timeout_mark_lost;
//	              NewReno stays for peers without SACK
//	recovery_tlp.go  the tail loss probe (tcp_early_retrans=3):
//	              tcp_schedule_loss_probe, tcp_send_loss_probe,
//	              tcp_process_tlp_ack
//	probe.go      tcp_check_probe_timer, tcp_probe_timer, tcp_write_wakeup,
//	              tcp_xmit_probe_skb, tcp_fragment (zero-window probes);
//	              tcp_set_keepalive, tcp_keepalive_timer
//	rcvbuf.go     tcp_rcv_space_adjust (receive buffer autotuning),
//	              tcp_rcv_rtt_measure_ts, tcp_init_buffer_space
//	sockops.go    tcp_prot and inet_stream_ops: bind, tcp_v4_connect with
//	              inet_stream_connect, listen, inet_csk_accept, tcp_sendmsg,
//	              tcp_recvmsg, tcp_cleanup_rbuf, tcp_poll, tcp_ioctl,
//	              tcp_shutdown, tcp_close, do_tcp_setsockopt/getsockopt
//	request_sock.go  request_sock (requestSock) in the ehash: inet_reqsk_alloc,
//	              inet_csk_reqsk_queue_hash_add, reqsk_timer_handler,
//	              inet_rtx_syn_ack, tcp_check_req, tcp_v4_syn_recv_sock
//	              (tcp_create_openreq_child), tcp_v4_reqsk_send_ack
//	syncookies_conn.go  tcp_syn_flood_action, the want_cookie SYN-ACK,
//	              cookie_v4_check (tcp_v4_cookie_check)
//
// Every call runs on the kernel model's loop (softirq, timers and tasks
// take turns), so nothing locks; timers are kernelmodel.TimerLists in
// jiffies; the clock is the kernel's (Conn.now).
//
// The receiver sends SACK and D-SACK blocks (rcvsack.go) when SACK was
// negotiated.
//
// Deviations (for now): the request sock's SYN-ACKs and ACKs are sent
// from a scratch child built from the record (tcp_make_synack's bytes,
// not its allocation-free path); a TIME_WAIT sock is the Conn itself; no header-prediction
// fast path; after an RTO the segments sent before it are resent as cwnd
// allows (Linux marks them lost: the same segments go); no SACK-based
// recovery on the sending side (SACK blocks received are not used),
// RACK, PRR in the connection yet (the pieces above
// exist); no ICMP errors to TCP.
package tcp
