package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHostVFIONoDevice: --vfio with an address no function has fails at
// once with one clear line and exit status 1, before anything is bound or
// opened. (The path with a device runs inside QEMU: see vmtests.)
func TestHostVFIONoDevice(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"host", "--vfio", "0000:7f:1f.7", "--addr", "10.99.0.2/24"}, &out, &errb)
	msg := errb.String()
	if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "--vfio 0000:7f:1f.7: vfio: no PCI device 0000:7f:1f.7") {
		t.Errorf("exit %d, stderr %q; want 1 and one line naming the missing device", code, msg)
	}
	if strings.Contains(out.String(), "ready") {
		t.Errorf("stdout %q", out.String())
	}
}
