package sink

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// PointsAPI is the part of Qdrant's Points gRPC service the writer uses:
// UpdateBatch for every write; with fencing, Get to read _kq_offset back
// and CreateFieldIndex to index it. qdrant.PointsClient
// (client.GetPointsClient()) satisfies it, and so does PooledPoints.
type PointsAPI interface {
	UpdateBatch(ctx context.Context, in *qdrant.UpdateBatchPoints, opts ...grpc.CallOption) (*qdrant.UpdateBatchResponse, error)
	Get(ctx context.Context, in *qdrant.GetPoints, opts ...grpc.CallOption) (*qdrant.GetResponse, error)
	CreateFieldIndex(ctx context.Context, in *qdrant.CreateFieldIndexCollection, opts ...grpc.CallOption) (*qdrant.PointsOperationResponse, error)
}

// CollectionsAPI is the part of Qdrant's Collections gRPC service the writer
// uses. qdrant.CollectionsClient (client.GetCollectionsClient()) satisfies
// it.
type CollectionsAPI interface {
	Get(ctx context.Context, in *qdrant.GetCollectionInfoRequest, opts ...grpc.CallOption) (*qdrant.GetCollectionInfoResponse, error)
}

// Op is one record to apply to a collection.
type Op struct {
	// Record is the decoded record: Op, ID, Vectors, Payload. Write does
	// not modify it.
	Record *schemas.Record
	// Offset is the record's Kafka offset. Within one Write call the op
	// with the highest offset decides a point's final state.
	Offset int64
	// Partition is the record's Kafka partition. The writer only reports
	// it: fenced writes are logged per collection and partition.
	Partition int32
	// Ref is opaque to the sink and handed back in Rejected.
	Ref int
}

// Rejected is an op that Qdrant refused (or that could not be sent at all).
// Err.Stage is always schemas.StageWrite; Err.Class is
// schemas.ClassQdrantRejected (Qdrant refused the point, or it is too large
// for any request), ClassValidate (the op has no record, id or operation,
// has an offset fencing cannot store, or does not fit the collection's
// current config) or ClassUnknownCollection (the collection does not
// exist).
type Rejected struct {
	Op  Op
	Err *schemas.RecordError
}

// WriterConfig configures a Writer. The zero value works: default backoff
// (config.Retry zero bounds mean 100ms initial, 10s cap), 30s per call,
// requests up to DefaultMaxRequestBytes, no logs, no metrics, no fencing.
type WriterConfig struct {
	// Retry bounds the backoff between retries of retryable failures.
	Retry config.Retry
	// Timeout bounds each gRPC call; a call that times out is retried.
	// Requests ask Qdrant to give up at the same time (rounded up to
	// seconds, capped by the collection's strict-mode max_timeout).
	Timeout time.Duration
	// MaxRequestBytes bounds the encoded size of one UpdateBatch request: a
	// larger batch is sent as several requests. 0: DefaultMaxRequestBytes.
	MaxRequestBytes int
	// Logger receives retry warnings and operator errors. Nil: discard.
	Logger *slog.Logger
	// Registerer receives the kafka_qdrant_* writer metrics. Nil: none.
	// Registering twice on one registry reuses the existing collectors.
	Registerer prometheus.Registerer
	// Fencing stores each upsert's Kafka offset in the payload key
	// _kq_offset and makes upserts and deletes conditional on the stored
	// value being lower or equal (or absent), so a late write from a
	// replica that lost its partitions cannot undo a newer one. It
	// assumes a point id is only ever written from one partition. Qdrant
	// must honour update_filter: check with CheckServer first.
	Fencing bool
	// FencingEpoch (0..MaxFencingEpoch) is stored with the offset
	// (FenceValue): a write of a higher epoch wins over every write of a
	// lower one, whatever their offsets.
	FencingEpoch int
}

// defaultTimeout bounds one gRPC call when WriterConfig.Timeout is zero.
const defaultTimeout = 30 * time.Second

// DefaultMaxRequestBytes bounds a request when WriterConfig.MaxRequestBytes
// is zero; it is also qdrant.max_request_bytes' default.
const DefaultMaxRequestBytes = 16 << 20

// Writer applies batches of point upserts and deletes to Qdrant collections,
// retrying transient failures forever and isolating invalid points by
// bisection. It is safe for concurrent use by many goroutines; it holds no
// per-call state besides the collection config cache and the rate limit of
// fenced-write warnings.
type Writer struct {
	points   PointsAPI
	cols     *collectionCache
	retry    config.Retry
	timeout  time.Duration
	maxBytes int
	fencing  bool
	epoch    int64
	fenced   *fencedLog
	log      *slog.Logger
	m        *metrics
	clk      clock
}

// NewWriter returns a Writer that sends updates through points and reads
// collection configs through collections. Every UpdateBatch call carries a
// grpc.ForceCodecV2 call option with the writer's own encoder for
// *qdrant.UpdateBatchPoints (codec.go); implementations of points must
// pass call options on to gRPC unchanged, as qdrant.PointsClient and
// PooledPoints do.
func NewWriter(points PointsAPI, collections CollectionsAPI, cfg WriterConfig) *Writer {
	w := &Writer{
		points:   withWireCodec(points),
		retry:    cfg.Retry,
		timeout:  cfg.Timeout,
		maxBytes: cfg.MaxRequestBytes,
		fencing:  cfg.Fencing,
		epoch:    int64(min(max(cfg.FencingEpoch, 0), MaxFencingEpoch)),
		fenced:   newFencedLog(),
		log:      cfg.Logger,
		m:        newMetrics(cfg.Registerer),
		clk:      realClock,
	}
	if w.timeout <= 0 {
		w.timeout = defaultTimeout
	}
	if w.maxBytes <= 0 {
		w.maxBytes = DefaultMaxRequestBytes
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.cols = newCollectionCache(collections, w)
	if err := wireSchemaErr(); err != nil {
		w.log.Warn("the linked go-client differs from the one sink/wire_gen.go was generated for; "+
			"UpdateBatch requests are encoded by protobuf-go (slower); run go generate ./sink", "err", err)
	}
	return w
}

// Write applies ops to collection with UpdateBatch calls (wait=true).
//
// Ops on the same point id are merged first: the op with the highest
// Offset decides the point (ties: the later op in ops), so
// upsert→delete→upsert ends upserted; superseded ops count as applied once
// the deciding op is. If the deciding op is rejected, the next-latest op
// on that id decides instead, so a rejected op never erases its
// predecessors.
//
// The ops go out in requests cut to fit: at most MaxRequestBytes encoded,
// upsert operations within the collection's strict-mode
// upsert_max_batchsize, the request timeout within its max_timeout.
// Retryable failures are retried without end with capped, fully jittered
// exponential backoff, honouring Qdrant's retry-after hint, until ctx ends;
// then Write returns (nil, ctx.Err()) and nothing is known to be applied
// (some of it may be: redelivery is harmless). Refusals that hold for the
// whole collection (strict-mode limits) are retried the same way, after
// re-reading the collection's config, and logged at ERROR. A request a
// proxy refuses as too large is halved. A batch Qdrant rejects as invalid
// is re-checked against the collection's refreshed config, then bisected
// until the bad ops are isolated; they come back in the returned slice and
// everything else is applied. When the collection does not exist, every op
// comes back as ClassUnknownCollection.
//
// With fencing, an op whose point turns out to hold a newer write (read
// back after the call) counts as applied, not as upserted or deleted, and
// is reported: kafka_qdrant_fenced_writes_total and a rate-limited WARN per
// collection and partition.
//
// With err == nil every op is either applied or in the returned slice.
func (w *Writer) Write(ctx context.Context, collection string, ops []Op) ([]Rejected, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	groups, invalid := merge(ops, w.fencing)
	var rejected []Rejected
	for _, i := range invalid {
		msg := "op has no record, no point id or no known operation"
		if off := ops[i].Offset; w.fencing && !fenceable(off) {
			msg = fmt.Sprintf("offset %d is outside what fencing can store (0 to %d)", off, maxFencedOffset)
		}
		rejected = append(rejected, Rejected{Op: ops[i], Err: schemas.NewRecordError(
			schemas.ClassValidate, schemas.StageWrite, "%s", msg)})
	}
	for len(groups) > 0 {
		batch := make([]int, len(groups))
		for i, g := range groups {
			batch[i] = g.winner()
		}
		out, err := w.apply(ctx, collection, ops, batch)
		if err != nil {
			return nil, err
		}
		if len(out) == 0 {
			break
		}
		// Rejected winners hand the point to their predecessors.
		byOp := make(map[int]*schemas.RecordError, len(out))
		for _, r := range out {
			byOp[r.op] = r.err
		}
		next := groups[:0]
		for _, g := range groups {
			rerr, ok := byOp[g.winner()]
			if !ok {
				continue
			}
			if rerr.Class == schemas.ClassUnknownCollection {
				// Every predecessor would meet the same missing collection.
				for _, i := range g.ops {
					rejected = append(rejected, Rejected{Op: ops[i], Err: rerr})
				}
				continue
			}
			rejected = append(rejected, Rejected{Op: ops[g.winner()], Err: rerr})
			if g.ops = g.ops[:len(g.ops)-1]; len(g.ops) > 0 {
				next = append(next, g)
			}
		}
		groups = next
		sortByWinner(groups)
	}
	w.m.rejected.Add(float64(len(rejected)))
	return rejected, nil
}
