package qdrantmem

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// restCall sends a request and returns the status, the body and its
// Content-Type.
func restCall(t testing.TB, method, url, contentType string, body io.Reader, header ...string) (int, []byte, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	mustOK(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	mustOK(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	mustOK(t, err)
	return resp.StatusCode, b, resp.Header.Get("Content-Type")
}

// result decodes an ApiResponse body's result into v; it fails the test
// unless the status is "ok".
func result(t testing.TB, body []byte, v any) {
	t.Helper()
	var r struct {
		Result json.RawMessage `json:"result"`
		Status any             `json:"status"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "ok" {
		t.Fatalf("body %s: %v", body, err)
	}
	if v != nil {
		mustOK(t, json.Unmarshal(r.Result, v))
	}
}

// restErrorText returns the error of an ApiResponse body.
func restErrorText(t testing.TB, body []byte) string {
	t.Helper()
	var r struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("body %s is not an error response: %v", body, err)
	}
	return r.Status.Error
}

type descJSON struct {
	Name         string  `json:"name"`
	CreationTime *string `json:"creation_time"`
	Size         int64   `json:"size"`
	Checksum     *string `json:"checksum"`
}

// snapEnv is a server with REST and a collection "c" of dim 3 holding n points.
func snapEnv(t *testing.T, n int, opts ...Option) (*env, string) {
	t.Helper()
	e, base := restEnv(t, opts...)
	e.createDense(t, "c", 3, qdrant.Distance_Cosine)
	for i := range n {
		e.upsert(t, "c", pt(uint64(i+1), []float32{float32(i), 1, 2}, map[string]any{"i": i, "tag": "x"}))
	}
	return e, base
}

func createSnapshot(t testing.TB, base, coll string) descJSON {
	t.Helper()
	code, body, _ := restCall(t, "POST", base+"/collections/"+coll+"/snapshots", "", nil)
	if code != 200 {
		t.Fatalf("create snapshot: %d %s", code, body)
	}
	var d descJSON
	result(t, body, &d)
	return d
}

func download(t testing.TB, base, coll, name string) []byte {
	t.Helper()
	code, body, ct := restCall(t, "GET", base+"/collections/"+coll+"/snapshots/"+name, "", nil)
	if code != 200 || ct != "application/octet-stream" {
		t.Fatalf("download: %d %s %.200s", code, ct, body)
	}
	return body
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// multipartBody builds an upload form with the file under field.
func multipartBody(t testing.TB, field, filename string, data []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, filename)
	mustOK(t, err)
	_, err = fw.Write(data)
	mustOK(t, err)
	mustOK(t, mw.Close())
	return mw.FormDataContentType(), &buf
}

func upload(t testing.TB, base, coll, query string, data []byte) (int, []byte) {
	t.Helper()
	ct, body := multipartBody(t, "snapshot", "up.snapshot", data)
	code, b, _ := restCall(t, "POST", base+"/collections/"+coll+"/snapshots/upload"+query, ct, body)
	return code, b
}

func TestSnapshotCreateListDownloadDelete(t *testing.T) {
	clk := newFakeClock()
	e, base := snapEnv(t, 5, WithClock(clk))
	mustOK(t, e.c.CreateAlias(ctxT(t), "al", "c"))

	d := createSnapshot(t, base, "al") // an alias names the collection
	want := fmt.Sprintf("c-%d-2026-11-21-10-00-00.snapshot", e.s.PeerID())
	if d.Name != want || d.Checksum == nil || d.CreationTime == nil || d.Size <= 0 {
		t.Fatalf("description = %+v, want name %s with checksum and time", d, want)
	}
	data := download(t, base, "c", d.Name)
	if int64(len(data)) != d.Size || sha(data) != *d.Checksum {
		t.Fatalf("downloaded %d bytes with sha %s; description says %d, %s", len(data), sha(data), d.Size, *d.Checksum)
	}

	// Range requests are served (NamedFile).
	code, part, _ := restCall(t, "GET", base+"/collections/c/snapshots/"+d.Name, "", nil, "Range", "bytes=2-5")
	if code != http.StatusPartialContent || !bytes.Equal(part, data[2:6]) {
		t.Fatalf("range: %d %q", code, part)
	}

	clk.Advance(1e9)
	d2 := createSnapshot(t, base, "c")
	code, body, _ := restCall(t, "GET", base+"/collections/c/snapshots", "", nil)
	var list []descJSON
	result(t, body, &list)
	if code != 200 || len(list) != 2 || list[0].Name != d.Name || list[1].Name != d2.Name {
		t.Fatalf("list = %d %s", code, body)
	}

	code, body, _ = restCall(t, "DELETE", base+"/collections/c/snapshots/"+d.Name, "", nil)
	var ok bool
	result(t, body, &ok)
	if code != 200 || !ok {
		t.Fatalf("delete = %d %s", code, body)
	}
	code, body, ct := restCall(t, "GET", base+"/collections/c/snapshots/"+d.Name, "", nil)
	if code != 404 || string(body) != "Not found: Snapshot "+d.Name+" not found" || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("download of a deleted snapshot = %d %q %s", code, body, ct)
	}
	code, body, _ = restCall(t, "DELETE", base+"/collections/c/snapshots/"+d.Name, "", nil)
	if code != 404 || restErrorText(t, body) != "Not found: Snapshot "+d.Name+" not found" {
		t.Fatalf("second delete = %d %s", code, body)
	}
	code, body, _ = restCall(t, "POST", base+"/collections/nope/snapshots", "", nil)
	if code != 404 || restErrorText(t, body) != "Not found: Collection `nope` doesn't exist!" {
		t.Fatalf("snapshot of a missing collection = %d %s", code, body)
	}
	code, body, _ = restCall(t, "POST", base+"/collections/c/snapshots?wait=maybe", "", nil)
	if code != 400 || restErrorText(t, body) != "Deserialize error in query parameters: provided string was not `true` or `false`" {
		t.Fatalf("bad wait = %d %s", code, body)
	}
}

func TestSnapshotWaitFalseAccepts(t *testing.T) {
	_, base := snapEnv(t, 2)
	code, body, _ := restCall(t, "POST", base+"/collections/c/snapshots?wait=false", "", nil)
	var r map[string]any
	mustOK(t, json.Unmarshal(body, &r))
	if _, hasResult := r["result"]; code != http.StatusAccepted || r["status"] != "accepted" || hasResult {
		t.Fatalf("wait=false = %d %s", code, body)
	}
}

// TestSnapshotRoundTrip restores a snapshot into a new collection and
// checks that every point (payload and stored vectors, bit for bit) and the
// configuration came back.
func TestSnapshotRoundTrip(t *testing.T) {
	e, base := restEnv(t)
	mustOK(t, e.c.CreateCollection(ctxT(t), &qdrant.CreateCollection{
		CollectionName: "src",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"a": {Size: 2, Distance: qdrant.Distance_Cosine},
			"m": {Size: 2, Distance: qdrant.Distance_Dot, MultivectorConfig: &qdrant.MultiVectorConfig{Comparator: qdrant.MultiVectorComparator_MaxSim}},
		}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {}}),
		HnswConfig:          &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(0))},
		ShardNumber:         qdrant.PtrOf(uint32(2)),
		Metadata:            qdrant.NewValueMap(map[string]any{"owner": "me"}),
	}))
	for i := range 20 {
		id := qdrant.NewIDNum(uint64(i))
		if i%2 == 1 {
			id = qdrant.NewID(fmt.Sprintf("00000000-0000-0000-0000-0000000000%02d", i))
		}
		e.upsert(t, "src", &qdrant.PointStruct{Id: id, Payload: qdrant.NewValueMap(map[string]any{"i": i, "l": []any{"x", 1.5}}),
			Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
				"a": qdrant.NewVectorDense([]float32{float32(i) + 0.3, 1}),
				"m": qdrant.NewVectorMulti([][]float32{{1, 2}, {3, float32(i)}}),
				"s": qdrant.NewVectorSparse([]uint32{1, 7}, []float32{0.5, float32(i)}),
			})})
	}
	_, err := e.c.CreateFieldIndex(ctxT(t), &qdrant.CreateFieldIndexCollection{CollectionName: "src", FieldName: "i",
		FieldType: qdrant.FieldType_FieldTypeInteger.Enum(), Wait: qdrant.PtrOf(true)})
	mustOK(t, err)
	d := createSnapshot(t, base, "src")
	data := download(t, base, "src", d.Name)

	code, body := upload(t, base, "dst", "?priority=snapshot&checksum="+strings.ToUpper(sha(data)), data)
	if code != 200 {
		t.Fatalf("upload = %d %s", code, body)
	}
	want, err := e.s.Points("src")
	mustOK(t, err)
	got, err := e.s.Points("dst")
	mustOK(t, err)
	if len(got) != len(want) {
		t.Fatalf("restored %d points, want %d", len(got), len(want))
	}
	for k, w := range want {
		if diff := protoDiff(w, got[k]); diff != "" {
			t.Fatalf("point %s: %s", k, diff)
		}
	}
	srcInfo, err := e.c.GetCollectionInfo(ctxT(t), "src")
	mustOK(t, err)
	dstInfo, err := e.c.GetCollectionInfo(ctxT(t), "dst")
	mustOK(t, err)
	if diff := protoDiff(srcInfo.GetConfig(), dstInfo.GetConfig()); diff != "" {
		t.Fatalf("config: %s", diff)
	}
	if got := dstInfo.GetPayloadSchema()["i"].GetDataType(); got != qdrant.PayloadSchemaType_Integer {
		t.Fatalf("payload index of the restored collection: %v", dstInfo.GetPayloadSchema())
	}

	// The uploaded file stays in dst's snapshot directory, without checksum.
	code, body, _ = restCall(t, "GET", base+"/collections/dst/snapshots", "", nil)
	var list []descJSON
	result(t, body, &list)
	if code != 200 || len(list) != 1 || list[0].Name != "up.snapshot" || list[0].Checksum != nil || list[0].Size != int64(len(data)) {
		t.Fatalf("dst snapshots after upload = %s", body)
	}

	// Restoring again onto the now existing collection replaces its points.
	e.upsert(t, "dst", &qdrant.PointStruct{Id: qdrant.NewIDNum(999), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVectorDense([]float32{1, 1})})})
	if code, body := upload(t, base, "dst", "", data); code != 200 {
		t.Fatalf("second upload = %d %s", code, body)
	}
	if got, _ := e.s.Points("dst"); len(got) != len(want) {
		t.Fatalf("after a second restore dst has %d points, want %d (point 999 replaced)", len(got), len(want))
	}
}

func TestSnapshotUploadErrors(t *testing.T) {
	e, base := snapEnv(t, 3)
	data := download(t, base, "c", createSnapshot(t, base, "c").Name)
	e.createDense(t, "other", 4, qdrant.Distance_Cosine)
	mustOK(t, e.c.CreateCollection(ctxT(t), &qdrant.CreateCollection{
		CollectionName: "shards", ShardNumber: qdrant.PtrOf(uint32(2)),
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 3, Distance: qdrant.Distance_Cosine}),
	}))
	wrong := strings.Repeat("0", 64)
	sum := sha(data)

	tests := []struct {
		name, coll, query string
		data              []byte
		code              int
		msg               string
	}{
		{"checksum mismatch", "new1", "?checksum=" + wrong, data, 400,
			"Checksum mismatch: expected " + sum + ", actual " + wrong},
		{"checksum too short", "new1", "?checksum=abc", data, 422,
			`Validation error in query parameters: [checksum: Validation error: invalid_sha256_hash [{"length": Number(3), "expected_length": Number(64)}]]`},
		{"checksum not hex", "new1", "?checksum=" + strings.Repeat("g", 64), data, 422,
			"Validation error in query parameters: [checksum: invalid characters, expected 0-9, a-f, A-F]"},
		{"unknown priority", "new1", "?priority=newest", data, 400,
			"Deserialize error in query parameters: unknown variant `newest`, expected one of `no_sync`, `snapshot`, `replica`"},
		{"strict collection name", "a:b", "", data, 422,
			`Validation error in path parameters: [collection_name: collection name cannot contain ":" char]`},
		{"vectors differ", "other", "", data, 400,
			"Wrong input: Snapshot is not compatible with existing collection: Collection vectors: Single(VectorParams { size: 4, distance: Cosine, hnsw_config: None, quantization_config: None, on_disk: None, datatype: None, multivector_config: None }) Snapshot Vectors: Single(VectorParams { size: 3, distance: Cosine, hnsw_config: None, quantization_config: None, on_disk: None, datatype: None, multivector_config: None })"},
		{"shard number differs", "shards", "", data, 400,
			"Wrong input: Snapshot is not compatible with existing collection: Collection shard number: 2 Snapshot shard number: 1"},
		{"not a snapshot", "new2", "", []byte("hello"), 500,
			"Service internal error: Failed to unpack tar archive: not a qdrantmem snapshot: bad magic"},
		{"truncated", "new3", "", data[:len(data)-3], 500,
			"Service internal error: Failed to unpack tar archive: not a qdrantmem snapshot: truncated (no end frame)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := upload(t, base, tc.coll, tc.query, tc.data)
			if code != tc.code || restErrorText(t, body) != tc.msg {
				t.Fatalf("got %d %s\nwant %d %s", code, body, tc.code, tc.msg)
			}
		})
	}
	// A failed checksum leaves nothing behind.
	if code, body, _ := restCall(t, "GET", base+"/collections/new1/snapshots", "", nil); code != 404 {
		t.Fatalf("collection new1 exists after failed uploads: %d %s", code, body)
	}

	// Multipart errors are actix-multipart's, as plain text.
	code, body, _ := restCall(t, "POST", base+"/collections/c/snapshots/upload", "application/json", strings.NewReader("{}"))
	if code != http.StatusUnsupportedMediaType || string(body) != `Parsed Content-Type did not have "multipart" top-level media type` {
		t.Fatalf("json body = %d %s", code, body)
	}
	ct, mp := multipartBody(t, "file", "x.snapshot", data)
	code, body, _ = restCall(t, "POST", base+"/collections/c/snapshots/upload", ct, mp)
	if code != 400 || string(body) != "Required field is missing: snapshot" {
		t.Fatalf("no snapshot field = %d %s", code, body)
	}
}

func TestSnapshotRecoverFromLocation(t *testing.T) {
	e := newEnvKey(t, "k", WithAPIKey("k"))
	addr, err := e.s.StartREST("127.0.0.1:0")
	mustOK(t, err)
	base := "http://" + addr
	e.createDense(t, "c", 3, qdrant.Distance_Cosine)
	for i := range 4 {
		e.upsert(t, "c", pt(uint64(i+1), []float32{float32(i), 1, 2}, nil))
	}
	hdr := []string{"api-key", "k"}
	code, body, _ := restCall(t, "POST", base+"/collections/c/snapshots", "", nil)
	if code != 401 {
		t.Fatalf("create without key = %d %s", code, body)
	}
	_, body, _ = restCall(t, "POST", base+"/collections/c/snapshots", "", nil, hdr...)
	var d descJSON
	result(t, body, &d)
	dir, err := e.s.SnapshotsDir()
	mustOK(t, err)
	inside := "file://" + filepath.Join(dir, "c", d.Name)

	outside := filepath.Join(t.TempDir(), "x.snapshot")
	mustOK(t, os.WriteFile(outside, []byte("x"), 0o644))

	// A second server serves the snapshot over http(s), with its own key.
	other := newEnvKey(t, "other", WithAPIKey("other"))
	otherAddr, err := other.s.StartREST("127.0.0.1:0")
	mustOK(t, err)
	otherBase := "http://" + otherAddr
	other.createDense(t, "c", 3, qdrant.Distance_Cosine)
	other.upsert(t, "c", pt(42, []float32{1, 1, 1}, nil))
	_, body, _ = restCall(t, "POST", otherBase+"/collections/c/snapshots", "", nil, "api-key", "other")
	var od descJSON
	result(t, body, &od)
	remote := otherBase + "/collections/c/snapshots/" + od.Name

	recov := func(coll string, body string) (int, string) {
		code, b, _ := restCall(t, "PUT", base+"/collections/"+coll+"/snapshots/recover", "application/json", strings.NewReader(body), hdr...)
		if code == 200 {
			return code, ""
		}
		return code, restErrorText(t, b)
	}
	tests := []struct {
		name, coll, body string
		code             int
		msg              string
		points           int
	}{
		{"file inside", "f1", `{"location":"` + inside + `","priority":"snapshot","checksum":"` + *d.Checksum + `"}`, 200, "", 4},
		{"file outside", "f2", `{"location":"file://` + outside + `"}`, 403, fmt.Sprintf("Forbidden: Snapshot file path must be inside the snapshots directory %q", dir), 0},
		{"file missing", "f3", `{"location":"file:///no/such.snapshot"}`, 400, `Bad request: Snapshot file "/no/such.snapshot" does not exist`, 0},
		{"s3 scheme", "f4", `{"location":"s3://bucket/x.snapshot"}`, 400, "Bad request: URL s3://bucket/x.snapshot with scheme s3 is not supported", 0},
		{"http with api key", "h1", `{"location":"` + remote + `","api_key":"other"}`, 200, "", 1},
		{"http without key", "h2", `{"location":"` + remote + `"}`, 400, "Wrong input: Failed to download tar from " + remote + ": status - 401 Unauthorized", 0},
		{"checksum mismatch", "h3", `{"location":"` + inside + `","checksum":"` + strings.Repeat("a", 64) + `"}`, 400, "Wrong input: Snapshot checksum mismatch: expected " + strings.Repeat("a", 64) + ", got " + *d.Checksum, 0},
		{"no location", "x", `{"priority":"snapshot"}`, 400, "Format error in JSON body: missing field `location`", 0},
		{"relative location", "x", `{"location":"x.snapshot"}`, 400, "Format error in JSON body: relative URL without a base", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := recov(tc.coll, tc.body)
			if code != tc.code || msg != tc.msg {
				t.Fatalf("got %d %q\nwant %d %q", code, msg, tc.code, tc.msg)
			}
			if tc.code == 200 {
				if got := e.count(t, tc.coll, nil); got != uint64(tc.points) {
					t.Fatalf("%s holds %d points, want %d", tc.coll, got, tc.points)
				}
			}
		})
	}

	noURL, noURLBase := restEnv(t, WithSnapshotURLRecovery(false))
	_ = noURL
	code, body, _ = restCall(t, "PUT", noURLBase+"/collections/x/snapshots/recover", "application/json", strings.NewReader(`{"location":"`+remote+`"}`))
	if code != 403 || restErrorText(t, body) != "Forbidden: Snapshot recovery from remote URLs is disabled in the configuration" {
		t.Fatalf("disabled URL recovery = %d %s", code, body)
	}
}

func TestSnapshotGRPC(t *testing.T) {
	clk := newFakeClock()
	e, base := snapEnv(t, 3, WithClock(clk))
	ctx := ctxT(t)
	d, err := e.c.CreateSnapshot(ctx, "c")
	mustOK(t, err)
	if d.GetName() != fmt.Sprintf("c-%d-2026-11-21-10-00-00.snapshot", e.s.PeerID()) || d.GetChecksum() == "" || d.GetSize() <= 0 {
		t.Fatalf("CreateSnapshot = %v", d)
	}
	if data := download(t, base, "c", d.GetName()); sha(data) != d.GetChecksum() {
		t.Fatal("gRPC checksum differs from the downloaded bytes")
	}
	list, err := e.c.ListSnapshots(ctx, "c")
	mustOK(t, err)
	if len(list) != 1 || !proto.Equal(list[0], d) {
		t.Fatalf("ListSnapshots = %v, want [%v]", list, d)
	}
	mustOK(t, e.c.DeleteSnapshot(ctx, "c", d.GetName()))
	wantStatus(t, e.c.DeleteSnapshot(ctx, "c", d.GetName()), codes.NotFound, "Not found: Snapshot "+d.GetName()+" not found")
	wantStatus(t, e.c.DeleteSnapshot(ctx, "c", ""), codes.InvalidArgument, `Validation error in body: [snapshot_name: value "" invalid, must be at least 1 characters]`)
	_, err = e.c.CreateSnapshot(ctx, "nope")
	wantStatus(t, err, codes.NotFound, "Not found: Collection `nope` doesn't exist!")

	full, err := e.c.CreateFullSnapshot(ctx)
	mustOK(t, err)
	if full.GetName() != "full-snapshot-2026-11-21-10-00-00.snapshot" {
		t.Fatalf("CreateFullSnapshot = %v", full)
	}
	fulls, err := e.c.ListFullSnapshots(ctx)
	mustOK(t, err)
	if len(fulls) != 1 || fulls[0].GetName() != full.GetName() {
		t.Fatalf("ListFullSnapshots = %v", fulls)
	}
	mustOK(t, e.c.DeleteFullSnapshot(ctx, full.GetName()))
	if fulls, _ := e.c.ListFullSnapshots(ctx); len(fulls) != 0 {
		t.Fatalf("after DeleteFull: %v", fulls)
	}
}

// TestFullSnapshot checks the full snapshot's tar: every collection's
// snapshot and config.json with the collections and aliases; the
// collection snapshots it used are gone from the collection directories.
func TestFullSnapshot(t *testing.T) {
	e, base := snapEnv(t, 3)
	e.createDense(t, "d", 2, qdrant.Distance_Dot)
	mustOK(t, e.c.CreateAlias(ctxT(t), "al", "d"))
	code, body, _ := restCall(t, "POST", base+"/snapshots", "", nil)
	var d descJSON
	result(t, body, &d)
	if code != 200 || !strings.HasPrefix(d.Name, "full-snapshot-") {
		t.Fatalf("create full = %d %s", code, body)
	}
	code, data, _ := restCall(t, "GET", base+"/snapshots/"+d.Name, "", nil)
	if code != 200 || sha(data) != *d.Checksum {
		t.Fatalf("download full = %d", code)
	}
	tr := tar.NewReader(bytes.NewReader(data))
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		mustOK(t, err)
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
	var cfg fullSnapshotConfig
	mustOK(t, json.Unmarshal(files["config.json"], &cfg))
	if len(files) != 3 || cfg.CollectionsAliases["al"] != "d" || len(cfg.CollectionsMapping) != 2 {
		t.Fatalf("full snapshot holds %d files, config %+v", len(files), cfg)
	}
	// Each collection snapshot inside can be uploaded as it is.
	if code, body := upload(t, base, "c2", "", files[cfg.CollectionsMapping["c"]]); code != 200 {
		t.Fatalf("upload of c's snapshot from the full snapshot = %d %s", code, body)
	}
	if n := e.count(t, "c2", nil); n != 3 {
		t.Fatalf("c2 holds %d points", n)
	}
	_, body, _ = restCall(t, "GET", base+"/collections/c/snapshots", "", nil)
	var list []descJSON
	result(t, body, &list)
	if len(list) != 0 {
		t.Fatalf("collection snapshots left behind by the full snapshot: %s", body)
	}
}

func FuzzReadSnapshot(f *testing.F) {
	s := New()
	defer s.Stop()
	var buf bytes.Buffer
	cfg := &qdrant.CollectionConfig{Params: &qdrant.CollectionParams{ShardNumber: 1, VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2})}}
	p := &point{key: pointKey{num: 7}, vecs: []namedVec{{v: vec{kind: vecDense, dense: []float32{1, 2}}}}, payload: map[string]*qdrant.Value{"a": qdrant.NewValueInt(1)}}
	if err := writeSnapshot(&buf, snapshotMeta{Collection: "c"}, cfg, map[string]qdrant.FieldType{"a": qdrant.FieldType_FieldTypeInteger}, []snapshotShard{{id: 0, points: []*point{p, p}}}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(snapshotMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := readSnapshot(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever it accepts, it can write back and read again.
		var out bytes.Buffer
		var shards []snapshotShard
		for _, id := range sortedShardIDs(ps.shards) {
			shards = append(shards, snapshotShard{id: id, points: ps.shards[id]})
		}
		if err := writeSnapshot(&out, ps.meta, ps.config, ps.index, shards); err != nil {
			t.Fatal(err)
		}
		again, err := readSnapshot(&out)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if len(again.shards) != len(ps.shards) {
			t.Fatal("shards differ after a round trip")
		}
	})
}
