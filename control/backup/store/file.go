package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// fileStore keeps objects as files under a directory: key "a/b" is
// <root>/a/b, its SHA-256 in the sidecar <root>/a/b.sha256. Writes go to a
// hidden temporary file in the same directory, are fsynced and renamed
// into place (the directory fsynced too), so a crash leaves either the old
// object, the new one, or a temporary file AbortUploads removes.
type fileStore struct {
	root string
}

const (
	shaSuffix = ".sha256"
	tmpMarker = ".tmp-"
)

func newFile(root string) (*fileStore, error) {
	return &fileStore{root: filepath.Clean(root)}, nil
}

func (s *fileStore) String() string { return "file://" + s.root }

func (s *fileStore) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if strings.HasSuffix(key, shaSuffix) || strings.HasPrefix(filepath.Base(key), ".") {
		return "", fmt.Errorf("invalid object key %q (reserved name)", key)
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

func (s *fileStore) unavailable(op string, err error) error {
	return &UnavailableError{Op: op + " in " + s.String(), Err: err}
}

// writeTemp writes r to a new temporary file beside p and fsyncs it.
func writeTemp(p string, r io.Reader) (string, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+tmpMarker+"*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *fileStore) Put(ctx context.Context, key string, r io.Reader, size int64, sha string) (Object, error) {
	p, err := s.path(key)
	if err != nil {
		return Object{}, err
	}
	hr := newHashReader(ctxReader{ctx, r}, sha)
	tmp, err := writeTemp(p, hr)
	if err != nil {
		if errors.Is(err, ErrChecksumMismatch) || ctx.Err() != nil {
			return Object{}, fmt.Errorf("writing %s: %w", key, err)
		}
		return Object{}, s.unavailable("writing "+key, err)
	}
	sum := hr.sum()
	shaTmp, err := writeTemp(p+shaSuffix, strings.NewReader(sum))
	if err == nil {
		err = os.Rename(shaTmp, p+shaSuffix)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err == nil {
		err = syncDir(filepath.Dir(p))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return Object{}, s.unavailable("writing "+key, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return Object{}, s.unavailable("writing "+key, err)
	}
	return Object{Key: key, Size: fi.Size(), SHA256: sum, Modified: fi.ModTime()}, nil
}

func (s *fileStore) Create(ctx context.Context, key string, data []byte) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(p, strings.NewReader(string(data)))
	if err != nil {
		return s.unavailable("creating "+key, err)
	}
	defer os.Remove(tmp)
	// link(2) fails when the target exists: an atomic create-if-absent.
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating %s: %w", key, ErrExists)
		}
		return s.unavailable("creating "+key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return s.unavailable("creating "+key, err)
	}
	return nil
}

func (s *fileStore) Get(_ context.Context, key string) (io.ReadCloser, Object, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, Object{}, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Object{}, fmt.Errorf("reading %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, Object{}, s.unavailable("reading "+key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Object{}, s.unavailable("reading "+key, err)
	}
	obj := Object{Key: key, Size: fi.Size(), Modified: fi.ModTime()}
	if b, err := os.ReadFile(p + shaSuffix); err == nil {
		obj.SHA256 = strings.TrimSpace(string(b))
	}
	return verifyingReadCloser{newHashReader(f, obj.SHA256), f}, obj, nil
}

func (s *fileStore) List(_ context.Context, prefix string) ([]Object, error) {
	var out []Object
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		name := d.Name()
		if d.IsDir() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, shaSuffix) {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		obj := Object{Key: key, Size: fi.Size(), Modified: fi.ModTime()}
		if b, err := os.ReadFile(p + shaSuffix); err == nil {
			obj.SHA256 = strings.TrimSpace(string(b))
		}
		out = append(out, obj)
		return nil
	})
	if err != nil {
		return nil, s.unavailable("listing "+prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (s *fileStore) Delete(_ context.Context, keys ...string) error {
	for _, key := range keys {
		p, err := s.path(key)
		if err != nil {
			return err
		}
		for _, f := range []string{p, p + shaSuffix} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return s.unavailable("deleting "+key, err)
			}
		}
		s.pruneDirs(filepath.Dir(p))
	}
	return nil
}

// pruneDirs removes empty directories from dir up to the root.
func (s *fileStore) pruneDirs(dir string) {
	for dir != s.root && strings.HasPrefix(dir, s.root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return // not empty
		}
		dir = filepath.Dir(dir)
	}
}

func (s *fileStore) AbortUploads(_ context.Context, prefix string) (int, error) {
	n := 0
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), ".") || !strings.Contains(d.Name(), tmpMarker) {
			return nil
		}
		rel, _ := filepath.Rel(s.root, filepath.Join(filepath.Dir(p), strings.TrimPrefix(d.Name(), ".")))
		if !strings.HasPrefix(filepath.ToSlash(rel), prefix) {
			return nil
		}
		if err := os.Remove(p); err == nil {
			n++
		}
		return nil
	})
	if err != nil {
		return n, s.unavailable("aborting uploads under "+prefix, err)
	}
	return n, nil
}

func (s *fileStore) Probe(context.Context) error {
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return s.unavailable("probing", err)
	}
	f, err := os.CreateTemp(s.root, ".probe"+tmpMarker+"*")
	if err != nil {
		return s.unavailable("probing", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.Read(p)
}
