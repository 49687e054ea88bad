package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// EnsureTopics creates the control topic (1 partition, so commands are
// totally ordered and one replica owns them;
// message.timestamp.type=LogAppendTime, so a record's timestamp is when
// the broker took it, which control.auth judges issued_at against) and the
// status topic (1
// partition, cleanup.policy=compact, so the last event of every command is
// kept; segment.ms one day, so the log cleaner gets to events within a day
// rather than the default week) when they are missing, with the broker's
// default replication factor. Existing topics are left as they are; a control topic with more
// than one partition is logged as a warning.
func EnsureTopics(ctx context.Context, base []kgo.Opt, controlTopic, statusTopic string, log *slog.Logger) error {
	cl, err := kgo.NewClient(slices.Clone(base)...)
	if err != nil {
		return fmt.Errorf("creating admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	compact, day, appendTime := "compact", "86400000", "LogAppendTime"
	for _, t := range []struct {
		name    string
		configs map[string]*string
	}{
		{controlTopic, map[string]*string{"message.timestamp.type": &appendTime}},
		{statusTopic, map[string]*string{"cleanup.policy": &compact, "segment.ms": &day}},
	} {
		resp, err := adm.CreateTopic(ctx, 1, -1, t.configs, t.name)
		if err == nil {
			err = resp.Err
		}
		switch {
		case err == nil:
			log.Info("created topic", "topic", t.name)
		case errors.Is(err, kerr.TopicAlreadyExists):
		default:
			return fmt.Errorf("creating topic %s: %w", t.name, err)
		}
	}
	details, err := adm.ListTopics(ctx, controlTopic)
	if err != nil {
		return fmt.Errorf("describing topic %s: %w", controlTopic, err)
	}
	if d, ok := details[controlTopic]; ok && d.Err == nil && len(d.Partitions) > 1 {
		log.Warn("control topic has more than one partition: commands on different partitions are not ordered against each other",
			"topic", controlTopic, "partitions", len(d.Partitions))
	}
	return nil
}
