package socket

import (
	"syscall"
	"time"
)

// Option levels and names (asm-generic/socket.h, linux/in.h), Linux's
// values.
const (
	SOL_SOCKET = 1
	SOL_IP     = 0
	SOL_UDP    = 17
	SOL_RAW    = 255

	SO_REUSEADDR   = 2
	SO_TYPE        = 3
	SO_ERROR       = 4
	SO_BROADCAST   = 6
	SO_SNDBUF      = 7
	SO_RCVBUF      = 8
	SO_RCVTIMEO    = 20
	SO_SNDTIMEO    = 21
	SO_SNDBUFFORCE = 32
	SO_RCVBUFFORCE = 33
	SO_PROTOCOL    = 38
	SO_DOMAIN      = 39

	IP_TOS          = 1
	IP_TTL          = 2
	IP_HDRINCL      = 3
	IP_MTU_DISCOVER = 10
	IP_RECVERR      = 11
)

// SetSockOpt is setsockopt(2) with an int value. SO_RCVTIMEO and
// SO_SNDTIMEO take microseconds here (struct timeval flattened; 0 is
// forever).
func (s *Socket) SetSockOpt(level, name, val int) error {
	if s.closed {
		return syscall.EBADF
	}
	sk := s.Sk
	switch level {
	case SOL_SOCKET:
		return sk.setSockOptSocket(name, val)
	case SOL_IP:
		return sk.setSockOptIP(name, val)
	}
	return sk.Proto.SetSockOpt(sk, level, name, val)
}

// setSockOptSocket is sock_setsockopt().
func (sk *Sock) setSockOptSocket(name, val int) error {
	switch name {
	case SO_REUSEADDR:
		sk.Reuse = val != 0
	case SO_BROADCAST:
		sk.Broadcast = val != 0
	case SO_KEEPALIVE:
		sk.Keepalive = val != 0
		if ka, ok := sk.Proto.(keepaliveSetter); ok {
			ka.SetKeepalive(sk, val != 0)
		}
	case SO_SNDBUF, SO_SNDBUFFORCE:
		// The value is taken as u32 against wmem_max: a negative one is
		// wmem_max (FORCE ignores the limit, as with CAP_NET_ADMIN).
		v := uint64(uint32(val))
		if name == SO_SNDBUF {
			v = min(v, uint64(sk.Core.WmemMax))
		}
		sk.setSndbuf(int(min(v, 1<<30)))
	case SO_RCVBUF, SO_RCVBUFFORCE:
		v := uint64(uint32(val))
		if name == SO_RCVBUF {
			v = min(v, uint64(sk.Core.RmemMax))
		}
		sk.setRcvbuf(int(min(v, 1<<30)))
	case SO_RCVTIMEO:
		if val < 0 {
			return syscall.EDOM
		}
		sk.RcvTimeo = time.Duration(val) * time.Microsecond
	case SO_SNDTIMEO:
		if val < 0 {
			return syscall.EDOM
		}
		sk.SndTimeo = time.Duration(val) * time.Microsecond
	case SO_TYPE, SO_ERROR, SO_PROTOCOL, SO_DOMAIN:
		return syscall.ENOPROTOOPT
	default:
		return syscall.ENOPROTOOPT
	}
	return nil
}

// setRcvbuf is __sock_set_rcvbuf(): doubled (for the skb overhead), at
// least SOCK_MIN_RCVBUF, locked against autotuning.
func (sk *Sock) setRcvbuf(val int) {
	sk.Userlocks |= SOCK_RCVBUF_LOCK
	sk.Rcvbuf = max(val*2, SOCK_MIN_RCVBUF)
}

// setSndbuf is sock_setsockopt's SO_SNDBUF: doubled, at least
// SOCK_MIN_SNDBUF, and sk_write_space called.
func (sk *Sock) setSndbuf(val int) {
	sk.Userlocks |= SOCK_SNDBUF_LOCK
	sk.Sndbuf = max(val*2, SOCK_MIN_SNDBUF)
	sk.WriteSpace(sk)
}

// setSockOptIP is do_ip_setsockopt().
func (sk *Sock) setSockOptIP(name, val int) error {
	switch name {
	case IP_TTL:
		if val != -1 && (val < 1 || val > 255) {
			return syscall.EINVAL
		}
		sk.UcTTL = val
	case IP_TOS:
		if sk.Type == SOCK_STREAM {
			val = val&^3 | int(sk.TOS&3) // the ECN bits stay TCP's
		}
		sk.TOS = uint8(val)
	case IP_HDRINCL:
		if sk.Type != SOCK_RAW {
			return syscall.ENOPROTOOPT
		}
		sk.Hdrincl = val != 0
	case IP_RECVERR:
		sk.RecvErr = val != 0
	case IP_MTU_DISCOVER:
		if val < IP_PMTUDISC_DONT || val > 5 {
			return syscall.EINVAL
		}
		sk.PMTUDisc = val
	default:
		return syscall.ENOPROTOOPT
	}
	return nil
}

// GetSockOpt is getsockopt(2) with an int value.
func (s *Socket) GetSockOpt(level, name int) (int, error) {
	if s.closed {
		return 0, syscall.EBADF
	}
	sk := s.Sk
	switch level {
	case SOL_SOCKET:
		return sk.getSockOptSocket(name)
	case SOL_IP:
		return sk.getSockOptIP(name)
	}
	return sk.Proto.GetSockOpt(sk, level, name)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// getSockOptSocket is sk_getsockopt().
func (sk *Sock) getSockOptSocket(name int) (int, error) {
	switch name {
	case SO_REUSEADDR:
		return b2i(sk.Reuse), nil
	case SO_BROADCAST:
		return b2i(sk.Broadcast), nil
	case SO_KEEPALIVE:
		return b2i(sk.Keepalive), nil
	case SO_LINGER:
		return b2i(sk.Linger), nil
	case SO_SNDBUF:
		return sk.Sndbuf, nil
	case SO_RCVBUF:
		return sk.Rcvbuf, nil
	case SO_TYPE:
		return sk.Type, nil
	case SO_PROTOCOL:
		return sk.Protocol, nil
	case SO_DOMAIN:
		return sk.Family, nil
	case SO_ERROR:
		// sock_error(), or the soft error, cleared.
		v := sk.Err
		if v == 0 {
			v, sk.ErrSoft = sk.ErrSoft, 0
		}
		sk.Err = 0
		return v, nil
	case SO_RCVTIMEO:
		return int(sk.RcvTimeo / time.Microsecond), nil
	case SO_SNDTIMEO:
		return int(sk.SndTimeo / time.Microsecond), nil
	}
	return 0, syscall.ENOPROTOOPT
}

// keepaliveSetter is a Proto with keepalive timers (tcp_set_keepalive).
type keepaliveSetter interface{ SetKeepalive(sk *Sock, on bool) }

// ttlSource is a Proto that knows its stack's ip_default_ttl, for
// IP_TTL's getsockopt on a socket without its own.
type ttlSource interface{ DefaultTTL() int }

// getSockOptIP is do_ip_getsockopt().
func (sk *Sock) getSockOptIP(name int) (int, error) {
	switch name {
	case IP_TTL:
		if sk.UcTTL == -1 {
			if d, ok := sk.Proto.(ttlSource); ok {
				return d.DefaultTTL(), nil
			}
			return 64, nil
		}
		return sk.UcTTL, nil
	case IP_TOS:
		return int(sk.TOS), nil
	case IP_HDRINCL:
		return b2i(sk.Hdrincl), nil
	case IP_RECVERR:
		return b2i(sk.RecvErr), nil
	case IP_MTU_DISCOVER:
		return sk.PMTUDisc, nil
	}
	return 0, syscall.ENOPROTOOPT
}
