package ctl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ctlEnv is kfake, the in-memory Qdrant with a 2000-point collection
// "movies", and one runner.
type ctlEnv struct {
	env   Env
	clock *clock
}

func newCtlEnv(t *testing.T, mods ...func(*config.Config)) *ctlEnv {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ts := qdrantmem.NewTestServer(t, qdrantmem.WithClock(clk), qdrantmem.WithIndexingRate(1000), qdrantmem.WithCPUs(2))
	qc := ts.Client
	ctx := t.Context()
	if err := qc.CreateCollection(ctx, &qdrant.CreateCollection{CollectionName: "movies",
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine}),
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(1))}}); err != nil {
		t.Fatal(err)
	}
	var pts []*qdrant.PointStruct
	for i := range 2000 {
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i + 1)), Vectors: qdrant.NewVectors(1, 2, 3, float32(i%5)+1)})
	}
	if _, err := qc.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "movies", Points: pts, Wait: qdrant.PtrOf(true)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)

	cfg := config.Default()
	cfg.Kafka.Brokers, cfg.Kafka.Group, cfg.Kafka.SessionTimeout = kc.ListenAddrs(), "kq", time.Second
	cfg.Qdrant.REST = ts.REST
	for _, m := range mods {
		m(&cfg)
	}
	opts := []kgo.Opt{kgo.SeedBrokers(kc.ListenAddrs()...), kgo.MetadataMinAge(20 * time.Millisecond), kgo.HeartbeatInterval(100 * time.Millisecond)}
	r, err := control.NewRunner(control.RunnerConfig{Config: cfg, KafkaOpts: opts, Qdrant: qc,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Replica: "kq-test", ProgressInterval: -1,
		PollInterval: 10 * time.Millisecond, MaxPollInterval: 30 * time.Millisecond, HandoverTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &ctlEnv{env: Env{KafkaOpts: opts, Control: cfg.Control}, clock: clk}
}

func (c *ctlEnv) ctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := c.env
	env.Stdout, env.Stderr = &out, &errOut
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	code := Run(ctx, args, env)
	return code, out.String(), errOut.String()
}

func TestCtlAgainstRunner(t *testing.T) {
	c := newCtlEnv(t)

	code, out, errOut := c.ctl(t, "index-defer", "movies", "--id", "d1", "--wait")
	if code != ExitOK || !strings.Contains(out, "d1  succeeded  index_defer movies  (kq-test)  result {\"mode\":\"hnsw_m0\",\"previous\":{\"m\":16") {
		t.Fatalf("index-defer --wait = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "sent index_defer d1") || !strings.Contains(out, "d1  accepted") {
		t.Fatalf("index-defer output misses the send or the states:\n%s", out)
	}

	// The build waits for indexing (frozen clock): with a short timeout it
	// fails with error.code timeout, exit 1.
	code, out, _ = c.ctl(t, "index-build", "movies", "--id", "b1", "--timeout", "300ms", "--wait")
	if code != ExitFailed || !strings.Contains(out, "b1  failed     index_build movies  (kq-test)  error timeout: index_build of \"movies\": timeout 300ms passed") {
		t.Fatalf("index-build timeout = %d\n%s", code, out)
	}

	// A build without timeout, sent and not awaited; then waited with
	// `status --wait` while the clock moves.
	code, out, _ = c.ctl(t, "index-build", "movies", "--id", "b2", "--output", "json")
	if code != ExitOK || strings.TrimSpace(out) != `{"id":"b2"}` {
		t.Fatalf("index-build --output json = %d %q", code, out)
	}
	// status --wait with a timeout that passes: exit 3.
	code, _, errOut = c.ctl(t, "status", "b2", "--wait", "--timeout", "200ms")
	if code != ExitTimedOut || !strings.Contains(errOut, "timed out after 200ms waiting for b2") {
		t.Fatalf("status --wait --timeout = %d %q", code, errOut)
	}
	c.clock.Advance(10 * time.Second)
	code, out, _ = c.ctl(t, "status", "b2", "--wait", "--output", "json")
	if code != ExitOK {
		t.Fatalf("status b2 --wait = %d\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last, err := schemas.DecodeStatus([]byte(lines[len(lines)-1]))
	if err != nil || last.State != schemas.StateSucceeded || last.CommandID != "b2" {
		t.Fatalf("last JSON line %q: %v", lines[len(lines)-1], err)
	}

	// cancel of a finished command: failed, exit 1.
	code, out, _ = c.ctl(t, "cancel", "b2", "--id", "c1", "--wait")
	if code != ExitFailed || !strings.Contains(out, "error not_cancellable: command b2 already succeeded") {
		t.Fatalf("cancel of a finished command = %d\n%s", code, out)
	}

	// send a generic command from a file: an unsupported known type.
	f := filepath.Join(t.TempDir(), "bk.json")
	_ = os.WriteFile(f, []byte(`{"type":"backup","collection":"movies"}`), 0o600)
	code, out, _ = c.ctl(t, "send", f, "--wait")
	if code != ExitFailed || !strings.Contains(out, "error unsupported") {
		t.Fatalf("send backup = %d\n%s", code, out)
	}

	code, out, _ = c.ctl(t, "status", "d1")
	if code != ExitOK || !strings.HasPrefix(strings.SplitN(out, "  ", 2)[1], "d1  succeeded") {
		t.Fatalf("status d1 = %d %q", code, out)
	}
	code, _, errOut = c.ctl(t, "status", "nope")
	if code != ExitFailed || !strings.Contains(errOut, "no status for command nope") {
		t.Fatalf("status nope = %d %q", code, errOut)
	}

	code, out, _ = c.ctl(t, "list", "--output", "json")
	if code != ExitOK {
		t.Fatalf("list = %d", code)
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var s schemas.Status
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("list line %q: %v", l, err)
		}
		ids = append(ids, s.CommandID+":"+string(s.State))
	}
	want := map[string]bool{"d1:succeeded": true, "b1:failed": true, "b2:succeeded": true, "c1:failed": true}
	found := 0
	for _, id := range ids {
		if want[id] {
			found++
		}
	}
	if found != len(want) || len(ids) != 5 {
		t.Fatalf("list = %v, want d1, b1, b2, c1 and the backup", ids)
	}
	code, out, _ = c.ctl(t, "list", "--limit", "2")
	if code != ExitOK || strings.Count(out, "\n") != 2 {
		t.Fatalf("list --limit 2 = %d\n%s", code, out)
	}
	code, out2, _ := c.ctl(t, "status", "--limit", "2")
	if code != ExitOK || out2 != out {
		t.Fatalf("status without id = %d\n%s\nwant the list\n%s", code, out2, out)
	}
}

// A command sent with --wait whose id belongs to an earlier command and
// that the runner rejects (a typo in a field) is answered under a
// generated kq-invalid-… id: ctl reports that, instead of the earlier
// command's outcome.
func TestCtlWaitReportsARejectionUnderAGeneratedID(t *testing.T) {
	c := newCtlEnv(t)
	if code, out, errOut := c.ctl(t, "index-defer", "movies", "--id", "d1", "--wait"); code != ExitOK {
		t.Fatalf("index-defer = %d\n%s\n%s", code, out, errOut)
	}
	f := filepath.Join(t.TempDir(), "typo.json")
	_ = os.WriteFile(f, []byte(`{"id":"d1","type":"index_defer","colection":"movies"}`), 0o600)
	code, out, errOut := c.ctl(t, "send", f, "--wait")
	if code != ExitFailed || !strings.Contains(errOut, "command d1 was rejected; its failed status is under the generated id kq-invalid-") ||
		!strings.Contains(errOut, `unknown field "colection"`) || strings.Contains(out, "d1  succeeded") {
		t.Fatalf("send --wait = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// With control.auth, ctl signs with the configured key; the runner runs
// what the key may send and refuses the rest (failed/unauthorized under a
// generated id, which ctl --wait reports).
func TestCtlSigns(t *testing.T) {
	const (
		ops = "ops-secret-0123456789abcdef0123456789"
		ci  = "ci-secret-0123456789abcdef01234567890"
	)
	c := newCtlEnv(t, func(cfg *config.Config) {
		cfg.Control.Auth = config.ControlAuth{
			Keys:     map[string]config.Secret{"ops": ops, "ci": ci},
			Commands: map[string]string{"ops": "*", "ci": "index_defer,index_build"},
			Window:   time.Minute,
		}
	})
	// ctl's own config: only the ci key.
	c.env.Control.Auth = config.ControlAuth{Keys: map[string]config.Secret{"ci": ci}}
	if code, out, errOut := c.ctl(t, "index-defer", "movies", "--id", "d1", "--wait"); code != ExitOK || !strings.Contains(out, "d1  succeeded") {
		t.Fatalf("signed index-defer = %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := c.ctl(t, "cancel", "d1", "--id", "c1", "--wait")
	if code != ExitFailed || !strings.Contains(errOut, "command c1 was rejected; its failed status is under the generated id kq-invalid-") ||
		!strings.Contains(errOut, `key "ci" may not send "cancel"`) {
		t.Fatalf("cancel signed by ci = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// Two keys: ctl needs --key.
	c.env.Control.Auth.Keys["ops"] = ops
	if code, _, errOut := c.ctl(t, "cancel", "d1", "--id", "c2"); code != ExitUsage || !strings.Contains(errOut, "control.auth.keys has 2 keys (ci, ops): choose the one to sign with (--key)") {
		t.Fatalf("two keys without --key = %d %q", code, errOut)
	}
	if code, _, errOut := c.ctl(t, "prune", "movies", "--key", "admin"); code != ExitUsage || !strings.Contains(errOut, `no secret for key "admin"`) {
		t.Fatalf("--key admin = %d %q", code, errOut)
	}
	code, out, errOut = c.ctl(t, "cancel", "d1", "--id", "c3", "--key", "ops", "--wait")
	if code != ExitFailed || !strings.Contains(out, "error not_cancellable: command d1 already succeeded") {
		t.Fatalf("cancel signed by ops = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// No key: unsigned, refused.
	c.env.Control.Auth = config.ControlAuth{}
	code, _, errOut = c.ctl(t, "index-build", "movies", "--id", "b1", "--wait")
	if code != ExitFailed || !strings.Contains(errOut, "command is not signed") {
		t.Fatalf("unsigned index-build = %d %q", code, errOut)
	}
}

// --wait ends with exit 1 (not 3, not never) once Kafka went away.
func TestCtlWaitExitsWhenKafkaGoesAway(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	opts := []kgo.Opt{kgo.SeedBrokers(kc.ListenAddrs()...), kgo.MetadataMinAge(20 * time.Millisecond)}
	if err := control.EnsureTopics(t.Context(), opts, cfg.Control.Topic, cfg.Control.StatusTopic, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	env := Env{KafkaOpts: opts, Control: cfg.Control, Stdout: &out, Stderr: &errOut, KafkaDownAfter: time.Second}
	done := make(chan int, 1)
	go func() { done <- Run(t.Context(), []string{"status", "some-id", "--wait", "--timeout", "1h"}, env) }()
	time.Sleep(500 * time.Millisecond) // let the wait start; the outcome does not depend on it
	kc.Close()
	select {
	case code := <-done:
		if code != ExitFailed || !strings.Contains(errOut.String(), "cannot read the status topic") {
			t.Fatalf("exit %d, stderr %q", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ctl status --wait still waits 20s after Kafka went away")
	}
}

// TestCtlWaitPrintsEachProgressOnce: every running event of a command
// with a checkpoint carries the latest checkpoint and repeats the latest
// progress; --wait prints a line only when what it shows changed (the
// state, the progress, the replica), not for each new checkpoint or time.
func TestCtlWaitPrintsEachProgressOnce(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	cfg := config.Default()
	opts := []kgo.Opt{kgo.SeedBrokers(kc.ListenAddrs()...), kgo.MetadataMinAge(20 * time.Millisecond)}
	if err := control.EnsureTopics(t.Context(), opts, cfg.Control.Topic, cfg.Control.StatusTopic, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	prod, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic(cfg.Control.StatusTopic))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n, id := 0, ""
	publish := func(state schemas.State, replica string, p *schemas.Progress, checkpoint string) {
		t.Helper()
		n++
		s := schemas.Status{CommandID: id, Type: schemas.CommandBackup, Collection: "movies", State: state,
			Progress: p, Replica: replica, Time: t0.Add(time.Duration(n) * time.Second)}
		if checkpoint != "" {
			s.Checkpoint = json.RawMessage(checkpoint)
		}
		if state == schemas.StateSucceeded {
			s.Result = json.RawMessage(`{"backup_id":"` + id + `"}`)
		}
		b, err := s.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := prod.ProduceSync(t.Context(), &kgo.Record{Key: []byte(s.CommandID), Value: b}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	half := &schemas.Progress{Done: 50, Total: 100, Detail: "storing"}
	all := &schemas.Progress{Done: 100, Total: 100, Detail: "storing"}

	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			n, id = 0, "b-"+output
			publish(schemas.StateAccepted, "kq-a", nil, "")
			// Lines are read as ctl prints them: once it printed the
			// accepted state it has caught up, and what follows arrives
			// while it waits.
			pr, pw := io.Pipe()
			defer pr.Close() // a failed test ends the wait
			var errOut bytes.Buffer
			env := Env{KafkaOpts: opts, Control: cfg.Control, Stdout: pw, Stderr: &errOut}
			done := make(chan int, 1)
			go func() {
				code := Run(t.Context(), []string{"status", id, "--wait", "--timeout", "20s", "--output", output}, env)
				pw.Close()
				done <- code
			}()
			sc := bufio.NewScanner(pr)
			if !sc.Scan() {
				t.Fatalf("ctl printed nothing: exit %d, %q", <-done, errOut.String())
			}
			lines := []string{sc.Text()}
			publish(schemas.StateRunning, "kq-a", half, "")
			publish(schemas.StateRunning, "kq-a", half, `{"part":1}`) // a checkpoint: same progress
			publish(schemas.StateRunning, "kq-a", half, `{"part":2}`)
			publish(schemas.StateRunning, "kq-a", all, `{"part":2}`)
			publish(schemas.StateRunning, "kq-a", all, `{"part":3}`)
			publish(schemas.StateRunning, "kq-b", all, `{"part":3}`) // handed over: another replica
			publish(schemas.StateSucceeded, "kq-b", nil, "")
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			code := <-done
			var got []string
			for _, l := range lines {
				s := l
				if output == "json" {
					st, err := schemas.DecodeStatus([]byte(l))
					if err != nil {
						t.Fatalf("line %q: %v", l, err)
					}
					s = statusLine(st)
				}
				got = append(got, strings.SplitN(s, "  ", 2)[1]) // without the time
			}
			want := []string{
				id + "  accepted   backup movies  (kq-a)",
				id + "  running    backup movies  (kq-a)  50/100  storing",
				id + "  running    backup movies  (kq-a)  100/100  storing",
				id + "  running    backup movies  (kq-b)  100/100  storing",
				id + `  succeeded  backup movies  (kq-b)  result {"backup_id":"` + id + `"}`,
			}
			if code != ExitOK || strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("exit %d, printed:\n%s\nwant:\n%s", code, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
