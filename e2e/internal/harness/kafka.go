package harness

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// CreateTopic creates a topic with replication factor 1 and waits until
// every partition has a leader that answers ListOffsets.
func CreateTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int) error {
	resp, err := adm.CreateTopic(ctx, int32(partitions), 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	return waitFor(ctx, 30*time.Second, func() error {
		offs, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return err
		}
		n := 0
		var perr error
		offs.Each(func(o kadm.ListedOffset) {
			if o.Err != nil {
				perr = o.Err
				return
			}
			n++
		})
		if perr != nil {
			return perr
		}
		if n != partitions {
			return fmt.Errorf("%d of %d partitions listed", n, partitions)
		}
		return nil
	}, "topic "+topic+" ready")
}

// DeleteTopics deletes topics; missing topics are not an error.
func DeleteTopics(ctx context.Context, adm *kadm.Client, topics ...string) error {
	resp, err := adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("deleting topics %v: %w", topics, err)
	}
	var errs []error
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("deleting topic %s: %w", r.Topic, r.Err))
		}
	}
	return errors.Join(errs...)
}

// Offsets maps a partition to an offset.
type Offsets map[int32]int64

// String lists partition:offset pairs in partition order.
func (o Offsets) String() string {
	ps := make([]int, 0, len(o))
	for p := range o {
		ps = append(ps, int(p))
	}
	sort.Ints(ps)
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%d:%d", p, o[int32(p)])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Total is the sum of the offsets.
func (o Offsets) Total() int64 {
	var n int64
	for _, v := range o {
		n += v
	}
	return n
}

// EndOffsets returns the log end offset of every partition of topic.
func EndOffsets(ctx context.Context, adm *kadm.Client, topic string) (Offsets, error) {
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets of %s: %w", topic, err)
	}
	out := Offsets{}
	var errs []error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("end offset of %s/%d: %w", o.Topic, o.Partition, o.Err))
			return
		}
		out[o.Partition] = o.Offset
	})
	return out, errors.Join(errs...)
}

// CommittedOffsets returns the offsets group committed for topic; a
// partition without a commit is absent.
func CommittedOffsets(ctx context.Context, adm *kadm.Client, group, topic string) (Offsets, error) {
	resp, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	if err := resp.Error(); err != nil {
		return nil, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	out := Offsets{}
	for p, o := range resp[topic] {
		if o.At >= 0 {
			out[p] = o.At
		}
	}
	return out, nil
}

// CommittedAtEnd compares the committed offsets of group with the log end
// offsets of topic; it returns nil when every partition's commit equals its
// end (a partition with no records needs no commit).
func CommittedAtEnd(ctx context.Context, adm *kadm.Client, group, topic string) error {
	end, err := EndOffsets(ctx, adm, topic)
	if err != nil {
		return err
	}
	committed, err := CommittedOffsets(ctx, adm, group, topic)
	if err != nil {
		return err
	}
	for p, e := range end {
		c, ok := committed[p]
		if !ok && e == 0 {
			continue
		}
		if c != e {
			return fmt.Errorf("group %s on %s: committed %v, log end %v", group, topic, committed, end)
		}
	}
	return nil
}

// Produced is where one record landed.
type Produced struct {
	Partition int32
	Offset    int64
}

// Produce produces records to topic in order and waits for every ack. The
// client's partitioner is franz-go's default (murmur2 of the key, as the
// Java client), so every record of one key lands in one partition in order.
func Produce(ctx context.Context, cl *kgo.Client, topic string, recs []Record) ([]Produced, error) {
	out := make([]Produced, len(recs))
	errs := make(chan error, 1)
	done := make(chan struct{}, len(recs))
	for i, r := range recs {
		kr := &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: r.Headers}
		cl.Produce(ctx, kr, func(kr *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- fmt.Errorf("producing record %d to %s: %w", i, topic, err):
				default:
				}
			} else {
				out[i] = Produced{Partition: kr.Partition, Offset: kr.Offset}
			}
			done <- struct{}{}
		})
	}
	for range recs {
		select {
		case <-done:
		case <-ctx.Done():
			return nil, fmt.Errorf("producing to %s: %w", topic, ctx.Err())
		}
	}
	select {
	case err := <-errs:
		return nil, err
	default:
		return out, nil
	}
}

// waitFor calls check until it returns nil or the timeout passes, and then
// returns check's last error.
func waitFor(ctx context.Context, timeout time.Duration, check func() error, what string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
