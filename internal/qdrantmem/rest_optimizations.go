package qdrantmem

import (
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
)

type restOptimizations struct {
	Summary restOptSummary     `json:"summary"`
	Running []restOptimization `json:"running"`
	// Optional lists are Option<Vec<_>> in Qdrant: absent unless asked
	// for with ?with=, then present even when empty.
	Queued       *[]restPendingOpt   `json:"queued,omitempty"`
	Completed    *[]restOptimization `json:"completed,omitempty"`
	IdleSegments *[]restOptSegment   `json:"idle_segments,omitempty"`
}

type restOptSummary struct {
	QueuedOptimizations int `json:"queued_optimizations"`
	QueuedSegments      int `json:"queued_segments"`
	QueuedPoints        int `json:"queued_points"`
	IdleSegments        int `json:"idle_segments"`
}

type restOptimization struct {
	UUID      string           `json:"uuid"`
	Optimizer string           `json:"optimizer"`
	Status    string           `json:"status"`
	Segments  []restOptSegment `json:"segments"`
	Progress  restProgress     `json:"progress"`
}

type restPendingOpt struct {
	Optimizer string           `json:"optimizer"`
	Segments  []restOptSegment `json:"segments"`
}

type restOptSegment struct {
	UUID        string `json:"uuid"`
	PointsCount int    `json:"points_count"`
}

type restProgress struct {
	Name        string         `json:"name"`
	StartedAt   *time.Time     `json:"started_at,omitempty"`
	FinishedAt  *time.Time     `json:"finished_at,omitempty"`
	DurationSec *float64       `json:"duration_sec,omitempty"`
	Done        *uint64        `json:"done,omitempty"`
	Total       *uint64        `json:"total,omitempty"`
	Children    []restProgress `json:"children,omitempty"`
}

// modelUUID derives stable ids for the model's segments and builds.
func modelUUID(collection, what string, n uint64) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprintf("qdrantmem/%s/%s/%d", collection, what, n))).String()
}

func progressTree(start time.Time, end *time.Time, done, total uint64) restProgress {
	st := start.UTC()
	child := restProgress{Name: "vector_index", StartedAt: &st, Done: &done, Total: &total}
	root := restProgress{Name: "Segment Optimizing", StartedAt: &st, Children: []restProgress{child}}
	if end != nil {
		e := end.UTC()
		d := e.Sub(st).Seconds()
		root.FinishedAt, root.DurationSec = &e, &d
		root.Children[0].FinishedAt, root.Children[0].DurationSec = &e, &d
	}
	return root
}

func (s *Server) optimizationsJSON(c *collection, o optimizationsOptions) restOptimizations {
	now := s.opts.clock.Now()
	c = c.projected(now, s.opts.indexingRate)
	ix := &c.idx
	segments := int(c.segmentsCount(s.opts.cpus))
	unopt := restOptSegment{UUID: modelUUID(c.name, "segment", ix.seq), PointsCount: len(c.points)}
	out := restOptimizations{Running: []restOptimization{}}
	busy := 0
	var queued []restPendingOpt
	switch j := ix.job; {
	case j != nil && !ix.stopped:
		busy = 1
		out.Running = append(out.Running, restOptimization{
			UUID: modelUUID(c.name, "build", j.seq), Optimizer: j.kind, Status: "optimizing",
			Segments: []restOptSegment{unopt},
			Progress: progressTree(j.start, nil, j.done(now, s.opts.indexingRate), j.total),
		})
	case j != nil:
		queued = append(queued, restPendingOpt{Optimizer: j.kind, Segments: []restOptSegment{unopt}})
	case ix.jobDue:
		queued = append(queued, restPendingOpt{Optimizer: "indexing", Segments: []restOptSegment{unopt}})
	}
	if len(queued) > 0 {
		busy = 1
		out.Summary.QueuedOptimizations, out.Summary.QueuedSegments, out.Summary.QueuedPoints = len(queued), 1, len(c.points)
	}
	if o.queued {
		q := append([]restPendingOpt{}, queued...)
		out.Queued = &q
	}
	out.Summary.IdleSegments = max(segments-busy, 0)
	if o.idle {
		idle := []restOptSegment{}
		for i := 0; i < out.Summary.IdleSegments; i++ {
			idle = append(idle, restOptSegment{UUID: modelUUID(c.name, "idle", uint64(i))})
		}
		out.IdleSegments = &idle
	}
	if o.completed {
		done := append([]completedBuild(nil), ix.complete...)
		sort.Slice(done, func(i, j int) bool { return done[i].start.After(done[j].start) })
		if len(done) > o.completedLimit {
			done = done[:o.completedLimit]
		}
		completed := []restOptimization{}
		for _, b := range done {
			end := b.end
			completed = append(completed, restOptimization{
				UUID: modelUUID(c.name, "build", b.seq), Optimizer: b.kind, Status: "done",
				Segments: []restOptSegment{{UUID: modelUUID(c.name, "segment", b.seq), PointsCount: b.points}},
				Progress: progressTree(b.start, &end, b.vectors, b.vectors),
			})
		}
		out.Completed = &completed
	}
	return out
}
