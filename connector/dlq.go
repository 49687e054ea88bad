package connector

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/backoff"
)

// DLQ header names: the Kafka Connect names, so existing DLQ tooling works,
// plus kq.errors.stage and, on a record cut to fit the DLQ topic,
// kq.errors.truncated and kq.errors.original.size.
const (
	HeaderTopic     = "__connect.errors.topic"
	HeaderPartition = "__connect.errors.partition"
	HeaderOffset    = "__connect.errors.offset"
	HeaderClassName = "__connect.errors.exception.class.name"
	HeaderMessage   = "__connect.errors.exception.message"
	HeaderStage     = "kq.errors.stage"
	// HeaderTruncated lists what was cut, in the order it was cut, from
	// "value", "headers" (the original headers, all dropped), "key" and
	// "message" (HeaderMessage).
	HeaderTruncated = "kq.errors.truncated"
	// HeaderOriginalSize is len(key)+len(value) of the original record,
	// in bytes (what record.max_bytes counts).
	HeaderOriginalSize = "kq.errors.original.size"
	dlqMaxMessageBytes = 4096
)

// DLQ record size bounds. The producer's batches are sized from the DLQ
// topic's max.message.bytes (dlqLimit), clamped to what franz-go accepts
// and to a request size every broker takes.
const (
	defaultDLQLimit = 1_000_012 // franz-go's default, Kafka's default minus its log overhead
	minDLQLimit     = 512
	maxDLQLimit     = 64 << 20
)

// dlqLimit is max.message.bytes of the DLQ topic once known; it sizes the
// client's batches for that topic (kgo.ProducerBatchMaxBytesFn, read when
// the client first produces to the topic) and the cut of records that do
// not fit.
type dlqLimit struct {
	n     atomic.Int64
	known chan struct{} // closed once n is set (Run's openDLQ)
}

func newDLQLimit() *dlqLimit {
	l := &dlqLimit{known: make(chan struct{})}
	l.n.Store(defaultDLQLimit)
	return l
}

func (l *dlqLimit) set(n int64) {
	l.n.Store(min(max(n, minDLQLimit), maxDLQLimit))
	close(l.known)
}

func (l *dlqLimit) get() int { return int(l.n.Load()) }

// batchMaxBytes is the kgo.ProducerBatchMaxBytesFn of the client: the DLQ
// topic's limit for it, franz-go's default for any other.
func (c *Connector) batchMaxBytes(topic string) int32 {
	if topic == c.cfg.Kafka.DLQTopic {
		return int32(c.dlqLimit.get())
	}
	return defaultDLQLimit
}

// Sizes of a record in a record batch of its own, as the producer and the
// broker count them (franz-go's recordBatchOverhead plus the record's
// fields, with varints at their largest): an upper bound.
const (
	batchOverhead   = 65
	recordOverhead  = 5 + 1 + 10 + 5 + 5 + 5 + 5 // length, attributes, timestamp and offset deltas, key and value lengths, header count
	headerOverhead  = 5 + 5
	minMessageBytes = 256 // the error message is cut last, to this
)

// dlqRecordSize is r's size alone in a record batch (an upper bound).
func dlqRecordSize(r *kgo.Record) int {
	n := batchOverhead + recordOverhead + len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += headerOverhead + len(h.Key) + len(h.Value)
	}
	return n
}

// dlqRecord builds the DLQ record of f: the original key, value and headers
// plus the error headers. When it would be larger than limit bytes alone in
// a record batch, it is cut to fit, in this order until it does: the value,
// the original headers (all dropped), the key, the error message (to
// minMessageBytes); HeaderTruncated then names what was cut and
// HeaderOriginalSize the original size. It reports whether nothing is left
// to cut.
func dlqRecord(topic string, f failedRecord, limit int) (*kgo.Record, bool) {
	r := f.rec
	msg := f.err.Error()
	if len(msg) > dlqMaxMessageBytes {
		msg = msg[:dlqMaxMessageBytes]
	}
	errHeaders := []kgo.RecordHeader{
		{Key: HeaderTopic, Value: []byte(r.Topic)},
		{Key: HeaderPartition, Value: []byte(strconv.FormatInt(int64(r.Partition), 10))},
		{Key: HeaderOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
		{Key: HeaderClassName, Value: []byte(f.err.Class)},
		{Key: HeaderMessage, Value: []byte(msg)},
		{Key: HeaderStage, Value: []byte(f.err.Stage)},
	}
	out := &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value}
	build := func(orig []kgo.RecordHeader, extra ...kgo.RecordHeader) {
		hs := make([]kgo.RecordHeader, 0, len(orig)+len(errHeaders)+len(extra))
		hs = append(append(append(hs, orig...), errHeaders...), extra...)
		out.Headers = hs
	}
	build(r.Headers)
	if dlqRecordSize(out) <= limit {
		return out, false
	}

	// Cut. The two headers saying so are counted first, at their largest.
	original := strconv.Itoa(len(r.Key) + len(r.Value))
	const allCuts = "value,headers,key,message"
	marks := []kgo.RecordHeader{{Key: HeaderTruncated, Value: []byte(allCuts)}, {Key: HeaderOriginalSize, Value: []byte(original)}}
	var cuts []string
	origHeaders := r.Headers
	over := func() int { build(origHeaders, marks...); return dlqRecordSize(out) - limit }
	if n := over(); n > 0 && len(r.Value) > 0 {
		cuts = append(cuts, "value")
		out.Value = r.Value[:max(len(r.Value)-n, 0)]
	}
	if over() > 0 && len(origHeaders) > 0 {
		cuts = append(cuts, "headers")
		origHeaders = nil
	}
	if n := over(); n > 0 && len(r.Key) > 0 {
		cuts = append(cuts, "key")
		out.Key = r.Key[:max(len(r.Key)-n, 0)]
	}
	if n := over(); n > 0 && len(msg) > minMessageBytes {
		cuts = append(cuts, "message")
		msg = msg[:max(len(msg)-n, minMessageBytes)]
		errHeaders[4].Value = []byte(msg)
	}
	if len(cuts) == 0 { // nothing to cut: the limit is below the error headers
		build(origHeaders)
		return out, true
	}
	marks[0].Value = []byte(strings.Join(cuts, ","))
	build(origHeaders, marks...)
	floor := len(out.Value) == 0 && len(out.Key) == 0 && len(origHeaders) == 0 && len(msg) <= minMessageBytes
	return out, floor
}

// dlqItem is one failed record on its way to the DLQ.
type dlqItem struct {
	f     failedRecord
	rec   *kgo.Record
	limit int  // what rec was cut to fit
	floor bool // nothing left to cut
	alone bool // produce it in a request of its own (it was refused as too large)
}

// produceAction is what deadLetter does about a produce error.
type produceAction uint8

const (
	// actRetry: produce the record again after a backoff (the error can
	// pass: a leader move, a broker down, or an operator's fix such as an
	// ACL).
	actRetry produceAction = iota
	// actShrink: the record is too large for the topic; retrying it as it
	// is can never succeed. Produce it alone, then cut it smaller.
	actShrink
)

// produceActions classifies produce errors and says what an operator can
// do about them; errors not listed are retried. MESSAGE_TOO_LARGE comes
// from the broker (max.message.bytes, measured after compression) or from
// the client (the batch size, before compression); RECORD_LIST_TOO_LARGE
// is the broker's name for the same condition on a batch. INVALID_RECORD
// is what a compacted topic answers to a record without a key, when the
// start-up check (CheckDLQCleanupPolicy) could not read the topic's
// configuration.
var produceActions = []struct {
	err    error
	action produceAction
	hint   string
}{
	{kerr.MessageTooLarge, actShrink, ""},
	{kerr.RecordListTooLarge, actShrink, ""},
	{kerr.InvalidRecord, actRetry, "a compacted topic refuses records without a key: give the DLQ topic cleanup.policy=delete"},
	{kerr.TopicAuthorizationFailed, actRetry, "grant the replica's principal WRITE on the DLQ topic"},
}

// produceActionOf returns what to do about a produce error, and the hint
// for the operator ("" when none).
func produceActionOf(err error) (produceAction, string) {
	for _, a := range produceActions {
		if errors.Is(err, a.err) {
			return a.action, a.hint
		}
	}
	return actRetry, ""
}

// deadLetter produces the failed records to the DLQ topic, in offset
// order, and returns once every one is acknowledged. A record that does
// not fit in the topic's max.message.bytes is cut to fit (dlqRecord); one
// the broker still refuses as too large is produced alone, then cut to
// half its size, and so on. Other produce errors are retried without end
// (capped exponential backoff, full jitter) until ctx ends; they never
// drop a record.
func (c *Connector) deadLetter(ctx context.Context, failed []failedRecord) error {
	select {
	case <-c.dlqLimit.known:
	case <-ctx.Done():
		return ctx.Err()
	}
	slices.SortFunc(failed, func(a, b failedRecord) int { return int(a.rec.Offset - b.rec.Offset) })
	limit := c.dlqLimit.get()
	pending := make([]*dlqItem, len(failed))
	for i, f := range failed {
		it := &dlqItem{f: f, limit: limit}
		it.rec, it.floor = dlqRecord(c.cfg.Kafka.DLQTopic, f, limit)
		pending[i] = it
	}
	b := backoff.Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second}
	for len(pending) > 0 {
		errs := c.produceDLQ(ctx, pending)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var retry []*dlqItem
		var firstErr error
		wait := false
		for i, it := range pending {
			err := errs[i]
			if err == nil {
				c.deadLettered(it)
				continue
			}
			retry = append(retry, it)
			firstErr = cmpOr(firstErr, err)
			switch act, _ := produceActionOf(err); {
			case act == actShrink && !it.alone:
				it.alone = true // maybe only its batch was too large
			case act == actShrink && !it.floor:
				it.limit = min(it.limit, dlqRecordSize(it.rec)) / 2
				it.rec, it.floor = dlqRecord(c.cfg.Kafka.DLQTopic, it.f, it.limit)
			case act == actShrink:
				c.log.Error("the DLQ topic refuses even the error headers of a record as too large; retrying (raise its max.message.bytes)",
					"topic", c.cfg.Kafka.DLQTopic, "partition", it.f.rec.Partition, "offset", it.f.rec.Offset, "err", err)
				wait = true
			default:
				wait = true
			}
		}
		pending = retry
		if len(pending) == 0 || !wait {
			continue
		}
		c.m.retries.WithLabelValues("kafka_produce").Inc()
		args := []any{"topic", c.cfg.Kafka.DLQTopic, "records", len(pending), "attempt", b.Attempts() + 1, "err", firstErr}
		if _, hint := produceActionOf(firstErr); hint != "" {
			args = append(args, "hint", hint)
		}
		c.log.Warn("producing to the DLQ; retrying", args...)
		if err := backoff.Sleep(ctx, b.Next()); err != nil {
			return err
		}
	}
	return nil
}

// produceDLQ produces the items (those to go alone one by one, after the
// others) and returns each one's error.
func (c *Connector) produceDLQ(ctx context.Context, items []*dlqItem) []error {
	errs := make([]error, len(items))
	var together []*kgo.Record
	var at []int
	for i, it := range items {
		it.rec.Partition, it.rec.Offset = 0, 0 // let the client assign fresh ones on a retry
		if !it.alone {
			together = append(together, it.rec)
			at = append(at, i)
		}
	}
	if len(together) > 0 {
		for j, res := range c.cl.ProduceSync(ctx, together...) {
			errs[at[j]] = res.Err
		}
	}
	for i, it := range items {
		if it.alone {
			errs[i] = c.cl.ProduceSync(ctx, it.rec).FirstErr()
		}
	}
	return errs
}

// deadLettered counts and logs an acknowledged DLQ record.
func (c *Connector) deadLettered(it *dlqItem) {
	f := it.f
	c.m.deadLettered.WithLabelValues(string(f.err.Class)).Inc()
	truncated := ""
	for _, h := range it.rec.Headers {
		if h.Key == HeaderTruncated {
			truncated = string(h.Value)
		}
	}
	if truncated != "" {
		c.m.dlqTruncated.Inc()
		c.log.Warn("record dead-lettered cut to fit the DLQ topic", "topic", f.rec.Topic, "partition", f.rec.Partition,
			"offset", f.rec.Offset, "class", string(f.err.Class), "cut", truncated,
			"original_bytes", len(f.rec.Key)+len(f.rec.Value), "limit", it.limit)
		return
	}
	c.log.Debug("record dead-lettered", "topic", f.rec.Topic, "partition", f.rec.Partition,
		"offset", f.rec.Offset, "class", string(f.err.Class), "err", f.err.Error())
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
