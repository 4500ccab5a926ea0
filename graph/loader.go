package graph

import (
	"context"
	"sync"

	"courtside"
)

// Batching. A resolver that returns a list of objects primes the loaders of its children with
// the objects' IDs; the first child that loads then fetches every primed ID in one call, so a
// list of n hearings costs one query for their histories, not n.
//
// graphql-go's thunks (resolvers returning func() (interface{}, error)) would batch too, but in
// v0.8.1 an error returned from a thunk loses its extensions, and a failed non-null thunk nulls
// the whole response instead of its nearest nullable parent. Priming keeps resolvers plain.

// batchSize bounds the IDs of one service call (and so of one SQL IN list).
const batchSize = 500

// entry is a loaded key: its value, whether the service returned it, or the error.
type entry[V any] struct {
	v     V
	found bool
	err   error
}

// batch loads values by key, many keys at a time. It is safe for concurrent use, though
// graphql-go resolves one field at a time.
type batch[K comparable, V any] struct {
	mu      sync.Mutex
	fetch   func(ctx context.Context, keys []K) (map[K]V, error)
	pending []K
	queued  map[K]bool
	loaded  map[K]entry[V]
}

// newBatch returns a batch that fetches with fetch.
func newBatch[K comparable, V any](fetch func(ctx context.Context, keys []K) (map[K]V, error)) *batch[K, V] {
	return &batch[K, V]{fetch: fetch, queued: map[K]bool{}, loaded: map[K]entry[V]{}}
}

// prime queues keys to be fetched with the next load.
func (b *batch[K, V]) prime(keys ...K) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.primeLocked(keys...)
}

// primeLocked is prime with b.mu held.
func (b *batch[K, V]) primeLocked(keys ...K) {
	for _, k := range keys {
		if _, ok := b.loaded[k]; ok || b.queued[k] {
			continue
		}
		b.queued[k] = true
		b.pending = append(b.pending, k)
	}
}

// put records a value the caller already has.
func (b *batch[K, V]) put(k K, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.loaded[k] = entry[V]{v: v, found: true}
}

// load returns the value for k, fetching it together with every queued key. found is false
// when the service did not return k (it does not exist, or the caller may not see it).
func (b *batch[K, V]) load(ctx context.Context, k K) (v V, found bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.loaded[k]; ok {
		return e.v, e.found, e.err
	}
	b.primeLocked(k)
	keys := b.pending
	b.pending, b.queued = nil, map[K]bool{}
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), batchSize)]
		keys = keys[len(chunk):]
		m, err := b.fetch(ctx, chunk)
		for _, ck := range chunk {
			if err != nil {
				b.loaded[ck] = entry[V]{err: err}
				continue
			}
			cv, ok := m[ck]
			b.loaded[ck] = entry[V]{v: cv, found: ok}
		}
	}
	e := b.loaded[k]
	return e.v, e.found, e.err
}

// loaders are the batches of one request (or of one mutation: each starts afresh).
type loaders struct {
	s *server

	courts         *batch[int64, *courtside.Court]
	cases          *batch[int64, *courtside.Case]
	hearings       *batch[int64, *courtside.Hearing]
	caseHearings   *batch[int64, []*courtside.Hearing]
	changes        *batch[int64, []*courtside.HearingChange]
	accompaniments *batch[int64, []*courtside.Accompaniment]
	caseVictims    *batch[int64, []*courtside.CaseVictim]
	victims        *batch[int64, *courtside.Victim]
	victimPII      *batch[int64, *courtside.Victim] // opened only when a PII field is asked for
	users          *batch[int64, *courtside.User]
	bookings       *batch[int64, []*courtside.InterpreterBooking] // by hearing ID
	caseShares     *batch[int64, []*courtside.CaseShare]          // by case ID
}

// loadersKey is the context key of a request's loaders.
type loadersKey struct{}

// withLoaders returns a copy of ctx carrying fresh loaders.
func (s *server) withLoaders(ctx context.Context) context.Context {
	l := &loaders{s: s}
	l.reset()
	return context.WithValue(ctx, loadersKey{}, l)
}

// loaders returns the request's loaders; fresh ones (that batch nothing across fields) when
// ctx carries none.
func (s *server) loaders(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	l := &loaders{s: s}
	l.reset()
	return l
}

// caseFinder is implemented by a CaseService that can find many cases in one call.
type caseFinder interface {
	FindCases(ctx context.Context, ids ...int64) ([]*courtside.Case, error)
}

// courtFinder is implemented by a CourtService that can find many courts in one call.
type courtFinder interface {
	FindCourtsByID(ctx context.Context, ids ...int64) ([]*courtside.Court, error)
}

// reset drops everything loaded so far. graphql-go runs mutations one after another, each to
// completion, so a mutation resets between them.
func (l *loaders) reset() {
	cfg := l.s.cfg
	l.courts = newBatch(func(ctx context.Context, ids []int64) (map[int64]*courtside.Court, error) {
		var courts []*courtside.Court
		if f, ok := cfg.Courts.(courtFinder); ok {
			var err error
			if courts, err = f.FindCourtsByID(ctx, ids...); err != nil {
				return nil, err
			}
		} else {
			for _, id := range ids {
				c, err := cfg.Courts.FindCourtByID(ctx, id)
				if courtside.ErrorCode(err) == courtside.ENOTFOUND {
					continue
				} else if err != nil {
					return nil, err
				}
				courts = append(courts, c)
			}
		}
		return byID(courts, func(c *courtside.Court) int64 { return c.ID }), nil
	})
	l.cases = newBatch(func(ctx context.Context, ids []int64) (map[int64]*courtside.Case, error) {
		var cases []*courtside.Case
		if f, ok := cfg.Cases.(caseFinder); ok {
			var err error
			if cases, err = f.FindCases(ctx, ids...); err != nil {
				return nil, err
			}
		} else {
			for _, id := range ids {
				c, err := cfg.Cases.FindCaseByID(ctx, id)
				if courtside.ErrorCode(err) == courtside.ENOTFOUND {
					continue
				} else if err != nil {
					return nil, err
				}
				cases = append(cases, c)
			}
		}
		return byID(cases, func(c *courtside.Case) int64 { return c.ID }), nil
	})
	l.hearings = newBatch(func(ctx context.Context, ids []int64) (map[int64]*courtside.Hearing, error) {
		hs, err := cfg.Hearings.FindHearings(ctx, courtside.HearingFilter{IDs: ids})
		if err != nil {
			return nil, err
		}
		return byID(hs, func(h *courtside.Hearing) int64 { return h.ID }), nil
	})
	l.caseHearings = newBatch(func(ctx context.Context, ids []int64) (map[int64][]*courtside.Hearing, error) {
		hs, err := cfg.Hearings.FindHearings(ctx, courtside.HearingFilter{CaseIDs: ids, PerCase: capOf("Case", "hearings").max})
		if err != nil {
			return nil, err
		}
		l.primeHearings(hs)
		return groupBy(hs, func(h *courtside.Hearing) int64 { return h.CaseID }), nil
	})
	l.changes = newBatch(func(ctx context.Context, ids []int64) (map[int64][]*courtside.HearingChange, error) {
		cs, err := cfg.Hearings.FindHearingChanges(ctx, ids...)
		if err != nil {
			return nil, err
		}
		return groupBy(cs, func(c *courtside.HearingChange) int64 { return c.HearingID }), nil
	})
	l.accompaniments = newBatch(func(ctx context.Context, ids []int64) (map[int64][]*courtside.Accompaniment, error) {
		as, err := cfg.Accompaniments.FindAccompaniments(ctx, courtside.AccompanimentFilter{HearingIDs: ids})
		if err != nil {
			return nil, err
		}
		l.primeAccompaniments(as)
		return groupBy(as, func(a *courtside.Accompaniment) int64 { return a.HearingID }), nil
	})
	l.caseVictims = newBatch(func(ctx context.Context, ids []int64) (map[int64][]*courtside.CaseVictim, error) {
		cvs, err := cfg.Cases.FindCaseVictims(ctx, ids...)
		if err != nil {
			return nil, err
		}
		for _, cv := range cvs {
			l.victims.prime(cv.VictimID)
		}
		return groupBy(cvs, func(cv *courtside.CaseVictim) int64 { return cv.CaseID }), nil
	})
	l.victims = newBatch(func(ctx context.Context, ids []int64) (map[int64]*courtside.Victim, error) {
		vs, err := cfg.Victims.FindVictims(ctx, ids...)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if v.PIIVisible {
				l.victimPII.prime(v.ID)
			}
		}
		return byID(vs, func(v *courtside.Victim) int64 { return v.ID }), nil
	})
	l.victimPII = newBatch(func(ctx context.Context, ids []int64) (map[int64]*courtside.Victim, error) {
		vs, err := cfg.Victims.OpenVictimPII(ctx, ids...)
		if err != nil {
			return nil, err
		}
		return byID(vs, func(v *courtside.Victim) int64 { return v.ID }), nil
	})
	l.bookings = l.newBookingsBatch()
	l.caseShares = l.newCaseSharesBatch()
	l.users = newBatch(func(ctx context.Context, ids []int64) (map[int64]*courtside.User, error) {
		m := map[int64]*courtside.User{}
		for _, id := range ids {
			u, err := cfg.Users.FindUserByID(ctx, id)
			if courtside.ErrorCode(err) == courtside.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, err
			}
			m[id] = u
		}
		return m, nil
	})
}

// primeHearings records hearings a resolver returns, and queues their children's keys.
func (l *loaders) primeHearings(hs []*courtside.Hearing) {
	for _, h := range hs {
		l.hearings.put(h.ID, h)
		l.changes.prime(h.ID)
		l.accompaniments.prime(h.ID)
		l.bookings.prime(h.ID)
		l.cases.prime(h.CaseID)
		l.courts.prime(h.CourtID)
	}
}

// primeCases records cases a resolver returns, and queues their children's keys.
func (l *loaders) primeCases(cs ...*courtside.Case) {
	for _, c := range cs {
		l.cases.put(c.ID, c)
		l.caseVictims.prime(c.ID)
		l.caseHearings.prime(c.ID)
		l.caseShares.prime(c.ID)
		l.courts.prime(c.CourtID)
	}
}

// primeAccompaniments queues the keys of the accompaniments' hearings, victims and advocates.
func (l *loaders) primeAccompaniments(as []*courtside.Accompaniment) {
	for _, a := range as {
		l.hearings.prime(a.HearingID)
		l.victims.prime(a.VictimID)
		l.users.prime(a.AdvocateID)
	}
}

// byID indexes values by their ID.
func byID[V any](vs []V, id func(V) int64) map[int64]V {
	m := make(map[int64]V, len(vs))
	for _, v := range vs {
		m[id(v)] = v
	}
	return m
}

// groupBy groups values by a key, keeping their order.
func groupBy[V any](vs []V, key func(V) int64) map[int64][]V {
	m := map[int64][]V{}
	for _, v := range vs {
		m[key(v)] = append(m[key(v)], v)
	}
	return m
}
