package validate

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
)

// checkBackupStore checks that backup.store answers: a file:// store is a
// directory this process may create files in (or, missing, one that can be
// created); an s3:// store answers its own signed probe.
func checkBackupStore(ctx context.Context, b config.Backup) (string, error) {
	u, err := url.Parse(b.Store)
	if err != nil {
		return "", fmt.Errorf("backup.store: %w", err)
	}
	switch u.Scheme {
	case "file":
		return checkDirStore(u.Path)
	case "s3":
		return checkS3Store(ctx, b)
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

// checkS3Store opens the store as a replica does (the SDK's credential
// chain, endpoint, region, path style) and runs its own probe: a signed
// list of one key under the prefix. A wrong endpoint, a missing bucket and
// refused credentials (unknown key, wrong secret, no s3:ListBucket) fail
// here, not at the first backup.
func checkS3Store(ctx context.Context, b config.Backup) (string, error) {
	st, err := store.Open(ctx, b)
	if err != nil {
		return "", fmt.Errorf("backup.store: %w", err)
	}
	if err := st.Probe(ctx); err != nil {
		var ae smithy.APIError
		var re *smithyhttp.ResponseError
		code := ""
		if errors.As(err, &ae) {
			code = ae.ErrorCode()
		}
		switch {
		case code == "NoSuchBucket":
			return "", fmt.Errorf("backup.store: the bucket of %s does not exist: %w", st, err)
		case credentialCodes[code], errors.As(err, &re) && (re.HTTPStatusCode() == 401 || re.HTTPStatusCode() == 403):
			return "", fmt.Errorf("backup.s3: %s refused the credentials (%s): %w", st, code, err)
		}
		return "", fmt.Errorf("backup.store: %w", err)
	}
	where := "AWS"
	if b.S3.Endpoint != "" {
		where = b.S3.Endpoint
	}
	return fmt.Sprintf("%s answers a signed list at %s with these credentials", st, where), nil
}

// credentialCodes are the S3 error codes of refused credentials (AWS's,
// and versitygw's answer to an unknown access key).
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "AccessDenied": true,
	"InvalidToken": true, "ExpiredToken": true, "XAdminUserNotFound": true,
}
