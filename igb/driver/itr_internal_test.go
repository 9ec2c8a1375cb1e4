package driver

import "testing"

// TestUpdateITR: igb_update_itr's classes from the packets and bytes of
// one interval, Linux's thresholds, and the totals start over.
func TestUpdateITR(t *testing.T) {
	for _, tc := range []struct {
		name           string
		cur            latencyRange
		packets, bytes uint64
		want           latencyRange
	}{
		{"idle keeps the class", lowLatency, 0, 0, lowLatency},
		{"lowest: jumbo goes bulk", lowestLatency, 2, 18000, bulkLatency},
		{"lowest: few mid frames go low", lowestLatency, 3, 3000, lowLatency},
		{"lowest: few tiny frames stay", lowestLatency, 3, 180, lowestLatency},
		{"low: TSO goes bulk", lowLatency, 2, 20000, bulkLatency},
		{"low: big frames go bulk", lowLatency, 20, 30000, bulkLatency},
		{"low: many small frames go lowest", lowLatency, 100, 12000, lowestLatency},
		{"low: one or two tiny frames go lowest", lowLatency, 2, 128, lowestLatency},
		{"low: mid average under 10000 bytes goes bulk", lowLatency, 4, 9000, bulkLatency},
		{"low: moderate stays", lowLatency, 8, 5000, lowLatency},
		{"bulk: many frames over 25000 bytes go low", bulkLatency, 40, 30000, lowLatency},
		{"bulk: few big frames stay", bulkLatency, 20, 30000, bulkLatency},
		{"bulk: under 1500 bytes goes low", bulkLatency, 2, 1000, lowLatency},
		{"bulk: 3000 bytes stays (e1000 would go low)", bulkLatency, 2, 3000, bulkLatency},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := ringContainer{itr: tc.cur, totalPackets: tc.packets, totalBytes: tc.bytes}
			updateITR(&rc)
			if rc.itr != tc.want {
				t.Errorf("class %d, want %d", rc.itr, tc.want)
			}
			if tc.packets != 0 && (rc.totalBytes != 0 || rc.totalPackets != 0) {
				t.Errorf("totals not cleared: %d %d", rc.totalPackets, rc.totalBytes)
			}
		})
	}
}

// TestUpdateRingITR: igb_update_ring_itr's interval from the average wire
// size (24 bytes added, capped at 3000): a third for 300–1200 bytes, half
// otherwise; the conservative floor (20000 ints/s's interval, 196) in
// mode 3 but not mode 1; 4000 ints/s below gigabit; nothing done, nothing
// changed.
func TestUpdateRingITR(t *testing.T) {
	for _, tc := range []struct {
		name          string
		setting       int
		speed         int
		rxP, rxB      uint64
		txP, txB      uint64
		want          uint32
		wantChangeITR bool
	}{
		{"64-byte frames, conservative floor", 3, 1000, 100, 6400, 0, 0, ITR20K, true},
		{"64-byte frames, dynamic", 1, 1000, 100, 6400, 0, 0, (64 + 24) / 2, true},
		{"mid-size frames get a third", 3, 1000, 10, 6000, 0, 0, (600 + 24) / 3, true},
		{"full frames get half", 3, 1000, 10, 15140, 0, 0, (1514 + 24) / 2, true},
		{"jumbo capped at 3000", 3, 1000, 1, 9014, 0, 0, 1500, true},
		{"transmit average counts too", 3, 1000, 10, 640, 10, 15140, (1514 + 24) / 2, true},
		{"idle keeps the interval", 3, 1000, 0, 0, 0, 0, StartITR, false},
		{"100 Mb/s is 4000 ints/s", 3, 100, 10, 640, 0, 0, ITR4K, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Adapter{linkSpeed: tc.speed, rxITRSetting: tc.setting, txITRSetting: tc.setting}
			q := &qVector{a: a, rx: &rxRing{}, itrVal: StartITR}
			q.rxC = ringContainer{totalPackets: tc.rxP, totalBytes: tc.rxB}
			q.txC = ringContainer{totalPackets: tc.txP, totalBytes: tc.txB}
			q.updateRingITR()
			if q.itrVal != tc.want || q.setITR != tc.wantChangeITR {
				t.Errorf("itr_val %d set_itr %v, want %d %v", q.itrVal, q.setITR, tc.want, tc.wantChangeITR)
			}
			if q.rxC.totalPackets != 0 || q.txC.totalBytes != 0 {
				t.Error("totals not cleared")
			}
		})
	}
}

// TestSetITRLatency: igb_set_itr maps the busier class to 70K/20K/4K
// interrupts per second, conservative mode never picks lowest latency.
func TestSetITRLatency(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setting  int
		rx, tx   latencyRange
		pk, byts uint64
		want     uint32
	}{
		{"dynamic lowest", 1, lowestLatency, lowestLatency, 2, 100, ITR70K},
		{"conservative has no lowest", 3, lowestLatency, lowestLatency, 2, 100, ITR20K},
		{"bulk wins", 3, lowestLatency, bulkLatency, 2, 100, ITR4K},
		{"low", 3, lowLatency, lowLatency, 8, 5000, ITR20K},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Adapter{linkSpeed: 1000, rxITRSetting: tc.setting, txITRSetting: tc.setting}
			q := &qVector{a: a, rx: &rxRing{}, itrVal: StartITR}
			q.rxC = ringContainer{itr: tc.rx, totalPackets: tc.pk, totalBytes: tc.byts}
			q.txC = ringContainer{itr: tc.tx}
			q.setITRLatency()
			if q.itrVal != tc.want || !q.setITR {
				t.Errorf("itr_val %d set_itr %v, want %d", q.itrVal, q.setITR, tc.want)
			}
		})
	}
}
