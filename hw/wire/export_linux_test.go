package wire

// NewFdPortBatch is NewFdPort with the AF_PACKET port's reader (recvmmsg
// batches), for tests of that reader on a socket pair.
func NewFdPortBatch(fd int, name string, cfg PortConfig) (*Port, error) {
	return newPort(fd, name, cfg, readBatch, 0)
}
