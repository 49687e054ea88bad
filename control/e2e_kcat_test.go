package control

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// e2eBrokersEnv names the real Kafka broker(s) of the end-to-end run,
// e.g. from `scripts/kafka.sh start`.
const e2eBrokersEnv = "KQ_E2E_KAFKA_BROKERS"

// TestE2EKcat drives the control plane the way an operator does without
// ctl: commands written with `kcat -P` to the control topic of a real Kafka
// broker, statuses read back with `kcat -C` from the status topic. The
// runner runs in-process against the in-memory Qdrant (real clock).
//
//	KQ_E2E_KAFKA_BROKERS=127.0.0.1:9092 go test -run TestE2EKcat -v ./control/
func TestE2EKcat(t *testing.T) {
	brokers := os.Getenv(e2eBrokersEnv)
	if brokers == "" {
		t.Skipf("%s is not set: no real Kafka broker for the kcat end-to-end test", e2eBrokersEnv)
	}
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed (apt-get install kcat)")
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	run := "kq-e2e-" + hex.EncodeToString(suffix[:])
	ctlTopic, stTopic := run+".control", run+".status"

	// On the in-memory Qdrant, 100 vectors/s: "small" (200 points) indexes
	// in ~2s, "big" (100000) would take ~17min, so a build on it is still
	// running when cancelled. A real Qdrant (KQ_E2E_QDRANT_GRPC) indexes
	// both in moments: the cancel may then come too late, which the test
	// accepts there (not_cancellable).
	small, big := run+"-small", run+"-big"
	var qc *qdrant.Client
	var restURL, apiKey string
	q, real := realQdrant(t)
	if real {
		qc, restURL, apiKey = q.qc, q.rest, q.apiKey
	} else {
		qs := qdrantmem.New(qdrantmem.WithIndexingRate(100), qdrantmem.WithCPUs(2))
		addr, err := qs.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		rest, err := qs.StartREST("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer qs.Stop()
		host, portStr, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(portStr)
		if qc, err = qdrant.NewClient(&qdrant.Config{Host: host, Port: port, SkipCompatibilityCheck: true}); err != nil {
			t.Fatal(err)
		}
		defer qc.Close()
		restURL = "http://" + rest
	}
	for name, n := range map[string]int{small: 200, big: 100000} {
		if real {
			_ = qc.DeleteCollection(t.Context(), name)
			t.Cleanup(func() { _ = qc.DeleteCollection(context.Background(), name) })
		}
		if err := qc.CreateCollection(t.Context(), &qdrant.CreateCollection{CollectionName: name,
			VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Dot}),
			OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(1))}}); err != nil {
			t.Fatal(err)
		}
		for lo := 0; lo < n; lo += 5000 {
			var pts []*qdrant.PointStruct
			for i := lo; i < min(n, lo+5000); i++ {
				pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i + 1)), Vectors: qdrant.NewVectors(1, 2, 3, float32(i%9))})
			}
			if _, err := qc.Upsert(t.Context(), &qdrant.UpsertPoints{CollectionName: name, Points: pts, Wait: qdrant.PtrOf(true)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	cfg := config.Default()
	cfg.Kafka.Brokers = strings.Split(brokers, ",")
	cfg.Kafka.Group = run
	cfg.Control.Topic, cfg.Control.StatusTopic = ctlTopic, stTopic
	cfg.Qdrant.REST, cfg.Qdrant.APIKey = restURL, config.Secret(apiKey)
	r, err := NewRunner(RunnerConfig{
		Config: cfg, KafkaOpts: []kgo.Opt{kgo.SeedBrokers(cfg.Kafka.Brokers...)}, Qdrant: qc,
		Registerer: prometheus.NewRegistry(), Logger: quietLogger(), Replica: "kq-e2e",
		PollInterval: 100 * time.Millisecond, MaxPollInterval: 500 * time.Millisecond, HandoverTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runner: %v", err)
		}
	}()

	// produce writes "key|value" lines with kcat.
	produce := func(lines ...string) {
		t.Helper()
		cmd := exec.Command(kcat, "-b", brokers, "-P", "-t", ctlTopic, "-K", "|")
		cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat -P: %v\n%s", err, out)
		}
	}
	// statuses reads the whole status topic with kcat.
	statuses := func() []schemas.Status {
		t.Helper()
		cmd := exec.Command(kcat, "-b", brokers, "-C", "-t", stTopic, "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n")
		out, err := cmd.Output()
		if err != nil {
			return nil // the topic may not exist yet
		}
		var evs []schemas.Status
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			key, val, ok := strings.Cut(sc.Text(), "\t")
			if !ok {
				continue
			}
			s, err := schemas.DecodeStatus([]byte(val))
			if err != nil || s.CommandID != key {
				t.Fatalf("status event %q (key %q): %v", val, key, err)
			}
			evs = append(evs, s)
		}
		return evs
	}
	waitFor := func(id string, what string, cond func(schemas.Status) bool) schemas.Status {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			for _, s := range statuses() {
				if s.CommandID == id && cond(s) {
					return s
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s status for %s within 60s", what, id)
			}
			time.Sleep(200 * time.Millisecond) // kcat re-reads the topic; bounded by the deadline
		}
	}
	final := func(id string) schemas.Status {
		t.Helper()
		return waitFor(id, "final", func(s schemas.Status) bool { return s.State.Final() })
	}

	produce(
		`defer-small|{"id":"defer-small","type":"index_defer","collection":"`+small+`"}`,
		`defer-big|{"id":"defer-big","type":"index_defer","collection":"`+big+`","params":{"mode":"hnsw_m0"}}`,
		`|{"type":"index_build","collection":"`+small+`",`,
		`bad-type|{"id":"bad-type","type":"compact","collection":"`+small+`"}`,
	)
	for _, id := range []string{"defer-small", "defer-big"} {
		if s := final(id); s.State != schemas.StateSucceeded {
			t.Fatalf("%s: %+v", id, s)
		}
	}
	if s := final("bad-type"); s.State != schemas.StateFailed || s.Error.Code != schemas.ErrUnknownType {
		t.Fatalf("bad-type: %+v", s)
	}
	var invalid bool
	for _, s := range statuses() {
		invalid = invalid || (strings.HasPrefix(s.CommandID, "kq-invalid-") && s.Error != nil && s.Error.Code == schemas.ErrInvalidCommand)
	}
	if !invalid {
		t.Fatal("the invalid JSON command got no failed status")
	}

	produce(
		`build-small|{"id":"build-small","type":"index_build","collection":"`+small+`","params":{"timeout":"1m"}}`,
		`build-big|{"id":"build-big","type":"index_build","collection":"`+big+`"}`,
	)
	waitFor("build-big", "running", func(s schemas.Status) bool {
		return s.State.Final() || s.State == schemas.StateRunning && (real || s.Progress != nil && len(s.Progress.Data) > 0)
	})
	produce(`cancel-big|{"id":"cancel-big","type":"cancel","target":"build-big"}`)
	if s := final("build-small"); s.State != schemas.StateSucceeded {
		t.Fatalf("build-small: %+v", s)
	}
	bigFin, cancelFin := final("build-big"), final("cancel-big")
	switch {
	case bigFin.State == schemas.StateCancelled && cancelFin.State == schemas.StateSucceeded:
	case real && bigFin.State == schemas.StateSucceeded && cancelFin.State == schemas.StateFailed &&
		cancelFin.Error != nil && cancelFin.Error.Code == schemas.ErrNotCancellable:
		t.Log("the real Qdrant finished build-big before the cancel arrived")
	default:
		t.Fatalf("build-big %+v, cancel-big %+v", bigFin, cancelFin)
	}
	// A duplicate of a finished command re-publishes its final status.
	produce(`build-small|{"id":"build-small","type":"index_build","collection":"` + small + `"}`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := 0
		for _, s := range statuses() {
			if s.CommandID == "build-small" && s.State.Final() {
				n++
			}
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("duplicate build-small: %d finals, want 2", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b, _ := json.MarshalIndent(statuses(), "", "  ")
	t.Logf("%d status events on %s", strings.Count(string(b), "command_id"), stTopic)
}
