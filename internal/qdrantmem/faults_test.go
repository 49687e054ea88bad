package qdrantmem

import (
	"context"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
)

func countReq() *qdrant.CountPoints { return &qdrant.CountPoints{CollectionName: "c"} }

// TestFailNextCountsDown: exactly n calls fail, in queue order, and nothing
// of a failed call is applied.
func TestFailNextCountsDown(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *Server)
		// want is the outcome of successive UpdateBatch calls: a code, or OK.
		want []codes.Code
	}{
		{"two then ok", func(s *Server) { s.FailNext(MethodUpdateBatch, 2, codes.Unavailable, "down") },
			[]codes.Code{codes.Unavailable, codes.Unavailable, codes.OK, codes.OK}},
		{"queued rules", func(s *Server) {
			s.FailNext(MethodUpdateBatch, 1, codes.ResourceExhausted, "slow down")
			s.FailNext(MethodUpdateBatch, 2, codes.Internal, "boom")
		}, []codes.Code{codes.ResourceExhausted, codes.Internal, codes.Internal, codes.OK}},
		{"all methods", func(s *Server) { s.FailNext(AllMethods, 1, codes.DeadlineExceeded, "late") },
			[]codes.Code{codes.DeadlineExceeded, codes.OK}},
		{"specific before all", func(s *Server) {
			s.FailNext(AllMethods, 1, codes.Internal, "all")
			s.FailNext(MethodUpdateBatch, 1, codes.Unavailable, "one")
		}, []codes.Code{codes.Unavailable, codes.Internal, codes.OK}},
		{"other method untouched", func(s *Server) { s.FailNext(MethodUpsert, 3, codes.Internal, "x") },
			[]codes.Code{codes.OK}},
		{"cleared", func(s *Server) {
			s.FailNext(MethodUpdateBatch, 3, codes.Internal, "x")
			s.FailNext(MethodUpdateBatch, 0, codes.OK, "")
		}, []codes.Code{codes.OK}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.createDense(t, "c", 1, qdrant.Distance_Dot)
			tc.setup(e.s)
			applied := uint64(0)
			for i, want := range tc.want {
				_, err := e.c.UpdateBatch(ctxT(t), &qdrant.UpdateBatchPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Operations: []*qdrant.PointsUpdateOperation{
					qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: []*qdrant.PointStruct{pt(uint64(i), []float32{1}, nil)}})}})
				if want == codes.OK {
					mustOK(t, err)
					applied++
				} else if err == nil || codeOf(err) != want {
					t.Fatalf("call %d: err = %v, want %v", i, err, want)
				}
			}
			if n := e.count(t, "c", nil); n != applied {
				t.Fatalf("points = %d, want %d (failed calls apply nothing)", n, applied)
			}
			if got := e.s.CallCount(MethodUpdateBatch); got != len(tc.want) {
				t.Fatalf("CallCount = %d, want %d", got, len(tc.want))
			}
		})
	}
}

func codeOf(err error) codes.Code {
	st, _ := statusOf(err)
	return st
}

func TestFailNextMessage(t *testing.T) {
	e := newEnv(t)
	e.createDense(t, "c", 1, qdrant.Distance_Dot)
	e.s.FailNext(MethodCount, 1, codes.ResourceExhausted, "Rate limiting exceeded: Write rate limit exceeded")
	_, err := e.c.Count(ctxT(t), countReq())
	wantStatus(t, err, codes.ResourceExhausted, "Rate limiting exceeded: Write rate limit exceeded")
}

func TestHang(t *testing.T) {
	t.Run("unhang releases and the call is applied", func(t *testing.T) {
		e := newEnv(t)
		e.createDense(t, "c", 1, qdrant.Distance_Dot)
		e.s.Hang(MethodUpsert)
		done := make(chan error, 1)
		go func() {
			_, err := e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointStruct{pt(1, []float32{1}, nil)}})
			done <- err
		}()
		waitFor(t, func() bool { return e.s.CallCount(MethodUpsert) == 1 })
		select {
		case err := <-done:
			t.Fatalf("hung call returned: %v", err)
		default:
		}
		if n := e.count(t, "c", nil); n != 0 {
			t.Fatalf("hung call applied: count %d", n)
		}
		e.s.Unhang(MethodUpsert)
		mustOK(t, <-done)
		if n := e.count(t, "c", nil); n != 1 {
			t.Fatalf("count after unhang = %d, want 1", n)
		}
	})
	t.Run("context deadline ends the call", func(t *testing.T) {
		e := newEnv(t)
		e.createDense(t, "c", 1, qdrant.Distance_Dot)
		e.s.Hang(AllMethods)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := e.c.Count(ctx, countReq())
		if codeOf(err) != codes.DeadlineExceeded {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
		e.s.Unhang(AllMethods)
		if n := e.count(t, "c", nil); n != 0 {
			t.Fatalf("count = %d", n)
		}
	})
	t.Run("stop releases hung calls", func(t *testing.T) {
		e := newEnv(t)
		e.s.Hang(MethodCount)
		done := make(chan error, 1)
		go func() {
			_, err := e.c.Count(ctxT(t), countReq())
			done <- err
		}()
		waitFor(t, func() bool { return e.s.CallCount(MethodCount) == 1 })
		e.s.Stop()
		if codeOf(<-done) != codes.Unavailable {
			t.Fatal("want Unavailable after Stop")
		}
	})
}

func TestLatency(t *testing.T) {
	e := newEnv(t)
	e.createDense(t, "c", 1, qdrant.Distance_Dot)
	e.s.SetLatency(MethodCount, 100*time.Millisecond)
	start := time.Now()
	_ = e.count(t, "c", nil)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("call took %v, want >= 100ms", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := e.c.Count(ctx, countReq())
	if codeOf(err) != codes.DeadlineExceeded {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	e.s.SetLatency(MethodCount, 0)
	start = time.Now()
	_ = e.count(t, "c", nil)
	if d := time.Since(start); d >= 100*time.Millisecond {
		t.Fatalf("latency not removed: %v", d)
	}
}

func TestSetUnavailable(t *testing.T) {
	e := newEnv(t)
	e.createDense(t, "c", 1, qdrant.Distance_Dot)
	e.s.SetUnavailable(true)
	_, err := e.c.HealthCheck(ctxT(t))
	wantStatus(t, err, codes.Unavailable, "qdrantmem: server unavailable (injected)")
	_, err = e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{pt(1, []float32{1}, nil)}})
	wantStatus(t, err, codes.Unavailable, "qdrantmem: server unavailable (injected)")
	e.s.SetUnavailable(false)
	if n := e.count(t, "c", nil); n != 0 {
		t.Fatalf("count = %d, want 0", n)
	}
	if got := e.s.CallCount(MethodUpsert); got != 1 {
		t.Fatalf("CallCount(Upsert) = %d, want 1", got)
	}
	if got := e.s.CallCount(AllMethods); got != 4 { // Create, HealthCheck, Upsert, Count
		t.Fatalf("CallCount(*) = %d, want 4", got)
	}
}

func TestHealthCheck(t *testing.T) {
	e := newEnv(t)
	r, err := e.c.HealthCheck(ctxT(t))
	mustOK(t, err)
	if r.GetTitle() != "qdrant - vector search engine" || r.GetVersion() != Version {
		t.Fatalf("HealthCheck = %v", r)
	}
}

// waitFor polls cond until it holds or 5s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
