package index

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
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

func TestDefer(t *testing.T) {
	tests := []struct {
		name    string
		params  string
		setup   func(f *fakeQdrant)
		records fakeRecords
		want    DeferResult
		wantM   uint64
		wantThr uint64
		updates int
	}{
		{name: "hnsw_m0 records previous", want: DeferResult{Mode: "hnsw_m0", Previous: Settings{ptr(16), ptr(100), ptr(10000)}},
			wantM: 0, wantThr: 10000, updates: 1},
		{name: "threshold0", params: `{"mode":"threshold0"}`, setup: func(f *fakeQdrant) { f.m = ptr(32) },
			want: DeferResult{Mode: "threshold0", Previous: Settings{ptr(32), ptr(100), ptr(10000)}}, wantM: 32, wantThr: 0, updates: 1},
		{name: "already deferred keeps the recorded previous", setup: func(f *fakeQdrant) { f.m = ptr(0) },
			records: fakeRecords{result: json.RawMessage(`{"mode":"hnsw_m0","previous":{"m":48,"ef_construct":100,"indexing_threshold":10000}}`)},
			want:    DeferResult{Mode: "hnsw_m0", Previous: Settings{ptr(48), ptr(100), ptr(10000)}, AlreadyDeferred: true}, wantM: 0, wantThr: 10000},
		{name: "other mode deferred: its setting comes from the record", params: `{"mode":"hnsw_m0"}`, setup: func(f *fakeQdrant) { f.thr = ptr(0) },
			records: fakeRecords{result: json.RawMessage(`{"mode":"threshold0","previous":{"m":16,"ef_construct":100,"indexing_threshold":20000}}`)},
			want:    DeferResult{Mode: "hnsw_m0", Previous: Settings{ptr(16), ptr(100), ptr(20000)}}, wantM: 0, wantThr: 0, updates: 1},
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
			res, err := h.Run(t.Context(), c, &recorder{})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(res)
			want, _ := json.Marshal(tc.want)
			if string(got) != string(want) {
				t.Fatalf("result %s, want %s", got, want)
			}
			if *f.m != tc.wantM || *f.thr != tc.wantThr || len(f.updates) != tc.updates {
				t.Fatalf("collection m=%d threshold=%d after %d updates; want m=%d threshold=%d after %d",
					*f.m, *f.thr, len(f.updates), tc.wantM, tc.wantThr, tc.updates)
			}
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
		{name: "permission denied is permanent", setup: func(f *fakeQdrant) {
			f.fail = []error{status.Error(codes.PermissionDenied, "no write access")}
		}, code: schemas.ErrQdrant, msg: "no write access"},
		{name: "unavailable for longer than RetryFor", setup: func(f *fakeQdrant) {
			for range 1000 {
				f.fail = append(f.fail, status.Error(codes.Unavailable, "connection refused"))
			}
		}, code: schemas.ErrUnavailable, retryable: true, msg: "checking collection of \"movies\": Qdrant failing for"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(100)
				tc.setup(f)
				_, err := NewDefer(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexDefer, ""), &recorder{})
				wantCode(t, err, tc.code, tc.retryable)
				if !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err %q does not contain %q", err, tc.msg)
				}
			})
		})
	}
}

func TestBuildWaitsUntilIndexed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(5000) // 1000 vectors/s: 5s of indexing
		f.m = ptr(0)
		o := opts(f)
		o.Records = fakeRecords{result: json.RawMessage(`{"mode":"hnsw_m0","previous":{"m":32,"ef_construct":200,"indexing_threshold":10000}}`)}
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
	})
}

func TestBuildTargets(t *testing.T) {
	tests := []struct {
		name    string
		params  string
		setup   func(f *fakeQdrant)
		records fakeRecords
		wantM   uint64
		wantEf  uint64
		wantThr uint64
		sources map[string]string
		changed bool
	}{
		{name: "params win over the record", params: `{"m":24,"ef_construct":64}`, setup: func(f *fakeQdrant) { f.m = ptr(0) },
			records: fakeRecords{result: json.RawMessage(`{"previous":{"m":32,"ef_construct":200,"indexing_threshold":10000}}`)},
			wantM:   24, wantEf: 64, wantThr: 10000, changed: true,
			sources: map[string]string{"m": "params", "ef_construct": "params"}},
		{name: "a setting nobody deferred is not reverted to the record", setup: func(f *fakeQdrant) { f.thr = ptr(0); f.m = ptr(8) },
			records: fakeRecords{result: json.RawMessage(`{"previous":{"m":32,"ef_construct":200,"indexing_threshold":20000}}`)},
			wantM:   8, wantEf: 100, wantThr: 20000, changed: true, sources: map[string]string{"indexing_threshold": "recorded"}},
		{name: "no record: defaults for deferred settings only", setup: func(f *fakeQdrant) { f.thr = ptr(0); f.ef = ptr(77) },
			wantM: 16, wantEf: 77, wantThr: DefaultIndexingThreshold, changed: true, sources: map[string]string{"indexing_threshold": "default"}},
		{name: "nothing deferred, nothing to do", wantM: 16, wantEf: 100, wantThr: 10000, sources: map[string]string{}},
		{name: "a recorded zero is not restored", setup: func(f *fakeQdrant) { f.m = ptr(0) },
			records: fakeRecords{result: json.RawMessage(`{"previous":{"m":0,"ef_construct":100,"indexing_threshold":10000}}`)},
			wantM:   DefaultM, wantEf: 100, wantThr: 10000, changed: true, sources: map[string]string{"m": "default"}},
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
				if len(br.Sources) != len(tc.sources) {
					t.Fatalf("sources %v, want %v", br.Sources, tc.sources)
				}
				for k, v := range tc.sources {
					if br.Sources[k] != v {
						t.Fatalf("sources %v, want %v", br.Sources, tc.sources)
					}
				}
				if !tc.changed && len(f.updates) != 0 {
					t.Fatalf("unchanged build sent %d updates", len(f.updates))
				}
			})
		})
	}
}

func TestBuildTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(1_000_000) // 1000s of indexing
		f.m = ptr(0)
		start := time.Now()
		_, err := NewBuild(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexBuild, `{"timeout":"30s"}`), &recorder{})
		wantCode(t, err, schemas.ErrTimeout, true)
		if took := time.Since(start); took != 30*time.Second {
			t.Fatalf("timed out after %s, want exactly 30s", took)
		}
		if !strings.Contains(err.Error(), "timeout 30s passed while the collection was yellow") {
			t.Fatalf("message %q", err)
		}
	})
}

func TestBuildResumeKeepsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(1_000_000)
		f.m = ptr(0)
		deadline := time.Now().Add(5 * time.Second)
		data, _ := json.Marshal(snapshot{Status: "yellow", Deadline: &deadline})
		rec := &recorder{prev: &schemas.Status{State: schemas.StateRunning, Progress: &schemas.Progress{Data: data}}}
		_, err := NewBuild(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexBuild, `{"timeout":"1h"}`), rec)
		wantCode(t, err, schemas.ErrTimeout, true)
		if !time.Now().Equal(deadline) {
			t.Fatalf("resumed build timed out at %s, want the recorded deadline %s", time.Now(), deadline)
		}
	})
}

func TestBuildCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(1_000_000)
		f.m = ptr(0)
		ctx, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(3*time.Second, func() { cancel(job.ErrCancelled) })
		start := time.Now()
		_, err := NewBuild(opts(f)).Run(ctx, cmd(schemas.CommandIndexBuild, ""), &recorder{})
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
			}
		})
		res, err := NewBuild(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), &recorder{})
		if err != nil {
			t.Fatalf("transient errors were not retried: %v", err)
		}
		if *f.m != DefaultM || res.(BuildResult).IndexedVectors != 100 {
			t.Fatalf("m=%d result %+v", *f.m, res)
		}
	})
}

func TestBuildStates(t *testing.T) {
	t.Run("grey is nudged", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(100)
			f.grey = true
			f.indexed = 0
			res, err := NewBuild(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), &recorder{})
			if err != nil {
				t.Fatal(err)
			}
			if len(f.updates) != 1 || f.updates[0].OptimizersConfig == nil || f.updates[0].HnswConfig != nil {
				t.Fatalf("updates %v, want one empty optimizer update", f.updates)
			}
			if res.(BuildResult).IndexedVectors != 100 {
				t.Fatalf("result %+v", res)
			}
		})
	})
	t.Run("red fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(100)
			f.red = "segment failure"
			_, err := NewBuild(opts(f)).Run(t.Context(), cmd(schemas.CommandIndexBuild, ""), &recorder{})
			wantCode(t, err, schemas.ErrOptimizer, false)
			if !strings.Contains(err.Error(), "segment failure") {
				t.Fatalf("message %q", err)
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

func TestTransientClassification(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.Unavailable, ""), true},
		{status.Error(codes.DeadlineExceeded, ""), true},
		{status.Error(codes.ResourceExhausted, ""), true},
		{status.Error(codes.Internal, ""), true},
		{status.Error(codes.NotFound, ""), false},
		{status.Error(codes.InvalidArgument, ""), false},
		{status.Error(codes.PermissionDenied, ""), false},
		{status.Error(codes.Unauthenticated, ""), false},
		{&httpStatusError{Code: 503}, true},
		{&httpStatusError{Code: 429}, true},
		{&httpStatusError{Code: 400}, false},
		{&httpStatusError{Code: 403}, false},
		{context.DeadlineExceeded, true},
		{errors.New("something else"), false},
	}
	for _, tc := range tests {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
