package connector

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/kafkaclient"
)

// openDLQ readies kafka.dlq_topic before any record is dead-lettered. It
// creates the topic with the broker's default partitions and replication
// factor when it does not exist, as Kafka Connect does for its dead letter
// queue, then reads its max.message.bytes, which sizes the DLQ records
// (dlqLimit), and its cleanup.policy: a compacted topic is an error
// (CheckDLQCleanupPolicy), the only one. Other failures (no CREATE or
// DESCRIBE_CONFIGS permission, say) are only logged: producing to a
// missing topic is retried like any produce error, `kafka-qdrant validate`
// reports the missing topic, and without the topic's limit records are
// sized to franz-go's default (1,000,012 bytes) and cut further if the
// broker refuses them.
func (c *Connector) openDLQ(ctx context.Context) error {
	topic := c.cfg.Kafka.DLQTopic
	if topic == "" {
		c.dlqLimit.set(defaultDLQLimit)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	adm := kadm.NewClient(c.cl)
	resp, err := adm.CreateTopic(ctx, -1, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil:
		c.log.Info("created the DLQ topic", "topic", topic)
	case errors.Is(err, kerr.TopicAlreadyExists):
	default:
		c.log.Warn("could not create the DLQ topic; bad records wait until it exists", "topic", topic, "err", err)
	}
	limit := int64(defaultDLQLimit)
	cfgs, err := kafkaclient.TopicConfigs(ctx, adm, topic, "max.message.bytes", "cleanup.policy")
	if err == nil {
		if err := CheckDLQCleanupPolicy(topic, cfgs["cleanup.policy"]); err != nil {
			return err
		}
		limit, err = strconv.ParseInt(cfgs["max.message.bytes"], 10, 64)
	}
	if err != nil {
		c.log.Warn("could not read max.message.bytes of the DLQ topic; sizing DLQ records to the default",
			"topic", topic, "default", defaultDLQLimit, "err", err)
		limit = defaultDLQLimit
	}
	c.dlqLimit.set(limit)
	c.log.Info("DLQ records are sized to the DLQ topic", "topic", topic, "max_message_bytes", c.dlqLimit.get())
	return nil
}

// CheckDLQCleanupPolicy reports why a topic of that cleanup.policy cannot
// be the DLQ: a compacted topic refuses records without a key
// (INVALID_RECORD: a keyless bad record could never be dead-lettered and
// would hold its partition forever) and keeps only the last dead letter of
// each key.
func CheckDLQCleanupPolicy(topic, policy string) error {
	if !kafkaclient.Compacted(policy) {
		return nil
	}
	return fmt.Errorf("kafka.dlq_topic: topic %s has cleanup.policy=%s: it refuses bad records without a key and compacts away earlier dead letters of the same key; use a topic with cleanup.policy=delete", topic, policy)
}
