package tcp

import "testing"

func TestSelectInitialWindow(t *testing.T) {
	sys := NewSysctl()
	full := WinFromSpace(sys.Rmem[1], sys.AdvWinScale) // tcp_full_space of a new socket
	if full != 65536 {
		t.Fatalf("tcp_full_space %d, want half of 131072", full)
	}
	for _, c := range []struct {
		name     string
		space    int
		mss      uint32
		clamp    uint32
		wscaleOK bool
		rmemMax  int
		signed   bool
		initRwnd uint32
		want     InitialWindow
	}{
		// Linux's SYN: win 64240, wscale 7.
		{"defaults", full, 1460, 0, true, 212992, false, 0, InitialWindow{64240, 0xffff << 7, 7}},
		{"no window scaling", full, 1460, 0, false, 212992, false, 0, InitialWindow{64240, 0xffff, 0}},
		{"signed windows workaround", full, 1460, 0, true, 212992, true, 0, InitialWindow{32767, 0xffff << 7, 7}},
		{"route initrwnd 10", full, 1460, 0, true, 212992, false, 10, InitialWindow{14600, 0xffff << 7, 7}},
		{"rmem_max 16 MiB: wscale 9", full, 1460, 0, true, 16 << 20, false, 0, InitialWindow{64240, 0xffff << 9, 9}},
		{"a clamp of 20000", full, 1000, 20000, true, 212992, false, 0, InitialWindow{20000, 20000, 0}},
		{"space below the mss", 500, 1460, 0, true, 0, false, 0, InitialWindow{500, 0xffff << 7, 7}},
		{"huge: wscale capped at 14", 1 << 30, 1460, 0, true, 1<<31 - 1, false, 0, InitialWindow{65535, 0xffff << 14, 14}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := SelectInitialWindow(c.space, c.mss, c.clamp, c.wscaleOK, c.rmemMax, sys.Rmem[2], c.signed, c.initRwnd)
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
	if WinFromSpace(1000, -2) != 250 || WinFromSpace(1000, 2) != 750 {
		t.Error("tcp_adv_win_scale")
	}
}
