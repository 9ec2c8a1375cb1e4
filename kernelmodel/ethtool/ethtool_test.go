package ethtool

import (
	"strings"
	"testing"
)

type nic struct {
	gprc, gptc uint64
	netdev     struct{ txDropped uint64 }
}

var table = Table[nic]{
	{"rx_packets", Driver, func(n *nic) *uint64 { return &n.gprc }},
	{"tx_packets", Driver, func(n *nic) *uint64 { return &n.gptc }},
	{"tx_dropped", Netdev, func(n *nic) *uint64 { return &n.netdev.txDropped }},
}

func TestTable(t *testing.T) {
	if err := table.Check(); err != nil {
		t.Fatal(err)
	}
	n := &nic{gprc: 7, gptc: 9}
	n.netdev.txDropped = 2
	if table.Len() != 3 || strings.Join(table.Strings(), ",") != "rx_packets,tx_packets,tx_dropped" {
		t.Errorf("strings %v", table.Strings())
	}
	if v := table.Values(n, nil); len(v) != 3 || v[0] != 7 || v[1] != 9 || v[2] != 2 {
		t.Errorf("values %v", v)
	}
	// The table reads the fields when asked, not when built.
	n.gprc = 8
	st := table.Stats(n, nil)
	if st[0] != (Stat{"rx_packets", 8}) || st[2] != (Stat{"tx_dropped", 2}) {
		t.Errorf("stats %v", st)
	}
	var b strings.Builder
	if err := Write(&b, st); err != nil {
		t.Fatal(err)
	}
	want := "NIC statistics:\n     rx_packets: 8\n     tx_packets: 9\n     tx_dropped: 2\n"
	if b.String() != want {
		t.Errorf("ethtool -S output:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestCheck(t *testing.T) {
	f := func(n *nic) *uint64 { return &n.gprc }
	tests := []struct {
		name  string
		table Table[nic]
		bad   string
	}{
		{"duplicate", Table[nic]{{"a", Driver, f}, {"a", Driver, f}}, `"a" twice`},
		{"empty name", Table[nic]{{"", Driver, f}}, "1 to 31 bytes"},
		{"long name", Table[nic]{{strings.Repeat("x", 32), Driver, f}}, "1 to 31 bytes"},
		{"no field", Table[nic]{{"a", Driver, nil}}, "reads no field"},
	}
	for _, tc := range tests {
		err := tc.table.Check()
		if err == nil || !strings.Contains(err.Error(), tc.bad) {
			t.Errorf("%s: Check() = %v, want an error saying %q", tc.name, err, tc.bad)
		}
	}
	if err := (Table[nic]{{strings.Repeat("x", 31), Netdev, f}}).Check(); err != nil {
		t.Errorf("31-byte name refused: %v", err)
	}
}

// TestNewRingSizes: sizes out of range are refused with the driver's name,
// in-range ones rounded up to the multiple, and no change reported when
// both match.
func TestNewRingSizes(t *testing.T) {
	l := Limits{Driver: "igb", Min: 64, Max: 4096, Mult: 8}
	cur := Ringparam{RxPending: 256, TxPending: 256}
	if rx, tx, ch, err := l.NewRingSizes(cur, 100, 256); err != nil || rx != 104 || tx != 256 || !ch {
		t.Errorf("100/256: %d %d %v %v", rx, tx, ch, err)
	}
	if _, _, ch, err := l.NewRingSizes(cur, 250, 256); err != nil || ch {
		t.Errorf("250 rounds to 256: change %v %v", ch, err)
	}
	for _, bad := range [][2]int{{63, 256}, {256, 4097}} {
		if _, _, _, err := l.NewRingSizes(cur, bad[0], bad[1]); err == nil || !strings.HasPrefix(err.Error(), "igb: ") {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
