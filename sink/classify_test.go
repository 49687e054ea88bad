package sink

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestClassifyCodes(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		code   codes.Code
		action action
		label  string
	}{
		{"invalid argument rejects", status.Error(codes.InvalidArgument, "Wrong input: Vector dimension error"), codes.InvalidArgument, reject, "invalid_argument"},
		{"not found rejects", status.Error(codes.NotFound, "Not found: Collection `x` doesn't exist!"), codes.NotFound, reject, "not_found"},
		{"internal retries", status.Error(codes.Internal, "Service internal error"), codes.Internal, retryTransient, "internal"},
		{"unavailable retries", status.Error(codes.Unavailable, "connection refused"), codes.Unavailable, retryTransient, "unavailable"},
		{"deadline retries", status.Error(codes.DeadlineExceeded, "Timeout"), codes.DeadlineExceeded, retryTransient, "deadline_exceeded"},
		{"resource exhausted retries", status.Error(codes.ResourceExhausted, "Rate limiting exceeded"), codes.ResourceExhausted, retryTransient, "resource_exhausted"},
		{"aborted retries", status.Error(codes.Aborted, "aborted"), codes.Aborted, retryTransient, "aborted"},
		{"unknown retries", status.Error(codes.Unknown, "?"), codes.Unknown, retryTransient, "unknown"},
		{"canceled retries", status.Error(codes.Canceled, "canceled by proxy"), codes.Canceled, retryTransient, "canceled"},
		{"write lock retries", status.Error(codes.FailedPrecondition, "Storage locked: write is forbidden"), codes.FailedPrecondition, retryTransient, "failed_precondition"},
		{"unauthenticated needs operator", status.Error(codes.Unauthenticated, "Must provide an API key"), codes.Unauthenticated, retryOperator, "unauthenticated"},
		{"permission denied needs operator", status.Error(codes.PermissionDenied, "Forbidden"), codes.PermissionDenied, retryOperator, "permission_denied"},
		{"unimplemented needs operator", status.Error(codes.Unimplemented, "unknown method"), codes.Unimplemented, retryOperator, "unimplemented"},
		{"data loss needs operator", status.Error(codes.DataLoss, "Checksum mismatch"), codes.DataLoss, retryOperator, "data_loss"},
		{"already exists needs operator", status.Error(codes.AlreadyExists, "exists"), codes.AlreadyExists, retryOperator, "already_exists"},
		{"out of range needs operator", status.Error(codes.OutOfRange, "range"), codes.OutOfRange, retryOperator, "out_of_range"},
		{"plain error is unknown", errors.New("connection reset"), codes.Unknown, retryTransient, "unknown"},
		{"wrapped status keeps its code", fmt.Errorf("upserting points: %w", status.Error(codes.InvalidArgument, "bad")), codes.InvalidArgument, reject, "invalid_argument"},
		{"code outside the table is unknown", status.Error(codes.Code(42), "future"), codes.Unknown, retryTransient, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := classify(tt.err, nil)
			if v.code != tt.code || v.rule.action != tt.action || v.rule.label != tt.label {
				t.Fatalf("classify = code %v action %v label %q; want %v %v %q", v.code, v.rule.action, v.rule.label, tt.code, tt.action, tt.label)
			}
			if v.after != 0 {
				t.Fatalf("after = %v, want 0 without a hint", v.after)
			}
		})
	}
}

// Every code gRPC defines is in the table, with a snake-case label.
func TestCodeRulesCoverEveryCode(t *testing.T) {
	for c := codes.Canceled; c <= codes.Unauthenticated; c++ {
		r, ok := codeRules[c]
		if !ok {
			t.Errorf("%v missing from codeRules", c)
			continue
		}
		if r.reason == "" || r.label == "" {
			t.Errorf("%v: empty reason or label", c)
		}
	}
}

func TestClassifyRetryAfter(t *testing.T) {
	rateLimited := status.Error(codes.ResourceExhausted, "Rate limiting exceeded: Write rate limit exceeded")
	tests := []struct {
		name    string
		err     error
		trailer metadata.MD
		after   time.Duration
		action  action
		code    codes.Code
	}{
		{"go-client typed error", &qdrant.QdrantResourceExhaustedError{Reason: "rate", RetryAfterS: 7}, nil, 7 * time.Second, retryTransient, codes.ResourceExhausted},
		{"go-client typed error wrapped", fmt.Errorf("upserting points: %w", &qdrant.QdrantResourceExhaustedError{RetryAfterS: 2}), nil, 2 * time.Second, retryTransient, codes.ResourceExhausted},
		{"trailer seconds", rateLimited, metadata.Pairs("retry-after", "3"), 3 * time.Second, retryTransient, codes.ResourceExhausted},
		{"trailer fractional seconds", rateLimited, metadata.Pairs("retry-after", "0.5"), 500 * time.Millisecond, retryTransient, codes.ResourceExhausted},
		{"trailer go duration", rateLimited, metadata.Pairs("retry-after", "1500ms"), 1500 * time.Millisecond, retryTransient, codes.ResourceExhausted},
		{"trailer garbage ignored", rateLimited, metadata.Pairs("retry-after", "soon"), 0, retryTransient, codes.ResourceExhausted},
		{"trailer negative ignored", rateLimited, metadata.Pairs("retry-after", "-4"), 0, retryTransient, codes.ResourceExhausted},
		{"huge hint capped", rateLimited, metadata.Pairs("retry-after", "86400"), maxRetryAfter, retryTransient, codes.ResourceExhausted},
		{"hint on another code ignored", status.Error(codes.Unavailable, "x"), metadata.Pairs("retry-after", "3"), 0, retryTransient, codes.Unavailable},
		{"go-client parse failure join", errors.Join(errors.New(`parse retry-after header "x"`), rateLimited), nil, 0, retryTransient, codes.ResourceExhausted},
		{"insufficient storage needs operator", status.Error(codes.ResourceExhausted, "Insufficient storage"), metadata.Pairs("qdrant-insufficient-storage", "1"), 0, retryOperator, codes.ResourceExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := classify(tt.err, tt.trailer)
			if v.code != tt.code {
				t.Fatalf("code = %v, want %v", v.code, tt.code)
			}
			if v.after != tt.after {
				t.Fatalf("after = %v, want %v", v.after, tt.after)
			}
			if v.rule.action != tt.action {
				t.Fatalf("action = %v, want %v", v.rule.action, tt.action)
			}
		})
	}
}

func TestStatusVerdict(t *testing.T) {
	tests := []struct {
		status qdrant.UpdateStatus
		ok     bool
		code   codes.Code
	}{
		{qdrant.UpdateStatus_Completed, true, codes.OK},
		{qdrant.UpdateStatus_WaitTimeout, false, codes.DeadlineExceeded},
		{qdrant.UpdateStatus_Acknowledged, false, codes.Unknown},
		{qdrant.UpdateStatus_ClockRejected, false, codes.Unknown},
		{qdrant.UpdateStatus_UnknownUpdateStatus, false, codes.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.status.String(), func(t *testing.T) {
			v, ok := statusVerdict(tt.status)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok && (v.code != tt.code || v.rule.action != retryTransient) {
				t.Fatalf("verdict = %v %v, want %v retry", v.code, v.rule.action, tt.code)
			}
		})
	}
}
