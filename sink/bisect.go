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
// invalid (the reject action of the classification table).
type rejection struct{ v verdict }

func (r *rejection) Error() string {
	return fmt.Sprintf("qdrant rejected the batch (%s): %s", r.v.code, r.v.msg)
}

// bisect applies the ops at batch (indexes into ops, one per point id). If
// Qdrant rejects the request as invalid, it splits it in halves and applies
// each separately, until every op is applied or isolated and rejected on
// its own. A request refused with NotFound first checks whether the
// collection is gone; if so every op is rejected as ClassUnknownCollection
// without further calls. It returns the rejected ops, or ctx.Err().
//
// Cost: k bad ops among n take at most about 2k·log2(n/k)+1 calls; all-bad
// takes 2n-1.
func (w *Writer) bisect(ctx context.Context, collection string, ops []Op, batch []int) ([]opReject, error) {
	err := w.send(ctx, collection, ops, batch)
	if err == nil {
		return nil, nil
	}
	var rej *rejection
	if !errors.As(err, &rej) {
		return nil, err
	}
	// The collection may have been recreated with another config.
	w.cols.invalidate(collection)
	if rej.v.code == codes.NotFound {
		s, err := w.cols.refreshed(ctx, collection, 0)
		if err != nil {
			return nil, err
		}
		if s.missing {
			rerr := unknownCollection(collection)
			out := make([]opReject, len(batch))
			for i, op := range batch {
				out[i] = opReject{op: op, err: rerr}
			}
			return out, nil
		}
	}
	if len(batch) == 1 {
		return []opReject{{op: batch[0], err: schemas.NewRecordError(schemas.ClassQdrantRejected,
			schemas.StageWrite, "qdrant rejected the point: %s", rej.v.msg)}}, nil
	}
	mid := len(batch) / 2
	left, err := w.bisect(ctx, collection, ops, batch[:mid])
	if err != nil {
		return nil, err
	}
	right, err := w.bisect(ctx, collection, ops, batch[mid:])
	if err != nil {
		return nil, err
	}
	return append(left, right...), nil
}

// unknownCollection is the error of an op whose collection does not exist.
func unknownCollection(collection string) *schemas.RecordError {
	return schemas.NewRecordError(schemas.ClassUnknownCollection, schemas.StageWrite,
		"collection %q does not exist in Qdrant", collection)
}

// send applies the ops at batch with one UpdateBatch (wait=true), retrying
// retryable failures until ctx ends. It returns nil once Qdrant confirmed
// every operation Completed, a *rejection when Qdrant refused the request
// as invalid, or ctx.Err().
func (w *Writer) send(ctx context.Context, collection string, ops []Op, batch []int) error {
	req, upserts := w.buildRequest(collection, ops, batch)
	b := newBackoff(ctx, w.retry, w.clk)
	for b.Ongoing() {
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
		var v verdict
		if err == nil {
			ok := true
			for _, r := range resp.GetResult() {
				if v, ok = statusVerdict(r.GetStatus()); !ok {
					break
				}
			}
			if ok {
				w.m.upserted.Add(float64(upserts))
				w.m.deleted.Add(float64(len(batch) - upserts))
				return nil
			}
		} else {
			v = classify(err, trailer)
		}
		if v.rule.action == reject {
			return &rejection{v: v}
		}
		w.m.retry(v.rule.label)
		d := b.Next(v.after)
		w.logRetry(ctx, "UpdateBatch", collection, v, b.Retries(), d)
		b.Sleep(d)
	}
	return b.Err()
}

// logRetry logs one retry: WARN for transient failures, ERROR for those an
// operator must fix.
func (w *Writer) logRetry(ctx context.Context, method, collection string, v verdict, attempt int, delay time.Duration) {
	level := slog.LevelWarn
	msg := "retrying qdrant call"
	if v.rule.action == retryOperator {
		level = slog.LevelError
		msg = "retrying qdrant call that needs an operator: data is kept, not dead-lettered"
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("collection", collection),
		slog.String("code", v.code.String()),
		slog.String("error", v.msg),
		slog.String("reason", v.rule.reason),
		slog.Int("attempt", attempt),
		slog.Duration("delay", delay),
	}
	if v.after > 0 {
		attrs = append(attrs, slog.Duration("retry_after", v.after))
	}
	if v.detail != "" {
		attrs = append(attrs, slog.String("detail", v.detail))
	}
	w.log.LogAttrs(ctx, level, msg, attrs...)
}
