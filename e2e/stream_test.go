package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// stream produces upserts in the background, in paced chunks, cycling over
// a fixed set of ids so later versions overwrite earlier ones: the final
// content checks that order held per id across whatever the test does to
// the replicas meanwhile. It owns its model until Stop returns.
type stream struct {
	s     *harness.Scenario
	m     *harness.Model
	ids   int
	chunk int
	pause time.Duration

	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	produced int
	err      error
}

// startStream starts producing chunks of chunk records over ids ids, with
// pause between chunks.
func startStream(ctx context.Context, s *harness.Scenario, m *harness.Model, ids, chunk int, pause time.Duration) *stream {
	st := &stream{s: s, m: m, ids: ids, chunk: chunk, pause: pause,
		stop: make(chan struct{}), done: make(chan struct{})}
	go st.run(ctx)
	return st
}

func (st *stream) run(ctx context.Context) {
	defer close(st.done)
	for k := 0; ; {
		recs := make([]harness.Record, st.chunk)
		for j := range recs {
			i, ver := k%st.ids, k/st.ids
			recs[j] = st.m.Upsert(harness.NumID(uint64(i)), vec(i, ver), payload(i, ver))
			k++
		}
		if _, err := harness.Produce(ctx, st.s.Env.Client, st.s.Topic, recs); err != nil {
			st.mu.Lock()
			st.err = err
			st.mu.Unlock()
			return
		}
		st.mu.Lock()
		st.produced = k
		st.mu.Unlock()
		select {
		case <-st.stop:
			return
		case <-ctx.Done():
			return
		case <-time.After(st.pause):
		}
	}
}

// Produced is the number of records acknowledged so far.
func (st *stream) Produced() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.produced
}

// Stop ends the stream after its current chunk and returns how many
// records it produced; the model is the caller's again.
func (st *stream) Stop(t *testing.T) int {
	t.Helper()
	close(st.stop)
	<-st.done
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		t.Fatal(st.err)
	}
	return st.produced
}

// waitProduced waits until the stream has produced at least n records.
func waitProduced(ctx context.Context, t *testing.T, st *stream, n int) {
	t.Helper()
	waitUntil(ctx, t, time.Minute, fmt.Sprintf("%d records produced", n), func() error {
		if got := st.Produced(); got < n {
			return fmt.Errorf("%d produced", got)
		}
		return nil
	})
}

// waitCommitted waits until the scenario's group has committed at least n
// records in total.
func waitCommitted(ctx context.Context, t *testing.T, s *harness.Scenario, n int64) {
	t.Helper()
	waitUntil(ctx, t, 2*time.Minute, fmt.Sprintf("%d records committed", n), func() error {
		c, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
		if err != nil {
			return err
		}
		if c.Total() < n {
			return fmt.Errorf("committed %v", c)
		}
		return nil
	})
}

// waitUntil polls check every 100 ms until it returns nil, failing the
// test with check's last error after timeout.
func waitUntil(ctx context.Context, t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last: %v)", what, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
