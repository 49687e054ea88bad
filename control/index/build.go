package index

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// BuildResult is the result of index_build.
type BuildResult struct {
	// Applied are the settings the build set (nil: left as they were).
	Applied Settings `json:"applied"`
	// Sources says where each applied setting came from: "params",
	// "recorded" (the last index_defer), "default" (Qdrant's default).
	Sources map[string]string `json:"sources,omitempty"`
	// Changed is false when the collection already had the settings (a
	// resumed build, or indexing was never deferred).
	Changed        bool   `json:"changed"`
	Points         uint64 `json:"points"`
	IndexedVectors uint64 `json:"indexed_vectors"`
	Segments       uint64 `json:"segments"`
	Polls          int    `json:"polls"`
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
	if p.Timeout > 0 {
		c.deadline = h.o.Clock.Now().Add(p.Timeout.D())
		if d, ok := resumedDeadline(rep.Previous()); ok {
			c.deadline = d
		}
	}

	info, err := collectionInfo(ctx, c)
	if err != nil {
		return nil, err
	}
	res := BuildResult{Sources: map[string]string{}}
	target, err := h.target(ctx, cmd.Collection, p, settingsOf(info), res.Sources)
	if err != nil {
		return nil, err
	}
	res.Applied = target
	req, changed := diff(cmd.Collection, settingsOf(info), target)
	if changed {
		rep.Progress(schemas.Progress{Detail: fmt.Sprintf("restoring indexing of %s: %s", cmd.Collection, target)})
		if err := c.do(ctx, "updating collection", func(ctx context.Context) error {
			return h.o.Collections.UpdateCollection(ctx, req)
		}); err != nil {
			return nil, err
		}
		res.Changed = true
	}

	poll := h.o.PollInterval
	if p.PollInterval > 0 {
		poll = p.PollInterval.D()
	}
	last, err := h.wait(ctx, c, rep, poll, &res.Polls)
	if err != nil {
		return nil, err
	}
	res.Points, res.IndexedVectors, res.Segments = last.Points, last.IndexedVectors, last.Segments
	return res, nil
}

// target picks each setting: the param when given; else, for a setting
// whose current value defers indexing (m=0, indexing_threshold=0), the value
// recorded by the last index_defer, else Qdrant's default; else the setting
// is left as it is (a build never reverts a setting nobody deferred).
func (h *buildHandler) target(ctx context.Context, collection string, p schemas.IndexBuildParams, cur Settings, src map[string]string) (Settings, error) {
	rec, found, err := lastDefer(ctx, h.o.Records, collection)
	if err != nil {
		return Settings{}, err
	}
	pick := func(name string, param, recorded *uint64, deferred bool, def uint64) *uint64 {
		switch {
		case param != nil:
			src[name] = "params"
			return param
		case !deferred:
			return nil
		case found && usable(recorded) != nil:
			src[name] = "recorded"
			return recorded
		}
		src[name] = "default"
		return ptr(def)
	}
	return Settings{
		M:                 pick("m", p.M, rec.Previous.M, deferredM(cur.M), DefaultM),
		EfConstruct:       pick("ef_construct", p.EfConstruct, nil, false, DefaultEfConstruct),
		IndexingThreshold: pick("indexing_threshold", p.IndexingThreshold, rec.Previous.IndexingThreshold, deferredThreshold(cur.IndexingThreshold), DefaultIndexingThreshold),
	}, nil
}

// wait polls until idle twice in a row, failing on red, timeout or cancel.
func (h *buildHandler) wait(ctx context.Context, c *caller, rep job.Reporter, poll time.Duration, polls *int) (snapshot, error) {
	poller := job.Poller{Min: poll, Max: max(h.o.MaxPollInterval, poll)}
	var last snapshot
	streak, greyPolls := 0, 0
	for {
		cur, err := h.observe(ctx, c)
		if err != nil {
			return last, err
		}
		*polls++
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
			return last, job.Errorf(schemas.ErrOptimizer, false, "index_build of %q: collection is %s, optimizer: %s", c.collection, cur.Status, cur.Optimizer)
		case cur.Status == "grey":
			// Optimizations are pending until an update arrives; an empty
			// optimizer update starts them (Qdrant docs, "Grey collection
			// status"). Nudge on the first grey poll and every 5th after.
			if greyPolls%5 == 0 {
				if err := c.do(ctx, "triggering optimizers", func(ctx context.Context) error {
					return h.o.Collections.UpdateCollection(ctx, &qdrant.UpdateCollection{
						CollectionName: c.collection, OptimizersConfig: &qdrant.OptimizersConfigDiff{}})
				}); err != nil {
					return last, err
				}
			}
			greyPolls++
		default:
			greyPolls = 0
		}
		if cur.idle() {
			if streak++; streak >= idleStreak {
				return last, nil
			}
		} else {
			streak = 0
		}
		if err := c.checkDeadline(fmt.Sprintf("the collection was %s (%d/%d vectors indexed)", cur.Status, cur.IndexedVectors, cur.Vectors)); err != nil {
			return last, err
		}
		d := poller.Next(changed)
		if !c.deadline.IsZero() {
			d = min(d, max(c.deadline.Sub(h.o.Clock.Now()), time.Millisecond))
		}
		if err := job.Sleep(ctx, h.o.Clock, d); err != nil {
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

// resumedDeadline returns the deadline an earlier attempt recorded.
func resumedDeadline(prev *schemas.Status) (time.Time, bool) {
	if prev == nil || prev.Progress == nil || len(prev.Progress.Data) == 0 {
		return time.Time{}, false
	}
	var s snapshot
	if json.Unmarshal(prev.Progress.Data, &s) != nil || s.Deadline == nil {
		return time.Time{}, false
	}
	return *s.Deadline, true
}
