package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// backupBucket is the run's S3 bucket for backups (scenarios use their
// name as prefix), created on first use and emptied and deleted by Close.
type backupBucket struct {
	once sync.Once
	name string
	err  error
}

// BackupConfig is the backup section a scenario's replicas use: on an S3
// server (the run's bucket, the scenario's prefix) when the environment
// has one, else a directory of the scenario.
func (s *Scenario) BackupConfig() config.Backup {
	s.T.Helper()
	e := s.Env
	if e.S3 == nil {
		return config.Backup{Store: "file://" + filepath.Join(s.LogDir, "backups")}
	}
	bucket, err := e.bucket()
	if err != nil {
		s.T.Fatal(err)
	}
	return config.Backup{Store: "s3://" + bucket + "/" + s.Name, S3: config.S3{
		Endpoint: e.S3.Endpoint, Region: e.S3.Region, PathStyle: true,
		AccessKeyID: e.S3.AccessKey, SecretAccessKey: config.Secret(e.S3.SecretKey),
	}}
}

// SetBackup sets c's backup section to b.
func (c ReplicaConfig) SetBackup(b config.Backup) {
	c.Set("backup.store", b.Store)
	if b.S3.Endpoint != "" {
		c.Set("backup.s3.endpoint", b.S3.Endpoint)
		c.Set("backup.s3.region", b.S3.Region)
		c.Set("backup.s3.path_style", b.S3.PathStyle)
		c.Set("backup.s3.access_key_id", b.S3.AccessKeyID)
		c.Set("backup.s3.secret_access_key", b.S3.SecretAccessKey.Reveal())
	}
}

// BackupStore opens the scenario's backup store, to look at what the
// replicas wrote.
func (s *Scenario) BackupStore(ctx context.Context) store.Store {
	s.T.Helper()
	st, err := store.Open(ctx, s.BackupConfig())
	if err != nil {
		s.T.Fatal(err)
	}
	return st
}

func (e *Env) bucket() (string, error) {
	b := &e.backupBucket
	b.once.Do(func() {
		suffix := make([]byte, 4)
		_, _ = rand.Read(suffix)
		b.name = "kq-e2e-backups-" + hex.EncodeToString(suffix)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := e.S3.S3Client()
		if _, b.err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.name)}); b.err != nil {
			b.err = fmt.Errorf("creating bucket %s on %s: %w", b.name, e.S3.Endpoint, b.err)
			return
		}
		e.closers = append(e.closers, func() { e.dropBucket(b.name) })
	})
	return b.name, b.err
}

// dropBucket empties and deletes the run's bucket.
func (e *Env) dropBucket(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := e.S3.S3Client()
	uploads, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(name)})
	if err == nil {
		for _, u := range uploads.Uploads {
			_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(name), Key: u.Key, UploadId: u.UploadId})
		}
	}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		for _, id := range ids {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: id.Key})
		}
	}
	_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
}

// UnfinishedUploads counts the S3 multipart uploads under the scenario's
// prefix (0 for a file store: Put leaves only temporary files, which
// List does not show).
func (s *Scenario) UnfinishedUploads(ctx context.Context) int {
	s.T.Helper()
	if s.Env.S3 == nil {
		return 0
	}
	bucket, _ := s.Env.bucket()
	out, err := s.Env.S3.S3Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(s.Name + "/")})
	if err != nil {
		s.T.Fatal(err)
	}
	return len(out.Uploads)
}

// Ctl runs `kafka-qdrant ctl` against the scenario's topics with
// --output json and returns its exit code and the status events it printed.
func (s *Scenario) Ctl(ctx context.Context, args ...string) (int, []schemas.Status) {
	s.T.Helper()
	cfg := s.Config()
	b, err := json.Marshal(cfg)
	if err != nil {
		s.T.Fatal(err)
	}
	path := filepath.Join(s.LogDir, "ctl.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		s.T.Fatal(err)
	}
	full := append([]string{"ctl", "--config", path}, args...)
	full = append(full, "--output", "json")
	cmd := exec.CommandContext(ctx, s.Env.Binary, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.T.Fatalf("running ctl %v: %v", args, err)
	}
	var events []schemas.Status
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		if st, err := schemas.DecodeStatus([]byte(line)); err == nil {
			events = append(events, st)
		}
	}
	s.Logf("ctl %s: exit %d, %d events; stderr: %s", strings.Join(args, " "), code, len(events), strings.TrimSpace(stderr.String()))
	return code, events
}

// Final is the last event of events, which must be final.
func Final(events []schemas.Status) (schemas.Status, error) {
	if len(events) == 0 || !events[len(events)-1].State.Final() {
		return schemas.Status{}, fmt.Errorf("no final status among %d events", len(events))
	}
	return events[len(events)-1], nil
}

// RewriteObject replaces the bytes of a backup object, keeping the SHA-256
// stored with it (a bit rot the store did not see).
func (s *Scenario) RewriteObject(ctx context.Context, key string, data []byte, sha string) error {
	b := s.BackupConfig()
	if s.Env.S3 == nil {
		path := filepath.Join(strings.TrimPrefix(b.Store, "file://"), filepath.FromSlash(key))
		return os.WriteFile(path, data, 0o644)
	}
	bucket, err := s.Env.bucket()
	if err != nil {
		return err
	}
	_, err = s.Env.S3.S3Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(s.Name + "/" + key),
		Body: bytes.NewReader(data), Metadata: map[string]string{"sha256": sha}})
	return err
}
