package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Scenario is one test's slice of the environment: its own topic,
// collection, consumer group, DLQ and control topics, its replicas and its
// log directory. All of it is removed when the test ends.
type Scenario struct {
	T   testing.TB
	Env *Env
	// Name is unique per test and run, [a-z0-9-] only; topic and
	// collection are named after it (routing: collection = topic name).
	Name       string
	Topic      string
	Collection string
	Group      string
	// DLQTopic is empty when the scenario has no DLQ.
	DLQTopic     string
	ControlTopic string
	StatusTopic  string
	Partitions   int
	Dim          int
	// LogDir holds this test's replica configs and logs.
	LogDir string

	mu       sync.Mutex
	replicas []*Replica
}

// ScenarioOptions shape a Scenario.
type ScenarioOptions struct {
	Partitions int  // default 3
	Dim        int  // default 4
	DLQ        bool // create a DLQ topic and configure it
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// NewScenario creates the test's topics and collection and registers their
// deletion (and the stopping of every replica) with t.Cleanup.
func (e *Env) NewScenario(t testing.TB, opt ScenarioOptions) *Scenario {
	t.Helper()
	if opt.Partitions == 0 {
		opt.Partitions = 3
	}
	if opt.Dim == 0 {
		opt.Dim = 4
	}
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatalf("random name: %v", err)
	}
	base := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = base[:40]
	}
	name := "kqe2e-" + base + "-" + hex.EncodeToString(suffix)
	s := &Scenario{
		T: t, Env: e, Name: name,
		Topic: name, Collection: name, Group: name + "-group",
		ControlTopic: name + "-control", StatusTopic: name + "-status",
		Partitions: opt.Partitions, Dim: opt.Dim,
		LogDir: filepath.Join(e.LogDir, strings.ReplaceAll(t.Name(), "/", "_")),
	}
	if opt.DLQ {
		s.DLQTopic = name + "-dlq"
	}
	if err := os.MkdirAll(s.LogDir, 0o755); err != nil {
		t.Fatalf("creating log dir: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Cleanups run last-registered first: replicas stop before their
	// topics and collection go away.
	t.Cleanup(s.cleanupData)
	if err := CreateCollection(ctx, e.QdrantClient, s.Collection, s.Dim); err != nil {
		t.Fatal(err)
	}
	if err := CreateTopic(ctx, e.Admin, s.Topic, s.Partitions); err != nil {
		t.Fatal(err)
	}
	if s.DLQTopic != "" {
		if err := CreateTopic(ctx, e.Admin, s.DLQTopic, 1); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(s.cleanupReplicas)
	return s
}

// Config returns the base configuration of a replica of this scenario: the
// environment's servers, this scenario's topic, group, DLQ and control
// topics, and timeouts short enough for tests (a 6 s session timeout, so a
// SIGKILLed replica's partitions move within seconds).
func (s *Scenario) Config() ReplicaConfig {
	e := s.Env
	c := ReplicaConfig{}
	c.Set("kafka.brokers", e.Kafka.Brokers)
	c.Set("kafka.group", s.Group)
	c.Set("kafka.topics", []string{s.Topic})
	c.Set("kafka.client_id", s.Name)
	c.Set("kafka.commit_interval", "200ms")
	c.Set("kafka.session_timeout", "6s")
	c.Set("kafka.rebalance_timeout", "20s")
	if s.DLQTopic != "" {
		c.Set("kafka.dlq_topic", s.DLQTopic)
	}
	c.Set("qdrant.grpc", e.Qdrant.GRPC)
	c.Set("qdrant.rest", e.Qdrant.REST)
	if e.Qdrant.APIKey != "" {
		c.Set("qdrant.api_key", e.Qdrant.APIKey)
	}
	if e.Qdrant.TLS {
		c.Set("qdrant.tls.enabled", true)
	}
	c.Set("qdrant.timeout", "5s")
	c.Set("qdrant.retry.initial_backoff", "50ms")
	c.Set("qdrant.retry.max_backoff", "1s")
	c.Set("control.topic", s.ControlTopic)
	c.Set("control.status_topic", s.StatusTopic)
	c.SetBackup(s.BackupConfig())
	c.Set("log.level", "info")
	c.Set("log.format", "json")
	c.Set("shutdown.timeout", "20s")
	return c
}

// Launch starts a replica named name with cfg (nil: Config()) and does not
// wait for it to be ready. The test fails if it cannot start.
func (s *Scenario) Launch(name string, cfg ReplicaConfig) *Replica {
	s.T.Helper()
	if cfg == nil {
		cfg = s.Config()
	}
	r, err := StartReplica(context.Background(), s.Env.Binary, s.LogDir, name, cfg)
	if err != nil {
		s.T.Fatal(err)
	}
	s.mu.Lock()
	s.replicas = append(s.replicas, r)
	s.mu.Unlock()
	return r
}

// Start launches a replica and waits until its /readyz answers 200.
func (s *Scenario) Start(ctx context.Context, name string, cfg ReplicaConfig) *Replica {
	s.T.Helper()
	r := s.Launch(name, cfg)
	if err := r.WaitReady(ctx, 90*time.Second); err != nil {
		s.T.Fatal(err)
	}
	return r
}

// Produce produces recs to the scenario's topic with franz-go.
func (s *Scenario) Produce(ctx context.Context, recs []Record) []Produced {
	s.T.Helper()
	out, err := Produce(ctx, s.Env.Client, s.Topic, recs)
	if err != nil {
		s.T.Fatal(err)
	}
	return out
}

// WaitCommittedAtEnd waits until the group's committed offsets equal the
// topic's log end offsets, and fails the test if that does not happen
// within timeout.
func (s *Scenario) WaitCommittedAtEnd(ctx context.Context, timeout time.Duration) {
	s.T.Helper()
	err := waitFor(ctx, timeout, func() error {
		return CommittedAtEnd(ctx, s.Env.Admin, s.Group, s.Topic)
	}, "committed offsets to reach the log end")
	if err != nil {
		s.T.Fatal(err)
	}
	end, err := EndOffsets(ctx, s.Env.Admin, s.Topic)
	if err != nil {
		s.T.Fatal(err)
	}
	s.Logf("committed offsets equal the log end offsets %v (%d records)", end, end.Total())
}

// AssertContent reads the collection once and fails the test unless it
// holds exactly want's points.
func (s *Scenario) AssertContent(ctx context.Context, want *Model) {
	s.T.Helper()
	got, err := ReadPoints(ctx, s.Env.QdrantClient, s.Collection)
	if err != nil {
		s.T.Fatal(err)
	}
	if d := Diff(want.Points(), got, 5); len(d) > 0 {
		s.T.Fatalf("collection %s: %d points, want %d:\n  %s", s.Collection, len(got), want.Len(), strings.Join(d, "\n  "))
	}
	s.Logf("collection holds exactly the %d expected points", len(got))
}

// AssertFinal is the closing check of every scenario: committed offsets
// reach the log end (waiting up to timeout), then the collection holds
// exactly want. Commits follow applied writes, so once the commits are at
// the end, everything must be in Qdrant.
func (s *Scenario) AssertFinal(ctx context.Context, want *Model, timeout time.Duration) {
	s.T.Helper()
	s.WaitCommittedAtEnd(ctx, timeout)
	s.AssertContent(ctx, want)
}

// cleanupReplicas stops every replica still running and, when the test
// failed, prints the tail of each replica's log.
func (s *Scenario) cleanupReplicas() {
	s.mu.Lock()
	rs := s.replicas
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Stop(30 * time.Second)
		}()
	}
	wg.Wait()
	if s.T.Failed() {
		for _, r := range rs {
			s.T.Logf("--- %s (%s), log tail:\n%s", r.Name, r.LogPath, Tail(r.LogPath, 40))
		}
	}
}

// cleanupData deletes the scenario's topics, group and collection unless
// KQ_E2E_KEEP_DATA=1.
func (s *Scenario) cleanupData() {
	if os.Getenv("KQ_E2E_KEEP_DATA") == "1" {
		s.T.Logf("kept topic %s, group %s and collection %s", s.Topic, s.Group, s.Collection)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics := []string{s.Topic, s.ControlTopic, s.StatusTopic}
	if s.DLQTopic != "" {
		topics = append(topics, s.DLQTopic)
	}
	if err := DeleteTopics(ctx, s.Env.Admin, topics...); err != nil {
		s.T.Errorf("cleanup: %v", err)
	}
	if _, err := s.Env.Admin.DeleteGroup(ctx, s.Group); err != nil {
		s.T.Logf("cleanup: deleting group %s: %v", s.Group, err)
	}
	if err := s.Env.QdrantClient.DeleteCollection(ctx, s.Collection); err != nil {
		s.T.Errorf("cleanup: deleting collection %s: %v", s.Collection, err)
	}
}

// Logf logs through the test with the scenario's name.
func (s *Scenario) Logf(format string, args ...any) {
	s.T.Helper()
	s.T.Logf("[%s] %s", s.Name, fmt.Sprintf(format, args...))
}
