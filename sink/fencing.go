package sink

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// ServerAPI is the part of Qdrant's Qdrant gRPC service CheckServer uses.
// qdrant.QdrantClient (client.GetQdrantClient()) satisfies it.
type ServerAPI interface {
	HealthCheck(ctx context.Context, in *qdrant.HealthCheckRequest, opts ...grpc.CallOption) (*qdrant.HealthCheckReply, error)
}

// MinFencingVersion is the first Qdrant release that honours the
// update_filter of an upsert in UpdateBatch: PointStructList.update_filter
// arrived in v1.15.4 (qdrant/qdrant#7006, lib/api/src/grpc/proto/points.proto
// and src/tonic/api/update_common.rs). Older servers drop the unknown field
// and upsert unconditionally, so fencing would silently do nothing.
const MinFencingVersion = "1.15.4"

// CheckServer asks Qdrant for its version (HealthCheck, retried with
// backoff like every call until ctx ends) and returns it. With
// cfg.Fencing it refuses a server older than MinFencingVersion, or one
// whose version it cannot read, with an error that says why.
func CheckServer(ctx context.Context, api ServerAPI, cfg WriterConfig) (string, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	b := newBackoff(ctx, cfg.Retry, realClock)
	for b.Ongoing() {
		var trailer metadata.MD
		callCtx, cancel := context.WithTimeout(ctx, timeout)
		reply, err := api.HealthCheck(callCtx, &qdrant.HealthCheckRequest{}, grpc.Trailer(&trailer))
		cancel()
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if err == nil {
			version := reply.GetVersion()
			if cfg.Fencing {
				if err := fencingSupported(version); err != nil {
					return version, err
				}
			}
			return version, nil
		}
		v := Classify(err, trailer)
		d := b.Next(v.RetryAfter)
		log.LogAttrs(ctx, slog.LevelWarn, "waiting for qdrant to answer its version",
			slog.String("code", v.Code.String()), slog.String("error", v.Message),
			slog.Int("attempt", b.Retries()), slog.Duration("delay", d))
		b.Sleep(d)
	}
	return "", b.Err()
}

// fencingSupported reports whether a server of version honours
// update_filter on upserts.
func fencingSupported(version string) error {
	have, ok := parseVersion(version)
	if !ok {
		return fmt.Errorf("qdrant.fencing: qdrant reports version %q, which is not major.minor.patch; fencing needs Qdrant %s or newer (update_filter on upserts) and cannot check it", version, MinFencingVersion)
	}
	need, _ := parseVersion(MinFencingVersion)
	for i := range have {
		if have[i] != need[i] {
			if have[i] < need[i] {
				return fmt.Errorf("qdrant.fencing: qdrant %s ignores update_filter on upserts (added in %s), so late writes would overwrite newer points; upgrade Qdrant or turn fencing off", version, MinFencingVersion)
			}
			break
		}
	}
	return nil
}

// parseVersion reads "major.minor.patch" with an optional "v" prefix and
// any suffix after the patch number ("1.16.0-dev").
func parseVersion(s string) ([3]int, bool) {
	var out [3]int
	parts := strings.SplitN(strings.TrimPrefix(s, "v"), ".", 3)
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		if end == 0 || (i < 2 && end != len(p)) {
			return out, false
		}
		n, err := strconv.Atoi(p[:end])
		if err != nil {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// ensureOffsetIndex creates the integer payload index on OffsetKey in
// collection when fencing is on and the fetched config s does not show
// one. Strict mode with unindexed_filtering_update: false refuses a delete
// by filter on an unindexed key, and fenced deletes filter on OffsetKey
// (upserts' update_filter is exempt). It tries once per fetched config:
// a failure is logged, and a refusal that needs the index comes back as a
// collection-wide verdict, which re-reads the config and so tries again.
func (w *Writer) ensureOffsetIndex(ctx context.Context, collection string, s *collectionSchema) {
	if !w.fencing || s.missing || !s.offsetIndex.CompareAndSwap(indexAbsent, indexTried) {
		return
	}
	wait := true
	callCtx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	_, err := w.points.CreateFieldIndex(callCtx, &qdrant.CreateFieldIndexCollection{
		CollectionName: collection,
		FieldName:      OffsetKey,
		FieldType:      qdrant.FieldType_FieldTypeInteger.Enum(),
		Wait:           &wait,
	})
	if err == nil {
		s.offsetIndex.Store(indexPresent)
		w.log.LogAttrs(ctx, slog.LevelInfo, "created the payload index fenced deletes filter on",
			slog.String("collection", collection), slog.String("key", OffsetKey), slog.String("type", "integer"))
		return
	}
	if ctx.Err() != nil {
		return
	}
	v := Classify(err, nil)
	level := slog.LevelError
	if v.Action == ActionRetry {
		level = slog.LevelWarn
	}
	w.log.LogAttrs(ctx, level, "could not create the payload index fenced deletes filter on; under strict mode (unindexed_filtering_update: false) they are refused until it exists",
		slog.String("collection", collection), slog.String("key", OffsetKey),
		slog.String("code", v.Code.String()), slog.String("error", v.Message))
}

// verifyFenced reads back the points of the ops at batch, just written
// with fencing, and reports the ops that did not take: an upsert whose
// point does not hold its fence value, a delete whose point still exists.
// Qdrant answers Completed for a conditional write whose filter did not
// match, so reading back is the only way to tell.
//
// Cost: one Get of len(batch) ids per UpdateBatch, returning only
// OffsetKey, with read consistency majority. A failure the table calls
// retryable is retried until ctx ends; any other (the collection deleted
// meanwhile) is logged and nothing is reported.
func (w *Writer) verifyFenced(ctx context.Context, collection string, ops []Op, batch []int) (upserts, deletes int, err error) {
	req := &qdrant.GetPoints{
		CollectionName:  collection,
		Ids:             pointsOf(ops, batch),
		WithPayload:     qdrant.NewWithPayloadInclude(OffsetKey),
		WithVectors:     qdrant.NewWithVectors(false),
		ReadConsistency: qdrant.NewReadConsistencyType(qdrant.ReadConsistencyType_Majority),
	}
	b := newBackoff(ctx, w.retry, w.clk)
	for b.Ongoing() {
		var trailer metadata.MD
		callCtx, cancel := context.WithTimeout(ctx, w.timeout)
		resp, err := w.points.Get(callCtx, req, grpc.Trailer(&trailer))
		cancel()
		if ctx.Err() != nil {
			return 0, 0, ctx.Err()
		}
		if err == nil {
			return w.reportFenced(ctx, collection, ops, batch, resp.GetResult())
		}
		v := Classify(err, trailer)
		if !v.Action.Retryable() {
			w.log.LogAttrs(ctx, slog.LevelWarn, "could not read fenced writes back; writes lost to newer ones are not counted for this batch",
				slog.String("collection", collection), slog.String("code", v.Code.String()), slog.String("error", v.Message))
			return 0, 0, nil
		}
		w.m.retry(v.Class)
		d := b.Next(v.RetryAfter)
		w.logRetry(ctx, "Get", collection, v, b.Retries(), d)
		b.Sleep(d)
	}
	return 0, 0, b.Err()
}

// fencedPartition is what one WARN says about one partition's lost writes.
type fencedPartition struct {
	n               int
	minOff, maxOff  int64
	exampleID       string
	exampleStored   int64
	exampleHasValue bool
}

// reportFenced compares the read-back points with the ops, counts the ops
// that did not take and logs them per partition.
func (w *Writer) reportFenced(ctx context.Context, collection string, ops []Op, batch []int, points []*qdrant.RetrievedPoint) (upserts, deletes int, err error) {
	type stored struct {
		v   int64
		has bool
	}
	found := make(map[pointKey]stored, len(points))
	for _, p := range points {
		k, ok := keyOf(p.GetId())
		if !ok {
			continue
		}
		val, has := p.GetPayload()[OffsetKey]
		found[k] = stored{v: val.GetIntegerValue(), has: has}
	}
	var byPartition map[int32]*fencedPartition
	for _, i := range batch {
		op := &ops[i]
		k, _ := keyOf(op.Record.ID)
		got, exists := found[k]
		want := fenceValue(w.epoch, op.Offset)
		var lost bool
		if op.Record.Op == schemas.OpUpsert {
			lost = !exists || !got.has || got.v != want
			if lost {
				upserts++
			}
		} else {
			lost = exists
			if lost {
				deletes++
			}
		}
		if !lost {
			continue
		}
		if byPartition == nil {
			byPartition = map[int32]*fencedPartition{}
		}
		fp := byPartition[op.Partition]
		if fp == nil {
			fp = &fencedPartition{minOff: op.Offset, maxOff: op.Offset, exampleID: idText(op.Record.ID),
				exampleStored: got.v, exampleHasValue: exists && got.has}
			byPartition[op.Partition] = fp
		}
		fp.n++
		fp.minOff, fp.maxOff = min(fp.minOff, op.Offset), max(fp.maxOff, op.Offset)
	}
	if n := upserts + deletes; n > 0 {
		w.m.fenced.Add(float64(n))
	}
	now := w.clk.now()
	for partition, fp := range byPartition {
		total, ok := w.fenced.allow(collection, partition, fp.n, now)
		if !ok {
			continue
		}
		attrs := []slog.Attr{
			slog.String("collection", collection),
			slog.Int("partition", int(partition)),
			slog.Int("fenced", total),
			slog.Int64("first_offset", fp.minOff),
			slog.Int64("last_offset", fp.maxOff),
			slog.Int64("epoch", w.epoch),
			slog.String("example_id", fp.exampleID),
		}
		if fp.exampleHasValue {
			attrs = append(attrs, slog.Int64("example_stored_epoch", fp.exampleStored>>fenceOffsetBits),
				slog.Int64("example_stored_offset", fp.exampleStored&maxFencedOffset))
		}
		w.log.LogAttrs(ctx, slog.LevelWarn, "writes lost to newer ones (fencing): their points hold a newer offset or epoch. "+
			"Expected after a restart, rebalance or offset reset (records read again; their later records win); if it lasts, "+
			"offsets went back (topic recreated, partitions added) and records are being dropped: bump qdrant.fencing_epoch to write them",
			attrs...)
	}
	return upserts, deletes, nil
}

// pointsOf returns the ids of the ops at batch.
func pointsOf(ops []Op, batch []int) []*qdrant.PointId {
	ids := make([]*qdrant.PointId, len(batch))
	for k, i := range batch {
		ids[k] = ops[i].Record.ID
	}
	return ids
}

// idText renders a point id for logs.
func idText(id *qdrant.PointId) string {
	if u, ok := id.GetPointIdOptions().(*qdrant.PointId_Uuid); ok {
		return u.Uuid
	}
	return strconv.FormatUint(id.GetNum(), 10)
}

// fencedLogEvery is the shortest time between two fenced-write WARNs for
// one collection and partition; the WARN counts what it covers.
const fencedLogEvery = 10 * time.Second

// maxFencedLogKeys bounds fencedLog's maps (collections × partitions).
const maxFencedLogKeys = 4096

type fencedKey struct {
	collection string
	partition  int32
}

// fencedLog rate-limits fenced-write WARNs per collection and partition.
type fencedLog struct {
	mu      sync.Mutex
	last    map[fencedKey]time.Time
	pending map[fencedKey]int
}

func newFencedLog() *fencedLog {
	return &fencedLog{last: map[fencedKey]time.Time{}, pending: map[fencedKey]int{}}
}

// allow adds n lost writes for (collection, partition) and reports whether
// to log now, with the count since the last WARN.
func (l *fencedLog) allow(collection string, partition int32, n int, now time.Time) (int, bool) {
	k := fencedKey{collection, partition}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending[k] += n
	last, seen := l.last[k]
	if seen && now.Sub(last) < fencedLogEvery {
		return 0, false
	}
	if !seen && len(l.last) >= maxFencedLogKeys {
		clear(l.last)
		clear(l.pending)
		l.pending[k] = n
	}
	l.last[k] = now
	total := l.pending[k]
	delete(l.pending, k)
	return total, true
}
