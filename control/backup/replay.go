package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/connector"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// ReplayResult is the replay part of a restore's result.
type ReplayResult struct {
	// Records were applied to the target (upserts and deletes).
	Records int64 `json:"records"`
	// Skipped records route to another collection.
	Skipped int64 `json:"skipped"`
	// Rejected records could not be decoded or Qdrant refused them; the
	// data path dead-lettered them too.
	Rejected int64 `json:"rejected"`
	// To are the offsets the replay stopped at (exclusive).
	To []position `json:"to"`
}

// position is a partition's next offset, as checkpointed.
type position struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// replayer re-applies a collection's records to a target from a consumer
// of its own (no group): it reads each partition from its position up to
// a stop offset, decodes records as the data path does, keeps those that
// route to the collection and writes them, one partition's records per
// Write, with the data path's writer (and so its fencing).
type replayer struct {
	h          *handlers
	s          job.Reporter
	st         *restoreState
	collection string
	target     string
	topics     []string
	kv         *kafkaView
	decoders   *connector.Decoders
	dec        map[string]*schemas.FormatDecoder // by topic

	pos offsets // next offset to read
	cl  *kgo.Client
	// pause, while set, is the data pause in force: every progress event
	// carries it (an event without it lifts it).
	pause *schemas.DataPause
	// lastCheckpoint spaces checkpoints of the positions.
	lastCheckpoint time.Time
}

// newReplayer prepares a replay from the checkpointed positions or, on the
// first attempt, the manifest's committed offsets (-1: the log start). A
// position before the log start cannot be replayed: ErrReplayGap.
func (h *handlers) newReplayer(ctx context.Context, s job.Reporter, st *restoreState, m schemas.BackupManifest, target string) (*replayer, error) {
	if h.o.Writer == nil {
		return nil, job.Errorf(schemas.ErrUnsupported, false, "restore with replay needs the data path's writer, which this replica does not have")
	}
	decs, err := connector.NewDecoders(h.o.Config.Record, h.o.Config.Routing, h.o.Schemas)
	if err != nil {
		return nil, job.Errorf(schemas.ErrInvalidParameters, false, "decoding the data path's records: %w", err)
	}
	kv, err := newKafkaView(h.o.KafkaOpts, h.o.Config)
	if err != nil {
		return nil, fail(ctx, "connecting to Kafka", err)
	}
	r := &replayer{h: h, s: s, st: st, collection: m.Collection, target: target, kv: kv,
		decoders: decs, dec: map[string]*schemas.FormatDecoder{}, pos: offsets{}}
	for _, t := range m.Offsets.Topics {
		r.topics = append(r.topics, t.Topic)
	}
	// And the topics whose records may go to the collection now (created
	// since the backup, or routed to it since): their partitions start
	// at the log start, and the pause of an alias switch covers them.
	if err := h.o.retry(ctx, "listing the collection's topics", func(ctx context.Context) error {
		now, err := kv.topicsFor(ctx, m.Collection)
		r.topics = append(r.topics, now...)
		return err
	}); err != nil {
		kv.close()
		return nil, err
	}
	slices.Sort(r.topics)
	r.topics = slices.Compact(r.topics)
	var start offsets
	if err := h.o.retry(ctx, "reading the log start offsets", func(ctx context.Context) (err error) {
		start, err = kv.start(ctx, r.topics)
		return err
	}); err != nil {
		kv.close()
		return nil, err
	}
	from := committedOf(m.Offsets)
	for _, p := range st.Positions {
		from[tp{p.Topic, p.Partition}] = p.Offset
	}
	// Partitions the backup did not know (added since) start at the log start.
	for p, so := range start {
		f, ok := from[p]
		switch {
		case !ok || f < 0:
			r.pos[p] = so
		case f < so:
			kv.close()
			return nil, job.Errorf(schemas.ErrReplayGap, false,
				"%s[%d]: the replay must start at offset %d but Kafka keeps only offsets from %d on (deleted by retention); restore a newer backup, or restore without replay",
				p.topic, p.partition, f, so)
		default:
			r.pos[p] = f
		}
	}
	return r, nil
}

func (r *replayer) close() {
	if r.cl != nil {
		r.cl.Close()
	}
	r.kv.close()
}

// lag is the records left between the positions and stop.
func (r *replayer) lag(stop offsets) int64 {
	var n int64
	for p, s := range stop {
		if d := s - r.pos[p]; d > 0 {
			n += d
		}
	}
	return n
}

func (r *replayer) reached(stop offsets) bool { return r.lag(stop) == 0 }

// consume (re)creates the consumer at the positions of the partitions
// that have records left before stop.
func (r *replayer) consume(stop offsets) error {
	if r.cl != nil {
		r.cl.Close()
		r.cl = nil
	}
	parts := map[string]map[int32]kgo.Offset{}
	for p, s := range stop {
		if r.pos[p] >= s {
			continue
		}
		if parts[p.topic] == nil {
			parts[p.topic] = map[int32]kgo.Offset{}
		}
		parts[p.topic][p.partition] = kgo.NewOffset().At(r.pos[p])
	}
	if len(parts) == 0 {
		return nil
	}
	opts := append(slices.Clone(r.h.o.KafkaOpts),
		kgo.ConsumePartitions(parts),
		// The data path reads committed records only; so does the replay.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers occupy offsets: seeing them moves the
		// position past them, so a stop right after one is reached.
		kgo.KeepControlRecords(),
		// An offset Kafka no longer has is a gap, not a reason to skip.
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("creating the replay consumer: %w", err)
	}
	r.cl = cl
	return nil
}

// run replays until every partition reached stop.
func (r *replayer) run(ctx context.Context, stop offsets, phase string) error {
	if r.reached(stop) {
		return nil
	}
	if err := r.consume(stop); err != nil {
		return fail(ctx, "replaying", err)
	}
	for !r.reached(stop) {
		fetches := r.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		var fetchErr error
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, kerr.OffsetOutOfRange) {
				fetchErr = job.Errorf(schemas.ErrReplayGap, false, "%s[%d]: offset %d is no longer in Kafka (deleted by retention during the replay)", t, p, r.pos[tp{t, p}])
			} else if fetchErr == nil && !errors.Is(err, context.Canceled) {
				r.h.o.Log.Warn("replay fetch failed; retrying", "topic", t, "partition", p, "err", err)
			}
		})
		if fetchErr != nil {
			return fetchErr
		}
		var werr error
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if werr == nil {
				werr = r.apply(ctx, fp, stop)
			}
		})
		if werr != nil {
			return werr
		}
		r.s.Progress(r.progress(stop, phase))
		if err := r.maybeCheckpoint(ctx, false); err != nil {
			return err
		}
	}
	return r.maybeCheckpoint(ctx, true)
}

// apply writes the records of one fetched partition that lie before stop.
func (r *replayer) apply(ctx context.Context, fp kgo.FetchTopicPartition, stop offsets) error {
	p := tp{fp.Topic, fp.Partition}
	end, ok := stop[p]
	if !ok {
		return nil
	}
	var ops []sink.Op
	next := r.pos[p]
	for _, rec := range fp.Records {
		if rec.Offset < next {
			continue
		}
		if rec.Offset >= end {
			next = end
			break
		}
		next = rec.Offset + 1
		if rec.Attrs.IsControl() {
			continue
		}
		d, bad, err := r.decode(ctx, rec)
		if err != nil {
			return err
		}
		if bad != nil {
			r.st.Rejected++
			continue
		}
		if r.h.o.Config.Routing.Route(rec.Topic, d.Collection) != r.collection {
			r.st.Skipped++
			continue
		}
		dr := d
		ops = append(ops, sink.Op{Record: &dr, Offset: rec.Offset, Ref: len(ops)})
	}
	if len(ops) > 0 {
		rejected, err := r.h.o.Writer.Write(ctx, r.target, ops)
		if err != nil {
			return fail(ctx, "replaying into "+r.target, err)
		}
		for _, rj := range rejected {
			if rj.Err != nil && rj.Err.Class == schemas.ClassUnknownCollection {
				return job.Errorf(schemas.ErrCollectionNotFound, false, "replaying: collection %q disappeared: %v", r.target, rj.Err)
			}
		}
		r.st.Records += int64(len(ops) - len(rejected))
		r.st.Rejected += int64(len(rejected))
		r.h.m.replayed.Add(float64(len(ops) - len(rejected)))
	}
	r.pos[p] = next
	if next >= end {
		r.cl.PauseFetchPartitions(map[string][]int32{p.topic: {p.partition}})
	}
	return nil
}

// decode decodes rec as the data path does, with the decoder of its
// topic's format. A Schema Registry that cannot be asked is retried like
// any transient failure (err: the command fails unavailable): skipping
// the record would lose it from the restore. bad is the record's own
// error (the data path dead-letters it; the replay counts it rejected).
func (r *replayer) decode(ctx context.Context, rec *kgo.Record) (d schemas.Record, bad, err error) {
	dec := r.dec[rec.Topic]
	if dec == nil {
		dec = r.decoders.For(rec.Topic)
		r.dec[rec.Topic] = dec
	}
	err = r.h.o.retry(ctx, "decoding a replayed record", func(ctx context.Context) error {
		var derr error
		d, derr = dec.Decode(ctx, rec.Key, rec.Value)
		if unavailable := (*schemas.UnavailableError)(nil); errors.As(derr, &unavailable) {
			return derr
		}
		bad = derr
		return nil
	})
	return d, bad, err
}

func (r *replayer) progress(stop offsets, phase string) schemas.Progress {
	lag := r.lag(stop)
	data := map[string]any{"phase": phase, "bytes": r.st.Bytes, "replayed_records": r.st.Records,
		"skipped_records": r.st.Skipped, "rejected_records": r.st.Rejected, "lag": lag}
	if r.pause != nil {
		data["pause"] = r.pause
	}
	return schemas.Progress{Done: r.st.Records, Detail: fmt.Sprintf("%s: %d records replayed, %d left", phase, r.st.Records, lag),
		Data: mustJSON(data)}
}

// maybeCheckpoint saves the positions every CheckpointEvery (now with force).
func (r *replayer) maybeCheckpoint(ctx context.Context, force bool) error {
	now := r.h.o.Clock.Now()
	if !force && now.Sub(r.lastCheckpoint) < r.h.o.CheckpointEvery {
		return nil
	}
	r.lastCheckpoint = now
	r.st.Positions = positions(r.pos)
	return checkpoint(ctx, r.s, *r.st)
}

// positions lists o by topic and partition.
func positions(o offsets) []position {
	out := make([]position, 0, len(o))
	for p, off := range o {
		out = append(out, position{Topic: p.topic, Partition: p.partition, Offset: off})
	}
	slices.SortFunc(out, func(a, b position) int {
		if a.Topic != b.Topic {
			return strings.Compare(a.Topic, b.Topic)
		}
		return int(a.Partition - b.Partition)
	})
	return out
}

// catchUp replays until the target has what the data group has committed:
// it reads the group's committed offsets, replays up to them, and repeats
// until a read finds nothing new.
func (r *replayer) catchUp(ctx context.Context) (offsets, error) {
	for {
		var stop offsets
		if err := r.h.o.retry(ctx, "reading the data group's offsets", func(ctx context.Context) (err error) {
			stop, err = r.kv.committed(ctx, r.topics)
			return err
		}); err != nil {
			return nil, err
		}
		r.floor(stop)
		if r.reached(stop) {
			return stop, nil
		}
		if err := r.run(ctx, stop, "replay"); err != nil {
			return nil, err
		}
	}
}

// floor sets the stop of a partition the group never committed (-1) to the
// position: there is nothing the group applied to catch up with.
func (r *replayer) floor(stop offsets) {
	for p, s := range stop {
		if s < 0 {
			stop[p] = r.pos[p]
		}
	}
}
