package qdrantmem

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

func TestAPIKeyGRPC(t *testing.T) {
	tests := []struct {
		name string
		key  string // sent by the client
		md   []string
		code codes.Code
		msg  string
	}{
		{name: "right key", key: "s3cret", code: codes.OK},
		{name: "bearer token", md: []string{"authorization", "Bearer s3cret"}, code: codes.OK},
		{name: "no key", code: codes.Unauthenticated, msg: "Must provide an API key or an Authorization bearer token"},
		{name: "wrong key", key: "nope", code: codes.Unauthenticated, msg: "Invalid API key or JWT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvKey(t, tc.key, WithAPIKey("s3cret"))
			ctx := ctxT(t)
			if tc.md != nil {
				ctx = metadata.AppendToOutgoingContext(ctx, tc.md...)
			}
			_, err := e.c.ListCollections(ctx)
			if tc.code == codes.OK {
				mustOK(t, err)
			} else {
				wantStatus(t, err, tc.code, tc.msg)
			}
			// HealthCheck never needs a key (src/tonic/auth.rs).
			_, err = e.c.HealthCheck(ctx)
			mustOK(t, err)
		})
	}
}

func TestAPIKeyREST(t *testing.T) {
	s := New(WithAPIKey("s3cret"))
	addr, err := s.StartREST("127.0.0.1:0")
	mustOK(t, err)
	t.Cleanup(s.Stop)
	tests := []struct {
		name, path, key string
		wantCode        int
		wantBody        string
	}{
		{"collection without key", "/collections/x", "", 401, "Must provide an API key or an Authorization bearer token"},
		{"collection with wrong key", "/collections/x", "nope", 401, "Invalid API key or JWT"},
		{"collection with key", "/collections/x", "s3cret", 404, ""},
		{"root is public", "/", "", 200, ""},
		{"healthz is public", "/healthz", "", 200, "healthz check passed"},
		{"readyz is public", "/readyz", "", 200, "all shards are ready"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+tc.path, nil)
			if tc.key != "" {
				req.Header.Set("api-key", tc.key)
			}
			resp, err := http.DefaultClient.Do(req)
			mustOK(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tc.wantCode, body)
			}
			if tc.wantBody != "" && string(body) != tc.wantBody {
				t.Fatalf("body = %q, want %q", body, tc.wantBody)
			}
		})
	}
}

// TestRegisterOnOwnServer: auth, faults and call counts also apply when the
// services are registered on a caller-owned grpc.Server.
func TestRegisterOnOwnServer(t *testing.T) {
	s := New(WithAPIKey("k"))
	g := grpc.NewServer()
	s.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	mustOK(t, err)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	c := dial(t, lis.Addr().String(), "")
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.GetPointsClient().Count(ctxT(t), &qdrant.CountPoints{CollectionName: "c"})
	wantStatus(t, err, codes.Unauthenticated, "Must provide an API key or an Authorization bearer token")
	s.FailNext(MethodHealthCheck, 1, codes.Internal, "injected")
	_, err = c.HealthCheck(ctxT(t))
	wantStatus(t, err, codes.Internal, "injected")
	if n := s.CallCount(AllMethods); n != 2 {
		t.Fatalf("CallCount(*) = %d, want 2", n)
	}
}
