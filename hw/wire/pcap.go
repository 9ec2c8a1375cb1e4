package wire

import (
	"encoding/binary"
	"io"
	"sync"
	"time"
)

// Classic libpcap file format, as described in pcap-savefile(5).
const (
	pcapMagicNanosecond = 0xa1b23c4d // timestamps in seconds and nanoseconds
	pcapVersionMajor    = 2
	pcapVersionMinor    = 4
	// PcapSnaplen is the most bytes of a frame a PcapWriter records.
	PcapSnaplen = 65535
	// LinkTypeEthernet is LINKTYPE_ETHERNET: frames from the destination
	// MAC address on, without FCS.
	LinkTypeEthernet = 1
)

// PcapWriter writes frames to an io.Writer as a classic pcap capture with
// nanosecond timestamps, readable by tcpdump, Wireshark and gopacket. A
// timestamp is the clock time of the frame (time since the clock's epoch),
// so a virtual run starts at 1970-01-01 00:00:00 UTC.
//
// WritePacket allocates nothing. It is safe for concurrent use, so one
// writer may record several cables. The first write error sticks: later
// writes return it without writing.
type PcapWriter struct {
	mu  sync.Mutex
	w   io.Writer
	hdr [16]byte
	err error
}

// NewPcapWriter writes the file header to w and returns a writer for the
// records.
func NewPcapWriter(w io.Writer) (*PcapWriter, error) {
	var h [24]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:], pcapMagicNanosecond)
	le.PutUint16(h[4:], pcapVersionMajor)
	le.PutUint16(h[6:], pcapVersionMinor)
	// thiszone and sigfigs (h[8:16]) are 0.
	le.PutUint32(h[16:], PcapSnaplen)
	le.PutUint32(h[20:], LinkTypeEthernet)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &PcapWriter{w: w}, nil
}

// WritePacket records frame at time ts (negative times are recorded as 0).
// A frame longer than PcapSnaplen is cut to it; the record keeps its original
// length.
func (p *PcapWriter) WritePacket(ts time.Duration, frame []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	ts = max(ts, 0)
	n := min(len(frame), PcapSnaplen)
	le := binary.LittleEndian
	le.PutUint32(p.hdr[0:], uint32(ts/time.Second))
	le.PutUint32(p.hdr[4:], uint32(ts%time.Second))
	le.PutUint32(p.hdr[8:], uint32(n))
	le.PutUint32(p.hdr[12:], uint32(len(frame)))
	if _, p.err = p.w.Write(p.hdr[:]); p.err != nil {
		return p.err
	}
	_, p.err = p.w.Write(frame[:n])
	return p.err
}

// Err is the first write error, if any.
func (p *PcapWriter) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
