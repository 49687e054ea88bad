package index

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// snapshot is what one poll saw; it is the progress data of index_build.
type snapshot struct {
	Status         string `json:"status"`    // green, yellow, grey, red
	Optimizer      string `json:"optimizer"` // "ok" or Qdrant's error
	Points         uint64 `json:"points"`
	IndexedVectors uint64 `json:"indexed_vectors"`
	Segments       uint64 `json:"segments"`
	// UpdateQueue is update_queue.length: operations Qdrant acknowledged
	// but has not applied yet.
	UpdateQueue uint64 `json:"update_queue"`
	// Running and Queued are optimizations, when the server reports them.
	Running *int `json:"optimizations_running,omitempty"`
	Queued  *int `json:"optimizations_queued,omitempty"`
	// Deadline is when the build times out; a resumed build keeps it.
	Deadline *time.Time `json:"deadline,omitempty"`
}

func statusName(s qdrant.CollectionStatus) string {
	switch s {
	case qdrant.CollectionStatus_Green:
		return "green"
	case qdrant.CollectionStatus_Yellow:
		return "yellow"
	case qdrant.CollectionStatus_Grey:
		return "grey"
	case qdrant.CollectionStatus_Red:
		return "red"
	}
	return "unknown"
}

func snapshotOf(info *qdrant.CollectionInfo) snapshot {
	s := snapshot{
		Status:         statusName(info.GetStatus()),
		Optimizer:      "ok",
		Points:         info.GetPointsCount(),
		IndexedVectors: info.GetIndexedVectorsCount(),
		Segments:       info.GetSegmentsCount(),
		UpdateQueue:    info.GetUpdateQueue().GetLength(),
	}
	if o := info.GetOptimizerStatus(); o != nil && !o.GetOk() {
		s.Optimizer = o.GetError()
		if s.Optimizer == "" {
			s.Optimizer = "error"
		}
	}
	return s
}

// idle reports whether the collection is done indexing as far as this poll
// can tell: green, optimizer ok, no optimization running or queued, no
// update waiting in the queue.
func (s snapshot) idle() bool {
	return s.Status == "green" && s.Optimizer == "ok" && s.UpdateQueue == 0 &&
		(s.Running == nil || *s.Running == 0) && (s.Queued == nil || *s.Queued == 0)
}

// same reports whether two polls saw the same thing (progress unchanged).
func (s snapshot) same(o snapshot) bool {
	eq := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return s.Status == o.Status && s.Optimizer == o.Optimizer && s.Points == o.Points &&
		s.IndexedVectors == o.IndexedVectors && s.Segments == o.Segments && s.UpdateQueue == o.UpdateQueue &&
		eq(s.Running, o.Running) && eq(s.Queued, o.Queued)
}

// progress is the progress event of a poll. Done is Qdrant's
// indexed_vectors_count and Total is 0 (unknown): that count covers the
// dense and sparse vectors of optimized segments only, so it is not a
// fraction of the points (it stays below them while small segments are
// appendable, exceeds them with several vectors per point, and is 0 for
// vectors built with m=0).
func (s snapshot) progress() schemas.Progress {
	data, _ := json.Marshal(s)
	detail := fmt.Sprintf("%s: %d vectors indexed (Qdrant's count: optimized segments, dense and sparse), %d points, %d segments",
		s.Status, s.IndexedVectors, s.Points, s.Segments)
	var extra []string
	if s.Running != nil {
		extra = append(extra, fmt.Sprintf("%d optimizations running", *s.Running))
	}
	if s.Queued != nil {
		extra = append(extra, fmt.Sprintf("%d queued", *s.Queued))
	}
	if s.UpdateQueue > 0 {
		extra = append(extra, fmt.Sprintf("%d updates waiting in Qdrant's queue", s.UpdateQueue))
	}
	if s.Optimizer != "ok" {
		extra = append(extra, "optimizer error: "+s.Optimizer)
	}
	if len(extra) > 0 {
		detail += ", " + strings.Join(extra, ", ")
	}
	return schemas.Progress{Done: int64(s.IndexedVectors), Detail: detail, Data: data}
}
