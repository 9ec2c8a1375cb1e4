package services

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHTTPCurl: Linux's curl GETs 20 MB and PUTs 20 MB; the bytes are
// the sequence's (by SHA-256, computed without the server) and the sink's
// answer is the file's length and SHA-256; bad requests get their status.
func TestHTTPCurl(t *testing.T) {
	curl := tool(t, "curl")
	s := &HTTP{}
	url := "http://" + listen(t, s)
	dir := t.TempDir()
	const n = 20 << 20

	got := filepath.Join(dir, "got")
	if out, err := exec.Command(curl, "-sS", "--fail", "-o", got, url+fmt.Sprintf("/bytes/%d", n)).CombinedOutput(); err != nil {
		t.Fatalf("curl GET: %v: %s", err, out)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != n || sha256.Sum256(b) != SequenceSHA256(n) {
		t.Errorf("GET /bytes/%d: %d bytes, SHA-256 %x, want %x", n, len(b), sha256.Sum256(b), SequenceSHA256(n))
	}

	put := filepath.Join(dir, "put")
	body := make([]byte, n)
	SequenceAt(body, 12345)
	if err := os.WriteFile(put, body, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	want := fmt.Sprintf("%d %s\n", n, hex.EncodeToString(sum[:]))
	for _, method := range []string{"PUT", "POST"} {
		args := []string{"-sS", "--fail", "-X", method, "--data-binary", "@" + put, url + "/sink"}
		if method == "PUT" {
			args = []string{"-sS", "--fail", "-T", put, url + "/sink"}
		}
		out, err := exec.Command(curl, args...).CombinedOutput()
		if err != nil || string(out) != want {
			t.Errorf("curl %s /sink: %v: %q, want %q", method, err, out, want)
		}
	}

	for _, c := range []struct {
		args []string
		code string
	}{
		{[]string{url + "/bytes/0"}, "200"},
		{[]string{url + "/bytes/-1"}, "400"},
		{[]string{url + "/bytes/x"}, "400"},
		{[]string{url + "/bytes/"}, "400"},
		{[]string{url + "/bytes/99999999999999999999"}, "400"},
		{[]string{url + "/"}, "404"},
		{[]string{url + "/sinks"}, "404"},
		{[]string{"-X", "DELETE", url + "/sink"}, "405"},
		{[]string{"-X", "PUT", url + "/bytes/3"}, "405"},
	} {
		args := append([]string{"-sS", "-o", "/dev/null", "-w", "%{http_code}"}, c.args...)
		out, err := exec.Command(curl, args...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != c.code {
			t.Errorf("curl %v: %v: %q, want %s", c.args, err, out, c.code)
		}
	}
	if out, err := exec.Command(curl, "-sS", "-I", url+"/bytes/12345").CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "HTTP/1.1 200 OK") || !strings.Contains(string(out), "Content-Length: 12345") {
		t.Errorf("curl -I /bytes/12345: %v: %q, want 200 and Content-Length: 12345", err, out)
	}
	if s.Requests.Load() != 3+9+1 || s.Errors.Load() != 8 {
		t.Errorf("requests %d, errors %d; want 13 and 8 (the 4xx answers)", s.Requests.Load(), s.Errors.Load())
	}
	if in, out := s.BytesIn.Load(), s.BytesOut.Load(); in < 2*n || out < n || in > 2*n+1<<16 || out > n+1<<16 {
		t.Errorf("bytes in %d, out %d: want 2×%d and %d with the headers", in, out, n, n)
	}
}
