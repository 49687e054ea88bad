package control

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"

	"github.com/seed-a550a1ef/kafka-qdrant/control/index"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// A collection created with m=0 on purpose (a multitenant one, relying on
// payload_m graphs) is left alone by index_build: nobody deferred it.
func TestBuildLeavesAnUndeferredM0CollectionAlone(t *testing.T) {
	e := newEnv(t)
	if err := e.qc.CreateCollection(t.Context(), &qdrant.CreateCollection{CollectionName: "tenants",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine}),
		HnswConfig:    &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(0)), PayloadM: qdrant.PtrOf(uint64(16))},
	}); err != nil {
		t.Fatal(err)
	}
	e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "tenants"})
	fin := e.log.waitFinal("build-1")
	if fin.State != schemas.StateSucceeded {
		t.Fatalf("build-1: %+v", fin)
	}
	if m := e.hnswM("tenants"); m != 0 {
		t.Fatalf("m = %d after index_build, want the 0 it was created with", m)
	}
	var br index.BuildResult
	if err := json.Unmarshal(fin.Result, &br); err != nil || br.Changed {
		t.Fatalf("result %s: the build changed settings", fin.Result)
	}
}

// Vectors with their own hnsw_config m are deferred and restored too.
func TestDeferAndBuildVectorsWithTheirOwnM(t *testing.T) {
	e := newEnv(t)
	if err := e.qc.CreateCollection(t.Context(), &qdrant.CreateCollection{CollectionName: "docs",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"text":  {Size: 4, Distance: qdrant.Distance_Cosine, HnswConfig: &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(32))}},
			"image": {Size: 4, Distance: qdrant.Distance_Cosine},
		}),
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(1))},
	}); err != nil {
		t.Fatal(err)
	}
	vectorM := func() (uint64, uint64) {
		info, err := e.qc.GetCollectionInfo(t.Context(), "docs")
		if err != nil {
			t.Fatal(err)
		}
		return info.GetConfig().GetHnswConfig().GetM(), info.GetConfig().GetParams().GetVectorsConfig().GetParamsMap().GetMap()["text"].GetHnswConfig().GetM()
	}
	e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "docs"})
	if fin := e.log.waitFinal("defer-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("defer-1: %+v", fin)
	}
	if m, text := vectorM(); m != 0 || text != 0 {
		t.Fatalf("after index_defer: m=%d, text's own m=%d; want both 0 (text would still get a graph)", m, text)
	}
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "docs"})
	e.clock.Advance(time.Minute)
	if fin := e.log.waitFinal("build-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("build-1: %+v", fin)
	}
	if m, text := vectorM(); m != 16 || text != 32 {
		t.Fatalf("after index_build: m=%d, text's own m=%d; want 16 and 32 restored", m, text)
	}
}

// Qdrant's Internal errors (storage or consensus trouble) are not retried
// for minutes as if transient: the command fails after a few attempts.
func TestInternalErrorsFailFast(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 100)
	e.startRunner("kq-a")
	e.qs.FailNext("/qdrant.Collections/Get", 1000, codes.Internal, "Service internal error: disk full")
	start := time.Now()
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	fin := e.log.waitFinal("build-1")
	if fin.State != schemas.StateFailed || fin.Error.Code != schemas.ErrQdrant || !strings.Contains(fin.Error.Message, "disk full") {
		t.Fatalf("build-1: %s %+v", fin.State, fin.Error)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("failed after %s", d)
	}
}

// The build ends only once Qdrant's update queue is empty.
func TestBuildWaitsForQdrantsUpdateQueue(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 100)
	e.qs.HoldUpdateQueue("movies", 7)
	e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool { return progressData(s)["update_queue"] == float64(7) })
	if n := finals(e.log.events("build-1")); n != 0 {
		t.Fatal("the build ended with updates still queued")
	}
	e.qs.HoldUpdateQueue("movies", 0)
	if fin := e.log.waitFinal("build-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("build-1: %+v", fin)
	}
}

// freezingCollections is the runner's Qdrant client, cutting the runner
// off from Kafka right after a settings update reached Qdrant: the
// command's final status cannot be published.
type freezingCollections struct {
	index.Collections
	once   sync.Once
	freeze func()
}

func (f *freezingCollections) UpdateCollection(ctx context.Context, req *qdrant.UpdateCollection) error {
	err := f.Collections.UpdateCollection(ctx, req)
	if err == nil {
		f.once.Do(f.freeze)
	}
	return err
}

// index_defer changes the settings, then its replica is cut off before
// the final. The replica that resumes it finds m=0 already and must still
// record the m found before the first attempt changed it, so the build
// restores that one.
func TestResumedDeferKeepsTheSettingsFoundFirst(t *testing.T) {
	e := newEnv(t)
	if err := e.qc.CreateCollection(t.Context(), &qdrant.CreateCollection{CollectionName: "movies",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine}),
		HnswConfig:    &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(32))},
	}); err != nil {
		t.Fatal(err)
	}
	var a *runner
	d := &severableDialer{}
	a = e.startRunnerWith(d, "kq-a", func(c *RunnerConfig) {
		c.HandoverTimeout = time.Second
		c.Qdrant = &freezingCollections{Collections: e.qc, freeze: func() { d.freeze(frozenKeys...) }}
	})
	_ = a
	e.startRunner("kq-b")
	e.waitMembers(2)
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	fin := e.log.waitFinal("defer-1")
	if fin.State != schemas.StateSucceeded || fin.Replica != "kq-b" {
		t.Fatalf("defer-1: %+v", fin)
	}
	var dr index.DeferResult
	if err := json.Unmarshal(fin.Result, &dr); err != nil || dr.Previous.M == nil || *dr.Previous.M != 32 {
		t.Fatalf("resumed defer recorded %s, want previous m=32", fin.Result)
	}
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.clock.Advance(time.Minute)
	if fin := e.log.waitFinal("build-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("build-1: %+v", fin)
	}
	if m := e.hnswM("movies"); m != 32 {
		t.Fatalf("m = %d after the build, want 32 restored", m)
	}
}

// A build handed over (gracefully: its last event is "interrupted", with no
// progress data) keeps its deadline on the next owner.
func TestResumedBuildKeepsItsDeadline(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	a := e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.log.waitFinal("defer-1")
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies", Params: json.RawMessage(`{"timeout":"1h"}`)})
	first := e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-a" && progressData(s)["deadline"] != nil })
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	e.startRunner("kq-b")
	resumed := e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-b" && progressData(s)["deadline"] != nil })
	if got, want := progressData(resumed)["deadline"], progressData(first)["deadline"]; got != want {
		t.Fatalf("resumed build's deadline %v, want the first attempt's %v", got, want)
	}
}
