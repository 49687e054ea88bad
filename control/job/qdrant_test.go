package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// TestQdrantPolicy: what a command does about a failed Qdrant call, over
// both transports; the same failure gets the same policy over gRPC and
// REST.
func TestQdrantPolicy(t *testing.T) {
	transient := Policy{Retry: RetryTransient, Code: schemas.ErrUnavailable, Retryable: true}
	after := func(d time.Duration) Policy { p := transient; p.After = d; return p }
	internal := Policy{Retry: RetryBrief, Code: schemas.ErrQdrant, Retryable: true}
	operator := Policy{Code: schemas.ErrQdrant, Retryable: true}
	notFound := Policy{Code: schemas.ErrCollectionNotFound}
	refused := Policy{Code: schemas.ErrQdrant}
	tests := []struct {
		name string
		grpc error // nil: no gRPC twin
		rest error // nil: no REST twin
		want Policy
	}{
		{"unavailable", status.Error(codes.Unavailable, "down"), &sink.RESTError{Status: 503}, transient},
		{"timeout", status.Error(codes.DeadlineExceeded, ""), &sink.RESTError{Status: 408}, transient},
		{"rate limited", status.Error(codes.ResourceExhausted, ""), &sink.RESTError{Status: 429}, transient},
		{"rate limited with retry-after", fmt.Errorf("UpdateCollection() failed: %w",
			&qdrant.QdrantResourceExhaustedError{Reason: "slow down", RetryAfterS: 7}),
			&sink.RESTError{Status: 429, RetryAfter: 7 * time.Second}, after(7 * time.Second)},
		{"a proxy failed", nil, &sink.RESTError{Status: 502}, transient},
		{"locked", status.Error(codes.FailedPrecondition, "Locked"), nil, transient},
		{"aborted", status.Error(codes.Aborted, ""), nil, transient},
		{"internal: a few attempts, then retryable", status.Error(codes.Internal, "Service internal error"), &sink.RESTError{Status: 500}, internal},
		{"unauthenticated: an operator must act", status.Error(codes.Unauthenticated, "Invalid API key or JWT"), &sink.RESTError{Status: 401}, operator},
		{"forbidden: an operator must act", status.Error(codes.PermissionDenied, "Forbidden"), &sink.RESTError{Status: 403}, operator},
		{"unimplemented: an operator must act", status.Error(codes.Unimplemented, ""), nil, operator},
		{"data loss: an operator must act", status.Error(codes.DataLoss, ""), nil, operator},
		{"strict mode: an operator must act", status.Error(codes.InvalidArgument, `Limit exceeded 12 > 10 for "timeout"`), nil, operator},
		{"not found", status.Error(codes.NotFound, "Not found: Collection `x` doesn't exist!"), &sink.RESTError{Status: 404}, notFound},
		{"invalid", status.Error(codes.InvalidArgument, "Wrong input: x"), &sink.RESTError{Status: 400}, refused},
		{"validation", nil, &sink.RESTError{Status: 422}, refused},
		{"already exists", nil, &sink.RESTError{Status: 409}, refused},
		{"too large", status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5 vs. 4)"), &sink.RESTError{Status: 413}, refused},
		{"connection refused", nil, &net.OpError{Op: "dial", Err: errors.New("connection refused")}, transient},
		{"our call timeout", nil, context.DeadlineExceeded, transient},
		{"a response cut short", nil, fmt.Errorf("downloading: %w", io.ErrUnexpectedEOF), transient},
	}
	for _, tc := range tests {
		for _, err := range []error{tc.grpc, tc.rest} {
			if err == nil {
				continue
			}
			t.Run(tc.name+"/"+fmt.Sprintf("%T", err), func(t *testing.T) {
				got, ok := QdrantPolicy(err)
				if !ok || got != tc.want {
					t.Errorf("QdrantPolicy(%v) = %+v, %v; want %+v", err, got, ok, tc.want)
				}
			})
		}
	}
	for _, err := range []error{errors.New("decoding optimizations"), context.Canceled, Errorf(schemas.ErrTargetExists, false, "x")} {
		if p, ok := QdrantPolicy(err); ok {
			t.Errorf("QdrantPolicy(%v) = %+v, want no Qdrant policy", err, p)
		}
	}
}

// TestBudget: transient failures are retried for RetryFor, brief ones
// BriefAttempts times in all, others not at all; a retry waits at least
// the policy's After.
func TestBudget(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newBudget := func() *Budget {
		return &Budget{Backoff: Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond}, RetryFor: time.Minute, BriefAttempts: 3}
	}
	transient, _ := QdrantPolicy(status.Error(codes.Unavailable, ""))
	internal, _ := QdrantPolicy(status.Error(codes.Internal, ""))
	operator, _ := QdrantPolicy(&sink.RESTError{Status: 403})

	b := newBudget()
	for i := range 100 {
		if _, ok := b.Next(t0.Add(time.Duration(i)*time.Second/2), transient); !ok {
			t.Fatalf("transient failure %d, %s after the first: not retried", i+1, time.Duration(i)*time.Second/2)
		}
	}
	if _, ok := b.Next(t0.Add(time.Minute), transient); ok || b.Failing(t0.Add(time.Minute)) != time.Minute || b.Failures() != 101 {
		t.Fatalf("transient failure after RetryFor retried (%s, %d failures)", b.Failing(t0.Add(time.Minute)), b.Failures())
	}

	b = newBudget()
	for i := range 2 {
		if _, ok := b.Next(t0, internal); !ok {
			t.Fatalf("internal failure %d not retried", i+1)
		}
	}
	if _, ok := b.Next(t0, internal); ok || b.Failures() != 3 {
		t.Fatalf("a third internal failure is retried (%d failures)", b.Failures())
	}

	if _, ok := newBudget().Next(t0, operator); ok {
		t.Fatal("an operator's failure is retried")
	}

	rateLimited := transient
	rateLimited.After = 5 * time.Second
	if d, ok := newBudget().Next(t0, rateLimited); !ok || d != 5*time.Second {
		t.Fatalf("retry-after 5s: wait %s, %v", d, ok)
	}
}
