package services

import (
	"io"
	"math/rand/v2"
	"net"
)

// The Character Generator Protocol's pattern (RFC 864): lines of
// ChargenLineChars characters of the 95 printable ASCII characters
// (' ' to '~'), each line starting one character further on than the
// one before, ended by CR LF; after ChargenLines lines it repeats.
const (
	ChargenLineChars = 72
	ChargenLineLen   = ChargenLineChars + 2 // with CR LF
	ChargenLines     = 95                   // the pattern's period in lines
	ChargenPeriod    = ChargenLines * ChargenLineLen
	ChargenMaxUDP    = 512 // the largest UDP reply (RFC 864)
)

// chargenPattern is one period of the TCP stream: the lines starting at
// each of the 95 characters.
var chargenPattern = func() []byte {
	p := make([]byte, 0, ChargenPeriod)
	for l := range ChargenLines {
		for i := range ChargenLineChars {
			p = append(p, ' '+byte((l+i)%95))
		}
		p = append(p, '\r', '\n')
	}
	return p
}()

// ChargenAt fills p with the chargen stream's bytes from offset off (the
// TCP service sends the stream from offset 0).
func ChargenAt(p []byte, off int64) {
	o := int(off % ChargenPeriod)
	for n := 0; n < len(p); {
		c := copy(p[n:], chargenPattern[o:])
		n += c
		o = 0
	}
}

// Chargen is the Character Generator Protocol (RFC 864). On TCP it sends
// the pattern from its first line until the client closes, and throws
// away what the client sends. On UDP it answers each datagram with one of
// a random length of 0 to 512 bytes holding the pattern from a line that
// moves on by one for each reply.
type Chargen struct{ base }

// Serve serves TCP connections from l until Close.
func (s *Chargen) Serve(l net.Listener) error {
	return s.serve(l, func(c net.Conn) {
		go io.Copy(io.Discard, readerOnly{c}) // ends when c is closed
		// Three periods a write: each write starts at the pattern's start.
		buf := make([]byte, 3*ChargenPeriod)
		ChargenAt(buf, 0)
		for {
			if _, err := c.Write(buf); err != nil {
				return // the client closed: the normal end
			}
		}
	})
}

// ServePacket serves UDP datagrams from pc until Close.
func (s *Chargen) ServePacket(pc net.PacketConn) error {
	out := make([]byte, ChargenMaxUDP)
	line := 0 // the next reply's first line
	return s.servePacket(pc, func(_ []byte, from net.Addr) {
		p := out[:rand.IntN(ChargenMaxUDP+1)]
		ChargenAt(p, int64(line)*ChargenLineLen)
		line = (line + 1) % ChargenLines
		s.reply(pc, p, from)
	})
}
