package connector

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// ensureDLQTopic creates kafka.dlq_topic with the broker's default
// partitions and replication factor when it does not exist, as Kafka
// Connect does for its dead letter queue. A failure (no CREATE permission,
// say) is only logged: producing to a missing topic is retried like any
// produce error, and `kafka-qdrant validate` reports the missing topic.
func (c *Connector) ensureDLQTopic(ctx context.Context) {
	topic := c.cfg.Kafka.DLQTopic
	if topic == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(c.cl).CreateTopic(ctx, -1, -1, nil, topic)
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
}
