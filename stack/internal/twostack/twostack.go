// Package twostack is what the socket layer's tests share: the testbed's
// two modelled hosts (NIC models and drivers on a cable) with an inet
// stack each, A at 10.0.0.1/24 and B at 10.0.0.2/24, their links up.
package twostack

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/nicbed/nicbed/stack/inet"
	"github.com/nicbed/nicbed/testbed"
)

// Addresses of the two hosts.
var (
	A = netip.MustParseAddr("10.0.0.1")
	B = netip.MustParseAddr("10.0.0.2")
)

// Pair is two hosts with stacks.
type Pair struct {
	TB   *testbed.Testbed
	A, B *inet.Stack
}

// New builds the testbed of cfg with its links up and a stack on each
// host.
func New(cfg testbed.Config) (*Pair, error) {
	tb, err := testbed.NewUp(cfg)
	if err != nil {
		return nil, err
	}
	p := &Pair{TB: tb}
	p.A = inet.New(tb.A.Kernel, inet.Config{Seed: 1})
	p.B = inet.New(tb.B.Kernel, inet.Config{Seed: 2})
	if err := p.A.AddInterface(tb.A.Dev, netip.PrefixFrom(A, 24)); err != nil {
		return nil, err
	}
	if err := p.B.AddInterface(tb.B.Dev, netip.PrefixFrom(B, 24)); err != nil {
		return nil, err
	}
	return p, nil
}

// Settle is the testbed's Settle after 10 ms (transmit completions
// cleaned; no skb left or misused, no anomaly), with the hosts' counters
// added to the error.
func (p *Pair) Settle() error {
	if err := p.TB.Settle(10 * time.Millisecond); err != nil {
		return fmt.Errorf("%w\n%s", err, p.TB.Report())
	}
	return nil
}
