package index

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// DeferResult is the result of index_defer.
type DeferResult struct {
	Mode string `json:"mode"`
	// Previous are the settings before the first defer: what index_build
	// restores by default.
	Previous Settings `json:"previous"`
	// AlreadyDeferred is true when the collection was already deferred in
	// this mode; nothing was changed and Previous carries over from the
	// earlier index_defer when one is recorded.
	AlreadyDeferred bool `json:"already_deferred"`
}

type deferHandler struct{ o Options }

// NewDefer returns the index_defer handler.
func NewDefer(o Options) job.Handler { return &deferHandler{o: o.withDefaults()} }

func (h *deferHandler) Validate(cmd schemas.Command) error {
	_, err := schemas.IndexDeferParamsOf(cmd)
	return err
}

func (h *deferHandler) Run(ctx context.Context, cmd schemas.Command, rep job.Reporter) (any, error) {
	p, err := schemas.IndexDeferParamsOf(cmd)
	if err != nil {
		return nil, err
	}
	c := &caller{o: h.o, collection: cmd.Collection}
	info, err := collectionInfo(ctx, c)
	if err != nil {
		return nil, err
	}
	cur := settingsOf(info)
	res := DeferResult{Mode: p.Mode, Previous: cur}

	// A setting that already defers indexing is not a "previous" worth
	// restoring: take it from the last recorded defer when there is one.
	if deferredM(cur.M) || deferredThreshold(cur.IndexingThreshold) {
		if rec, ok, err := lastDefer(ctx, h.o.Records, cmd.Collection); err != nil {
			return nil, err
		} else if ok {
			if deferredM(cur.M) {
				res.Previous.M = rec.Previous.M
			}
			if deferredThreshold(cur.IndexingThreshold) {
				res.Previous.IndexingThreshold = rec.Previous.IndexingThreshold
			}
		}
	}

	req := &qdrant.UpdateCollection{CollectionName: cmd.Collection}
	switch p.Mode {
	case schemas.DeferHNSWM0:
		res.AlreadyDeferred = deferredM(cur.M)
		req.HnswConfig = &qdrant.HnswConfigDiff{M: ptr(0)}
	case schemas.DeferThreshold0:
		res.AlreadyDeferred = deferredThreshold(cur.IndexingThreshold)
		req.OptimizersConfig = &qdrant.OptimizersConfigDiff{IndexingThreshold: ptr(0)}
	}
	if res.AlreadyDeferred {
		rep.Progress(schemas.Progress{Detail: fmt.Sprintf("%s already deferred (%s); nothing to change", cmd.Collection, p.Mode)})
		return res, nil
	}
	rep.Progress(schemas.Progress{Detail: fmt.Sprintf("deferring indexing of %s (%s); previous %s", cmd.Collection, p.Mode, res.Previous)})
	if err := c.do(ctx, "updating collection", func(ctx context.Context) error {
		return h.o.Collections.UpdateCollection(ctx, req)
	}); err != nil {
		return nil, err
	}
	return res, nil
}

// collectionInfo checks that the collection exists (so a missing one is
// reported as such, not as a generic Qdrant error) and reads its info.
func collectionInfo(ctx context.Context, c *caller) (*qdrant.CollectionInfo, error) {
	var exists bool
	if err := c.do(ctx, "checking collection", func(ctx context.Context) (err error) {
		exists, err = c.o.Collections.CollectionExists(ctx, c.collection)
		return err
	}); err != nil {
		return nil, err
	}
	if !exists {
		return nil, job.Errorf(schemas.ErrCollectionNotFound, false, "collection %q does not exist", c.collection)
	}
	var info *qdrant.CollectionInfo
	if err := c.do(ctx, "reading collection info", func(ctx context.Context) (err error) {
		info, err = c.o.Collections.GetCollectionInfo(ctx, c.collection)
		return err
	}); err != nil {
		return nil, err
	}
	return info, nil
}

// lastDefer returns the collection's recorded index_defer result, if any.
func lastDefer(ctx context.Context, recs DeferRecords, collection string) (DeferResult, bool, error) {
	if recs == nil {
		return DeferResult{}, false, nil
	}
	raw, ok, err := recs.LastDefer(ctx, collection)
	if err != nil {
		if ctx.Err() != nil {
			return DeferResult{}, false, context.Cause(ctx)
		}
		return DeferResult{}, false, job.Errorf(schemas.ErrUnavailable, true, "reading the recorded index_defer of %q: %w", collection, err)
	}
	if !ok {
		return DeferResult{}, false, nil
	}
	var r DeferResult
	if err := json.Unmarshal(raw, &r); err != nil {
		// A record we cannot read is as good as none: defaults apply.
		return DeferResult{}, false, nil
	}
	return r, true, nil
}
