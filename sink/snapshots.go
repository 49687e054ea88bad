package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// SnapshotClient calls the snapshot endpoints of one Qdrant node's REST API
// (download, upload and recovery are REST-only in Qdrant). Snapshot bodies
// are streamed both ways and never held in memory. It is safe for
// concurrent use.
//
// Timeouts: calls that only read or delete metadata (Version, Cluster,
// ListSnapshots, DeleteSnapshot and their full-storage twins) are bounded
// by qdrant.timeout; calls that make Qdrant work on a whole collection
// (CreateSnapshot, UploadSnapshot, RecoverSnapshot) are bounded by the
// caller's context only, since they last as long as the collection is
// large; a download fails when no byte arrives for qdrant.timeout.
type SnapshotClient struct {
	base    string
	apiKey  string
	hc      *http.Client
	timeout time.Duration
}

// NewSnapshotClient returns a client for the node at baseURL (Qdrant's
// REST URL, e.g. http://qdrant-0:6333) with the API key, TLS (qdrant.tls;
// an https URL without it uses the system roots) and timeout of cfg.
func NewSnapshotClient(baseURL string, cfg config.Qdrant) (*SnapshotClient, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("qdrant REST URL %q: want http(s)://host:port", baseURL)
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if cfg.TLS.Enabled {
		tc, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &SnapshotClient{base: u.String(), apiKey: cfg.APIKey.Reveal(), hc: &http.Client{Transport: tr}, timeout: timeout}, nil
}

// BaseURL is the node's REST URL.
func (c *SnapshotClient) BaseURL() string { return c.base }

// SnapshotPriority is the source of truth of a recovery where other
// replicas of a shard exist (Qdrant's SnapshotPriority).
type SnapshotPriority string

const (
	// PrioritySnapshot makes the snapshot's data win; restores use it.
	PrioritySnapshot SnapshotPriority = "snapshot"
	// PriorityReplica makes an existing replica's data win: a restore
	// into a cluster can end with the collection empty.
	PriorityReplica SnapshotPriority = "replica"
	// PriorityNoSync applies the snapshot without synchronising replicas.
	PriorityNoSync SnapshotPriority = "no_sync"
)

// SnapshotDescription describes a snapshot file on a Qdrant node.
type SnapshotDescription struct {
	Name string `json:"name"`
	// CreationTime is Qdrant's naive UTC time ("2024-07-22T08:31:55"),
	// empty when unknown.
	CreationTime string `json:"creation_time"`
	Size         int64  `json:"size"`
	// Checksum is the lowercase hex SHA-256 Qdrant computed; empty for a
	// file Qdrant did not create (an uploaded snapshot).
	Checksum string `json:"checksum,omitempty"`
}

// ShardLocation is one shard replica in a collection's cluster info.
type ShardLocation struct {
	ShardID     uint32 `json:"shard_id"`
	PeerID      uint64 `json:"peer_id,omitempty"`
	PointsCount int64  `json:"points_count,omitempty"`
	State       string `json:"state"`
}

// CollectionCluster is the part of GET /collections/{c}/cluster the backup
// uses: which shards the node holds.
type CollectionCluster struct {
	PeerID       uint64          `json:"peer_id"`
	ShardCount   int             `json:"shard_count"`
	LocalShards  []ShardLocation `json:"local_shards"`
	RemoteShards []ShardLocation `json:"remote_shards"`
}

func (c *SnapshotClient) collectionURL(collection string, rest ...string) string {
	parts := append([]string{c.base, "collections", url.PathEscape(collection)}, rest...)
	return strings.Join(parts, "/")
}

// newRequest builds a request with the API key.
func (c *SnapshotClient) newRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if c.apiKey != "" {
		req.Header.Set("api-key", c.apiKey)
	}
	return req, nil
}

// call sends a request whose answer is an ApiResponse and decodes its
// result into v (nil: ignore it). bounded limits it to the client timeout.
func (c *SnapshotClient) call(ctx context.Context, op, method, u string, body io.Reader, contentType string, bounded bool, v any) error {
	if bounded {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := c.newRequest(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.send(op, req, v)
}

// send sends req, whose answer is an ApiResponse, and decodes its result
// into v (nil: ignore it).
func (c *SnapshotClient) send(op string, req *http.Request, v any) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return restError(op, resp)
	}
	return decodeResult(op, resp.Body, v)
}

// Version returns the version Qdrant reports at GET /.
func (c *SnapshotClient) Version(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodGet, c.base+"/", nil)
	if err != nil {
		return "", fmt.Errorf("reading qdrant version: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("reading qdrant version: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", restError("reading qdrant version", resp)
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v); err != nil {
		return "", fmt.Errorf("reading qdrant version: %w", err)
	}
	return v.Version, nil
}

// Cluster returns the collection's shards as this node sees them.
func (c *SnapshotClient) Cluster(ctx context.Context, collection string) (CollectionCluster, error) {
	var out CollectionCluster
	err := c.call(ctx, "reading cluster info of "+collection, http.MethodGet, c.collectionURL(collection, "cluster"), nil, "", true, &out)
	return out, err
}

// CollectionInfo is what a backup records of GET /collections/{name}.
type CollectionInfo struct {
	// Config is Qdrant's configuration of the collection, as JSON.
	Config      json.RawMessage `json:"config"`
	PointsCount int64           `json:"points_count"`
	Status      string          `json:"status"`
}

// CollectionInfo reads the collection's configuration and point count.
func (c *SnapshotClient) CollectionInfo(ctx context.Context, collection string) (CollectionInfo, error) {
	var info CollectionInfo
	err := c.call(ctx, "reading collection "+collection, http.MethodGet, c.collectionURL(collection), nil, "", true, &info)
	return info, err
}

// CreateSnapshot makes the node snapshot the shards of collection it
// holds, waiting until the file is written.
func (c *SnapshotClient) CreateSnapshot(ctx context.Context, collection string) (SnapshotDescription, error) {
	var d SnapshotDescription
	err := c.call(ctx, "creating snapshot of "+collection, http.MethodPost, c.collectionURL(collection, "snapshots")+"?wait=true", nil, "", false, &d)
	return d, err
}

// ListSnapshots lists the collection's snapshot files on the node.
func (c *SnapshotClient) ListSnapshots(ctx context.Context, collection string) ([]SnapshotDescription, error) {
	var ds []SnapshotDescription
	err := c.call(ctx, "listing snapshots of "+collection, http.MethodGet, c.collectionURL(collection, "snapshots"), nil, "", true, &ds)
	return ds, err
}

// DeleteSnapshot deletes a snapshot file of collection on the node. A
// missing snapshot is a RESTError with status 404.
func (c *SnapshotClient) DeleteSnapshot(ctx context.Context, collection, name string) error {
	return c.call(ctx, "deleting snapshot "+name+" of "+collection, http.MethodDelete,
		c.collectionURL(collection, "snapshots", url.PathEscape(name))+"?wait=true", nil, "", true, nil)
}

// Download is a snapshot being read from a node. Close it when done.
type Download struct {
	io.ReadCloser
	// Size is the Content-Length, -1 when unknown.
	Size int64
}

// DownloadSnapshot streams a collection snapshot from the node. The body
// fails with a retryable error when no byte arrives for the client timeout.
func (c *SnapshotClient) DownloadSnapshot(ctx context.Context, collection, name string) (*Download, error) {
	return c.download(ctx, "downloading snapshot "+name+" of "+collection, c.collectionURL(collection, "snapshots", url.PathEscape(name)))
}

func (c *SnapshotClient) download(ctx context.Context, op, u string) (*Download, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := c.newRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	// The answer's headers must come within the timeout, like any byte.
	headers := time.AfterFunc(c.timeout, cancel)
	resp, err := c.hc.Do(req)
	stopped := headers.Stop()
	if err != nil {
		cancel()
		if !stopped {
			err = fmt.Errorf("%w: %w (%s)", err, errStalled, c.timeout)
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer cancel()
		defer resp.Body.Close()
		return nil, restError(op, resp)
	}
	return &Download{ReadCloser: &opReader{op: op, r: newStallReader(resp.Body, c.timeout, cancel)}, Size: resp.ContentLength}, nil
}

// opReader names the operation in read errors.
type opReader struct {
	op string
	r  io.ReadCloser
}

func (o *opReader) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", o.op, err)
	}
	return n, err
}

func (o *opReader) Close() error { return o.r.Close() }

// UploadOptions are the query parameters of an upload.
type UploadOptions struct {
	// Priority defaults to PrioritySnapshot.
	Priority SnapshotPriority
	// Checksum, when set, makes Qdrant verify the upload's SHA-256 (hex)
	// before it recovers anything.
	Checksum string
	// FileName is the multipart file name; Qdrant keeps the uploaded file
	// under it in the collection's snapshots directory.
	FileName string
}

// UploadSnapshot streams a snapshot (size bytes, -1 when unknown) from r to
// POST /collections/{collection}/snapshots/upload and waits for Qdrant to
// recover the collection from it. The multipart body is the form header, r
// itself and the closing boundary, so the snapshot passes through without
// being buffered; with a known size the request carries a Content-Length.
// r is read once: a failed upload cannot be retried with the same reader.
func (c *SnapshotClient) UploadSnapshot(ctx context.Context, collection string, r io.Reader, size int64, opts UploadOptions) error {
	op := "uploading snapshot to " + collection
	if opts.Priority == "" {
		opts.Priority = PrioritySnapshot
	}
	if opts.FileName == "" {
		opts.FileName = collection + ".snapshot"
	}
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	if _, err := mw.CreateFormFile("snapshot", opts.FileName); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	headLen := head.Len()
	if err := mw.Close(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	tail := bytes.Clone(head.Bytes()[headLen:])
	head.Truncate(headLen)
	body := io.MultiReader(&head, r, bytes.NewReader(tail))

	q := url.Values{"wait": {"true"}, "priority": {string(opts.Priority)}}
	if opts.Checksum != "" {
		q.Set("checksum", opts.Checksum)
	}
	req, err := c.newRequest(ctx, http.MethodPost, c.collectionURL(collection, "snapshots", "upload")+"?"+q.Encode(), body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if size >= 0 {
		req.ContentLength = int64(headLen) + size + int64(len(tail))
	}
	return c.send(op, req, nil)
}

// RecoverOptions are the body fields of a recovery from a location.
type RecoverOptions struct {
	Priority SnapshotPriority
	Checksum string
	// APIKey is sent by Qdrant when it fetches an http(s) location.
	APIKey string
}

// RecoverSnapshot makes the node recover collection from location (an
// http(s) URL Qdrant can reach, or a file:// path inside its snapshots
// directory) and waits for it.
func (c *SnapshotClient) RecoverSnapshot(ctx context.Context, collection, location string, opts RecoverOptions) error {
	if opts.Priority == "" {
		opts.Priority = PrioritySnapshot
	}
	body := map[string]any{"location": location, "priority": opts.Priority}
	if opts.Checksum != "" {
		body["checksum"] = opts.Checksum
	}
	if opts.APIKey != "" {
		body["api_key"] = opts.APIKey
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.call(ctx, "recovering "+collection+" from a snapshot", http.MethodPut,
		c.collectionURL(collection, "snapshots", "recover")+"?wait=true", bytes.NewReader(b), "application/json", false, nil)
}

// CreateFullSnapshot snapshots the node's whole storage.
func (c *SnapshotClient) CreateFullSnapshot(ctx context.Context) (SnapshotDescription, error) {
	var d SnapshotDescription
	err := c.call(ctx, "creating a storage snapshot", http.MethodPost, c.base+"/snapshots?wait=true", nil, "", false, &d)
	return d, err
}

// ListFullSnapshots lists the node's storage snapshots.
func (c *SnapshotClient) ListFullSnapshots(ctx context.Context) ([]SnapshotDescription, error) {
	var ds []SnapshotDescription
	err := c.call(ctx, "listing storage snapshots", http.MethodGet, c.base+"/snapshots", nil, "", true, &ds)
	return ds, err
}

// DeleteFullSnapshot deletes a storage snapshot of the node.
func (c *SnapshotClient) DeleteFullSnapshot(ctx context.Context, name string) error {
	return c.call(ctx, "deleting storage snapshot "+name, http.MethodDelete, c.base+"/snapshots/"+url.PathEscape(name)+"?wait=true", nil, "", true, nil)
}

// DownloadFullSnapshot streams a storage snapshot from the node.
func (c *SnapshotClient) DownloadFullSnapshot(ctx context.Context, name string) (*Download, error) {
	return c.download(ctx, "downloading storage snapshot "+name, c.base+"/snapshots/"+url.PathEscape(name))
}
