package header

import (
	"bytes"
	"testing"
)

func TestNextTCPOption(t *testing.T) {
	type opt struct {
		kind byte
		data []byte
	}
	for _, c := range []struct {
		name string
		in   []byte
		want []opt
	}{
		{"linux syn", []byte{2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7},
			[]opt{{2, []byte{5, 0xb4}}, {4, []byte{}}, {8, []byte{0, 0, 0, 1, 0, 0, 0, 0}}, {1, nil}, {3, []byte{7}}}},
		{"EOL stops", []byte{1, 0, 2, 4, 5, 0xb4}, []opt{{1, nil}}},
		{"length 1 stops", []byte{1, 2, 1, 1}, []opt{{1, nil}}},
		{"length beyond the data stops", []byte{3, 3, 1, 2, 4, 5}, []opt{{3, []byte{1}}}},
		{"kind alone at the end", []byte{1, 8}, []opt{{1, nil}}},
		{"empty", nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []opt
			for b := c.in; ; {
				k, d, rest, ok := NextTCPOption(b)
				if !ok {
					break
				}
				got = append(got, opt{k, d})
				b = rest
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i].kind != c.want[i].kind || !bytes.Equal(got[i].data, c.want[i].data) {
					t.Errorf("option %d: %v, want %v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestTCPOptionsPayload(t *testing.T) {
	seg := make([]byte, 32+3)
	TCP(seg).SetDataOffset(32)
	copy(seg[20:], []byte{1, 1, 8, 10})
	copy(seg[32:], "abc")
	th, err := ParseTCP(seg)
	if err != nil {
		t.Fatal(err)
	}
	if o := th.Options(); len(o) != 12 || o[2] != 8 {
		t.Errorf("options % x", o)
	}
	if string(th.Payload()) != "abc" {
		t.Errorf("payload %q", th.Payload())
	}
}
