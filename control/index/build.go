package index

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// BuildResult is the result of index_build.
type BuildResult struct {
	// Applied are the settings the build set (nil: left as they were).
	Applied Settings `json:"applied"`
	// Sources says where each applied setting came from: "params" or
	// "recorded" (the pending index_defer).
	Sources map[string]string `json:"sources,omitempty"`
	// Changed is false when the collection already had the settings (a
	// resumed build, or indexing was never deferred).
	Changed bool `json:"changed"`
	// Points, IndexedVectors and Segments are what Qdrant reported last.
	// IndexedVectors is Qdrant's indexed_vectors_count: the dense and
	// sparse vectors of optimized segments (small appendable segments
	// never count, a vector built with m=0 has no graph and does not).
	Points         uint64 `json:"points"`
	IndexedVectors uint64 `json:"indexed_vectors"`
	Segments       uint64 `json:"segments"`
	Polls          int    `json:"polls"`
}

// buildCheckpoint is what index_build saves before changing anything: a
// resumed build keeps its deadline.
type buildCheckpoint struct {
	Deadline *time.Time `json:"deadline,omitempty"`
}

// idleStreak is how many consecutive idle polls end the build.
const idleStreak = 2

type buildHandler struct{ o Options }

// NewBuild returns the index_build handler.
func NewBuild(o Options) job.Handler { return &buildHandler{o: o.withDefaults()} }

func (h *buildHandler) Validate(cmd schemas.Command) error {
	_, err := schemas.IndexBuildParamsOf(cmd)
	return err
}

func (h *buildHandler) Run(ctx context.Context, cmd schemas.Command, rep job.Reporter) (any, error) {
	p, err := schemas.IndexBuildParamsOf(cmd)
	if err != nil {
		return nil, err
	}
	c := &caller{o: h.o, collection: cmd.Collection, timeout: p.Timeout.D()}
	var cp buildCheckpoint
	found, err := rep.Restore(&cp)
	if err != nil {
		return nil, err
	}
	switch {
	case found && cp.Deadline != nil:
		c.deadline = *cp.Deadline
	case !found && p.Timeout > 0:
		d := h.o.Clock.Now().Add(p.Timeout.D())
		cp.Deadline = &d
		c.deadline = d
	}
	if !found {
		if err := rep.Checkpoint(ctx, cp); err != nil {
			return nil, err
		}
	}

	info, err := collectionInfo(ctx, c)
	if err != nil {
		return nil, err
	}
	res := BuildResult{Sources: map[string]string{}}
	cur := settingsOf(info)
	target, err := h.target(ctx, cmd.Collection, p, cur, res.Sources)
	if err != nil {
		return nil, err
	}
	res.Applied = target
	req, changed := diff(cmd.Collection, cur, target)
	var changedAt time.Time
	if changed {
		rep.Progress(schemas.Progress{Detail: fmt.Sprintf("restoring indexing of %s: %s", cmd.Collection, target)})
		if err := rep.Owner().Check(ctx); err != nil {
			return nil, err
		}
		if err := c.do(ctx, "updating collection", func(ctx context.Context) error {
			return h.o.Collections.UpdateCollection(ctx, req)
		}); err != nil {
			return nil, err
		}
		res.Changed = true
		changedAt = h.o.Clock.Now()
	}

	poll := h.o.PollInterval
	if p.PollInterval > 0 {
		poll = p.PollInterval.D()
	}
	last, err := h.wait(ctx, c, rep, poll, changedAt, &res.Polls)
	if err != nil {
		return nil, err
	}
	res.Points, res.IndexedVectors, res.Segments = last.Points, last.IndexedVectors, last.Segments
	return res, nil
}

// target picks what to restore: a param when given; else, for a setting
// the pending index_defer deferred (its mode's setting, still at the
// deferred value), the value it recorded. Everything else is left as it
// is: a build never touches a setting nobody deferred, such as m=0 set on
// purpose for a multitenant collection (payload_m graphs).
func (h *buildHandler) target(ctx context.Context, collection string, p schemas.IndexBuildParams, cur Settings, src map[string]string) (Settings, error) {
	rec, pending, err := lastDefer(ctx, h.o.Records, collection)
	if err != nil {
		return Settings{}, err
	}
	mDeferred := pending && rec.Mode == schemas.DeferHNSWM0
	thrDeferred := pending && rec.Mode == schemas.DeferThreshold0
	var t Settings
	switch {
	case p.M != nil:
		t.M, src["m"] = p.M, "params"
	case mDeferred && deferredM(cur.M) && rec.Previous.M != nil:
		t.M, src["m"] = rec.Previous.M, "recorded"
	}
	if p.EfConstruct != nil {
		t.EfConstruct, src["ef_construct"] = p.EfConstruct, "params"
	}
	switch {
	case p.IndexingThreshold != nil:
		t.IndexingThreshold, src["indexing_threshold"] = p.IndexingThreshold, "params"
	case thrDeferred && deferredThreshold(cur.IndexingThreshold) && rec.Previous.IndexingThreshold != nil:
		t.IndexingThreshold, src["indexing_threshold"] = rec.Previous.IndexingThreshold, "recorded"
	}
	for _, name := range slices.Sorted(maps.Keys(cur.Vectors)) {
		r, ok := rec.Previous.Vectors[name]
		if !mDeferred || !ok || r.M == nil || !deferredM(cur.Vectors[name].M) {
			continue
		}
		if t.Vectors == nil {
			t.Vectors = map[string]VectorSettings{}
		}
		key := "vectors." + name + ".m"
		if p.M != nil {
			t.Vectors[name], src[key] = VectorSettings{M: p.M}, "params"
		} else {
			t.Vectors[name], src[key] = VectorSettings{M: r.M}, "recorded"
		}
	}
	return t, nil
}

// wait polls until the collection is done: idle (green, optimizer ok, no
// optimization running or queued, update queue empty) twice in a row. A
// settings change reaches Qdrant's optimizers asynchronously, so after one
// (changedAt) idle polls only count once the collection was seen busy or
// Options.Settle passed. Red fails the build once it lasted
// Options.RedGrace (an optimizer error can clear, e.g. a failed optimizer
// recreation); timeout and cancel end it too.
func (h *buildHandler) wait(ctx context.Context, c *caller, rep job.Reporter, poll time.Duration, changedAt time.Time, polls *int) (snapshot, error) {
	poller := job.Poller{Min: poll, Max: max(h.o.MaxPollInterval, poll)}
	var last snapshot
	var redSince time.Time
	streak, greyPolls, sawBusy := 0, 0, false
	for {
		cur, err := h.observe(ctx, c)
		if err != nil {
			return last, err
		}
		*polls++
		now := h.o.Clock.Now()
		if !c.deadline.IsZero() {
			d := c.deadline
			cur.Deadline = &d
		}
		changed := *polls == 1 || !cur.same(last)
		if changed {
			rep.Progress(cur.progress())
		}
		last = cur

		switch {
		case cur.Status == "red" || cur.Optimizer != "ok":
			if redSince.IsZero() {
				redSince = now
			}
			if now.Sub(redSince) >= h.o.RedGrace {
				return last, job.Errorf(schemas.ErrOptimizer, false, "index_build of %q: collection %s for %s, optimizer: %s",
					c.collection, cur.Status, now.Sub(redSince).Round(time.Second), cur.Optimizer)
			}
		case cur.Status == "grey":
			redSince = time.Time{}
			// Optimizations are pending until an update arrives; an empty
			// optimizer update starts them (Qdrant docs, "Grey collection
			// status"). Nudge on the first grey poll and every 5th after.
			if greyPolls%5 == 0 {
				if err := rep.Owner().Check(ctx); err != nil {
					return last, err
				}
				if err := c.do(ctx, "triggering optimizers", func(ctx context.Context) error {
					return h.o.Collections.UpdateCollection(ctx, &qdrant.UpdateCollection{
						CollectionName: c.collection, OptimizersConfig: &qdrant.OptimizersConfigDiff{}})
				}); err != nil {
					return last, err
				}
			}
			greyPolls++
		default:
			redSince, greyPolls = time.Time{}, 0
		}
		idle := cur.idle()
		sawBusy = sawBusy || !idle
		settled := changedAt.IsZero() || sawBusy || now.Sub(changedAt) >= h.o.Settle
		if idle && settled {
			if streak++; streak >= idleStreak {
				return last, nil
			}
		} else {
			streak = 0
		}
		if err := c.checkDeadline(fmt.Sprintf("the collection was %s (%d vectors indexed)", cur.Status, cur.IndexedVectors)); err != nil {
			return last, err
		}
		if err := job.Sleep(ctx, h.o.Clock, c.untilDeadline(h.o.Clock.Now(), poller.Next(changed))); err != nil {
			return last, err
		}
	}
}

// observe reads the collection info and, where available, the optimizer
// activity.
func (h *buildHandler) observe(ctx context.Context, c *caller) (snapshot, error) {
	var info *qdrant.CollectionInfo
	if err := c.do(ctx, "reading collection info", func(ctx context.Context) (err error) {
		info, err = h.o.Collections.GetCollectionInfo(ctx, c.collection)
		return err
	}); err != nil {
		return snapshot{}, err
	}
	s := snapshotOf(info)
	if h.o.Optimizations == nil {
		return s, nil
	}
	var act Activity
	var noAPI bool
	if err := c.do(ctx, "reading optimizations", func(ctx context.Context) (err error) {
		act, err = h.o.Optimizations.Optimizations(ctx, c.collection)
		if err == ErrNoOptimizationsAPI {
			noAPI, err = true, nil
		}
		return err
	}); err != nil {
		return snapshot{}, err
	}
	if !noAPI {
		s.Running, s.Queued = &act.Running, &act.Queued
	}
	return s, nil
}
