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
		action Action
		label  string
	}{
		{"invalid argument rejects", status.Error(codes.InvalidArgument, "Wrong input: Vector dimension error"), codes.InvalidArgument, ActionReject, "invalid_argument"},
		{"not found rejects", status.Error(codes.NotFound, "Not found: Collection `x` doesn't exist!"), codes.NotFound, ActionReject, "not_found"},
		{"internal retries", status.Error(codes.Internal, "Service internal error"), codes.Internal, ActionRetry, "internal"},
		{"unavailable retries", status.Error(codes.Unavailable, "connection refused"), codes.Unavailable, ActionRetry, "unavailable"},
		{"deadline retries", status.Error(codes.DeadlineExceeded, "Timeout"), codes.DeadlineExceeded, ActionRetry, "deadline_exceeded"},
		{"resource exhausted retries", status.Error(codes.ResourceExhausted, "Rate limiting exceeded"), codes.ResourceExhausted, ActionRetry, "resource_exhausted"},
		{"aborted retries", status.Error(codes.Aborted, "aborted"), codes.Aborted, ActionRetry, "aborted"},
		{"unknown retries", status.Error(codes.Unknown, "?"), codes.Unknown, ActionRetry, "unknown"},
		{"canceled retries", status.Error(codes.Canceled, "canceled by proxy"), codes.Canceled, ActionRetry, "canceled"},
		{"write lock retries", status.Error(codes.FailedPrecondition, "Storage locked: write is forbidden"), codes.FailedPrecondition, ActionRetry, "failed_precondition"},
		{"unauthenticated needs operator", status.Error(codes.Unauthenticated, "Must provide an API key"), codes.Unauthenticated, ActionRetryOperator, "unauthenticated"},
		{"permission denied needs operator", status.Error(codes.PermissionDenied, "Forbidden"), codes.PermissionDenied, ActionRetryOperator, "permission_denied"},
		{"unimplemented needs operator", status.Error(codes.Unimplemented, "unknown method"), codes.Unimplemented, ActionRetryOperator, "unimplemented"},
		{"data loss needs operator", status.Error(codes.DataLoss, "Checksum mismatch"), codes.DataLoss, ActionRetryOperator, "data_loss"},
		{"already exists needs operator", status.Error(codes.AlreadyExists, "exists"), codes.AlreadyExists, ActionRetryOperator, "already_exists"},
		{"out of range needs operator", status.Error(codes.OutOfRange, "range"), codes.OutOfRange, ActionRetryOperator, "out_of_range"},
		{"plain error is unknown", errors.New("connection reset"), codes.Unknown, ActionRetry, "unknown"},
		{"wrapped status keeps its code", fmt.Errorf("upserting points: %w", status.Error(codes.InvalidArgument, "bad")), codes.InvalidArgument, ActionReject, "invalid_argument"},
		{"code outside the table is unknown", status.Error(codes.Code(42), "future"), codes.Unknown, ActionRetry, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Classify(tt.err, nil)
			if v.Code != tt.code || v.Action != tt.action || v.Class != tt.label {
				t.Fatalf("Classify = code %v action %v class %q; want %v %v %q", v.Code, v.Action, v.Class, tt.code, tt.action, tt.label)
			}
			if v.RetryAfter != 0 {
				t.Fatalf("RetryAfter = %v, want 0 without a hint", v.RetryAfter)
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
		if r.Reason == "" || r.Class == "" {
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
		action  Action
		code    codes.Code
	}{
		{"go-client typed error", &qdrant.QdrantResourceExhaustedError{Reason: "rate", RetryAfterS: 7}, nil, 7 * time.Second, ActionRetry, codes.ResourceExhausted},
		{"go-client typed error wrapped", fmt.Errorf("upserting points: %w", &qdrant.QdrantResourceExhaustedError{RetryAfterS: 2}), nil, 2 * time.Second, ActionRetry, codes.ResourceExhausted},
		{"trailer seconds", rateLimited, metadata.Pairs("retry-after", "3"), 3 * time.Second, ActionRetry, codes.ResourceExhausted},
		{"trailer fractional seconds", rateLimited, metadata.Pairs("retry-after", "0.5"), 500 * time.Millisecond, ActionRetry, codes.ResourceExhausted},
		{"trailer go duration", rateLimited, metadata.Pairs("retry-after", "1500ms"), 1500 * time.Millisecond, ActionRetry, codes.ResourceExhausted},
		{"trailer garbage ignored", rateLimited, metadata.Pairs("retry-after", "soon"), 0, ActionRetry, codes.ResourceExhausted},
		{"trailer negative ignored", rateLimited, metadata.Pairs("retry-after", "-4"), 0, ActionRetry, codes.ResourceExhausted},
		{"huge hint capped", rateLimited, metadata.Pairs("retry-after", "86400"), maxRetryAfter, ActionRetry, codes.ResourceExhausted},
		{"hint on another code ignored", status.Error(codes.Unavailable, "x"), metadata.Pairs("retry-after", "3"), 0, ActionRetry, codes.Unavailable},
		{"go-client parse failure join", errors.Join(errors.New(`parse retry-after header "x"`), rateLimited), nil, 0, ActionRetry, codes.ResourceExhausted},
		{"insufficient storage needs operator", status.Error(codes.ResourceExhausted, "Insufficient storage"), metadata.Pairs("qdrant-insufficient-storage", "1"), 0, ActionRetryOperator, codes.ResourceExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Classify(tt.err, tt.trailer)
			if v.Code != tt.code {
				t.Fatalf("code = %v, want %v", v.Code, tt.code)
			}
			if v.RetryAfter != tt.after {
				t.Fatalf("RetryAfter = %v, want %v", v.RetryAfter, tt.after)
			}
			if v.Action != tt.action {
				t.Fatalf("action = %v, want %v", v.Action, tt.action)
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
			if !ok && (v.Code != tt.code || v.Action != ActionRetry) {
				t.Fatalf("verdict = %v %v, want %v retry", v.Code, v.Action, tt.code)
			}
		})
	}
}
