package main

import (
	"strings"
	"syscall"
	"testing"

	"github.com/nicbed/nicbed/internal/netns"
)

// TestHostIntr: --intr picks igb's interrupt type as a platform without
// MSI-X (or without MSI too) would: with MSI-X a vector for the other
// causes and one per queue pair fire; on MSI or INTx one interrupt serves
// everything, and the host still answers Linux's pings.
func TestHostIntr(t *testing.T) {
	for _, tc := range []struct {
		intr    string
		vectors []string
	}{
		{"msix", []string{"eth0", "eth0-TxRx-0", "eth0-TxRx-1"}},
		{"msi", []string{"eth0"}},
		{"intx", []string{"eth0"}},
	} {
		t.Run(tc.intr, func(t *testing.T) {
			ns := netns.New(t, "nbi")
			ns.DumpOnFailure(t)
			ns.IP(t, "tuntap", "add", "dev", "nbitap0", "mode", "tap")
			ns.IP(t, "addr", "add", linuxAddr+"/24", "dev", "nbitap0")
			ns.IP(t, "link", "set", "nbitap0", "up")
			p := startHost(t, ns, "--tap", "nbitap0", "--addr", hostAddr+"/24", "--mac", hostMAC, "--nic", "igb", "--intr", tc.intr)
			ping(t, ns, hostAddr, 56, 3)
			out := p.stop(t, syscall.SIGINT)
			var line string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "interrupts:") {
					line = l
				}
			}
			f := strings.Fields(strings.TrimPrefix(line, "interrupts:"))
			var names []string
			fired := 0
			for i := 0; i+1 < len(f); i += 3 { // NAME COUNT (RATE/s)
				names = append(names, f[i])
				if f[i+1] != "0" {
					fired++
				}
			}
			if strings.Join(names, " ") != strings.Join(tc.vectors, " ") || fired == 0 {
				t.Errorf("--intr %s: %q, want vectors %v and interrupts", tc.intr, line, tc.vectors)
			}
		})
	}
}
