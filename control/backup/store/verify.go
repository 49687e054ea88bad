package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// hashReader hashes what passes through it. With want set, the Read that
// would return io.EOF returns ErrChecksumMismatch instead when the SHA-256
// of the bytes read differs from want, so a consumer that copies until
// EOF (an S3 upload, a restore) fails rather than accepting wrong bytes.
type hashReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	want string
}

func newHashReader(r io.Reader, want string) *hashReader {
	return &hashReader{r: r, h: sha256.New(), want: want}
}

func (hr *hashReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	hr.n += int64(n)
	if err == io.EOF && hr.want != "" {
		if got := hr.sum(); got != hr.want {
			return n, fmt.Errorf("%w: read %d bytes with SHA-256 %s, want %s", ErrChecksumMismatch, hr.n, got, hr.want)
		}
	}
	return n, err
}

func (hr *hashReader) sum() string { return hex.EncodeToString(hr.h.Sum(nil)) }

// verifyingReadCloser is a hashReader over a body it closes.
type verifyingReadCloser struct {
	*hashReader
	c io.Closer
}

func (v verifyingReadCloser) Close() error { return v.c.Close() }
