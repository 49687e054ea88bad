package sink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/testpki"
)

func snapClient(t *testing.T, base string, cfg config.Qdrant) *SnapshotClient {
	t.Helper()
	c, err := NewSnapshotClient(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func memWithPoints(t *testing.T, n int, opts ...qdrantmem.Option) *qdrantmem.TestServer {
	t.Helper()
	ts := qdrantmem.NewTestServer(t, opts...)
	ctx := t.Context()
	if err := ts.Client.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "c",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Dot}),
	}); err != nil {
		t.Fatal(err)
	}
	pts := make([]*qdrant.PointStruct, n)
	for i := range pts {
		pts[i] = &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectorsDense([]float32{float32(i), 1, 2, 3}),
			Payload: qdrant.NewValueMap(map[string]any{"i": i})}
	}
	if _, err := ts.Client.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Points: pts}); err != nil {
		t.Fatal(err)
	}
	return ts
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestSnapshotClientRoundTrip(t *testing.T) {
	ts := memWithPoints(t, 50, qdrantmem.WithAPIKey("key"))
	c := snapClient(t, ts.REST, config.Qdrant{APIKey: "key", Timeout: 5 * time.Second})
	ctx := t.Context()

	v, err := c.Version(ctx)
	if err != nil || v != qdrantmem.Version {
		t.Fatalf("Version = %q, %v", v, err)
	}
	info, err := c.Cluster(ctx, "c")
	if err != nil || info.PeerID != ts.PeerID() || len(info.LocalShards) != 1 || info.LocalShards[0].PointsCount != 50 {
		t.Fatalf("Cluster = %+v, %v", info, err)
	}
	d, err := c.CreateSnapshot(ctx, "c")
	if err != nil || d.Checksum == "" || d.Size <= 0 || d.CreationTime == "" {
		t.Fatalf("CreateSnapshot = %+v, %v", d, err)
	}
	list, err := c.ListSnapshots(ctx, "c")
	if err != nil || len(list) != 1 || list[0] != d {
		t.Fatalf("ListSnapshots = %+v, %v", list, err)
	}
	dl, err := c.DownloadSnapshot(ctx, "c", d.Name)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(dl)
	_ = dl.Close()
	if err != nil || dl.Size != d.Size || int64(len(data)) != d.Size || shaHex(data) != d.Checksum {
		t.Fatalf("download: %d bytes (Size %d), err %v; want %d with sha %s", len(data), dl.Size, err, d.Size, d.Checksum)
	}

	// Upload with a known size and with an unknown one (chunked).
	for _, size := range []int64{int64(len(data)), -1} {
		coll := fmt.Sprintf("restored%d", size)
		if err := c.UploadSnapshot(ctx, coll, bytes.NewReader(data), size, UploadOptions{Checksum: d.Checksum, FileName: "x.snapshot"}); err != nil {
			t.Fatalf("upload (size %d): %v", size, err)
		}
		if pts, _ := ts.Points(coll); len(pts) != 50 {
			t.Fatalf("%s has %d points after upload", coll, len(pts))
		}
	}

	// A wrong checksum: Qdrant's 400, not retryable.
	err = c.UploadSnapshot(ctx, "bad", bytes.NewReader(data), int64(len(data)), UploadOptions{Checksum: strings.Repeat("0", 64)})
	var re *RESTError
	if !errors.As(err, &re) || re.Status != 400 || re.Retryable() || RetryableREST(err) ||
		re.Message != "Checksum mismatch: expected "+d.Checksum+", actual "+strings.Repeat("0", 64) {
		t.Fatalf("bad checksum upload: %v", err)
	}

	// Recover from the node's own download URL (Qdrant fetches it with the key).
	err = c.RecoverSnapshot(ctx, "fromurl", ts.REST+"/collections/c/snapshots/"+d.Name, RecoverOptions{Checksum: d.Checksum, APIKey: "key"})
	if err != nil {
		t.Fatal(err)
	}
	if pts, _ := ts.Points("fromurl"); len(pts) != 50 {
		t.Fatalf("fromurl has %d points", len(pts))
	}
	err = c.RecoverSnapshot(ctx, "s3", "s3://bucket/key", RecoverOptions{})
	if StatusOf(err) != 400 || RetryableREST(err) {
		t.Fatalf("s3 location: %v", err)
	}

	if err := c.DeleteSnapshot(ctx, "c", d.Name); err != nil {
		t.Fatal(err)
	}
	err = c.DeleteSnapshot(ctx, "c", d.Name)
	if StatusOf(err) != 404 || !strings.Contains(err.Error(), "Not found: Snapshot "+d.Name+" not found") {
		t.Fatalf("second delete: %v", err)
	}
	_, err = c.DownloadSnapshot(ctx, "c", d.Name)
	if !errors.As(err, &re) || re.Status != 404 || re.Message != "Not found: Snapshot "+d.Name+" not found" {
		t.Fatalf("download of a deleted snapshot: %v", err)
	}

	full, err := c.CreateFullSnapshot(ctx)
	if err != nil || !strings.HasPrefix(full.Name, "full-snapshot-") {
		t.Fatalf("CreateFullSnapshot = %+v, %v", full, err)
	}
	fulls, err := c.ListFullSnapshots(ctx)
	if err != nil || len(fulls) != 1 {
		t.Fatalf("ListFullSnapshots = %+v, %v", fulls, err)
	}
	fdl, err := c.DownloadFullSnapshot(ctx, full.Name)
	if err != nil {
		t.Fatal(err)
	}
	fdata, _ := io.ReadAll(fdl)
	_ = fdl.Close()
	if shaHex(fdata) != full.Checksum {
		t.Fatal("storage snapshot checksum differs")
	}
	if err := c.DeleteFullSnapshot(ctx, full.Name); err != nil {
		t.Fatal(err)
	}

	// Without the key: 401 with Qdrant's plain text, not retryable.
	anon := snapClient(t, ts.REST, config.Qdrant{Timeout: 5 * time.Second})
	_, err = anon.ListSnapshots(ctx, "c")
	if !errors.As(err, &re) || re.Status != 401 || re.Message != "Must provide an API key or an Authorization bearer token" || RetryableREST(err) {
		t.Fatalf("without key: %v", err)
	}
}

func TestRESTStatusTable(t *testing.T) {
	for status, rule := range restStatusRules {
		if rule.reason == "" {
			t.Errorf("%d has no reason", status)
		}
		if status >= 500 && rule.action != ActionRetry {
			t.Errorf("%d: a 5xx should be retried", status)
		}
	}
	// The actions are the gRPC table's for the same StorageError
	// (codeRules): an API key or permission problem is the operator's
	// (Unauthenticated, PermissionDenied: ActionRetryOperator), not the
	// request's.
	tests := []struct {
		status    int
		action    Action
		retryable bool
	}{
		{400, ActionReject, false}, {401, ActionRetryOperator, false}, {403, ActionRetryOperator, false},
		{404, ActionReject, false}, {408, ActionRetry, true}, {409, ActionReject, false},
		{413, ActionSplit, false}, {415, ActionReject, false}, {422, ActionReject, false},
		{429, ActionRetry, true}, {500, ActionRetry, true}, {502, ActionRetry, true}, {503, ActionRetry, true},
		{504, ActionRetry, true}, {507, ActionRetry, true}, {418, ActionReject, false},
	}
	for _, tc := range tests {
		e := &RESTError{Status: tc.status}
		if got := e.Action(); got != tc.action {
			t.Errorf("status %d action = %v, want %v", tc.status, got, tc.action)
		}
		if got := e.Retryable(); got != tc.retryable {
			t.Errorf("status %d retryable = %v, want %v", tc.status, got, tc.retryable)
		}
	}
	if c := codeRules[codes.Unauthenticated].Action; (&RESTError{Status: 401}).Action() != c {
		t.Errorf("REST 401 and gRPC Unauthenticated differ: %v", c)
	}
	if c := codeRules[codes.PermissionDenied].Action; (&RESTError{Status: 403}).Action() != c {
		t.Errorf("REST 403 and gRPC PermissionDenied differ: %v", c)
	}
	// Qdrant's 429 carries Retry-After in seconds.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		_, _ = io.WriteString(w, `{"status":{"error":"Rate limiting exceeded: slow down"},"time":0}`)
	}))
	defer srv.Close()
	_, err := snapClient(t, srv.URL, config.Qdrant{}).ListSnapshots(t.Context(), "c")
	var re *RESTError
	if !errors.As(err, &re) || re.RetryAfter != 3*time.Second || re.Message != "Rate limiting exceeded: slow down" || !RetryableREST(err) {
		t.Fatalf("429: %#v", err)
	}
	// A refused connection is retryable; a cancelled context is not.
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := lis.Addr().String()
	_ = lis.Close()
	_, err = snapClient(t, "http://"+addr, config.Qdrant{}).ListSnapshots(t.Context(), "c")
	if err == nil || !RetryableREST(err) {
		t.Fatalf("refused connection: %v retryable=%v", err, RetryableREST(err))
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = snapClient(t, srv.URL, config.Qdrant{}).ListSnapshots(ctx, "c")
	if err == nil || RetryableREST(err) {
		t.Fatalf("cancelled: %v retryable=%v", err, RetryableREST(err))
	}
}

func TestSnapshotClientTLS(t *testing.T) {
	ca := testpki.New(t)
	leaf := ca.Issue(t, "localhost", x509.ExtKeyUsageServerAuth)
	ts := memWithPoints(t, 3)
	srv := httptest.NewUnstartedServer(ts.RESTHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.Pair}}
	srv.StartTLS()
	defer srv.Close()

	good := snapClient(t, srv.URL, config.Qdrant{TLS: config.TLS{Enabled: true, CAFile: ca.File, ServerName: "localhost"}})
	if _, err := good.CreateSnapshot(t.Context(), "c"); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	bad := snapClient(t, srv.URL, config.Qdrant{})
	if _, err := bad.ListSnapshots(t.Context(), "c"); err == nil {
		t.Fatal("a client without the CA reached the TLS server")
	}
	if _, err := NewSnapshotClient("ftp://x", config.Qdrant{}); err == nil {
		t.Fatal("ftp URL accepted")
	}
}

// TestStallReader: a download that stops sending fails after the stall
// timeout with a retryable error; one that keeps sending does not.
func TestStallReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(t.Context())
		context.AfterFunc(ctx, func() { _ = pw.CloseWithError(ctx.Err()) })
		sr := newStallReader(pr, time.Minute, cancel)
		go func() {
			for range 5 {
				time.Sleep(50 * time.Second) // each gap is below the timeout
				_, _ = pw.Write([]byte("x"))
			}
			// then nothing: the request stalls
		}()
		start := time.Now()
		b, err := io.ReadAll(sr)
		if string(b) != "xxxxx" || !errors.Is(err, errStalled) || !RetryableREST(err) {
			t.Fatalf("read %q, err %v", b, err)
		}
		if d := time.Since(start); d != 250*time.Second+time.Minute {
			t.Fatalf("stalled after %s, want 5m10s", d)
		}
		_ = sr.Close()
	})
}

// TestSnapshotStreamsWithoutBuffering moves 64 MiB up and down through the
// client against a server that only hashes the bytes, and checks that the
// process allocated far less than that: the snapshot is never buffered.
func TestSnapshotStreamsWithoutBuffering(t *testing.T) {
	const size = 64 << 20
	src := func() io.Reader { return io.LimitReader(zeroReader{}, size) }
	h := sha256.New()
	_, _ = io.Copy(h, src())
	want := hex.EncodeToString(h.Sum(nil))

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Length", fmt.Sprint(size))
			_, _ = io.Copy(w, src())
			return
		}
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		mr := multipart.NewReader(r.Body, params["boundary"])
		part, err := mr.NextPart()
		if err != nil || part.FormName() != "snapshot" {
			w.WriteHeader(400)
			return
		}
		h := sha256.New()
		n, _ := io.Copy(h, part)
		if n != size || hex.EncodeToString(h.Sum(nil)) != r.URL.Query().Get("checksum") || r.ContentLength <= size {
			w.WriteHeader(400)
			return
		}
		_, _ = io.WriteString(w, `{"result":true,"status":"ok","time":0}`)
	}))
	defer srv.Close()
	c := snapClient(t, srv.URL, config.Qdrant{Timeout: 10 * time.Second})

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := c.UploadSnapshot(t.Context(), "c", src(), size, UploadOptions{Checksum: want}); err != nil {
		t.Fatal(err)
	}
	dl, err := c.DownloadSnapshot(t.Context(), "c", "x.snapshot")
	if err != nil {
		t.Fatal(err)
	}
	h = sha256.New()
	n, err := io.Copy(h, dl)
	_ = dl.Close()
	if err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != want {
		t.Fatalf("downloaded %d bytes, %v", n, err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("moving 2×64 MiB allocated %d MiB", alloc>>20)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
