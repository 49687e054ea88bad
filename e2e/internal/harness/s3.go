package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/s3probe"
)

// S3Client returns a path-style S3 client for the environment's server.
func (s *S3Env) S3Client() *s3probe.Client {
	return s3probe.New(s.Endpoint, s.AccessKey, s.SecretKey, s.Region)
}

// ProbeS3 checks that the S3 server works end to end: it creates a
// uniquely named bucket, puts an object, reads it back, compares, and
// deletes both.
func ProbeS3(ctx context.Context, s *S3Env) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c := s.S3Client()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return fmt.Errorf("random bucket name: %w", err)
	}
	bucket := "kq-e2e-probe-" + hex.EncodeToString(suffix)
	body := []byte("kafka-qdrant e2e probe " + hex.EncodeToString(suffix))
	if err := c.CreateBucket(ctx, bucket); err != nil {
		return fmt.Errorf("S3 at %s: %w", s.Endpoint, err)
	}
	err := func() error {
		if err := c.PutObject(ctx, bucket, "probe/object.txt", body); err != nil {
			return err
		}
		got, err := c.GetObject(ctx, bucket, "probe/object.txt")
		if err != nil {
			return err
		}
		if !bytes.Equal(got, body) {
			return fmt.Errorf("object read back as %q, want %q", got, body)
		}
		return c.DeleteObject(ctx, bucket, "probe/object.txt")
	}()
	if derr := c.DeleteBucket(ctx, bucket); err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("S3 at %s: %w", s.Endpoint, err)
	}
	return nil
}
