// Package tcpinfo is struct tcp_info (include/uapi/linux/tcp.h), the TCP
// states (tcp_states.h) and the CA states (enum tcp_ca_state), with the
// `ss -ti` line: what the socket layer reports of a TCP connection
// (getsockopt TCP_INFO) without importing the TCP package, which imports
// it. Package tcp re-exports each name (tcp.Info, tcp.State, ...).
package tcpinfo
