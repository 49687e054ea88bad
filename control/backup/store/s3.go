package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	tm "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// Upload tuning. The transfer manager keeps up to concurrency+1 parts in
// memory, so one Put holds at most (uploadConcurrency+1) × uploadPartSize
// = 24 MiB of the snapshot at a time, whatever its size (S3 allows 10,000
// parts: 80 GB at 8 MiB; for a larger object whose size is known the part
// size grows to fit, and memory with it).
const (
	uploadPartSize    = 8 << 20
	uploadConcurrency = 2
	// failTimeout bounds the AbortMultipartUpload of a failed or
	// cancelled upload (run on a fresh context).
	failTimeout = 30 * time.Second
	// shaMetadata is the user metadata key of an object's SHA-256
	// (x-amz-meta-sha256).
	shaMetadata = "sha256"
)

// s3Store keeps objects in an S3 bucket under a prefix. Each object is
// uploaded by the SDK's transfer manager (a single PutObject below one
// part, a multipart upload above, aborted on failure or cancellation)
// with S3 SHA-256 checksums on every request body, so S3 verifies every
// part it stores, and the whole object's SHA-256 in its metadata.
type s3Store struct {
	bucket, prefix string
	client         *s3.Client
	up             *tm.Client
}

func newS3(ctx context.Context, bucket, prefix string, cfg config.S3) (*s3Store, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		// Checksums where we ask for them (SHA-256), not the SDK's
		// default CRC32 on every request, which some S3-compatible
		// servers refuse.
		awsconfig.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		awsconfig.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey.Reveal(), "")))
	}
	if cfg.Endpoint != "" {
		opts = append(opts, awsconfig.WithBaseEndpoint(cfg.Endpoint))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("backup.s3: loading AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, errors.New("backup.s3.region: no region (set backup.s3.region or AWS_REGION)")
		}
		awsCfg.Region = "us-east-1" // S3-compatible servers mostly ignore it
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.PathStyle })
	up := tm.New(client, func(o *tm.Options) {
		o.PartSizeBytes = uploadPartSize
		o.MultipartUploadThreshold = uploadPartSize
		o.Concurrency = uploadConcurrency
		o.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmSha256
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.FailTimeout = failTimeout
	})
	return &s3Store{bucket: bucket, prefix: prefix, client: client, up: up}, nil
}

func (s *s3Store) String() string {
	if s.prefix == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + "/" + s.prefix
}

func (s *s3Store) objectKey(key string) string {
	if s.prefix == "" {
		return key
	}
	return s.prefix + "/" + key
}

// classify maps an SDK error: missing objects and failed conditions to the
// package's sentinels, cancellation and checksum failures unchanged, the
// rest to UnavailableError.
func (s *s3Store) classify(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%s: %w", op, ErrNotFound)
		case "PreconditionFailed", "ConditionalRequestConflict":
			return fmt.Errorf("%s: %w", op, ErrExists)
		}
	}
	if errors.Is(err, ErrChecksumMismatch) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return &UnavailableError{Op: op + " in " + s.String(), Err: err}
}

func (s *s3Store) Put(ctx context.Context, key string, r io.Reader, size int64, sha string) (Object, error) {
	if err := checkKey(key); err != nil {
		return Object{}, err
	}
	hr := newHashReader(r, sha)
	in := &tm.UploadObjectInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(s.objectKey(key)),
		Body:              hr,
		ChecksumAlgorithm: tmtypes.ChecksumAlgorithmSha256,
		ContentType:       aws.String("application/octet-stream"),
	}
	if sha != "" {
		in.Metadata = map[string]string{shaMetadata: sha}
	}
	if size >= 0 {
		in.ContentLength = aws.Int64(size)
	}
	if _, err := s.up.UploadObject(ctx, in); err != nil {
		s.abortLeftovers(key)
		return Object{}, s.classify("writing "+key, err)
	}
	return Object{Key: key, Size: hr.n, SHA256: hr.sum(), Modified: time.Now()}, nil
}

// abortLeftovers aborts the multipart uploads of key after a failed Put.
// The transfer manager aborts its upload once, but S3 may still be
// processing a part whose request was cancelled, which can bring the
// upload back ("it might be necessary to abort a given multipart upload
// multiple times", AbortMultipartUpload in the S3 API reference): it
// repeats until a round finds none, a few rounds at most.
func (s *s3Store) abortLeftovers(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), failTimeout)
	defer cancel()
	full := s.objectKey(key)
	for round := range 4 {
		out, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(full)})
		if err != nil {
			return
		}
		found := 0
		for _, u := range out.Uploads {
			if aws.ToString(u.Key) != full {
				continue
			}
			found++
			_, _ = s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket), Key: u.Key, UploadId: u.UploadId})
		}
		if found == 0 && round > 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (s *s3Store) Create(ctx context.Context, key string, data []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(s.objectKey(key)),
		Body:              bytes.NewReader(data),
		ContentLength:     aws.Int64(int64(len(data))),
		IfNoneMatch:       aws.String("*"),
		ChecksumAlgorithm: "SHA256",
		ContentType:       aws.String("application/json"),
	})
	if err != nil {
		return s.classify("creating "+key, err)
	}
	return nil
}

func (s *s3Store) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := checkKey(key); err != nil {
		return nil, Object{}, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
	if err != nil {
		return nil, Object{}, s.classify("reading "+key, err)
	}
	obj := Object{Key: key, Size: aws.ToInt64(out.ContentLength), SHA256: out.Metadata[shaMetadata], Modified: aws.ToTime(out.LastModified)}
	return verifyingReadCloser{newHashReader(out.Body, obj.SHA256), out.Body}, obj, nil
}

func (s *s3Store) List(ctx context.Context, prefix string) ([]Object, error) {
	full := s.objectKey(prefix)
	if prefix == "" && s.prefix != "" {
		full = s.prefix + "/"
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(full)})
	var out []Object
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.classify("listing "+prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if s.prefix != "" {
				key = strings.TrimPrefix(key, s.prefix+"/")
			}
			out = append(out, Object{Key: key, Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

func (s *s3Store) Delete(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		if err := checkKey(key); err != nil {
			return err
		}
		_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
		if err != nil {
			if err = s.classify("deleting "+key, err); !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

func (s *s3Store) AbortUploads(ctx context.Context, prefix string) (int, error) {
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(s.objectKey(prefix))}
	n := 0
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return n, s.classify("listing unfinished uploads under "+prefix, err)
		}
		for _, u := range page.Uploads {
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket), Key: u.Key, UploadId: u.UploadId})
			if err != nil {
				var ae smithy.APIError
				if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload" {
					continue
				}
				return n, s.classify("aborting upload of "+aws.ToString(u.Key), err)
			}
			n++
		}
		if !aws.ToBool(page.IsTruncated) {
			return n, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}

func (s *s3Store) Probe(ctx context.Context) error {
	_, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(s.objectKey("")), MaxKeys: aws.Int32(1)})
	if err != nil {
		return s.classify("probing", err)
	}
	return nil
}

// PresignGet implements Presigner.
func (s *s3Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	req, err := s3.NewPresignClient(s.client).PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", s.classify("presigning "+key, err)
	}
	return req.URL, nil
}
