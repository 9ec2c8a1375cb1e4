package wire

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// VnetHdrLen is the size of struct virtio_net_hdr, which precedes every frame
// on a TAP opened with IFF_VNET_HDR (and TUNSETVNETHDRSZ left at its
// default).
const VnetHdrLen = 10

// TapConfig describes a TAP device for OpenTap.
type TapConfig struct {
	// Name is the device's name (IFNAMSIZ-1 bytes at most): it is created
	// if it does not exist, attached to if it does (a persistent TAP made
	// by ip tuntap add; the kernel then takes this call's IFF_VNET_HDR,
	// and refuses a TUN or a device that is no TAP with EINVAL). Empty
	// lets the kernel pick tapN; Port.Name tells which.
	Name string
	// VnetHdr opens the TAP with IFF_VNET_HDR: each frame then comes and
	// goes behind a virtio_net_hdr. The port strips it on receive and
	// writes a zeroed one (no offload) on transmit; no offloads are
	// enabled (TUNSETOFFLOAD), so the kernel sends whole frames with
	// complete checksums either way.
	VnetHdr bool
	// Port configures the port on it.
	Port PortConfig
}

// OpenTap opens /dev/net/tun and creates or attaches a TAP (IFF_TAP |
// IFF_NO_PI, and IFF_VNET_HDR if asked) in the calling thread's network
// namespace, and makes a Port on it. The TAP is Linux's side of a cable
// whose other end is the NIC model: what Linux transmits on it the model
// receives, and the other way round. A TAP the call created (not a
// persistent one) goes away when the port is closed. It needs
// CAP_NET_ADMIN.
func OpenTap(cfg TapConfig) (*Port, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("wire: open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(cfg.Name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("wire: tap %q: %w", cfg.Name, err)
	}
	flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI)
	offset := 0
	if cfg.VnetHdr {
		flags |= unix.IFF_VNET_HDR
		offset = VnetHdrLen
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("wire: TUNSETIFF %q: %w", cfg.Name, err)
	}
	return newPort(fd, ifr.Name(), cfg.Port, readOne, offset)
}
