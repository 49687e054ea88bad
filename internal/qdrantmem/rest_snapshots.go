package qdrantmem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The snapshot endpoints of src/actix/api/snapshot_api.rs (v1.18.3). Each
// belongs to one node: it creates, lists and serves that node's files and
// recovers onto that node.

func init() { nodeRouteSets = append(nodeRouteSets, (*node).snapshotRoutes) }

// Route names of the snapshot endpoints, for the fault API.
const (
	RouteListSnapshots      = "GET /collections/{collection_name}/snapshots"
	RouteCreateSnapshot     = "POST /collections/{collection_name}/snapshots"
	RouteUploadSnapshot     = "POST /collections/{collection_name}/snapshots/upload"
	RouteRecoverSnapshot    = "PUT /collections/{collection_name}/snapshots/recover"
	RouteGetSnapshot        = "GET /collections/{collection_name}/snapshots/{snapshot_name}"
	RouteDeleteSnapshot     = "DELETE /collections/{collection_name}/snapshots/{snapshot_name}"
	RouteListFullSnapshots  = "GET /snapshots"
	RouteCreateFullSnapshot = "POST /snapshots"
	RouteGetFullSnapshot    = "GET /snapshots/{snapshot_name}"
	RouteDeleteFullSnapshot = "DELETE /snapshots/{snapshot_name}"
)

func (n *node) snapshotRoutes() []restRoute {
	return []restRoute{
		{pattern: RouteListSnapshots, handler: n.restListSnapshots},
		{pattern: RouteCreateSnapshot, handler: n.restCreateSnapshot},
		{pattern: RouteUploadSnapshot, handler: n.restUploadSnapshot},
		{pattern: RouteRecoverSnapshot, handler: n.restRecoverSnapshot},
		{pattern: RouteGetSnapshot, handler: n.restGetSnapshot},
		{pattern: RouteDeleteSnapshot, handler: n.restDeleteSnapshot},
		{pattern: RouteListFullSnapshots, handler: n.restListFullSnapshots},
		{pattern: RouteCreateFullSnapshot, handler: n.restCreateFullSnapshot},
		{pattern: RouteGetFullSnapshot, handler: n.restGetFullSnapshot},
		{pattern: RouteDeleteFullSnapshot, handler: n.restDeleteFullSnapshot},
	}
}

// restSnapshotDescription is SnapshotDescription as serialised: creation
// time is a chrono NaiveDateTime ("2024-07-22T08:31:55").
type restSnapshotDescription struct {
	Name         string  `json:"name"`
	CreationTime *string `json:"creation_time"`
	Size         int64   `json:"size"`
	Checksum     string  `json:"checksum,omitempty"`
}

func (d snapshotDescription) rest() restSnapshotDescription {
	out := restSnapshotDescription{Name: d.Name, Size: d.Size, Checksum: d.Checksum}
	if !d.CreationTime.IsZero() {
		t := d.CreationTime.UTC().Format("2006-01-02T15:04:05")
		out.CreationTime = &t
	}
	return out
}

func restDescriptions(ds []snapshotDescription) []restSnapshotDescription {
	out := make([]restSnapshotDescription, len(ds))
	for i, d := range ds {
		out[i] = d.rest()
	}
	return out
}

// pathError is a failed path validation (validation_error_handler with
// "path parameters"): 422 with the field's text.
func pathError(f vfield) *apiError {
	return &apiError{kind: kindUnprocessable, msg: "Validation error in path parameters: [" + f.path + ": " + f.msg + "]"}
}

// collectionPath validates {collection_name} as CollectionPath (legacy
// rules) or, with strict, StrictCollectionPath (src/actix/api/mod.rs).
func collectionPath(r *http.Request, strict bool) (string, *apiError) {
	name := r.PathValue("collection_name")
	if f := collectionNameField(name, strict); f != nil {
		return "", pathError(*f)
	}
	return name, nil
}

// queryError is a query string serde could not deserialize: 400.
func queryError(msg string) *apiError {
	return &apiError{kind: kindBadInput, msg: "Deserialize error in query parameters: " + msg}
}

// waitParam reads SnapshottingParam.wait (default true).
func waitParam(q url.Values) (bool, *apiError) {
	switch v := q.Get("wait"); v {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, queryError("provided string was not `true` or `false`")
}

// checksumField is validate_sha256_hash (lib/common/common/src/validation.rs):
// 64 hex digits, either case.
func checksumField(v string) *vfield {
	if len(v) != 64 {
		// A ValidationError without message is displayed with its params
		// (a HashMap in Qdrant, so their order varies there).
		return &vfield{"checksum", fmt.Sprintf("Validation error: invalid_sha256_hash [{\"length\": Number(%d), \"expected_length\": Number(64)}]", len(v))}
	}
	if _, err := hex.DecodeString(v); err != nil {
		return &vfield{"checksum", "invalid characters, expected 0-9, a-f, A-F"}
	}
	return nil
}

// hashesEqual is sha_256::hashes_equal: case and whitespace are ignored.
func hashesEqual(a, b string) bool {
	norm := func(s string) string {
		return strings.ToLower(strings.Join(strings.Fields(s), ""))
	}
	return norm(a) == norm(b)
}

// timeOrAccept is helpers::time_or_accept: with wait the operation runs and
// its result (or error) is the answer; without, the answer is 202 at once
// and the operation runs in the background (its error is only logged by
// Qdrant, dropped here).
func (n *node) timeOrAccept(w http.ResponseWriter, start time.Time, wait bool, op func() (any, *apiError)) {
	if !wait {
		n.s.snaps.bg.Add(1)
		go func() {
			defer n.s.snaps.bg.Done()
			_, _ = op()
		}()
		writeJSON(w, http.StatusAccepted, struct {
			Status string  `json:"status"`
			Time   float64 `json:"time"`
		}{"accepted", elapsed(start)})
		return
	}
	res, err := op()
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	writeRESTResult(w, start, res)
}

// writePlainError answers an error the way actix renders an HttpError or
// an extractor error returned from a handler: its status and its text.
func writePlainError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg))
}

// restListSnapshots is list_snapshots.
func (n *node) restListSnapshots(w http.ResponseWriter, r *http.Request, start time.Time) {
	name, err := collectionPath(r, false)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	real, err := n.s.realName(name)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	dir, err := n.collectionDir(real)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	ds, err := listSnapshots(dir)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	writeRESTResult(w, start, restDescriptions(ds))
}

// realName resolves a collection name or alias to the collection's name.
func (s *Server) realName(name string) (string, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.resolve(name)
	if err != nil {
		return "", err
	}
	return c.name, nil
}

// restCreateSnapshot is create_snapshot.
func (n *node) restCreateSnapshot(w http.ResponseWriter, r *http.Request, start time.Time) {
	name, err := collectionPath(r, false)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	wait, err := waitParam(r.URL.Query())
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	n.timeOrAccept(w, start, wait, func() (any, *apiError) {
		d, err := n.createCollectionSnapshot(name)
		if err != nil {
			return nil, err
		}
		return d.rest(), nil
	})
}

// restGetSnapshot is get_snapshot: the file as NamedFile serves it
// (application/octet-stream, attachment, Range requests). Errors come back
// as actix renders an HttpError: the status and the bare text.
func (n *node) restGetSnapshot(w http.ResponseWriter, r *http.Request, start time.Time) {
	name, err := collectionPath(r, false)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	real, err := n.s.realName(name)
	if err != nil {
		writePlainError(w, err.httpStatus(), err.msg)
		return
	}
	dir, err := n.collectionDir(real)
	if err != nil {
		writePlainError(w, err.httpStatus(), err.msg)
		return
	}
	n.serveSnapshot(w, r, dir, r.PathValue("snapshot_name"))
}

func (n *node) serveSnapshot(w http.ResponseWriter, r *http.Request, dir, name string) {
	path, err := snapshotPath(dir, name)
	if err != nil {
		writePlainError(w, err.httpStatus(), err.msg)
		return
	}
	f, oerr := os.Open(path)
	if oerr != nil {
		writePlainError(w, http.StatusNotFound, "File not found: "+oerr.Error())
		return
	}
	defer f.Close()
	fi, serr := f.Stat()
	if serr != nil {
		writePlainError(w, http.StatusInternalServerError, "Failed to open file: "+serr.Error())
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filepath.Base(path)}))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// restDeleteSnapshot is delete_collection_snapshot.
func (n *node) restDeleteSnapshot(w http.ResponseWriter, r *http.Request, start time.Time) {
	name, err := collectionPath(r, false)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	wait, err := waitParam(r.URL.Query())
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	snap := r.PathValue("snapshot_name")
	n.timeOrAccept(w, start, wait, func() (any, *apiError) { return n.deleteCollectionSnapshot(name, snap) })
}

func (n *node) deleteCollectionSnapshot(collection, snap string) (any, *apiError) {
	real, err := n.s.realName(collection)
	if err != nil {
		return nil, err
	}
	dir, err := n.collectionDir(real)
	if err != nil {
		return nil, err
	}
	path, err := snapshotPath(dir, snap)
	if err != nil {
		return nil, err
	}
	if err := deleteSnapshot(path); err != nil {
		return nil, err
	}
	return true, nil
}

// uploadParams is SnapshotUploadingParam.
type uploadParams struct {
	wait     bool
	priority snapshotPriority
	checksum string
}

func parseUploadParams(q url.Values) (uploadParams, *apiError) {
	var p uploadParams
	var err *apiError
	if p.wait, err = waitParam(q); err != nil {
		return p, err
	}
	var ok bool
	if p.priority, ok = parsePriority(q.Get("priority")); !ok {
		return p, queryError(fmt.Sprintf("unknown variant `%s`, expected one of `no_sync`, `snapshot`, `replica`", q.Get("priority")))
	}
	if q.Has("checksum") {
		p.checksum = q.Get("checksum")
		if f := checksumField(p.checksum); f != nil {
			return p, &apiError{kind: kindUnprocessable, msg: "Validation error in query parameters: [" + f.path + ": " + f.msg + "]"}
		}
	}
	return p, nil
}

// restUploadSnapshot is upload_snapshot: the multipart field "snapshot" is
// spooled to a file (as actix's TempFile is), its SHA-256 checked against
// checksum when given, moved to <snapshots>/<collection>/<file name> (the
// part's file name, else a UUID) and recovered from there. The file stays
// in the snapshots directory afterwards, as in Qdrant v1.18.3: listed, with
// no checksum, when its name ends in .snapshot.
func (n *node) restUploadSnapshot(w http.ResponseWriter, r *http.Request, start time.Time) {
	name, err := collectionPath(r, true)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	tmp, fileName, sum, perr := n.spoolUpload(r)
	if perr != nil {
		writePlainError(w, perr.status, perr.msg)
		return
	}
	params, err := parseUploadParams(r.URL.Query())
	if err != nil {
		_ = os.Remove(tmp)
		writeAPIError(w, start, err)
		return
	}
	n.timeOrAccept(w, start, params.wait, func() (any, *apiError) {
		defer os.Remove(tmp) // a no-op once moved
		if params.checksum != "" && !hashesEqual(sum, params.checksum) {
			return nil, &apiError{kind: kindChecksum, msg: fmt.Sprintf("Checksum mismatch: expected %s, actual %s", sum, params.checksum)}
		}
		dir, err := n.collectionDir(name)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, ioError(err)
		}
		path := filepath.Join(dir, fileName)
		if err := os.Rename(tmp, path); err != nil {
			return nil, ioError(err)
		}
		if err := n.recoverFromFile(name, path, params.priority); err != nil {
			return nil, err
		}
		return true, nil
	})
}

// multipartError is an actix-multipart 0.7.2 extractor error
// (actix-multipart/src/error.rs): a status and a plain-text body.
type multipartError struct {
	status int
	msg    string
}

// spoolUpload streams the "snapshot" field of a multipart/form-data body
// into a temporary file of the node, hashing it on the way. Other fields
// are skipped; a second "snapshot" field is ignored
// (DuplicateField::Ignore).
func (n *node) spoolUpload(r *http.Request) (tmp, fileName, sum string, _ *multipartError) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", "", "", &multipartError{http.StatusBadRequest, "Could not find Content-Type header"}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", "", "", &multipartError{http.StatusBadRequest, "Could not parse Content-Type header"}
	}
	if mt != "multipart/form-data" {
		return "", "", "", &multipartError{http.StatusUnsupportedMediaType, `Parsed Content-Type did not have "multipart" top-level media type`}
	}
	if params["boundary"] == "" {
		return "", "", "", &multipartError{http.StatusBadRequest, "Multipart boundary is not found"}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", "", "", &multipartError{http.StatusBadRequest, "Multipart boundary is not found"}
	}
	dir, derr := n.snapshotsDir()
	if derr != nil {
		return "", "", "", &multipartError{http.StatusInternalServerError, derr.Error()}
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			n.removeTemp(tmp)
			return "", "", "", &multipartError{http.StatusBadRequest, "Multipart stream is incomplete"}
		}
		if part.FormName() != "snapshot" || tmp != "" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				n.removeTemp(tmp)
				return "", "", "", &multipartError{http.StatusBadRequest, "Multipart stream is incomplete"}
			}
			continue
		}
		f, err := os.CreateTemp(dir, ".upload-*")
		if err != nil {
			return "", "", "", &multipartError{http.StatusInternalServerError, err.Error()}
		}
		hf := &hashingFile{f: f, h: sha256.New()}
		_, cerr := io.Copy(hf, part)
		if err := f.Close(); cerr == nil {
			cerr = err
		}
		tmp = f.Name()
		if cerr != nil {
			n.removeTemp(tmp)
			return "", "", "", &multipartError{http.StatusBadRequest, "Multipart stream is incomplete"}
		}
		sum = hf.sum()
		fileName = filepath.Base(part.FileName())
		if fileName == "." || fileName == "/" || fileName == "" {
			fileName = uuid.NewString()
		}
	}
	if tmp == "" {
		return "", "", "", &multipartError{http.StatusBadRequest, "Required field is missing: snapshot"}
	}
	return tmp, fileName, sum, nil
}

func (n *node) removeTemp(path string) {
	if path != "" {
		_ = os.Remove(path)
	}
}

// snapshotRecover is the JSON body of recover (SnapshotRecover).
type snapshotRecover struct {
	Location *string `json:"location"`
	Priority *string `json:"priority"`
	Checksum *string `json:"checksum"`
	APIKey   *string `json:"api_key"`
}

// restRecoverSnapshot is recover_from_snapshot.
func (n *node) restRecoverSnapshot(w http.ResponseWriter, r *http.Request, start time.Time) {
	name, err := collectionPath(r, false)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	req, loc, prio, err := parseRecoverBody(r)
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	wait, err := waitParam(r.URL.Query())
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	ctx := context.WithoutCancel(r.Context()) // a wait=false recovery outlives the request
	n.timeOrAccept(w, start, wait, func() (any, *apiError) {
		if err := n.recoverFromLocation(ctx, name, loc, prio, req); err != nil {
			return nil, err
		}
		return true, nil
	})
}

// jsonBodyError is validation_error_handler("JSON body", ...).
func jsonBodyError(format string, args ...any) *apiError {
	return &apiError{kind: kindBadInput, msg: "Format error in JSON body: " + fmt.Sprintf(format, args...)}
}

// parseRecoverBody decodes SnapshotRecover as serde and actix_web_validator
// do. serde's texts are followed by " at line L column C" in Qdrant; the
// position is left out here.
func parseRecoverBody(r *http.Request) (snapshotRecover, *url.URL, snapshotPriority, *apiError) {
	var req snapshotRecover
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return req, nil, "", &apiError{kind: kindBadInput, msg: "Content type error"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		return req, nil, "", jsonBodyError("%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return req, nil, "", jsonBodyError("invalid type: %s, expected %s", te.Value, te.Type)
		}
		return req, nil, "", jsonBodyError("%v", err)
	}
	if req.Location == nil {
		return req, nil, "", jsonBodyError("missing field `location`")
	}
	loc, err := url.Parse(*req.Location)
	if err != nil || loc.Scheme == "" {
		return req, nil, "", jsonBodyError("relative URL without a base")
	}
	prio := prioritySnapshot
	if req.Priority != nil {
		p, ok := parsePriority(*req.Priority)
		if !ok || *req.Priority == "" {
			return req, nil, "", jsonBodyError("unknown variant `%s`, expected one of `no_sync`, `snapshot`, `replica`", *req.Priority)
		}
		prio = p
	}
	if req.Checksum != nil {
		if f := checksumField(*req.Checksum); f != nil {
			return req, nil, "", &apiError{kind: kindUnprocessable, msg: "Validation error in JSON body: [" + f.path + ": " + f.msg + "]"}
		}
	}
	return req, loc, prio, nil
}

// recoverFromLocation is the body of recover_from_snapshot and
// download_snapshot (lib/storage/src/content_manager/snapshots/download.rs):
// http(s) locations are refused when URL recovery is disabled, else
// downloaded (with the request's api_key as the api-key header) into the
// node's snapshots directory; file:// locations must name a file inside
// the snapshots directory; other schemes are refused. The checksum, when
// given, is compared with the file's SHA-256 before anything is restored.
func (n *node) recoverFromLocation(ctx context.Context, name string, loc *url.URL, prio snapshotPriority, req snapshotRecover) *apiError {
	if n.s.opts.noURLRecovery && (loc.Scheme == "http" || loc.Scheme == "https") {
		return forbidden("Snapshot recovery from remote URLs is disabled in the configuration")
	}
	dir, derr := n.snapshotsDir()
	if derr != nil {
		return ioError(derr)
	}
	var path string
	switch loc.Scheme {
	case "file":
		if loc.Host != "" && loc.Host != "localhost" {
			return badRequest("Invalid snapshot URI, file path must be absolute or on localhost")
		}
		p := filepath.FromSlash(loc.Path)
		if _, err := os.Stat(p); err != nil {
			return badRequest("Snapshot file %q does not exist", p)
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return badRequest("Failed to resolve snapshot path %q: %v", p, err)
		}
		if !strings.HasPrefix(real, dir+string(filepath.Separator)) {
			return forbidden("Snapshot file path must be inside the snapshots directory %q", dir)
		}
		path = real
	case "http", "https":
		tmp, err := n.download(ctx, loc, req.APIKey)
		if err != nil {
			return err
		}
		defer os.Remove(tmp)
		path = tmp
	default:
		return badRequest("URL %s with scheme %s is not supported", loc, loc.Scheme)
	}
	if req.Checksum != nil {
		sum, err := fileSHA256(path)
		if err != nil {
			return ioError(err)
		}
		if !hashesEqual(sum, *req.Checksum) {
			return badInput("Snapshot checksum mismatch: expected %s, got %s", *req.Checksum, sum)
		}
	}
	return n.recoverFromFile(name, path, prio)
}

// download fetches loc into a temporary file of the node's snapshots
// directory (download_and_unpack_tar): a non-2xx answer is BadInput
// "Failed to download tar from {url}: status - {status}", a transport
// failure a ServiceError "Http request error: ...".
func (n *node) download(ctx context.Context, loc *url.URL, apiKey *string) (string, *apiError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return "", serviceError("Http request error: %v", err)
	}
	if apiKey != nil {
		req.Header.Set("api-key", *apiKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", serviceError("Http request error: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", badInput("Failed to download tar from %s: status - %d %s", loc, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	dir, derr := n.snapshotsDir()
	if derr != nil {
		return "", ioError(derr)
	}
	f, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", ioError(err)
	}
	_, cerr := io.Copy(f, resp.Body)
	if err := f.Close(); cerr == nil {
		cerr = err
	}
	if cerr != nil {
		_ = os.Remove(f.Name())
		return "", serviceError("Failed to unpack tar archive: %v", cerr)
	}
	return f.Name(), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// restListFullSnapshots is list_full_snapshots.
func (n *node) restListFullSnapshots(w http.ResponseWriter, _ *http.Request, start time.Time) {
	dir, err := n.snapshotsDir()
	if err != nil {
		writeAPIError(w, start, ioError(err))
		return
	}
	ds, aerr := listSnapshots(dir)
	if aerr != nil {
		writeAPIError(w, start, aerr)
		return
	}
	writeRESTResult(w, start, restDescriptions(ds))
}

// restCreateFullSnapshot is create_full_snapshot.
func (n *node) restCreateFullSnapshot(w http.ResponseWriter, r *http.Request, start time.Time) {
	wait, err := waitParam(r.URL.Query())
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	n.timeOrAccept(w, start, wait, func() (any, *apiError) {
		d, err := n.createFullSnapshot()
		if err != nil {
			return nil, err
		}
		return d.rest(), nil
	})
}

// restGetFullSnapshot is get_full_snapshot.
func (n *node) restGetFullSnapshot(w http.ResponseWriter, r *http.Request, _ time.Time) {
	dir, err := n.snapshotsDir()
	if err != nil {
		writePlainError(w, http.StatusInternalServerError, err.Error())
		return
	}
	n.serveSnapshot(w, r, dir, r.PathValue("snapshot_name"))
}

// restDeleteFullSnapshot is delete_full_snapshot.
func (n *node) restDeleteFullSnapshot(w http.ResponseWriter, r *http.Request, start time.Time) {
	wait, err := waitParam(r.URL.Query())
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	snap := r.PathValue("snapshot_name")
	n.timeOrAccept(w, start, wait, func() (any, *apiError) { return n.deleteFullSnapshot(snap) })
}

func (n *node) deleteFullSnapshot(snap string) (any, *apiError) {
	dir, err := n.snapshotsDir()
	if err != nil {
		return nil, ioError(err)
	}
	path, aerr := snapshotPath(dir, snap)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := deleteSnapshot(path); aerr != nil {
		return nil, aerr
	}
	return true, nil
}
