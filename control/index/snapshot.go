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
	// Vectors is points × dense vectors per point: what indexed_vectors
	// approaches when every segment is indexed.
	Vectors uint64 `json:"vectors"`
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

// denseVectors counts the dense vectors per point of a collection (1 for
// an unnamed vector, one per name otherwise).
func denseVectors(info *qdrant.CollectionInfo) uint64 {
	vc := info.GetConfig().GetParams().GetVectorsConfig()
	if m := vc.GetParamsMap(); m != nil {
		return uint64(len(m.GetMap()))
	}
	return 1
}

func snapshotOf(info *qdrant.CollectionInfo) snapshot {
	s := snapshot{
		Status:         statusName(info.GetStatus()),
		Optimizer:      "ok",
		Points:         info.GetPointsCount(),
		IndexedVectors: info.GetIndexedVectorsCount(),
		Segments:       info.GetSegmentsCount(),
	}
	s.Vectors = s.Points * denseVectors(info)
	if o := info.GetOptimizerStatus(); o != nil && !o.GetOk() {
		s.Optimizer = o.GetError()
		if s.Optimizer == "" {
			s.Optimizer = "error"
		}
	}
	return s
}

// idle reports whether the collection is done indexing as far as this poll
// can tell.
func (s snapshot) idle() bool {
	return s.Status == "green" && s.Optimizer == "ok" &&
		(s.Running == nil || *s.Running == 0) && (s.Queued == nil || *s.Queued == 0)
}

// same reports whether two polls saw the same thing (progress unchanged).
func (s snapshot) same(o snapshot) bool {
	eq := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return s.Status == o.Status && s.Optimizer == o.Optimizer && s.Points == o.Points &&
		s.IndexedVectors == o.IndexedVectors && s.Segments == o.Segments &&
		eq(s.Running, o.Running) && eq(s.Queued, o.Queued)
}

func (s snapshot) progress() schemas.Progress {
	data, _ := json.Marshal(s)
	done := min(s.IndexedVectors, s.Vectors)
	detail := fmt.Sprintf("%s: %d/%d vectors indexed, %d points, %d segments", s.Status, s.IndexedVectors, s.Vectors, s.Points, s.Segments)
	var extra []string
	if s.Running != nil {
		extra = append(extra, fmt.Sprintf("%d optimizations running", *s.Running))
	}
	if s.Queued != nil {
		extra = append(extra, fmt.Sprintf("%d queued", *s.Queued))
	}
	if s.Optimizer != "ok" {
		extra = append(extra, "optimizer error: "+s.Optimizer)
	}
	if len(extra) > 0 {
		detail += ", " + strings.Join(extra, ", ")
	}
	return schemas.Progress{Done: int64(done), Total: int64(s.Vectors), Detail: detail, Data: data}
}
