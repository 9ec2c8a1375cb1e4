package kernelmodel

import (
	"strings"
	"testing"
)

// xmitOps is a driver whose ndo_start_xmit returns rc, consuming the skb
// unless rc is NETDEV_TX_BUSY.
type xmitOps struct {
	k    *Kernel
	rc   NetdevTx
	sent *int
}

func (o *xmitOps) Open(t *Task) error { return nil }
func (o *xmitOps) Stop(t *Task) error { return nil }
func (o *xmitOps) StartXmit(s *SKB) NetdevTx {
	*o.sent++
	if o.rc != NETDEV_TX_BUSY {
		o.k.ConsumeSKB(s)
	}
	return o.rc
}

// The pool reuses freed skbs first in, first out, and a generation tells a
// holder that its skb was freed and reused.
func TestSKBPoolFIFOAndGeneration(t *testing.T) {
	k := New(Config{CPUs: 1})
	a, b := k.AllocSKB(100), k.AllocSKB(100)
	ga := a.Gen()
	if !SKBValid(a, ga) {
		t.Fatal("live skb not valid")
	}
	k.ConsumeSKB(a)
	k.ConsumeSKB(b)
	if SKBValid(a, ga) {
		t.Error("freed skb still valid")
	}
	c := k.AllocSKB(100)
	if c != a {
		t.Error("the pool did not hand out the oldest free skb first")
	}
	if SKBValid(c, ga) || !SKBValid(c, c.Gen()) {
		t.Errorf("generation %d reused as %d", ga, c.Gen())
	}
	k.ConsumeSKB(c)
	if err := k.SKBAudit(); err != nil {
		t.Error(err)
	}
}

// SKBAudit names the live skbs.
func TestSKBAuditLeak(t *testing.T) {
	k := New(Config{CPUs: 1})
	s := k.AllocSKB(100)
	big := k.AllocSKB(1 << 20) // outside the pool's classes
	err := k.SKBAudit()
	if err == nil || !strings.Contains(err.Error(), "2 live") || !strings.Contains(err.Error(), "ids "+utoa(s.ID)) {
		t.Errorf("audit: %v", err)
	}
	k.KfreeSKB(s, SKB_DROP_REASON_NOT_SPECIFIED)
	k.ConsumeSKB(big)
	if err := k.SKBAudit(); err != nil {
		t.Error(err)
	}
}
