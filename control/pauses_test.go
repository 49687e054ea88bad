package control

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/statusview"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// TestDataPauses: the runner's view reports the pauses of running commands'
// latest events, not lapsed ones, not those a later event dropped.
func TestDataPauses(t *testing.T) {
	e := newEnv(t)
	r, err := NewRunner(RunnerConfig{Config: e.cfg, KafkaOpts: e.kafkaOpts(), Qdrant: e.qc, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.follower.Close(); r.probe.Close() })
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	event := func(id string, st schemas.State, pause *schemas.DataPause) schemas.Status {
		s := schemas.Status{CommandID: id, Type: schemas.CommandRestore, State: st}
		if st == schemas.StateRunning {
			data := map[string]any{"phase": "replay"}
			if pause != nil {
				data["pause"] = pause
			}
			b, _ := json.Marshal(data)
			s.Progress = &schemas.Progress{Data: b}
		}
		return s
	}
	pause := func(id string, until time.Time) *schemas.DataPause {
		return &schemas.DataPause{ID: id, Collection: "movies", Topics: []string{"movies"}, Until: until}
	}
	v := r.View()
	var off int64
	apply := func(s schemas.Status) {
		off++
		v.Apply(s, statusview.Position{Offset: off})
	}
	apply(event("in-force", schemas.StateRunning, pause("p1", now.Add(time.Minute))))
	apply(event("lapsed", schemas.StateRunning, pause("p2", now.Add(-time.Second))))
	apply(event("lifted", schemas.StateRunning, pause("p3", now.Add(time.Minute))))
	apply(event("lifted", schemas.StateRunning, nil))
	apply(event("ended", schemas.StateRunning, pause("p4", now.Add(time.Minute))))
	apply(event("ended", schemas.StateFailed, nil))

	got := r.DataPauses(now)
	if len(got) != 1 || got[0].ID != "p1" {
		t.Fatalf("DataPauses = %+v, want p1 only", got)
	}
}
