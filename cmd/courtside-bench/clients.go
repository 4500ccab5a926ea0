package main

import (
	"context"
	"sync"
	"time"
)

// runClients runs clients clients until d has passed, each calling op one call after another
// (op's k counts the client's calls), and returns how long the run took. The first error stops
// every client and is returned, unless ctx had already ended.
func runClients(ctx context.Context, clients int, d time.Duration, op func(ctx context.Context, client, k int) error) (time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	t0 := time.Now()
	end := t0.Add(d)
	for c := range clients {
		wg.Go(func() {
			for k := 0; time.Now().Before(end); k++ {
				if err := op(ctx, c, k); err != nil {
					mu.Lock()
					if firstErr == nil && ctx.Err() == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(t0)
	if firstErr != nil {
		return 0, firstErr
	}
	return took, ctx.Err()
}
