package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func opts(f *fakeQdrant) Options {
	return Options{Collections: f, PollInterval: 100 * time.Millisecond, MaxPollInterval: time.Second,
		RetryInitial: 50 * time.Millisecond, RetryMax: time.Second, RetryFor: 10 * time.Second, Log: quiet}
}

func cmd(typ schemas.CommandType, params string) schemas.Command {
	c := schemas.Command{ID: "c1", Type: typ, Collection: "movies"}
	if params != "" {
		c.Params = json.RawMessage(params)
	}
	return c
}

func wantCode(t *testing.T, err error, code string, retryable bool) {
	t.Helper()
	var je *job.Error
	if !errors.As(err, &je) || je.Code != code || je.Retryable != retryable {
		t.Fatalf("err = %v, want job error %s (retryable %v)", err, code, retryable)
	}
}

// pending is a fake pending index_defer record.
func pending(result string) fakeRecords { return fakeRecords{result: json.RawMessage(result)} }

func TestDefer(t *testing.T) {
	tests := []struct {
		name     string
		params   string
		setup    func(f *fakeQdrant)
		records  fakeRecords
		prev     json.RawMessage // a checkpoint of an earlier attempt (resume)
		want     string          // the result as JSON
		wantM    uint64
		wantThr  uint64
		wantVecM map[string]uint64
		updates  int
	}{
		{name: "hnsw_m0 records previous",
			want:  `{"mode":"hnsw_m0","previous":{"m":16,"ef_construct":100,"indexing_threshold":10000},"already_deferred":false}`,
			wantM: 0, wantThr: 10000, updates: 1},
		{name: "threshold0", params: `{"mode":"threshold0"}`, setup: func(f *fakeQdrant) { f.m = ptr(32) },
			want:  `{"mode":"threshold0","previous":{"m":32,"ef_construct":100,"indexing_threshold":10000},"already_deferred":false}`,
			wantM: 32, wantThr: 0, updates: 1},
		{name: "already deferred keeps the pending defer's previous", setup: func(f *fakeQdrant) { f.m = ptr(0) },
			records: pending(`{"mode":"hnsw_m0","previous":{"m":48,"ef_construct":100,"indexing_threshold":10000}}`),
			want:    `{"mode":"hnsw_m0","previous":{"m":48,"ef_construct":100,"indexing_threshold":10000},"already_deferred":true}`,
			wantM:   0, wantThr: 10000},
		{name: "m=0 on purpose, no pending defer: previous is 0", setup: func(f *fakeQdrant) { f.m = ptr(0) },
			want:  `{"mode":"hnsw_m0","previous":{"m":0,"ef_construct":100,"indexing_threshold":10000},"already_deferred":true}`,
			wantM: 0, wantThr: 10000},
		{name: "other mode deferred: its setting comes from the record", params: `{"mode":"hnsw_m0"}`, setup: func(f *fakeQdrant) { f.thr = ptr(0) },
			records: pending(`{"mode":"threshold0","previous":{"m":16,"ef_construct":100,"indexing_threshold":20000}}`),
			want:    `{"mode":"hnsw_m0","previous":{"m":16,"ef_construct":100,"indexing_threshold":20000},"already_deferred":false}`,
			wantM:   0, wantThr: 0, updates: 1},
		{name: "vectors with their own m are deferred too", setup: func(f *fakeQdrant) {
			f.vectorM = map[string]*uint64{"text": ptr(32), "image": ptr(8)}
		},
			want:  `{"mode":"hnsw_m0","previous":{"m":16,"ef_construct":100,"indexing_threshold":10000,"vectors":{"image":{"m":8},"text":{"m":32}}},"already_deferred":false}`,
			wantM: 0, wantThr: 10000, wantVecM: map[string]uint64{"text": 0, "image": 0}, updates: 1},
		{name: "resumed after the change: keeps what the first attempt found", setup: func(f *fakeQdrant) { f.m = ptr(0) },
			prev:  json.RawMessage(`{"previous":{"m":32,"ef_construct":100,"indexing_threshold":10000},"deferring":true}`),
			want:  `{"mode":"hnsw_m0","previous":{"m":32,"ef_construct":100,"indexing_threshold":10000},"already_deferred":false}`,
			wantM: 0, wantThr: 10000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(100)
			if tc.setup != nil {
				tc.setup(f)
			}
			o := opts(f)
			o.Records = tc.records
			h := NewDefer(o)
			c := cmd(schemas.CommandIndexDefer, tc.params)
			if err := h.Validate(c); err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			if tc.prev != nil {
				rec.checkpoints = []json.RawMessage{tc.prev}
			}
			updatesAtCheckpoint := -1
			rec.onCheckpoint = func() { updatesAtCheckpoint = len(f.updates) }
			res, err := h.Run(t.Context(), c, rec)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(res); string(got) != tc.want {
				t.Fatalf("result %s, want %s", got, tc.want)
			}
			if *f.m != tc.wantM || *f.thr != tc.wantThr || len(f.updates) != tc.updates {
				t.Fatalf("collection m=%d threshold=%d after %d updates; want m=%d threshold=%d after %d",
					*f.m, *f.thr, len(f.updates), tc.wantM, tc.wantThr, tc.updates)
			}
			for name, want := range tc.wantVecM {
				if *f.vectorM[name] != want {
					t.Fatalf("vector %s m=%d, want %d", name, *f.vectorM[name], want)
				}
			}
			switch {
			case tc.prev == nil && updatesAtCheckpoint != 0:
				t.Fatalf("the first attempt saved its checkpoint after %d updates, want before any", updatesAtCheckpoint)
			case tc.prev != nil && len(rec.checkpoints) != 1:
				t.Fatalf("a resumed attempt saved %d more checkpoints", len(rec.checkpoints)-1)
			}
			if tc.updates > 0 && rec.checks == 0 {
				t.Fatal("the settings changed without an ownership check")
			}
		})
	}
}

// A replica that lost the control partition changes nothing.
func TestHandlersCheckOwnershipBeforeChanging(t *testing.T) {
	for _, typ := range []schemas.CommandType{schemas.CommandIndexDefer, schemas.CommandIndexBuild} {
		t.Run(string(typ), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(100)
				o := opts(f)
				if typ == schemas.CommandIndexBuild {
					f.m = ptr(0)
					o.Records = pending(`{"mode":"hnsw_m0","previous":{"m":16}}`)
				}
				rec := &recorder{}
				rec.checkpoints = []json.RawMessage{json.RawMessage(`{}`)} // a resumed attempt: no checkpoint to save
				rec.notOwner = true
				h := NewDefer(o)
				if typ == schemas.CommandIndexBuild {
					h = NewBuild(o)
				}
				if _, err := h.Run(t.Context(), cmd(typ, ""), rec); !errors.Is(err, job.ErrNotOwner) {
					t.Fatalf("err = %v, want ErrNotOwner", err)
				}
				if len(f.updates) != 0 {
					t.Fatalf("%d updates by a replica that lost ownership", len(f.updates))
				}
			})
		})
	}
}

func TestDeferFailures(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f *fakeQdrant)
		code      string
		retryable bool
		msg       string
	}{
		{name: "unknown collection", setup: func(f *fakeQdrant) { f.exists = false }, code: schemas.ErrCollectionNotFound, msg: `collection "movies" does not exist`},
		// sink.Classify: only an operator can fix these (ActionRetryOperator,
		// ActionRetryCollection). A data-path write retries them; a command
		// fails at once, and a new one may succeed once fixed.
		{name: "permission denied: an operator must act", setup: func(f *fakeQdrant) {
			f.fail = []error{status.Error(codes.PermissionDenied, "no write access")}
		}, code: schemas.ErrQdrant, retryable: true, msg: "no write access"},
		{name: "unauthenticated: an operator must act", setup: func(f *fakeQdrant) {
			f.fail = []error{status.Error(codes.Unauthenticated, "Must provide an API key or an Authorization bearer token")}
		}, code: schemas.ErrQdrant, retryable: true, msg: "API key"},
		{name: "strict mode refuses the collection: an operator must act", setup: func(f *fakeQdrant) {
			f.fail = []error{status.Error(codes.InvalidArgument, "Bad request: Max points count limit of 5 reached!")}
		}, code: schemas.ErrQdrant, retryable: true, msg: "Max points count"},
		{name: "invalid request: not retryable", setup: func(f *fakeQdrant) {
			f.fail = []error{status.Error(codes.InvalidArgument, "Wrong input: bad hnsw config")}
		}, code: schemas.ErrQdrant, msg: "bad hnsw config"},
		{name: "unavailable for longer than RetryFor", setup: func(f *fakeQdrant) {
			for range 1000 {
				f.fail = append(f.fail, status.Error(codes.Unavailable, "connection refused"))
			}
		}, code: schemas.ErrUnavailable, retryable: true, msg: "checking collection of \"movies\": Qdrant failing for"},
		// Internal: a few attempts, not minutes; its cause may pass, so a
		// new command may succeed (job.QdrantPolicy).
		{name: "internal errors: a few attempts, not minutes", setup: func(f *fakeQdrant) {
			for range 1000 {
				f.fail = append(f.fail, status.Error(codes.Internal, "Service internal error: storage failure"))
			}
		}, code: schemas.ErrQdrant, retryable: true, msg: "Qdrant internal error after 3 attempts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(100)
				tc.setup(f)
				start := time.Now()
				_, err := NewDefer(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexDefer, ""), &recorder{})
				wantCode(t, err, tc.code, tc.retryable)
				if !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err %q does not contain %q", err, tc.msg)
				}
				if tc.code == schemas.ErrQdrant && time.Since(start) > 5*time.Second {
					t.Fatalf("failed after %s of retries", time.Since(start))
				}
			})
		})
	}
}

// TestRateLimitedCallWaitsRetryAfter: the go-client turns a rate-limited
// answer with retry-after into a *qdrant.QdrantResourceExhaustedError,
// which is no gRPC status; it is retried after the hint, like any
// ResourceExhausted (sink.Classify). Before, it failed the command at once.
func TestRateLimitedCallWaitsRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(100)
		f.fail = []error{fmt.Errorf("CollectionExists() failed: %w", &qdrant.QdrantResourceExhaustedError{Reason: "rate limited", RetryAfterS: 3})}
		start := time.Now()
		if _, err := NewDefer(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexDefer, ""), &recorder{}); err != nil {
			t.Fatalf("defer after a rate limit: %v", err)
		}
		if waited := time.Since(start); waited < 3*time.Second {
			t.Fatalf("retried after %s, before Qdrant's retry-after of 3s", waited)
		}
	})
}

func TestBuildWaitsUntilIndexed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(5000) // 1000 vectors/s: 5s of indexing
		f.m = ptr(0)
		o := opts(f)
		o.Records = pending(`{"mode":"hnsw_m0","previous":{"m":32,"ef_construct":200,"indexing_threshold":10000}}`)
		rec := &recorder{}
		start := time.Now()
		res, err := NewBuild(o).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), rec)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if took < 5*time.Second || took > 7*time.Second {
			t.Fatalf("build took %s, want just over the 5s indexing takes", took)
		}
		br := res.(BuildResult)
		if *f.m != 32 || *f.ef != 100 || !br.Changed || br.IndexedVectors != 5000 || br.Points != 5000 {
			t.Fatalf("m=%d ef=%d result %+v", *f.m, *f.ef, br)
		}
		if br.Sources["m"] != "recorded" || len(br.Sources) != 1 {
			t.Fatalf("sources %v", br.Sources)
		}
		snaps := rec.snapshots()
		if len(snaps) < 3 {
			t.Fatalf("only %d progress snapshots", len(snaps))
		}
		for i := 1; i < len(snaps); i++ {
			if snaps[i].IndexedVectors < snaps[i-1].IndexedVectors {
				t.Fatalf("indexed vectors went back: %+v", snaps)
			}
		}
		first, lastSnap := snaps[0], snaps[len(snaps)-1]
		if first.Status != "yellow" || lastSnap.Status != "green" || lastSnap.IndexedVectors != 5000 {
			t.Fatalf("first %+v last %+v", first, lastSnap)
		}
		// Progress is what Qdrant counts, with no made-up total.
		for _, p := range rec.got {
			if p.Total != 0 {
				t.Fatalf("progress %+v has a total", p)
			}
		}
	})
}

func TestBuildTargets(t *testing.T) {
	tests := []struct {
		name     string
		params   string
		setup    func(f *fakeQdrant)
		records  fakeRecords
		wantM    uint64
		wantEf   uint64
		wantThr  uint64
		wantVecM map[string]uint64
		sources  map[string]string
		changed  bool
	}{
		{name: "params win over the record", params: `{"m":24,"ef_construct":64}`, setup: func(f *fakeQdrant) { f.m = ptr(0) },
			records: pending(`{"mode":"hnsw_m0","previous":{"m":32,"ef_construct":200,"indexing_threshold":10000}}`),
			wantM:   24, wantEf: 64, wantThr: 10000, changed: true,
			sources: map[string]string{"m": "params", "ef_construct": "params"}},
		{name: "a setting the pending defer did not defer is left alone", setup: func(f *fakeQdrant) { f.thr = ptr(0); f.m = ptr(0) },
			records: pending(`{"mode":"threshold0","previous":{"m":32,"ef_construct":200,"indexing_threshold":20000}}`),
			wantM:   0, wantEf: 100, wantThr: 20000, changed: true, sources: map[string]string{"indexing_threshold": "recorded"}},
		{name: "m=0 on purpose (multitenant) without a pending defer is left alone", setup: func(f *fakeQdrant) { f.m = ptr(0); f.ef = ptr(77) },
			wantM: 0, wantEf: 77, wantThr: 10000, sources: map[string]string{}},
		{name: "nothing deferred, nothing to do", wantM: 16, wantEf: 100, wantThr: 10000, sources: map[string]string{}},
		{name: "a recorded zero stays zero", setup: func(f *fakeQdrant) { f.m = ptr(0) },
			records: pending(`{"mode":"hnsw_m0","previous":{"m":0,"ef_construct":100,"indexing_threshold":10000}}`),
			wantM:   0, wantEf: 100, wantThr: 10000, sources: map[string]string{"m": "recorded"}},
		{name: "m changed since the defer is left alone", setup: func(f *fakeQdrant) { f.m = ptr(8) },
			records: pending(`{"mode":"hnsw_m0","previous":{"m":32}}`),
			wantM:   8, wantEf: 100, wantThr: 10000, sources: map[string]string{}},
		{name: "vectors the defer recorded are restored, others left alone", setup: func(f *fakeQdrant) {
			f.m = ptr(0)
			f.vectorM = map[string]*uint64{"text": ptr(0), "tenant": ptr(0)}
		},
			records: pending(`{"mode":"hnsw_m0","previous":{"m":16,"vectors":{"text":{"m":32}}}}`),
			wantM:   16, wantEf: 100, wantThr: 10000, wantVecM: map[string]uint64{"text": 32, "tenant": 0}, changed: true,
			sources: map[string]string{"m": "recorded", "vectors.text.m": "recorded"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(100)
				if tc.setup != nil {
					tc.setup(f)
				}
				o := opts(f)
				o.Records = tc.records
				res, err := NewBuild(o).Run(t.Context(), cmd(schemas.CommandIndexBuild, tc.params), &recorder{})
				if err != nil {
					t.Fatal(err)
				}
				br := res.(BuildResult)
				if *f.m != tc.wantM || *f.ef != tc.wantEf || *f.thr != tc.wantThr || br.Changed != tc.changed {
					t.Fatalf("m=%d ef=%d thr=%d changed=%v; want %d %d %d %v", *f.m, *f.ef, *f.thr, br.Changed, tc.wantM, tc.wantEf, tc.wantThr, tc.changed)
				}
				for name, want := range tc.wantVecM {
					if *f.vectorM[name] != want {
						t.Fatalf("vector %s m=%d, want %d", name, *f.vectorM[name], want)
					}
				}
				if !maps.Equal(br.Sources, tc.sources) {
					t.Fatalf("sources %v, want %v", br.Sources, tc.sources)
				}
				if !tc.changed && len(f.updates) != 0 {
					t.Fatalf("unchanged build sent %d updates", len(f.updates))
				}
			})
		})
	}
}

// TestBuildTimeout: the timeout fires exactly at the deadline, whether the
// build is polling (a poll delay longer than what is left of the timeout
// is cut to it, even below a millisecond) or retrying a failing call.
// Before, a wait was cut to no less than 1ms: "timed out after
// 30.000549s" when a jittered poll ended less than 1ms before the
// deadline, every time for a 500µs timeout.
func TestBuildTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		failing bool // every Qdrant call fails Unavailable
		msg     string
	}{
		{name: "polling", timeout: 30 * time.Second, msg: "timeout 30s passed while the collection was yellow"},
		{name: "polling, less than a millisecond", timeout: 500 * time.Microsecond, msg: "timeout 500µs passed while the collection was yellow"},
		{name: "retrying, less than a millisecond", timeout: 500 * time.Microsecond, failing: true, msg: "timeout 500µs passed while checking collection"},
		{name: "retrying", timeout: 7*time.Second + 300*time.Microsecond, failing: true, msg: "passed while checking collection"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(1_000_000) // 1000s of indexing
				f.m = ptr(0)
				if tc.failing {
					for range 10_000 {
						f.fail = append(f.fail, status.Error(codes.Unavailable, "connection refused"))
					}
				}
				o := opts(f)
				o.Records = pending(`{"mode":"hnsw_m0","previous":{"m":16}}`)
				start := time.Now()
				_, err := NewBuild(o).Run(t.Context(), cmd(schemas.CommandIndexBuild, fmt.Sprintf(`{"timeout":%q}`, tc.timeout)), &recorder{})
				wantCode(t, err, schemas.ErrTimeout, true)
				if took := time.Since(start); took != tc.timeout {
					t.Fatalf("timed out after %s, want exactly %s", took, tc.timeout)
				}
				if !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("message %q", err)
				}
			})
		})
	}
}

// The deadline is saved before anything changes; a resumed build (after a
// hand-over whose last event carries no progress data) keeps it.
func TestBuildResumeKeepsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(1_000_000)
		f.m = ptr(0)
		o := opts(f)
		o.Records = pending(`{"mode":"hnsw_m0","previous":{"m":16}}`)
		first := &recorder{}
		ctx, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(2*time.Second, func() { cancel(job.ErrHandover) })
		updatesAtCheckpoint := -1
		first.onCheckpoint = func() { updatesAtCheckpoint = len(f.updates) }
		deadline := time.Now().Add(10 * time.Second)
		if _, err := NewBuild(o).Run(ctx, cmd(schemas.CommandIndexBuild, `{"timeout":"10s"}`), first); !errors.Is(err, job.ErrHandover) {
			t.Fatalf("first attempt: %v", err)
		}
		if updatesAtCheckpoint != 0 {
			t.Fatalf("the deadline was saved after %d updates, want before", updatesAtCheckpoint)
		}
		interrupted := &schemas.Status{State: schemas.StateRunning, Progress: &schemas.Progress{Detail: "interrupted on kq-a"}}
		resumed := &recorder{prev: interrupted, checkpoints: first.checkpoints}
		_, err := NewBuild(o).Run(t.Context(), cmd(schemas.CommandIndexBuild, `{"timeout":"10s"}`), resumed)
		wantCode(t, err, schemas.ErrTimeout, true)
		if !time.Now().Equal(deadline) {
			t.Fatalf("resumed build timed out at +%s, want the first attempt's deadline", time.Since(deadline.Add(-10*time.Second)))
		}
	})
}

func TestBuildCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(1_000_000)
		f.m = ptr(0)
		o := opts(f)
		o.Records = pending(`{"mode":"hnsw_m0","previous":{"m":16}}`)
		ctx, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(3*time.Second, func() { cancel(job.ErrCancelled) })
		start := time.Now()
		_, err := NewBuild(o).Run(ctx, cmd(schemas.CommandIndexBuild, ""), &recorder{})
		if !errors.Is(err, job.ErrCancelled) {
			t.Fatalf("err = %v, want ErrCancelled", err)
		}
		if took := time.Since(start); took != 3*time.Second {
			t.Fatalf("stopped after %s, want at the cancel (3s)", took)
		}
	})
}

func TestBuildRetriesTransientErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(100)
		f.m = ptr(0)
		f.set(func(f *fakeQdrant) {
			f.fail = []error{
				status.Error(codes.Unavailable, "restarting"),
				status.Error(codes.DeadlineExceeded, "slow"),
				status.Error(codes.ResourceExhausted, "rate limited"),
				status.Error(codes.Internal, "one internal error"),
			}
		})
		o := opts(f)
		o.Records = pending(`{"mode":"hnsw_m0","previous":{"m":16}}`)
		res, err := NewBuild(o).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), &recorder{})
		if err != nil {
			t.Fatalf("transient errors were not retried: %v", err)
		}
		if *f.m != 16 || res.(BuildResult).IndexedVectors != 100 {
			t.Fatalf("m=%d result %+v", *f.m, res)
		}
	})
}

// Qdrant applies a settings change to its optimizers in the background: for
// a moment after the update the collection still looks green and idle
// (here 200ms, two polls). The build is not fooled by it.
func TestBuildWaitsOutTheAsynchronousSettingsChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(3000) // 3s of indexing
		f.m = ptr(0)
		f.lag = 200 * time.Millisecond
		o := opts(f)
		o.Records = pending(`{"mode":"hnsw_m0","previous":{"m":16}}`)
		start := time.Now()
		res, err := NewBuild(o).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 3200*time.Millisecond || res.(BuildResult).IndexedVectors != 3000 {
			t.Fatalf("ended after %s with %+v; want after the lag and 3s of indexing", took, res)
		}
	})
}

func TestBuildStates(t *testing.T) {
	t.Run("grey is nudged", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(100)
			f.grey, f.building, f.indexed = true, true, 0
			rec := &recorder{}
			res, err := NewBuild(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), rec)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.updates) != 1 || f.updates[0].OptimizersConfig == nil || f.updates[0].HnswConfig != nil || rec.checks == 0 {
				t.Fatalf("updates %v (%d ownership checks), want one empty optimizer update after a check", f.updates, rec.checks)
			}
			if res.(BuildResult).IndexedVectors != 100 {
				t.Fatalf("result %+v", res)
			}
		})
	})
	t.Run("red that lasts fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(100)
			f.red = "segment failure"
			start := time.Now()
			_, err := NewBuild(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), &recorder{})
			wantCode(t, err, schemas.ErrOptimizer, false)
			if !strings.Contains(err.Error(), "segment failure") || time.Since(start) < time.Minute {
				t.Fatalf("failed after %s: %q", time.Since(start), err)
			}
		})
	})
	t.Run("red that clears is waited out", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(100)
			f.red = "Failed to recreate optimizers: channel closed"
			time.AfterFunc(10*time.Second, func() { f.set(func(f *fakeQdrant) { f.red = "" }) })
			if _, err := NewBuild(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), &recorder{}); err != nil {
				t.Fatalf("a red phase of 10s failed the build: %v", err)
			}
		})
	})
	t.Run("the update queue must drain", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(100)
			f.updateQueue = 12
			time.AfterFunc(4*time.Second, func() { f.set(func(f *fakeQdrant) { f.updateQueue = 0 }) })
			start := time.Now()
			if _, err := NewBuild(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), &recorder{}); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < 4*time.Second {
				t.Fatalf("ended after %s with updates still queued", took)
			}
		})
	})
	t.Run("green twice in a row ends it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(100) // already green, nothing deferred
			res, err := NewBuild(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), &recorder{})
			if err != nil {
				t.Fatal(err)
			}
			if polls := res.(BuildResult).Polls; polls != idleStreak {
				t.Fatalf("polls = %d, want %d", polls, idleStreak)
			}
		})
	})
}

func TestBuildWaitsForOptimizations(t *testing.T) {
	tests := []struct {
		name      string
		opt       *fakeOptimizations
		wantPolls int
	}{
		{name: "running then queued then idle", opt: &fakeOptimizations{acts: []Activity{{Running: 1}, {Queued: 2}, {}, {}}}, wantPolls: 4},
		{name: "no endpoint: status alone", opt: &fakeOptimizations{noAPI: true}, wantPolls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(100) // green throughout
				o := opts(f)
				o.Optimizations = tc.opt
				rec := &recorder{}
				res, err := NewBuild(o).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), rec)
				if err != nil {
					t.Fatal(err)
				}
				if polls := res.(BuildResult).Polls; polls != tc.wantPolls {
					t.Fatalf("polls = %d, want %d", polls, tc.wantPolls)
				}
				s := rec.snapshots()[0]
				if tc.opt.noAPI != (s.Running == nil) {
					t.Fatalf("first snapshot %+v: optimizations reported = %v, want %v", s, s.Running != nil, !tc.opt.noAPI)
				}
			})
		})
	}
}

// TestPolicy: Qdrant's failures follow the control plane's one table
// (job.QdrantPolicy, tested in control/job); the handlers add a job
// error's own code and fail anything else (a decoding failure) at once.
func TestPolicy(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want job.Policy
	}{
		{"gRPC internal: briefly", status.Error(codes.Internal, ""), job.Policy{Retry: job.RetryBrief, Code: schemas.ErrQdrant, Retryable: true}},
		{"REST 403: an operator must act", &sink.RESTError{Status: 403}, job.Policy{Code: schemas.ErrQdrant, Retryable: true}},
		{"our call timeout", context.DeadlineExceeded, job.Policy{Retry: job.RetryTransient, Code: schemas.ErrUnavailable, Retryable: true}},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, job.Policy{Retry: job.RetryTransient, Code: schemas.ErrUnavailable, Retryable: true}},
		{"something else", errors.New("decoding optimizations"), job.Policy{Code: schemas.ErrQdrant}},
		{"a job error", job.Errorf(schemas.ErrCollectionNotFound, false, "gone"), job.Policy{Code: schemas.ErrCollectionNotFound}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := policyOf(tc.err); got != tc.want {
				t.Errorf("policyOf(%v) = %+v, want %+v", tc.err, got, tc.want)
			}
		})
	}
}
