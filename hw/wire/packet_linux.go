package wire

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// OpenPacket makes a Port on an existing interface of the calling thread's
// network namespace through an AF_PACKET socket: bound to that one
// interface with ETH_P_ALL, in promiscuous mode (a packet membership, so it
// ends with the socket) since the NIC model's MAC address is not the
// interface's, and with PACKET_IGNORE_OUTGOING so that the port does not
// read back the frames it sends. Frames are read in batches with recvmmsg
// (up to RxBatch a call) and written one per call by the outbox.
//
// A frame larger than MaxFrame (a GRO or GSO aggregate of an interface with
// those offloads on) is counted in RxErrors and dropped; so are partial
// checksums of a peer with checksum offload (a veth) not completed: turn
// the offloads off on the Linux side for a peer that checks them. It needs
// CAP_NET_RAW.
func OpenPacket(iface string, cfg PortConfig) (*Port, error) {
	// Protocol 0 receives nothing until bind names the interface and
	// ETH_P_ALL: no frame of another interface slips in.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("wire: AF_PACKET socket: %w", err)
	}
	fail := func(what string, err error) (*Port, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("wire: %s: %s: %w", iface, what, err)
	}
	ifr, err := unix.NewIfreq(iface)
	if err != nil {
		return fail("name", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return fail("SIOCGIFINDEX", err)
	}
	idx := int(ifr.Uint32())
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return fail("PACKET_IGNORE_OUTGOING", err)
	}
	mr := unix.PacketMreq{Ifindex: int32(idx), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mr); err != nil {
		return fail("PACKET_MR_PROMISC", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: idx}); err != nil {
		return fail("bind", err)
	}
	return newPort(fd, iface, cfg, readBatch, 0)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
