package connector

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// openDLQ readies kafka.dlq_topic before any record is dead-lettered. It
// creates the topic with the broker's default partitions and replication
// factor when it does not exist, as Kafka Connect does for its dead letter
// queue, then reads its max.message.bytes, which sizes the DLQ records
// (dlqLimit). A failure (no CREATE or DESCRIBE_CONFIGS permission, say) is
// only logged: producing to a missing topic is retried like any produce
// error, `kafka-qdrant validate` reports the missing topic, and without
// the topic's limit records are sized to franz-go's default (1,000,012
// bytes) and cut further if the broker refuses them.
func (c *Connector) openDLQ(ctx context.Context) {
	topic := c.cfg.Kafka.DLQTopic
	if topic == "" {
		c.dlqLimit.set(defaultDLQLimit)
		return
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
	limit, err := maxMessageBytes(ctx, adm, topic)
	if err != nil {
		c.log.Warn("could not read max.message.bytes of the DLQ topic; sizing DLQ records to the default",
			"topic", topic, "default", defaultDLQLimit, "err", err)
		limit = defaultDLQLimit
	}
	c.dlqLimit.set(limit)
	c.log.Info("DLQ records are sized to the DLQ topic", "topic", topic, "max_message_bytes", c.dlqLimit.get())
}

// maxMessageBytes reads a topic's max.message.bytes (its own or the
// broker's default).
func maxMessageBytes(ctx context.Context, adm *kadm.Client, topic string) (int64, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return 0, err
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return 0, err
	}
	if rc.Err != nil {
		return 0, rc.Err
	}
	for _, cfg := range rc.Configs {
		if cfg.Key == "max.message.bytes" && cfg.Value != nil {
			return strconv.ParseInt(*cfg.Value, 10, 64)
		}
	}
	return 0, errors.New("max.message.bytes not in the topic's configuration")
}
