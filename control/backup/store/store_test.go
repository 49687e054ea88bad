package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/s3test"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

// kind is a store under test and its backdoors: what a crash or a bit rot
// leaves behind, done directly on the backing storage.
type kind struct {
	name string
	open func(t *testing.T) Store
	// corrupt replaces the bytes of key, keeping its stored SHA-256.
	corrupt func(t *testing.T, st Store, key string)
	// leaveUpload leaves an unfinished write under key, as a killed
	// process would.
	leaveUpload func(t *testing.T, st Store, key string)
	// uploads counts unfinished writes under prefix.
	uploads func(t *testing.T, st Store, prefix string) int
}

func kinds() []kind {
	return []kind{
		{
			name: "file",
			open: func(t *testing.T) Store {
				st, err := Open(t.Context(), config.Backup{Store: "file://" + t.TempDir() + "/backups"})
				if err != nil {
					t.Fatal(err)
				}
				return st
			},
			corrupt: func(t *testing.T, st Store, key string) {
				p := filepath.Join(st.(*fileStore).root, key)
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)/2] ^= 0xff
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			leaveUpload: func(t *testing.T, st Store, key string) {
				p := filepath.Join(st.(*fileStore).root, key)
				if _, err := writeTemp(p, strings.NewReader("half")); err != nil {
					t.Fatal(err)
				}
			},
			uploads: func(t *testing.T, st Store, prefix string) int {
				n := 0
				_ = filepath.WalkDir(st.(*fileStore).root, func(p string, d os.DirEntry, err error) error {
					if err == nil && strings.Contains(d.Name(), tmpMarker) {
						n++
					}
					return nil
				})
				return n
			},
		},
		{
			name: "s3",
			open: openS3,
			corrupt: func(t *testing.T, st Store, key string) {
				s := st.(*s3Store)
				rc, obj, err := st.Get(t.Context(), key)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				b[len(b)/2] ^= 0xff
				_, err = s.client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key)),
					Body: bytes.NewReader(b), Metadata: map[string]string{shaMetadata: obj.SHA256}})
				if err != nil {
					t.Fatal(err)
				}
			},
			leaveUpload: func(t *testing.T, st Store, key string) {
				s := st.(*s3Store)
				_, err := s.client.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
				if err != nil {
					t.Fatal(err)
				}
			},
			uploads: func(t *testing.T, st Store, prefix string) int {
				s := st.(*s3Store)
				out, err := s.client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(s.objectKey(prefix))})
				if err != nil {
					t.Fatal(err)
				}
				return len(out.Uploads)
			},
		},
	}
}

var bucketSeq int

// openS3 creates a fresh bucket on the test S3 server and opens a store on
// it with a prefix, path-style, static credentials.
func openS3(t *testing.T) Store {
	srv := s3test.Start(t)
	bucketSeq++
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	bucket := fmt.Sprintf("kq-store-%d-%s", bucketSeq, hex.EncodeToString(suffix))
	st, err := Open(t.Context(), config.Backup{Store: "s3://" + bucket + "/backups/prod", S3: config.S3{
		Endpoint: srv.Endpoint, Region: srv.Region, PathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: config.Secret(srv.SecretKey),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.(*s3Store).client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return st
}

func shaOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func readAll(t *testing.T, st Store, key string) ([]byte, Object, error) {
	t.Helper()
	rc, obj, err := st.Get(t.Context(), key)
	if err != nil {
		return nil, obj, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return b, obj, err
}

func TestStore(t *testing.T) {
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			t.Run("put get list delete", func(t *testing.T) { testPutGet(t, k) })
			t.Run("checksum mismatch leaves nothing", func(t *testing.T) { testMismatch(t, k) })
			t.Run("create is exclusive", func(t *testing.T) { testCreate(t, k) })
			t.Run("corrupt object fails the read", func(t *testing.T) { testCorrupt(t, k) })
			t.Run("cancel mid-upload leaves nothing", func(t *testing.T) { testCancel(t, k) })
			t.Run("abort leftover uploads", func(t *testing.T) { testAbort(t, k) })
		})
	}
}

func testPutGet(t *testing.T, k kind) {
	st := k.open(t)
	ctx := t.Context()
	if err := st.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	small := []byte("a small object")
	big := randomBytes(21 << 20) // three parts on S3
	for key, data := range map[string][]byte{"c/b1/small.snapshot": small, "c/b1/big.snapshot": big} {
		obj, err := st.Put(ctx, key, bytes.NewReader(data), int64(len(data)), shaOf(data))
		if err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
		if obj.Size != int64(len(data)) || obj.SHA256 != shaOf(data) {
			t.Fatalf("Put %s = %+v", key, obj)
		}
		got, gobj, err := readAll(t, st, key)
		if err != nil || !bytes.Equal(got, data) || gobj.SHA256 != shaOf(data) || gobj.Size != int64(len(data)) {
			t.Fatalf("Get %s: %d bytes, %+v, %v", key, len(got), gobj, err)
		}
	}
	// Unknown size and no expected checksum: the SHA-256 is computed.
	obj, err := st.Put(ctx, "c/b2/x.snapshot", io.MultiReader(bytes.NewReader(small)), -1, "")
	if err != nil || obj.SHA256 != shaOf(small) {
		t.Fatalf("Put without size = %+v, %v", obj, err)
	}
	list, err := st.List(ctx, "c/b1/")
	if err != nil || len(list) != 2 || list[0].Key != "c/b1/big.snapshot" || list[1].Key != "c/b1/small.snapshot" || list[0].Size != int64(len(big)) {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if all, _ := st.List(ctx, ""); len(all) != 3 {
		t.Fatalf("List all = %+v", all)
	}
	if err := st.Delete(ctx, "c/b1/small.snapshot", "c/b1/missing"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readAll(t, st, "c/b1/small.snapshot"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if list, _ := st.List(ctx, "c/"); len(list) != 2 {
		t.Fatalf("List after Delete = %+v", list)
	}
	if _, err := st.Put(ctx, "../escape", bytes.NewReader(small), -1, ""); err == nil {
		t.Fatal("a key with .. was accepted")
	}
}

func testMismatch(t *testing.T, k kind) {
	st := k.open(t)
	for _, size := range []int{100, 20 << 20} {
		data := randomBytes(size)
		key := fmt.Sprintf("c/b/%d.snapshot", size)
		_, err := st.Put(t.Context(), key, bytes.NewReader(data), int64(size), strings.Repeat("0", 64))
		if !errors.Is(err, ErrChecksumMismatch) {
			t.Fatalf("Put of %d bytes with a wrong SHA-256: %v", size, err)
		}
		if _, _, err := readAll(t, st, key); !errors.Is(err, ErrNotFound) {
			t.Fatalf("object left after a mismatch: %v", err)
		}
		if n := k.uploads(t, st, "c/"); n != 0 {
			t.Fatalf("%d unfinished uploads left after a mismatch", n)
		}
	}
}

func testCreate(t *testing.T, k kind) {
	st := k.open(t)
	ctx := t.Context()
	if err := st.Create(ctx, "c/b/manifest.json", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, "c/b/manifest.json", []byte(`{"a":2}`)); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create: %v", err)
	}
	if got, _, _ := readAll(t, st, "c/b/manifest.json"); string(got) != `{"a":1}` {
		t.Fatalf("manifest = %s after a refused Create", got)
	}
}

func testCorrupt(t *testing.T, k kind) {
	st := k.open(t)
	data := randomBytes(1 << 20)
	if _, err := st.Put(t.Context(), "c/b/n.snapshot", bytes.NewReader(data), int64(len(data)), shaOf(data)); err != nil {
		t.Fatal(err)
	}
	k.corrupt(t, st, "c/b/n.snapshot")
	if _, _, err := readAll(t, st, "c/b/n.snapshot"); !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("reading a corrupt object: %v", err)
	}
}

// blockingReader gives n bytes, then blocks until ctx ends.
type blockingReader struct {
	ctx     context.Context
	n       int
	reached chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if b.n == 0 {
		select {
		case <-b.reached:
		default:
			close(b.reached)
		}
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	m := min(len(p), b.n)
	clear(p[:m])
	b.n -= m
	return m, nil
}

func testCancel(t *testing.T, k kind) {
	st := k.open(t)
	ctx, cancel := context.WithCancel(t.Context())
	r := &blockingReader{ctx: ctx, n: 18 << 20, reached: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := st.Put(ctx, "c/b/n.snapshot", r, 40<<20, strings.Repeat("a", 64))
		done <- err
	}()
	select {
	case <-r.reached:
	case <-time.After(30 * time.Second):
		t.Fatal("upload did not read 18 MiB")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Put: %v", err)
	}
	if _, _, err := readAll(t, st, "c/b/n.snapshot"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("object after a cancelled Put: %v", err)
	}
	if n := k.uploads(t, st, "c/"); n != 0 {
		t.Fatalf("%d unfinished uploads after a cancelled Put", n)
	}
}

func testAbort(t *testing.T, k kind) {
	st := k.open(t)
	k.leaveUpload(t, st, "c/b1/n.snapshot")
	k.leaveUpload(t, st, "d/b1/n.snapshot")
	n, err := st.AbortUploads(t.Context(), "c/")
	if err != nil || n != 1 {
		t.Fatalf("AbortUploads = %d, %v", n, err)
	}
	if left := k.uploads(t, st, ""); left != 1 {
		t.Fatalf("%d unfinished uploads left, want 1 (the other prefix)", left)
	}
}

// TestS3PutMemory streams 256 MiB into S3 and checks the process allocated
// a quarter of that at most: the transfer manager holds a few parts, never
// the object (measured: about 44 MiB in all for 96 MiB and for 384 MiB
// alike, 61 MiB with the race detector).
func TestS3PutMemory(t *testing.T) {
	st := openS3(t)
	const size = 256 << 20
	h := sha256.New()
	_, _ = io.Copy(h, io.LimitReader(zeros{}, size))
	sum := hex.EncodeToString(h.Sum(nil))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := st.Put(t.Context(), "c/b/big.snapshot", io.LimitReader(zeros{}, size), size, sum); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Fatalf("a %d MiB Put allocated %d MiB", size>>20, alloc>>20)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestOpenErrors(t *testing.T) {
	for _, s := range []string{"s3:///x", "file://host/x", "file://rel", "gs://b"} {
		if _, err := Open(t.Context(), config.Backup{Store: s}); err == nil {
			t.Errorf("Open(%q) accepted", s)
		}
	}
}
