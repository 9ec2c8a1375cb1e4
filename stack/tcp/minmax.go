package tcp

// MinMaxSample is struct minmax_sample: a value and when it was taken.
type MinMaxSample struct {
	T, V uint32
}

// MinMax is struct minmax (lib/win_minmax.c): the running minimum of a
// measurement over a sliding time window, after Kathleen Nichols'
// algorithm: it keeps the best, second best and third best samples of
// successive sub-windows, so that when the best ages out the next one
// is already known. TCP keeps min_rtt in one (tcp_min_rtt, over
// net.ipv4.tcp_min_rtt_wlen), which RACK's reordering window and
// HyStart-like logic read.
type MinMax struct {
	S [3]MinMaxSample
}

// Get is minmax_get: the windowed minimum.
func (m *MinMax) Get() uint32 { return m.S[0].V }

// Reset is minmax_reset: forget everything but the sample (t, meas).
func (m *MinMax) Reset(t, meas uint32) uint32 {
	v := MinMaxSample{t, meas}
	m.S = [3]MinMaxSample{v, v, v}
	return meas
}

// subwinUpdate is minmax_subwin_update: age the kept choices. When the
// whole window passed since the best, the second and third move up; when
// a quarter (half) passed with no distinct second (third) choice, the
// new sample becomes it.
func (m *MinMax) subwinUpdate(win uint32, v MinMaxSample) uint32 {
	dt := v.T - m.S[0].T
	switch {
	case dt > win:
		m.S[0], m.S[1], m.S[2] = m.S[1], m.S[2], v
		if v.T-m.S[0].T > win {
			m.S[0], m.S[1], m.S[2] = m.S[1], m.S[2], v
		}
	case m.S[1].T == m.S[0].T && dt > win/4:
		m.S[1], m.S[2] = v, v
	case m.S[2].T == m.S[1].T && dt > win/2:
		m.S[2] = v
	}
	return m.S[0].V
}

// RunningMin is minmax_running_min: fold in the measurement meas taken at
// t (any clock, e.g. jiffies) and return the minimum over the last win.
func (m *MinMax) RunningMin(win, t, meas uint32) uint32 {
	v := MinMaxSample{t, meas}
	if v.V <= m.S[0].V || v.T-m.S[2].T > win {
		return m.Reset(t, meas) // a new minimum, or the window is empty
	}
	if v.V <= m.S[1].V {
		m.S[1], m.S[2] = v, v
	} else if v.V <= m.S[2].V {
		m.S[2] = v
	}
	return m.subwinUpdate(win, v)
}

// NewMinRTT returns a min_rtt filter with no sample yet (~0, as
// tcp_init_sock leaves it).
func NewMinRTT() MinMax {
	var m MinMax
	m.Reset(0, ^uint32(0))
	return m
}
