package harness

import (
	"testing"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/s3test"
)

// TestProbeS3 runs the environment probe against a real S3 server
// (versitygw started by scripts/s3.sh, or the one KQ_E2E_S3_* names).
func TestProbeS3(t *testing.T) {
	srv := s3test.Start(t)
	env := &S3Env{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Region: srv.Region}
	if err := ProbeS3(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	bad := *env
	bad.SecretKey = "wrong"
	if err := ProbeS3(t.Context(), &bad); err == nil {
		t.Fatal("probe passed with a wrong secret key")
	}
}
