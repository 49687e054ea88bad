package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// Store keeps backup objects under keys ("movies/b-1/node-7.snapshot"),
// relative to the store's root (the prefix of s3://bucket/prefix or the
// directory of file:///dir). Implementations are safe for concurrent use.
type Store interface {
	// Put streams r into key. size is the byte count when known (-1
	// otherwise) and sha256 the lowercase hex SHA-256 r must have: Put
	// hashes r on the way and, when the bytes differ, fails with
	// ErrChecksumMismatch and leaves no object (an S3 multipart upload is
	// aborted, a temporary file removed). The SHA-256 is stored with the
	// object. An existing object at key is replaced.
	Put(ctx context.Context, key string, r io.Reader, size int64, sha256 string) (Object, error)
	// Create writes a small object only if key does not exist yet
	// (S3: If-None-Match: *; file: a hard link); ErrExists otherwise.
	Create(ctx context.Context, key string, data []byte) error
	// Get streams the object at key (ErrNotFound when missing). When the
	// object has a stored SHA-256, the reader's last Read fails with
	// ErrChecksumMismatch instead of io.EOF if the bytes differ from it.
	Get(ctx context.Context, key string) (io.ReadCloser, Object, error)
	// List returns every object whose key starts with prefix, by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Delete removes the objects; missing ones are not an error.
	Delete(ctx context.Context, keys ...string) error
	// AbortUploads abandons unfinished writes under prefix (S3 multipart
	// uploads, temporary files) left by a process that died mid-Put, and
	// returns how many it removed.
	AbortUploads(ctx context.Context, prefix string) (int, error)
	// Probe checks that the store answers (lists the root).
	Probe(ctx context.Context) error
	// String names the store (its URL) for logs and manifests.
	String() string
}

// Object describes a stored object.
type Object struct {
	Key  string
	Size int64
	// SHA256 is the lowercase hex SHA-256 stored with the object, empty
	// when the object has none (written by another tool).
	SHA256   string
	Modified time.Time
}

var (
	// ErrNotFound: no object at the key.
	ErrNotFound = errors.New("object not found")
	// ErrExists: Create found an object at the key.
	ErrExists = errors.New("object already exists")
	// ErrChecksumMismatch: bytes differ from the SHA-256 they must have.
	ErrChecksumMismatch = errors.New("SHA-256 mismatch")
)

// UnavailableError wraps a failure to reach the store (network, auth,
// missing bucket): the operation may succeed later or after an operator
// fixes the configuration.
type UnavailableError struct {
	Op  string
	Err error
}

func (e *UnavailableError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// Open returns the store named by cfg.Store: s3://bucket[/prefix] (with the
// backup.s3 settings) or file:///absolute/dir. It does not contact the
// store; Probe does.
func Open(ctx context.Context, cfg config.Backup) (Store, error) {
	u, err := url.Parse(cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("backup.store: %w", err)
	}
	switch u.Scheme {
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("backup.store: %q has no bucket (s3://bucket/prefix)", cfg.Store)
		}
		return newS3(ctx, u.Host, strings.Trim(u.Path, "/"), cfg.S3)
	case "file":
		if u.Host != "" || !path.IsAbs(u.Path) {
			return nil, fmt.Errorf("backup.store: %q is not file:///absolute/path", cfg.Store)
		}
		return newFile(u.Path)
	}
	return nil, fmt.Errorf("backup.store: scheme of %q is not s3 or file", cfg.Store)
}

// checkKey refuses keys that could escape the root.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") {
		return fmt.Errorf("invalid object key %q", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid object key %q", key)
		}
	}
	return nil
}

// Presigner is a Store that can hand out a time-limited URL to read an
// object without credentials (an s3:// store), for a Qdrant that fetches
// snapshots itself.
type Presigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}
