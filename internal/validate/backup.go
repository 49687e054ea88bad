package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// checkBackupStore checks that backup.store answers: a file:// store is a
// directory this process may create files in (or, missing, one that can be
// created); an s3:// store's bucket answers at its endpoint.
func checkBackupStore(ctx context.Context, b config.Backup, hc *http.Client) (string, error) {
	u, err := url.Parse(b.Store)
	if err != nil {
		return "", fmt.Errorf("backup.store: %w", err)
	}
	switch u.Scheme {
	case "file":
		return checkDirStore(u.Path)
	case "s3":
		return checkS3Store(ctx, b, u.Host, hc)
	}
	return "", fmt.Errorf("backup.store: unsupported scheme %q", u.Scheme)
}

// checkDirStore creates and removes a file in dir, or in its nearest
// existing ancestor when dir does not exist yet (the store creates it).
func checkDirStore(dir string) (string, error) {
	probe, missing := dir, false
	for {
		st, err := os.Stat(probe)
		if err == nil {
			if !st.IsDir() {
				return "", fmt.Errorf("backup.store: %s is not a directory", probe)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("backup.store: %w", err)
		}
		missing = true
		parent := filepath.Dir(probe)
		if parent == probe {
			return "", fmt.Errorf("backup.store: no existing directory above %s", dir)
		}
		probe = parent
	}
	f, err := os.CreateTemp(probe, ".kafka-qdrant-validate-*")
	if err != nil {
		return "", fmt.Errorf("backup.store: %s is not writable: %w", probe, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return "", fmt.Errorf("backup.store: removing the probe file: %w", err)
	}
	if missing {
		return fmt.Sprintf("%s does not exist yet; %s is writable, the store will create it", dir, probe), nil
	}
	return dir + " is a writable directory", nil
}

// checkS3Store sends an unsigned HEAD for the bucket to the S3 endpoint
// (backup.s3.endpoint, else AWS's for backup.s3.region). S3 answers a
// missing bucket with 404 even without a signature, and an existing private
// one with 403 (or 301 to its region), so this finds a wrong endpoint or
// bucket name. It cannot check the credentials: the store's first request
// does. (When the backup store's S3 client lands, a signed list of the
// prefix through it checks the credentials as well.)
func checkS3Store(ctx context.Context, b config.Backup, bucket string, hc *http.Client) (string, error) {
	endpoint := b.S3.Endpoint
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
		if b.S3.Region != "" && b.S3.Region != "us-east-1" {
			endpoint = "https://s3." + b.S3.Region + ".amazonaws.com"
		}
	}
	base, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("backup.s3.endpoint: %w", err)
	}
	target := *base
	if b.S3.PathStyle {
		target.Path = strings.TrimRight(target.Path, "/") + "/" + bucket
	} else {
		target.Host = bucket + "." + target.Host
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, target.String(), nil)
	if err != nil {
		return "", fmt.Errorf("backup.store: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("backup.store: S3 endpoint %s: %w", endpoint, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusForbidden, http.StatusMovedPermanently, http.StatusBadRequest:
		where := ""
		if region := resp.Header.Get("X-Amz-Bucket-Region"); region != "" {
			where = " in region " + region
		}
		return fmt.Sprintf("bucket %s answers at %s%s (HTTP %d; credentials are checked by the first backup)", bucket, endpoint, where, resp.StatusCode), nil
	case http.StatusNotFound:
		return "", fmt.Errorf("backup.store: bucket %s not found at %s", bucket, endpoint)
	}
	return "", fmt.Errorf("backup.store: bucket %s at %s answered HTTP %d", bucket, endpoint, resp.StatusCode)
}
