// Package prandom is the stack's pseudo-random numbers: what Linux takes
// from prandom_u32 and get_random_u32 (ephemeral ports, ICMP rate-limit
// credits, reachable times, ISN-free choices), here a xorshift64*
// generator (Vigna, "An experimental exploration of Marsaglia's xorshift
// generators, scrambled", 2016) from a seed, so that a run replays.
package prandom

// State is one generator (struct rnd_state). Its zero value is not
// usable: make one with New.
type State struct{ s uint64 }

// New is a generator whose state is seed with its low bit set (a
// xorshift state must not be 0).
func New(seed uint64) State { return State{seed | 1} }

// U64 is the next 64 bits.
func (r *State) U64() uint64 {
	r.s ^= r.s >> 12
	r.s ^= r.s << 25
	r.s ^= r.s >> 27
	return r.s * 2685821657736338717
}

// U32 is prandom_u32_state(): the next 32 bits (the high half, the
// better one).
func (r *State) U32() uint32 { return uint32(r.U64() >> 32) }

// Below is get_random_u32_below() (prandom_u32_max): uniform in [0, n),
// by multiplication rather than modulo.
func (r *State) Below(n uint32) uint32 { return uint32(uint64(r.U32()) * uint64(n) >> 32) }
