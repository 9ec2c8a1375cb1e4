package main

import (
	"bytes"
	"strings"
	"testing"
)

// nicbed vm and nicbed guest reject bad flags with exit status 2 and one
// line that names the flag; guest refuses to run outside its image.
func TestVMGuestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"vm", "--nic", "rtl8139"}, 2, `--nic "rtl8139": want e1000 or igb`},
		{[]string{"vm", "--nic", "igb", "--cpus", "0"}, 2, "--cpus 1 to 8"},
		{[]string{"vm", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"guest", "--addr", "10.0.0.2/24"}, 2, "--peer"},
		{[]string{"guest", "--nic", "ne2000"}, 2, `--nic "ne2000"`},
		{[]string{"guest", "--bytes", "0"}, 2, "--bytes 0"},
		{[]string{"guest"}, 1, "runs only as the uinit of the image"},
		{[]string{"guest", "--intr", "msi-x"}, 2, `--intr "msi-x"`},
		{[]string{"vm", "--nic", "e1000", "--intr", "msix"}, 2, "INTx only"},
		{[]string{"host", "--nic", "e1000", "--tap", "t0", "--addr", "10.0.0.2/24", "--intr", "msi"}, 2, "INTx only"},
		{[]string{"host", "--nic", "igb", "--tap", "t0", "--addr", "10.0.0.2/24", "--intr", "legacy"}, 2, "want auto, msix, msi or intx"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("nicbed %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, errb.String(), tc.code, tc.want)
		}
	}
	var out bytes.Buffer
	if code := run([]string{"vm", "--help"}, &out, &out); code != 0 || !strings.Contains(out.String(), "Ctrl-A X") || !strings.Contains(out.String(), "-check") {
		t.Errorf("vm --help: exit %d:\n%s", code, out.String())
	}
}
