package control

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/seed-a550a1ef/kafka-qdrant/control/index"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// progressData decodes index_build progress data.
func progressData(s schemas.Status) map[string]any {
	if s.Progress == nil || len(s.Progress.Data) == 0 {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(s.Progress.Data, &m)
	return m
}

func yellow(s schemas.Status) bool { return progressData(s)["status"] == "yellow" }

func TestIndexDeferThenBuild(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	rn := e.startRunner("kq-a")

	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	fin := e.log.waitFinal("defer-1")
	if fin.State != schemas.StateSucceeded {
		t.Fatalf("defer-1 ended %s: %+v", fin.State, fin.Error)
	}
	var dr index.DeferResult
	if err := json.Unmarshal(fin.Result, &dr); err != nil {
		t.Fatal(err)
	}
	if dr.Mode != schemas.DeferHNSWM0 || dr.Previous.M == nil || *dr.Previous.M != 16 || dr.AlreadyDeferred {
		t.Fatalf("defer result %s", fin.Result)
	}
	if m := e.hnswM("movies"); m != 0 {
		t.Fatalf("m = %d after index_defer, want 0", m)
	}

	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	run := e.log.waitState("build-1", schemas.StateRunning, yellow)
	if run.Replica != "kq-a" || run.Progress.Total != 0 {
		t.Fatalf("running event %+v (progress %+v), want Qdrant's count without a total", run, run.Progress)
	}
	if m := e.hnswM("movies"); m != 16 {
		t.Fatalf("m = %d during index_build, want the recorded 16", m)
	}
	// The m=0 rebuild the defer started is still running: Qdrant applies
	// m=16 once it finished. A second in, a third of the segments have no
	// graph any more: progress moves.
	e.clock.Advance(time.Second)
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool {
		return yellow(s) && s.Progress.Done >= 1000 && s.Progress.Done < 3000
	})
	e.clock.Advance(5 * time.Second)
	fin = e.log.waitFinal("build-1")
	if fin.State != schemas.StateSucceeded {
		t.Fatalf("build-1 ended %s: %+v", fin.State, fin.Error)
	}
	var br index.BuildResult
	if err := json.Unmarshal(fin.Result, &br); err != nil {
		t.Fatal(err)
	}
	if br.IndexedVectors != 3000 || br.Sources["m"] != "recorded" || !br.Changed {
		t.Fatalf("build result %s", fin.Result)
	}

	evs := e.log.events("build-1")
	if evs[0].State != schemas.StateAccepted || count(evs, schemas.StateRunning) < 3 || finals(evs) != 1 || !evs[len(evs)-1].State.Final() {
		t.Fatalf("build-1 events out of order:\n%s", dump(evs))
	}
	e.waitCommitted(e.endOffset())
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kafka_qdrant_commands_total", map[string]string{"type": "index_defer", "state": "succeeded"}, 1},
		{"kafka_qdrant_commands_total", map[string]string{"type": "index_build", "state": "succeeded"}, 1},
		{"kafka_qdrant_commands_total", map[string]string{"type": "index_build", "state": "failed"}, 0},
		{"kafka_qdrant_command_duration_seconds", map[string]string{"type": "index_build"}, 1},
		{"kafka_qdrant_commands_running", nil, 0},
	} {
		if got := metricValue(t, rn.reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestIndexBuildTimeout(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies",
		Params: json.RawMessage(`{"mode":"threshold0"}`)})
	e.log.waitFinal("defer-1")
	e.addPoints("movies", 3001, 3000) // the bulk load: not indexed while deferred
	// The clock never moves: indexing never finishes.
	start := time.Now()
	e.sendCmd(schemas.Command{ID: "build-t", Type: schemas.CommandIndexBuild, Collection: "movies",
		Params: json.RawMessage(`{"timeout":"300ms"}`)})
	fin := e.log.waitFinal("build-t")
	if fin.State != schemas.StateFailed || fin.Error == nil || fin.Error.Code != schemas.ErrTimeout || !fin.Error.Retryable {
		t.Fatalf("build-t ended %s %+v, want failed/timeout retryable", fin.State, fin.Error)
	}
	if !strings.Contains(fin.Error.Message, "timeout 300ms passed while the collection was yellow") {
		t.Fatalf("message %q", fin.Error.Message)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("timed out after %s, before the 300ms timeout", took)
	}
}

// Qdrant restarting mid-build: calls fail for a while (retried with
// backoff), then the collection comes back grey (optimizations pending
// until an update) and the build nudges it and finishes.
func TestIndexBuildSurvivesQdrantRestart(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.log.waitFinal("defer-1")
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.log.waitState("build-1", schemas.StateRunning, yellow)

	e.qs.FailNext("/qdrant.Collections/Get", 5, codes.Unavailable, "restarting")
	e.qs.SimulateRestart()
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool { return progressData(s)["status"] == "grey" })
	// The nudge restarts indexing: yellow again after grey.
	e.log.waitFor("build-1", "yellow after grey", func(evs []schemas.Status) bool {
		sawGrey := false
		for _, x := range evs {
			if progressData(x)["status"] == "grey" {
				sawGrey = true
			}
			if sawGrey && yellow(x) {
				return true
			}
		}
		return false
	})
	e.clock.Advance(10 * time.Second)
	if fin := e.log.waitFinal("build-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("build-1 after a Qdrant restart: %+v", fin)
	}
	if n := e.qs.CallCount("/qdrant.Collections/Get"); n < 6 {
		t.Fatalf("only %d collection info calls: the failures were not retried", n)
	}
}
