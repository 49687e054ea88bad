package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// opReject is a rejected op, by index into the Write's ops.
type opReject struct {
	op  int
	err *schemas.RecordError
}

// rejection is what send returns when Qdrant refused the whole request as
// invalid (ActionReject) or as too large (ActionSplit).
type rejection struct{ v Verdict }

func (r *rejection) Error() string {
	return fmt.Sprintf("qdrant refused the batch (%s, %s): %s", r.v.Code, r.v.Action, r.v.Message)
}

// errRecut is what send returns when the collection's limits changed under
// it so that the batch no longer fits one request: cut it again.
var errRecut = errors.New("the batch no longer fits one request")

// apply applies the ops at batch (indexes into ops, one per point id) and
// returns the rejected ones, or ctx.Err(). It works through a stack of
// sub-batches, first the whole batch:
//
//   - a sub-batch too large for one request (cut) is replaced by its parts;
//   - send applies it, retrying retryable failures and collection-wide
//     refusals until they pass;
//   - refused as too large, it is halved; a single op is rejected;
//   - refused as invalid, the collection's config is fetched again unless
//     this apply fetched it (and after every NotFound): a missing
//     collection rejects
//     the sub-batch as ClassUnknownCollection; ops not re-checked yet are
//     checked against it and those that no longer fit (a collection
//     recreated with another config) are rejected as ClassValidate without
//     more calls; if none failed the check, the sub-batch is halved, a
//     single op is rejected as ClassQdrantRejected.
//
// Cost of bisection: k bad ops among n take at most about 2k·log2(n/k)+1
// calls; all-bad takes 2n-1, unless the re-check finds them first.
func (w *Writer) apply(ctx context.Context, collection string, ops []Op, batch []int) ([]opReject, error) {
	cachedAtStart := w.cols.peek(collection)
	var out []opReject
	var fresh *collectionSchema // a config fetched since start, after the first refusal
	var checked []bool          // ops re-checked against fresh
	stack := [][]int{batch}
	for len(stack) > 0 {
		b := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		s, err := w.cols.get(ctx, collection)
		if err != nil {
			return nil, err
		}
		w.ensureOffsetIndex(ctx, collection, s)
		lim := w.limitsFor(s, strictLimits{})
		if parts := w.cut(collection, ops, b, lim); parts != nil {
			for i := len(parts) - 1; i >= 0; i-- {
				stack = append(stack, parts[i])
			}
			continue
		}
		err = w.send(ctx, collection, ops, b, lim)
		if err == nil {
			continue
		}
		if errors.Is(err, errRecut) {
			stack = append(stack, b)
			continue
		}
		var rej *rejection
		if !errors.As(err, &rej) {
			return nil, err
		}
		if rej.v.Action == ActionSplit {
			if len(b) == 1 {
				out = append(out, opReject{op: b[0], err: schemas.NewRecordError(schemas.ClassQdrantRejected,
					schemas.StageWrite, "the point is too large for a request on its own (a gRPC or proxy limit refused it): %s", rej.v.Message)})
				continue
			}
			w.m.splits.Inc()
			stack = append(stack, b[len(b)/2:], b[:len(b)/2])
			continue
		}
		// The collection may have been deleted or recreated since its
		// config was cached: use one fetched during this apply.
		if fresh == nil && s != cachedAtStart {
			fresh = s
		} else if fresh == nil || rej.v.Code == codes.NotFound {
			w.cols.invalidate(collection)
			if fresh, err = w.cols.refreshed(ctx, collection, 0); err != nil {
				return nil, err
			}
		}
		if fresh.missing {
			rerr := unknownCollection(collection)
			for _, op := range b {
				out = append(out, opReject{op: op, err: rerr})
			}
			continue
		}
		if checked == nil {
			checked = make([]bool, len(ops))
		}
		fit := b[:0:0]
		for _, op := range b {
			if checked[op] {
				fit = append(fit, op)
				continue
			}
			checked[op] = true
			if rerr := fresh.check(collection, ops[op].Record); rerr != nil {
				out = append(out, opReject{op: op, err: schemas.NewRecordError(rerr.Class, schemas.StageWrite,
					"does not fit collection %q as it is now: %w", collection, rerr.Err)})
				continue
			}
			fit = append(fit, op)
		}
		switch {
		case len(fit) < len(b):
			if len(fit) > 0 {
				stack = append(stack, fit)
			}
		case len(b) == 1:
			out = append(out, opReject{op: b[0], err: schemas.NewRecordError(schemas.ClassQdrantRejected,
				schemas.StageWrite, "qdrant rejected the point: %s", rej.v.Message)})
		default:
			stack = append(stack, b[len(b)/2:], b[:len(b)/2])
		}
	}
	return out, nil
}

// unknownCollection is the error of an op whose collection does not exist.
func unknownCollection(collection string) *schemas.RecordError {
	return schemas.NewRecordError(schemas.ClassUnknownCollection, schemas.StageWrite,
		"collection %q does not exist in Qdrant", collection)
}

// send applies the ops at batch with one UpdateBatch (wait=true), retrying
// until ctx ends: retryable failures with the same request; collection-wide
// refusals (strict mode) after re-reading the collection's config and
// rebuilding the request to its limits. It returns nil once Qdrant
// confirmed one Completed result per operation (and, with fencing, once the
// writes are read back), a *rejection when Qdrant refused the request as
// invalid or too large, errRecut when the new limits need another cut, or
// ctx.Err().
func (w *Writer) send(ctx context.Context, collection string, ops []Op, batch []int, lim limits) error {
	req, upserts := w.buildRequest(collection, ops, batch, lim)
	var learned strictLimits
	b := newBackoff(ctx, w.retry, w.clk)
	for b.Ongoing() {
		if req == nil {
			s, err := w.cols.get(ctx, collection)
			if err != nil {
				return err
			}
			w.ensureOffsetIndex(ctx, collection, s)
			lim = w.limitsFor(s, learned)
			if w.cut(collection, ops, batch, lim) != nil {
				return errRecut
			}
			req, upserts = w.buildRequest(collection, ops, batch, lim)
		}
		var trailer metadata.MD
		callCtx, cancel := context.WithTimeout(ctx, w.timeout)
		start := time.Now()
		resp, err := w.points.UpdateBatch(callCtx, req, grpc.Trailer(&trailer))
		w.m.duration.Observe(time.Since(start).Seconds())
		w.m.batch.Observe(float64(len(batch)))
		cancel()
		if ctx.Err() != nil {
			// Whatever the call says, our caller has given up.
			return ctx.Err()
		}
		var v Verdict
		if err == nil {
			var ok bool
			if v, ok = resultsVerdict(resp, len(req.GetOperations())); ok {
				return w.applied(ctx, collection, ops, batch, upserts)
			}
		} else {
			v = Classify(err, trailer)
		}
		switch v.Action {
		case ActionReject, ActionSplit:
			return &rejection{v: v}
		case ActionRetryCollection:
			// The limit may have changed, the index may be missing: read
			// the config again and rebuild the request to it.
			w.cols.invalidate(collection)
			learned = learned.learn(v)
			req = nil
		}
		w.m.retry(v.Class)
		d := b.Next(v.RetryAfter)
		w.logRetry(ctx, "UpdateBatch", collection, v, b.Retries(), d)
		b.Sleep(d)
	}
	return b.Err()
}

// applied counts the ops at batch as applied. With fencing it first reads
// them back: an op whose point does not hold it lost to a newer write and
// is reported instead of counted.
func (w *Writer) applied(ctx context.Context, collection string, ops []Op, batch []int, upserts int) error {
	deletes := len(batch) - upserts
	if w.fencing {
		fencedUpserts, fencedDeletes, err := w.verifyFenced(ctx, collection, ops, batch)
		if err != nil {
			return err
		}
		upserts -= fencedUpserts
		deletes -= fencedDeletes
	}
	w.m.upserted.Add(float64(upserts))
	w.m.deleted.Add(float64(deletes))
	return nil
}

// logRetry logs one retry: WARN for transient failures, ERROR for those an
// operator must fix or that hold for the whole collection.
func (w *Writer) logRetry(ctx context.Context, method, collection string, v Verdict, attempt int, delay time.Duration) {
	level := slog.LevelWarn
	msg := "retrying qdrant call"
	switch v.Action {
	case ActionRetryOperator:
		level = slog.LevelError
		msg = "retrying qdrant call that needs an operator: data is kept, not dead-lettered"
	case ActionRetryCollection:
		level = slog.LevelError
		msg = "qdrant refuses every write to the collection (strict mode): data is kept, not dead-lettered; re-reading the collection config and retrying"
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("collection", collection),
		slog.String("code", v.Code.String()),
		slog.String("error", v.Message),
		slog.String("reason", v.Reason),
		slog.Int("attempt", attempt),
		slog.Duration("delay", delay),
	}
	if v.RetryAfter > 0 {
		attrs = append(attrs, slog.Duration("retry_after", v.RetryAfter))
	}
	if v.Detail != "" {
		attrs = append(attrs, slog.String("detail", v.Detail))
	}
	w.log.LogAttrs(ctx, level, msg, attrs...)
}
