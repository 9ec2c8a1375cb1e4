package vmrun

import (
	"strings"
	"testing"
	"time"
)

// The guest's console as nicbed guest prints it (with kernel lines and the
// progress rows before the results) is read into the rows of the final
// table, the verdict and the times.
func TestScanConsole(t *testing.T) {
	console := strings.Join([]string{
		"[    3.1] virtio_net virtio0 eth0: renamed",
		"nicbed guest: up at 3.5s of uptime",
		"nicbed host: ready: e1000 eth0 52:54:00:76:00:02 192.168.76.2/24 on vfio 0000:00:03.0",
		"nicbed check: ping -s 56             FAIL    1.2s  progress row, not the table",
		"nicbed guest: first frame at 7.25s of uptime",
		"nicbed guest: results",
		"nicbed check: nicbed ready           ok      2.1s  vfio 0000:00:03.0",
		"nicbed check: ping -s 56             ok      1.2s  3/3 replies",
		"nicbed check: http GET /bytes        FAIL   10.5s  4 bytes sha256 00",
		"nicbed guest: FAIL (1 of 3 checks failed)",
		"[    9.0] reboot: Power down",
	}, "\r\n") + "\r\n"
	var res Result
	res.scan(strings.NewReader(console), time.Now(), nil)
	if res.Pass || res.Verdict != "nicbed guest: FAIL (1 of 3 checks failed)" {
		t.Errorf("verdict %q pass %v", res.Verdict, res.Pass)
	}
	if len(res.Rows) != 3 {
		t.Fatalf("rows %+v, want the 3 of the table", res.Rows)
	}
	want := []Row{
		{"nicbed ready", true, "2.1s", "vfio 0000:00:03.0"},
		{"ping -s 56", true, "1.2s", "3/3 replies"},
		{"http GET /bytes", false, "10.5s", "4 bytes sha256 00"},
	}
	for i, w := range want {
		if res.Rows[i] != w {
			t.Errorf("row %d = %+v, want %+v", i, res.Rows[i], w)
		}
	}
	if r, ok := res.Row("ping -s 56"); !ok || !r.OK {
		t.Errorf("Row(ping -s 56) = %+v, %v", r, ok)
	}
	if res.GuestFirstFrame != 7250*time.Millisecond || res.FirstFrame <= 0 || res.Ready <= 0 {
		t.Errorf("first frame %v (guest %v), ready %v", res.FirstFrame, res.GuestFirstFrame, res.Ready)
	}
}

func TestFnsRejectsUnknownNIC(t *testing.T) {
	if _, err := Fns(Config{NIC: "rtl8139"}); err == nil || !strings.Contains(err.Error(), "want e1000 or igb") {
		t.Errorf("Fns(rtl8139) = %v", err)
	}
}

// The command line has what VFIO in the guest needs (q35, the emulated
// IOMMU and intel_iommu=on), the NIC at slot 3 and the peer on its hub, and
// the guest's arguments.
func TestCmdline(t *testing.T) {
	argv, err := Cmdline(Config{NIC: "igb", Kernel: "/k", Image: "/i", Check: true})
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Join(argv, " ")
	for _, want := range []string{"-M q35", "intel-iommu,intremap=on", "igb,netdev=n0,addr=03.0", "virtio-net-pci,netdev=n1,addr=04.0",
		"hubport,id=n0,hubid=0", "hubport,id=n1,hubid=0", "-kernel /k", "-initrd /i", "intel_iommu=on", `uroot.uinitargs="guest --nic igb --check"`} {
		if !strings.Contains(line, want) {
			t.Errorf("command line lacks %q:\n%s", want, line)
		}
	}
}
