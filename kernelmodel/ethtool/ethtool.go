// Package ethtool is the ethtool -S statistics table NIC drivers share: a
// driver lists its statistics once, each with its name and the counter it
// reads (Linux's struct e1000_stats / igb_stats: stat_string, NETDEV_STATS
// or the driver's own struct, offsetof the field), and gets from the table
// the names (get_strings(ETH_SS_STATS)), the count (get_sset_count), the
// values in the same order (get_ethtool_stats) and the output of ethtool -S.
package ethtool

import (
	"errors"
	"fmt"
	"io"
)

// GStringLen is ETH_GSTRING_LEN: a statistic's name has at most
// GStringLen-1 bytes.
const GStringLen = 32

// Source says where a statistic lives, as Linux's table type does.
type Source uint8

const (
	// Driver is a counter of the driver's own (E1000_STATS: a field of
	// struct e1000_adapter, its hardware statistics included).
	Driver Source = iota
	// Netdev is a field of the net_device's statistics (NETDEV_STATS).
	Netdev
)

// Entry is one statistic of a driver whose private state is S: its name
// and the field it reads.
type Entry[S any] struct {
	Name   string
	Source Source
	Field  func(s *S) *uint64
}

// Table is a driver's statistics table, in the order ethtool -S prints it.
type Table[S any] []Entry[S]

// Stat is one ethtool -S line: a name and its value.
type Stat struct {
	Name  string
	Value uint64
}

// Len is get_sset_count(ETH_SS_STATS).
func (t Table[S]) Len() int { return len(t) }

// Strings is get_strings(ETH_SS_STATS): the names, in order.
func (t Table[S]) Strings() []string {
	names := make([]string, len(t))
	for i, e := range t {
		names[i] = e.Name
	}
	return names
}

// Values is get_ethtool_stats: the value of each statistic of s, in the
// table's order, appended to dst.
func (t Table[S]) Values(s *S, dst []uint64) []uint64 {
	for _, e := range t {
		dst = append(dst, *e.Field(s))
	}
	return dst
}

// Stats pairs each name with its value in s, appended to dst.
func (t Table[S]) Stats(s *S, dst []Stat) []Stat {
	for _, e := range t {
		dst = append(dst, Stat{e.Name, *e.Field(s)})
	}
	return dst
}

// Check validates a table: every name non-empty, shorter than
// ETH_GSTRING_LEN and unique, every entry with a field.
func (t Table[S]) Check() error {
	seen := make(map[string]bool, len(t))
	var errs []error
	for i, e := range t {
		switch {
		case e.Name == "" || len(e.Name) >= GStringLen:
			errs = append(errs, fmt.Errorf("ethtool: stat %d: name %q must have 1 to %d bytes", i, e.Name, GStringLen-1))
		case seen[e.Name]:
			errs = append(errs, fmt.Errorf("ethtool: stat %d: name %q twice", i, e.Name))
		}
		if e.Field == nil {
			errs = append(errs, fmt.Errorf("ethtool: stat %d (%q) reads no field", i, e.Name))
		}
		seen[e.Name] = true
	}
	return errors.Join(errs...)
}

// Write prints stats as ethtool -S does: a header line, then each
// statistic indented by five spaces, "name: value".
func Write(w io.Writer, stats []Stat) error {
	if _, err := io.WriteString(w, "NIC statistics:\n"); err != nil {
		return err
	}
	for _, s := range stats {
		if _, err := fmt.Fprintf(w, "     %s: %d\n", s.Name, s.Value); err != nil {
			return err
		}
	}
	return nil
}

// Ringparam is struct ethtool_ringparam (ethtool -g / -G): the largest
// ring sizes and the ones in use.
type Ringparam struct {
	RxMaxPending, TxMaxPending int
	RxPending, TxPending       int
}

// CheckRingCount validates a ring size as the Intel drivers'
// set_ringparam and module parameters bound it: min to max descriptors,
// rounded up to a multiple of mult. The error names the driver and what.
func CheckRingCount(driver, what string, n, min, max, mult int) (int, error) {
	if n < min || n > max {
		return 0, fmt.Errorf("%s: %s %d out of range %d-%d", driver, what, n, min, max)
	}
	return (n + mult - 1) / mult * mult, nil
}

// Limits are a driver's ring size limits (its set_ringparam's bounds).
type Limits struct {
	Driver         string
	Min, Max, Mult int
}

// NewRingSizes is the argument checking of the Intel drivers'
// set_ringparam: both sizes validated (CheckRingCount), and whether they
// differ from cur at all.
func (l Limits) NewRingSizes(cur Ringparam, rx, tx int) (nrx, ntx int, change bool, err error) {
	if nrx, err = CheckRingCount(l.Driver, "rx ring size", rx, l.Min, l.Max, l.Mult); err != nil {
		return 0, 0, false, err
	}
	if ntx, err = CheckRingCount(l.Driver, "tx ring size", tx, l.Min, l.Max, l.Mult); err != nil {
		return 0, 0, false, err
	}
	return nrx, ntx, nrx != cur.RxPending || ntx != cur.TxPending, nil
}
