package backup

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// tp is a topic partition.
type tp struct {
	topic     string
	partition int32
}

// offsets are per-partition offsets.
type offsets map[tp]int64

// kafkaView reads the topics, offsets and committed positions a backup
// records and a replay follows.
type kafkaView struct {
	cl  *kgo.Client
	adm *kadm.Client
	cfg config.Config
}

func newKafkaView(opts []kgo.Opt, cfg config.Config) (*kafkaView, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating a Kafka client: %w", err)
	}
	return &kafkaView{cl: cl, adm: kadm.NewClient(cl), cfg: cfg}, nil
}

func (k *kafkaView) close() { k.cl.Close() }

// topicsFor returns the data topics whose records may go to collection:
// kafka.topics (or the topics matching kafka.topic_regex) filtered by the
// routing; all of them when records may name their collection. Sorted.
func (k *kafkaView) topicsFor(ctx context.Context, collection string) ([]string, error) {
	var candidates []string
	if k.cfg.Kafka.TopicRegex != "" {
		re, err := regexp.Compile(k.cfg.Kafka.TopicRegex)
		if err != nil {
			return nil, err
		}
		tds, err := k.adm.ListTopics(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing topics: %w", err)
		}
		for _, t := range tds.Names() {
			if re.MatchString(t) && t != k.cfg.Kafka.DLQTopic {
				candidates = append(candidates, t)
			}
		}
	} else {
		candidates = k.cfg.Kafka.Topics
	}
	var out []string
	for _, t := range candidates {
		if k.cfg.Routing.MayRoute(t, collection) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// committed returns the data group's committed offset of every partition
// of topics, -1 where it committed nothing.
func (k *kafkaView) committed(ctx context.Context, topics []string) (offsets, error) {
	ends, resp, err := k.commits(ctx, topics)
	if err != nil {
		return nil, err
	}
	out := offsets{}
	for p := range ends {
		out[p] = -1
		if o, ok := resp.Lookup(p.topic, p.partition); ok && o.At >= 0 {
			out[p] = o.At
		}
	}
	return out, nil
}

// commits returns the end offset of every partition of topics and the
// data group's commits of them (none when the group never committed).
func (k *kafkaView) commits(ctx context.Context, topics []string) (offsets, kadm.OffsetResponses, error) {
	ends, err := k.end(ctx, topics)
	if err != nil {
		return nil, nil, err
	}
	resp, err := k.adm.FetchOffsetsForTopics(ctx, k.cfg.Kafka.Group, topics...)
	if err == nil {
		err = resp.Error()
	}
	// A group that never committed is "not found" to some brokers.
	if errors.Is(err, kerr.GroupIDNotFound) {
		resp, err = nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fetching the committed offsets of group %s: %w", k.cfg.Kafka.Group, err)
	}
	return ends, resp, nil
}

// acknowledged reads the data group's committed offsets of every
// partition of topics and returns those whose commit metadata
// acknowledges data pause id, and the partitions that do not (yet).
func (k *kafkaView) acknowledged(ctx context.Context, topics []string, id string) (offsets, []tp, error) {
	ends, resp, err := k.commits(ctx, topics)
	if err != nil {
		return nil, nil, err
	}
	got := offsets{}
	var missing []tp
	for p := range ends {
		if o, ok := resp.Lookup(p.topic, p.partition); ok && o.At >= 0 && schemas.PauseAcknowledged(o.Metadata, id) {
			got[p] = o.At
		} else {
			missing = append(missing, p)
		}
	}
	slices.SortFunc(missing, func(a, b tp) int {
		if a.topic != b.topic {
			return strings.Compare(a.topic, b.topic)
		}
		return int(a.partition - b.partition)
	})
	return got, missing, nil
}

// end returns the end offset of every partition of topics.
func (k *kafkaView) end(ctx context.Context, topics []string) (offsets, error) {
	return k.listed(ctx, "end", topics, func(ctx context.Context) (kadm.ListedOffsets, error) {
		return k.adm.ListEndOffsets(ctx, topics...)
	})
}

// start returns the log start offset of every partition of topics.
func (k *kafkaView) start(ctx context.Context, topics []string) (offsets, error) {
	return k.listed(ctx, "start", topics, func(ctx context.Context) (kadm.ListedOffsets, error) {
		return k.adm.ListStartOffsets(ctx, topics...)
	})
}

// at returns, for every partition of topics, the offset of the first
// record at or after millis (the end offset when there is none).
func (k *kafkaView) at(ctx context.Context, millis int64, topics []string) (offsets, error) {
	return k.listed(ctx, "time", topics, func(ctx context.Context) (kadm.ListedOffsets, error) {
		return k.adm.ListOffsetsAfterMilli(ctx, millis, topics...)
	})
}

func (k *kafkaView) listed(ctx context.Context, what string, topics []string, list func(context.Context) (kadm.ListedOffsets, error)) (offsets, error) {
	if len(topics) == 0 {
		return offsets{}, nil
	}
	l, err := list(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing %s offsets of %v: %w", what, topics, err)
	}
	if err := l.Error(); err != nil {
		return nil, fmt.Errorf("listing %s offsets of %v: %w", what, topics, err)
	}
	out := offsets{}
	l.Each(func(o kadm.ListedOffset) { out[tp{o.Topic, o.Partition}] = o.Offset })
	return out, nil
}

// manifestOffsets renders committed and end offsets for a manifest.
func manifestOffsets(group string, committed, end offsets) *schemas.BackupOffsets {
	byTopic := map[string][]schemas.PartitionOffsets{}
	for p, c := range committed {
		e := max(end[p], c, 0)
		byTopic[p.topic] = append(byTopic[p.topic], schemas.PartitionOffsets{Partition: p.partition, Committed: c, End: e})
	}
	out := &schemas.BackupOffsets{Group: group, Topics: []schemas.TopicOffsets{}}
	for _, t := range slices.Sorted(maps.Keys(byTopic)) {
		parts := byTopic[t]
		slices.SortFunc(parts, func(a, b schemas.PartitionOffsets) int { return int(a.Partition - b.Partition) })
		out.Topics = append(out.Topics, schemas.TopicOffsets{Topic: t, Partitions: parts})
	}
	return out
}

// committedOf reads a manifest's committed offsets back.
func committedOf(m *schemas.BackupOffsets) offsets {
	out := offsets{}
	if m == nil {
		return out
	}
	for _, t := range m.Topics {
		for _, p := range t.Partitions {
			out[tp{t.Topic, p.Partition}] = p.Committed
		}
	}
	return out
}
