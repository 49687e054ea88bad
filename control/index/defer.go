package index

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// DeferResult is the result of index_defer.
type DeferResult struct {
	Mode string `json:"mode"`
	// Previous are the settings found before the first defer: what
	// index_build restores (only for the settings the mode defers).
	Previous Settings `json:"previous"`
	// AlreadyDeferred is true when the collection was already deferred in
	// this mode before this command; nothing was changed and Previous
	// carries over from the pending index_defer when one is recorded (or
	// is the deferred value itself: a collection created with m=0 on
	// purpose stays so).
	AlreadyDeferred bool `json:"already_deferred"`
}

// deferCheckpoint is what index_defer saves before changing anything, so
// a resumed attempt (which finds the settings already changed) still
// records the ones found first.
type deferCheckpoint struct {
	Previous Settings `json:"previous"`
	// Deferring is true when the first attempt found the collection not
	// deferred (it makes the change).
	Deferring bool `json:"deferring"`
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
	deferred := cur.mDeferred()
	if p.Mode == schemas.DeferThreshold0 {
		deferred = deferredThreshold(cur.IndexingThreshold)
	}

	var cp deferCheckpoint
	found, err := rep.Restore(&cp)
	if err != nil {
		return nil, err
	}
	if !found {
		cp.Previous, err = h.previous(ctx, cmd.Collection, cur)
		if err != nil {
			return nil, err
		}
		cp.Deferring = !deferred
		// Saved before the change: a resumed attempt finds the settings
		// changed and must still record the ones found here.
		if err := rep.Checkpoint(ctx, cp); err != nil {
			return nil, err
		}
	}
	res := DeferResult{Mode: p.Mode, Previous: cp.Previous, AlreadyDeferred: !cp.Deferring}

	req := &qdrant.UpdateCollection{CollectionName: cmd.Collection}
	switch p.Mode {
	case schemas.DeferHNSWM0:
		target := Settings{M: ptr(0)}
		for name := range cur.Vectors {
			if target.Vectors == nil {
				target.Vectors = map[string]VectorSettings{}
			}
			target.Vectors[name] = VectorSettings{M: ptr(0)}
		}
		req, _ = diff(cmd.Collection, cur, target)
	case schemas.DeferThreshold0:
		req.OptimizersConfig = &qdrant.OptimizersConfigDiff{IndexingThreshold: ptr(0)}
	}
	if deferred {
		rep.Progress(schemas.Progress{Detail: fmt.Sprintf("%s already deferred (%s); nothing to change", cmd.Collection, p.Mode)})
		return res, nil
	}
	rep.Progress(schemas.Progress{Detail: fmt.Sprintf("deferring indexing of %s (%s); previous %s", cmd.Collection, p.Mode, res.Previous)})
	if err := rep.Owner().Check(ctx); err != nil {
		return nil, err
	}
	if err := c.do(ctx, "updating collection", func(ctx context.Context) error {
		return h.o.Collections.UpdateCollection(ctx, req)
	}); err != nil {
		return nil, err
	}
	return res, nil
}

// previous is what a build should restore: the current settings, except
// that a value which already defers indexing is taken from the pending
// index_defer (the one no index_build followed yet) when there is one —
// a repeated defer keeps what the first one found. Without a pending
// defer, a deferred value is kept as it is (a collection created with m=0
// on purpose, such as a multitenant one relying on payload_m).
func (h *deferHandler) previous(ctx context.Context, collection string, cur Settings) (Settings, error) {
	prev := cur
	prev.Vectors = maps.Clone(cur.Vectors)
	if !deferredM(cur.M) && !deferredThreshold(cur.IndexingThreshold) && !anyVectorDeferred(cur) {
		return prev, nil
	}
	rec, ok, err := lastDefer(ctx, h.o.Records, collection)
	if err != nil || !ok {
		return prev, err
	}
	if deferredM(cur.M) && rec.Previous.M != nil {
		prev.M = rec.Previous.M
	}
	if deferredThreshold(cur.IndexingThreshold) && rec.Previous.IndexingThreshold != nil {
		prev.IndexingThreshold = rec.Previous.IndexingThreshold
	}
	for name, v := range cur.Vectors {
		if r, ok := rec.Previous.Vectors[name]; ok && deferredM(v.M) && r.M != nil {
			prev.Vectors[name] = VectorSettings{M: r.M, EfConstruct: v.EfConstruct}
		}
	}
	return prev, nil
}

func anyVectorDeferred(s Settings) bool {
	for _, v := range s.Vectors {
		if deferredM(v.M) {
			return true
		}
	}
	return false
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

// lastDefer returns the collection's pending index_defer result (the
// latest succeeded one that no succeeded index_build followed), if any.
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
		// A record we cannot read is as good as none.
		return DeferResult{}, false, nil
	}
	return r, true, nil
}
