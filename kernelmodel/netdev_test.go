package kernelmodel

import "testing"

// dev_queue_xmit always consumes the skb, exactly once, and returns
// NET_XMIT_* or -ENETDOWN on each path.
func TestDevQueueXmitContract(t *testing.T) {
	for _, tc := range []struct {
		name      string
		down      bool
		stopped   bool
		noDev     bool
		driver    NetdevTx
		wantRC    int
		wantCalls int
		wantDrop  uint64 // tx_dropped and SKB_DROP_REASON_DEV_READY
	}{
		{"sent", false, false, false, NETDEV_TX_OK, NET_XMIT_SUCCESS, 1, 0},
		{"driver dropped", false, false, false, NET_XMIT_DROP, NET_XMIT_DROP, 1, 0},
		{"driver congested", false, false, false, NET_XMIT_CN, NET_XMIT_CN, 1, 0},
		{"driver busy", false, false, false, NETDEV_TX_BUSY, -ENETDOWN, 1, 1},
		{"queue stopped", false, true, false, NETDEV_TX_OK, -ENETDOWN, 0, 1},
		{"device down", true, false, false, NETDEV_TX_OK, -ENETDOWN, 0, 1},
		{"no device", false, false, true, NETDEV_TX_OK, -ENETDOWN, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(Config{CPUs: 1})
			d := newTestDev(t, k, 0)
			calls := 0
			d.dev.Ops = &xmitOps{k: k, rc: tc.driver, sent: &calls}
			d.dev.up = !tc.down
			if tc.stopped {
				d.dev.NetifStopQueue()
			} else {
				d.dev.NetifStartQueue()
			}
			s := k.AllocSKB(60)
			s.Put(60)
			if !tc.noDev {
				s.Dev = d.dev
			}
			rc := k.DevQueueXmit(s)
			if rc != tc.wantRC {
				t.Errorf("rc %d, want %d", rc, tc.wantRC)
			}
			if calls != tc.wantCalls {
				t.Errorf("ndo_start_xmit called %d times, want %d", calls, tc.wantCalls)
			}
			if s.Live() {
				t.Error("skb not consumed")
			}
			if err := k.SKBAudit(); err != nil {
				t.Error(err)
			}
			if d.dev.Stats.TxDropped != tc.wantDrop || k.Drops.Reason[SKB_DROP_REASON_DEV_READY] != tc.wantDrop+b2u(tc.noDev) {
				t.Errorf("tx_dropped %d, DEV_READY drops %d", d.dev.Stats.TxDropped, k.Drops.Reason[SKB_DROP_REASON_DEV_READY])
			}
		})
	}
	if DevXmitComplete(int(NETDEV_TX_BUSY)) || !DevXmitComplete(int(NETDEV_TX_OK)) || !DevXmitComplete(-ENETDOWN) {
		t.Error("dev_xmit_complete")
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
