package qdrantmem

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	mustOK(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return resp.StatusCode, m
}

func restEnv(t *testing.T, opts ...Option) (*env, string) {
	e := newEnv(t, opts...)
	addr, err := e.s.StartREST("127.0.0.1:0")
	mustOK(t, err)
	return e, "http://" + addr
}

func TestRESTRoot(t *testing.T) {
	_, base := restEnv(t)
	code, m := getJSON(t, base+"/")
	if code != 200 || m["title"] != "qdrant - vector search engine" || m["version"] != Version {
		t.Fatalf("GET / = %d %v", code, m)
	}
}

func TestRESTGetCollection(t *testing.T) {
	e, base := restEnv(t, WithCPUs(2))
	mustOK(t, e.c.CreateCollection(ctxT(t), &qdrant.CreateCollection{
		CollectionName:      "c",
		VectorsConfig:       qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Cosine}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {Modifier: qdrant.Modifier_Idf.Enum()}}),
	}))
	mustOK(t, e.c.CreateAlias(ctxT(t), "al", "c"))
	e.upsert(t, "c", pt(1, []float32{1, 0}, nil))

	resp, err := http.Get(base + "/collections/al")
	mustOK(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got struct {
		Result json.RawMessage `json:"result"`
		Status string          `json:"status"`
		Time   float64         `json:"time"`
	}
	mustOK(t, json.Unmarshal(body, &got))
	if resp.StatusCode != 200 || got.Status != "ok" {
		t.Fatalf("GET /collections/al = %d %s", resp.StatusCode, body)
	}
	// Field names and null/omitted fields as Qdrant's serde types give them.
	want := `{"status":"green","optimizer_status":"ok","indexed_vectors_count":0,"points_count":1,"segments_count":2,` +
		`"config":{"params":{"vectors":{"size":2,"distance":"Cosine"},"shard_number":1,"replication_factor":1,"write_consistency_factor":1,"on_disk_payload":true,"sparse_vectors":{"s":{"modifier":"idf"}}},` +
		`"hnsw_config":{"m":16,"ef_construct":100,"full_scan_threshold":10000,"max_indexing_threads":0,"on_disk":false},` +
		`"optimizer_config":{"deleted_threshold":0.2,"vacuum_min_vector_number":1000,"default_segment_number":0,"max_segment_size":null,"memmap_threshold":null,"indexing_threshold":10000,"flush_interval_sec":5,"max_optimization_threads":null,"prevent_unoptimized":null},` +
		`"wal_config":{"wal_capacity_mb":32,"wal_segments_ahead":0,"wal_retain_closed":1},"quantization_config":null},` +
		`"payload_schema":{},"update_queue":{"length":0}}`
	if string(got.Result) != want {
		t.Fatalf("result =\n%s\nwant\n%s", got.Result, want)
	}

	code, m := getJSON(t, base+"/collections/nope")
	if code != 404 || m["status"].(map[string]any)["error"] != "Not found: Collection `nope` doesn't exist!" {
		t.Fatalf("GET missing = %d %v", code, m)
	}
	if _, ok := m["time"]; !ok {
		t.Fatalf("error body has no time: %v", m)
	}
}

func TestRESTFaults(t *testing.T) {
	e, base := restEnv(t)
	e.createDense(t, "c", 1, qdrant.Distance_Dot)
	e.s.FailNext(RouteGetCollection, 1, codes.Unavailable, "Shard temporarily unavailable: x")
	code, m := getJSON(t, base+"/collections/c")
	if code != 503 || m["status"].(map[string]any)["error"] != "Shard temporarily unavailable: x" {
		t.Fatalf("injected = %d %v", code, m)
	}
	code, _ = getJSON(t, base+"/collections/c")
	if code != 200 {
		t.Fatalf("after FailNext = %d", code)
	}
	if n := e.s.CallCount(RouteGetCollection); n != 2 {
		t.Fatalf("CallCount = %d, want 2", n)
	}
	e.s.SetUnavailable(true)
	if code, _ := getJSON(t, base+"/collections/c"); code != 503 {
		t.Fatalf("unavailable = %d, want 503", code)
	}
}

// TestRESTOptimizations follows one index build through the optimizations
// endpoint with a fake clock.
func TestRESTOptimizations(t *testing.T) {
	clk := newFakeClock()
	e, base := restEnv(t, WithClock(clk), WithIndexingRate(10), WithCPUs(4))
	mustOK(t, e.c.CreateCollection(ctxT(t), &qdrant.CreateCollection{
		CollectionName:   "c",
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 256, Distance: qdrant.Distance_Dot}),
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: proto.Uint64(1)},
	}))
	e.upsert(t, "c", pt(1, make([]float32, 256), nil), pt(2, make([]float32, 256), nil))
	clk.Advance(100 * time.Millisecond) // 1 of 2 vectors indexed

	code, m := getJSON(t, base+"/collections/c/optimizations?with=queued,idle_segments")
	if code != 200 {
		t.Fatalf("status %d: %v", code, m)
	}
	r := m["result"].(map[string]any)
	summary := r["summary"].(map[string]any)
	if summary["idle_segments"].(float64) != 1 || summary["queued_optimizations"].(float64) != 0 {
		t.Fatalf("summary = %v", summary)
	}
	running := r["running"].([]any)
	if len(running) != 1 {
		t.Fatalf("running = %v", running)
	}
	op := running[0].(map[string]any)
	vi := op["progress"].(map[string]any)["children"].([]any)[0].(map[string]any)
	if op["optimizer"] != "indexing" || op["status"] != "optimizing" || vi["done"].(float64) != 1 || vi["total"].(float64) != 2 {
		t.Fatalf("running optimization = %v", op)
	}
	if len(r["queued"].([]any)) != 0 || len(r["idle_segments"].([]any)) != 1 {
		t.Fatalf("queued/idle = %v %v", r["queued"], r["idle_segments"])
	}

	clk.Advance(time.Second)
	_, m = getJSON(t, base+"/collections/c/optimizations?with=completed")
	r = m["result"].(map[string]any)
	if len(r["running"].([]any)) != 0 {
		t.Fatalf("still running: %v", r["running"])
	}
	completed := r["completed"].([]any)
	if len(completed) != 1 || completed[0].(map[string]any)["status"] != "done" {
		t.Fatalf("completed = %v", completed)
	}
	prog := completed[0].(map[string]any)["progress"].(map[string]any)
	if prog["duration_sec"].(float64) != 0.2 {
		t.Fatalf("duration_sec = %v, want 0.2 (2 vectors at 10/s)", prog["duration_sec"])
	}

	code, m = getJSON(t, base+"/collections/c/optimizations?with=bogus")
	if code != 400 || m["status"].(map[string]any)["error"] != "Wrong input: Unknown field in 'with' parameter: bogus" {
		t.Fatalf("bad with = %d %v", code, m)
	}
}
