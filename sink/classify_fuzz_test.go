package sink

import (
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FuzzClassify: any status message classifies without panicking, into an
// action of the table, naming a limit only for collection-wide refusals.
func FuzzClassify(f *testing.F) {
	f.Add(uint32(codes.InvalidArgument), `Bad request: Limit exceeded 3000 > 10 for "upsert limit". Help: x`)
	f.Add(uint32(codes.InvalidArgument), `Limit exceeded 1 > 99999999999999999999999 for "timeout"`)
	f.Add(uint32(codes.ResourceExhausted), "grpc: received message larger than max (70000 vs. 65536)")
	f.Add(uint32(codes.Unknown), "unexpected HTTP status code received from server: 413 (Request Entity Too Large)")
	f.Fuzz(func(t *testing.T, code uint32, msg string) {
		v := Classify(status.Error(codes.Code(code), msg), nil)
		if v.Action < ActionRetry || v.Action > ActionSplit || v.Class == "" || v.Reason == "" {
			t.Fatalf("Classify(%d, %q) = %+v", code, msg, v)
		}
		if v.LimitName != "" && v.Action != ActionRetryCollection {
			t.Fatalf("limit %q on a %v verdict", v.LimitName, v.Action)
		}
	})
}

// FuzzParseVersion: a version that parses has three non-negative numbers,
// and their plain spelling parses back to them.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.18.3", "v1.15.4", "1.16.0-dev", "dev", "1..2", "01.2.3x", "1.00.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseVersion(s)
		if !ok {
			return
		}
		again, ok := parseVersion(fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]))
		if !ok || again != v || v[0] < 0 || v[1] < 0 || v[2] < 0 {
			t.Fatalf("parseVersion(%q) = %v, its spelling parses to %v, %v", s, v, again, ok)
		}
	})
}
