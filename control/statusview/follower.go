package statusview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Follower consumes the status topic from its start into a View. Create it
// with NewFollower, run Run in a goroutine, and Close it when done.
type Follower struct {
	topic string
	view  *View
	log   *slog.Logger
	cl    *kgo.Client
	adm   *kadm.Client

	mu   sync.Mutex
	next map[int32]int64 // partition -> next offset to read
	tick chan struct{}   // closed and replaced after every applied fetch
}

// NewFollower returns a follower of topic into view. base are the
// connection options (seed brokers, TLS, SASL); the follower adds its own
// consumer options and owns the client it creates.
func NewFollower(base []kgo.Opt, topic string, view *View, log *slog.Logger) (*Follower, error) {
	if log == nil {
		log = slog.Default()
	}
	opts := append(slices.Clone(base),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating status topic consumer: %w", err)
	}
	return &Follower{
		topic: topic, view: view, log: log, cl: cl, adm: kadm.NewClient(cl),
		next: map[int32]int64{}, tick: make(chan struct{}),
	}, nil
}

// View returns the view the follower fills.
func (f *Follower) View() *View { return f.view }

// Run consumes until ctx ends or the follower is closed. Undecodable events
// are logged and skipped.
func (f *Follower) Run(ctx context.Context) error {
	for {
		fs := f.cl.PollFetches(ctx)
		if fs.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				f.log.Warn("reading status topic", "topic", t, "partition", p, "err", err)
			}
		})
		f.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			f.next[r.Partition] = r.Offset + 1
			if r.Value == nil {
				f.view.Delete(string(r.Key))
				return
			}
			s, err := schemas.DecodeStatus(r.Value)
			if err != nil {
				f.log.Warn("skipping undecodable status event", "partition", r.Partition, "offset", r.Offset, "err", err)
				return
			}
			f.view.Apply(s)
		})
		close(f.tick)
		f.tick = make(chan struct{})
		f.mu.Unlock()
	}
}

// Sync waits until the view holds every event in the topic at the time of
// the call. It needs Run to be running.
func (f *Follower) Sync(ctx context.Context) error {
	ends, err := f.adm.ListEndOffsets(ctx, f.topic)
	if err != nil {
		return fmt.Errorf("listing end offsets of %s: %w", f.topic, err)
	}
	if err := ends.Error(); err != nil {
		return fmt.Errorf("listing end offsets of %s: %w", f.topic, err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	return f.WaitFor(ctx, func(*View) bool {
		for p, end := range want {
			if f.next[p] < end {
				return false
			}
		}
		return true
	})
}

// WaitFor waits until cond (called with the follower's lock held, after
// each applied fetch, so it must be quick and not call Sync or WaitFor)
// holds or ctx ends.
func (f *Follower) WaitFor(ctx context.Context, cond func(*View) bool) error {
	for {
		f.mu.Lock()
		ok := cond(f.view)
		tick := f.tick
		f.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick:
		}
	}
}

// Close closes the consumer; Run returns.
func (f *Follower) Close() { f.cl.Close() }
