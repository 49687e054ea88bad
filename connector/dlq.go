package connector

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/backoff"
)

// DLQ header names: the Kafka Connect names, so existing DLQ tooling works,
// plus kq.errors.stage.
const (
	HeaderTopic        = "__connect.errors.topic"
	HeaderPartition    = "__connect.errors.partition"
	HeaderOffset       = "__connect.errors.offset"
	HeaderClassName    = "__connect.errors.exception.class.name"
	HeaderMessage      = "__connect.errors.exception.message"
	HeaderStage        = "kq.errors.stage"
	dlqMaxMessageBytes = 4096
)

// dlqRecord copies the original key, value and headers and adds the error
// headers.
func dlqRecord(topic string, f failedRecord) *kgo.Record {
	r := f.rec
	msg := f.err.Error()
	if len(msg) > dlqMaxMessageBytes {
		msg = msg[:dlqMaxMessageBytes]
	}
	hs := make([]kgo.RecordHeader, 0, len(r.Headers)+6)
	hs = append(hs, r.Headers...)
	hs = append(hs,
		kgo.RecordHeader{Key: HeaderTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderPartition, Value: []byte(strconv.FormatInt(int64(r.Partition), 10))},
		kgo.RecordHeader{Key: HeaderOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
		kgo.RecordHeader{Key: HeaderClassName, Value: []byte(f.err.Class)},
		kgo.RecordHeader{Key: HeaderMessage, Value: []byte(msg)},
		kgo.RecordHeader{Key: HeaderStage, Value: []byte(f.err.Stage)},
	)
	return &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: hs}
}

// deadLetter produces the failed records to the DLQ topic, in offset
// order, and returns once every one is acknowledged. Produce errors are
// retried without end (capped exponential backoff, full jitter) until ctx
// ends; they never drop a record.
func (c *Connector) deadLetter(ctx context.Context, failed []failedRecord) error {
	slices.SortFunc(failed, func(a, b failedRecord) int { return int(a.rec.Offset - b.rec.Offset) })
	pending := make([]*kgo.Record, len(failed))
	for i, f := range failed {
		pending[i] = dlqRecord(c.cfg.Kafka.DLQTopic, f)
	}
	b := backoff.Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second}
	for {
		results := c.cl.ProduceSync(ctx, pending...)
		var retry []*kgo.Record
		for _, res := range results {
			if res.Err != nil {
				retry = append(retry, res.Record)
			}
		}
		if len(retry) == 0 {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.m.retries.WithLabelValues("kafka_produce").Inc()
		c.log.Warn("producing to the DLQ; retrying", "topic", c.cfg.Kafka.DLQTopic, "records", len(retry),
			"attempt", b.Attempts()+1, "err", results.FirstErr())
		pending = retry
		for _, r := range pending { // let the client assign fresh partitions/offsets
			r.Partition, r.Offset = 0, 0
		}
		if err := backoff.Sleep(ctx, b.Next()); err != nil {
			return err
		}
	}
	for _, f := range failed {
		c.m.deadLettered.WithLabelValues(string(f.err.Class)).Inc()
		c.log.Debug("record dead-lettered", "topic", f.rec.Topic, "partition", f.rec.Partition,
			"offset", f.rec.Offset, "class", string(f.err.Class), "err", f.err.Error())
	}
	return nil
}
