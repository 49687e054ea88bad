package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Client returns an AWS SDK client for the environment's server:
// path-style, static credentials, the environment's region.
func (s *S3Env) S3Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		// Checksums only where an operation needs them: the SDK's
		// default CRC32 on every request is not what this probe checks.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
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
	key := "probe/object.txt"
	body := []byte("kafka-qdrant e2e probe " + hex.EncodeToString(suffix))
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("S3 at %s: creating bucket %s: %w", s.Endpoint, bucket, err)
	}
	err := func() error {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			return fmt.Errorf("putting %s: %w", key, err)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return fmt.Errorf("getting %s: %w", key, err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			return fmt.Errorf("reading %s: %w", key, err)
		}
		if !bytes.Equal(got, body) {
			return fmt.Errorf("object read back as %q, want %q", got, body)
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			return fmt.Errorf("deleting %s: %w", key, err)
		}
		return nil
	}()
	if _, derr := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err == nil && derr != nil {
		err = fmt.Errorf("deleting bucket %s: %w", bucket, derr)
	}
	if err != nil {
		return fmt.Errorf("S3 at %s: %w", s.Endpoint, err)
	}
	return nil
}
