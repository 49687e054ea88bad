package groupmember_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/groupmember"
)

// A member that processes each record on its own: it takes the record as
// work when polled and marks it done when finished, in any order; the
// member commits up to the first record not done, commits on revoke and
// commits nothing on loss.
func Example() {
	m, err := groupmember.New(groupmember.Config{Group: "g", Kafka: config.Kafka{SessionTimeout: 10 * time.Second}, Logger: slog.Default()},
		groupmember.Handler{
			Assigned: func(map[string][]int32) {},
			Revoke: func(parts map[string][]int32, commit func(by time.Time) error) {
				// Stop the work on parts (the work in flight may finish), then:
				_ = commit(time.Now().Add(10 * time.Second))
			},
			Lost: func(map[string][]int32) { /* abandon the work on parts */ },
		})
	if err != nil {
		panic(err)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers("localhost:9092"), kgo.ConsumeTopics("t")}, m.Options()...)...)
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithTimeout(context.Background(), time.Second)
	defer stop()
	go m.RunCommits(ctx)
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			w := m.Take(r.Topic, r.Partition,
				kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset},
				kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1})
			go func() {
				// ... process r ...
				w.Done()
			}()
		})
		cl.AllowRebalance()
	}
	leave, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = m.Leave(leave, cl) // the group revokes what is owned: committed
	cl.Close()
}
