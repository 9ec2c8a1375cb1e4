package tcp_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// TestWriteSSTable: ss -tani of B with a listener, and of both ends of a
// connection with 3000 bytes sent by A that B has not read: B's line has
// them in Recv-Q; each connection line is followed by its tcp_info.
func TestWriteSSTable(t *testing.T) {
	p := newPair(t)
	cl, _ := p.connected(t, 80)
	p.run(t, p.ka, time.Second, func(tk *kernelmodel.Task) {
		if n, err := cl.Send(tk, make([]byte, 3000), 0); n != 3000 || err != nil {
			t.Errorf("send: %d, %v", n, err)
		}
	})
	p.n.Clock.RunFor(100 * time.Millisecond)
	var b bytes.Buffer
	if err := p.b.TCP.WriteSS(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port$`),
		regexp.MustCompile(`^LISTEN +0 +128 +0\.0\.0\.0:80 +0\.0\.0\.0:\*$`),
		regexp.MustCompile(`^ESTAB +3000 +0 +10\.0\.0\.2:80 +10\.0\.0\.1:\d+$`),
		regexp.MustCompile(`^\tts sack cubic wscale:7,7 rto:\d+ .*bytes_received:3000 `),
	}
	if len(lines) != len(want) {
		t.Fatalf("ss -tani:\n%s", b.String())
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d %q does not match %v", i, lines[i], re)
		}
	}
}
