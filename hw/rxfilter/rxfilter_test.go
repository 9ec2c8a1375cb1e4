package rxfilter

import "testing"

// TestMTAIndex: the four RCTL.MO offsets of the 8254x manual's multicast
// table (for 01:00:5E:00:00:01-like addresses, bytes 4 and 5 = 0x12 0x34).
func TestMTAIndex(t *testing.T) {
	dst := []byte{0x01, 0x00, 0x5E, 0x00, 0x12, 0x34}
	for _, c := range []struct{ mo, want uint32 }{
		{0, 0x341}, // bits 47:36
		{1, 0x682}, // bits 46:35
		{2, 0xD04}, // bits 45:34
		{3, 0x412}, // bits 43:32
	} {
		if got := MTAIndex(dst, c.mo); got != c.want {
			t.Errorf("MO %d: %#x, want %#x", c.mo, got, c.want)
		}
	}
}
