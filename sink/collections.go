package sink

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// refreshAfter is how old a cached collection config may be before a
// negative verdict (collection missing, record does not fit) is confirmed
// by fetching it again. It bounds the fetches a flood of bad records can
// cause to one per collection per refreshAfter, and lets a collection
// created or recreated meanwhile be seen within it.
const refreshAfter = time.Second

// maxCachedCollections bounds the cache; records may route to arbitrary
// collection names, which are cached as missing.
const maxCachedCollections = 1024

// Check validates a decoded record against collection's vector config.
//
// The config is cached: fetched with Collections.Get on first use, dropped
// when Qdrant rejects a write to the collection (it may have been
// recreated), and fetched again before a negative verdict when the cached
// copy is older than a second. Results:
//   - nil: the record fits (deletes only need the collection to exist);
//   - *schemas.RecordError ClassUnknownCollection, StageRoute: no such
//     collection (or an invalid collection name);
//   - *schemas.RecordError ClassValidate, StageValidate: an upsert without
//     vectors, a wrong dimension, an unknown vector name, a sparse vector
//     for a dense name or the reverse, a multi-vector for a name without
//     multivector config; the message reads like Qdrant's;
//   - ctx.Err(): ctx ended while retryable failures of the config fetch
//     were being retried (with backoff, without end).
//
// Vectors Qdrant computes itself (Document, Image, InferenceObject) are
// only checked by name. Check is safe for concurrent use; concurrent
// checks of one uncached collection share one fetch.
func (w *Writer) Check(ctx context.Context, collection string, r *schemas.Record) error {
	s, err := w.cols.get(ctx, collection)
	if err != nil {
		return err
	}
	rerr := s.check(collection, r)
	if rerr != nil && w.clk.now().Sub(s.fetchedAt) > refreshAfter {
		if s, err = w.cols.refreshed(ctx, collection, refreshAfter); err != nil {
			return err
		}
		rerr = s.check(collection, r)
	}
	if rerr != nil {
		return rerr
	}
	return nil
}

// collectionSchema is what the writer knows of one collection. It is
// immutable once cached, but for offsetIndex.
type collectionSchema struct {
	missing   bool
	fetchedAt time.Time // when the fetch that produced it started
	// dense holds the dense vector names ("" is the unnamed vector).
	dense map[string]denseParams
	// sparse holds the sparse vector names.
	sparse map[string]struct{}
	// strict holds the strict-mode limits the writer cuts requests to;
	// zero when strict mode is off.
	strict strictLimits
	// offsetIndex tracks the payload index on OffsetKey that fenced
	// deletes need under strict mode: indexAbsent, indexTried (one
	// CreateFieldIndex per fetched config) or indexPresent.
	offsetIndex atomic.Uint32
}

// States of collectionSchema.offsetIndex.
const (
	indexAbsent uint32 = iota
	indexTried
	indexPresent
)

// strictLimits are the limits of a collection's enabled strict mode
// (CollectionInfo.config.strict_mode_config) that shape requests.
type strictLimits struct {
	// upsertPoints is upsert_max_batchsize: points per upsert operation;
	// Qdrant checks each operation of an UpdateBatch on its own.
	upsertPoints uint64
	// timeoutSecs is max_timeout, when hasTimeout: the largest timeout a
	// request may carry.
	timeoutSecs uint64
	hasTimeout  bool
}

type denseParams struct {
	size  uint64
	multi bool // multivector_config is set
}

// schemaOf reads the vector config out of a collection info response.
func schemaOf(info *qdrant.CollectionInfo, fetchedAt time.Time) *collectionSchema {
	s := &collectionSchema{fetchedAt: fetchedAt, dense: map[string]denseParams{}, sparse: map[string]struct{}{}}
	params := info.GetConfig().GetParams()
	vc := params.GetVectorsConfig()
	if p := vc.GetParams(); p != nil {
		s.dense[""] = denseParams{size: p.GetSize(), multi: p.GetMultivectorConfig() != nil}
	}
	for name, p := range vc.GetParamsMap().GetMap() {
		s.dense[name] = denseParams{size: p.GetSize(), multi: p.GetMultivectorConfig() != nil}
	}
	for name := range params.GetSparseVectorsConfig().GetMap() {
		s.sparse[name] = struct{}{}
	}
	if sm := info.GetConfig().GetStrictModeConfig(); sm.GetEnabled() {
		s.strict.upsertPoints = sm.GetUpsertMaxBatchsize()
		if sm.MaxTimeout != nil {
			s.strict.timeoutSecs, s.strict.hasTimeout = uint64(sm.GetMaxTimeout()), true
		}
	}
	switch info.GetPayloadSchema()[OffsetKey].GetDataType() {
	case qdrant.PayloadSchemaType_Integer, qdrant.PayloadSchemaType_Float:
		// Either serves the range of the fence filter (schema_capabilities,
		// lib/collection/src/problems/unindexed_field.rs).
		s.offsetIndex.Store(indexPresent)
	}
	return s
}

// collectionCache caches collectionSchemas by collection name, with one
// fetch in flight per name at a time.
type collectionCache struct {
	api CollectionsAPI
	w   *Writer // retry, timeout, clock, logs and metrics of fetches

	mu       sync.Mutex
	entries  map[string]*collectionSchema
	inflight map[string]*fetchCall
}

// fetchCall is one fetch in flight; waiters read s and err after done.
type fetchCall struct {
	started time.Time
	done    chan struct{}
	s       *collectionSchema
	err     error
}

func newCollectionCache(api CollectionsAPI, w *Writer) *collectionCache {
	return &collectionCache{api: api, w: w, entries: map[string]*collectionSchema{}, inflight: map[string]*fetchCall{}}
}

// get returns the cached schema of name, fetching it if absent.
func (c *collectionCache) get(ctx context.Context, name string) (*collectionSchema, error) {
	return c.load(ctx, name, time.Time{})
}

// refreshed returns a schema of name fetched no longer than maxAge ago
// (0: fetched from now on), fetching it if the cached one is older.
func (c *collectionCache) refreshed(ctx context.Context, name string, maxAge time.Duration) (*collectionSchema, error) {
	return c.load(ctx, name, c.w.clk.now().Add(-maxAge))
}

// peek returns the cached schema of name, or nil; it never fetches.
func (c *collectionCache) peek(name string) *collectionSchema {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[name]
}

// invalidate drops the cached schema of name; the next get fetches it.
func (c *collectionCache) invalidate(name string) {
	c.mu.Lock()
	delete(c.entries, name)
	c.mu.Unlock()
}

// load returns a schema of name whose fetch started at or after notBefore,
// from the cache, from a fetch in flight, or from a new fetch. The caller
// that starts a fetch runs it; if its ctx ends, a waiter takes over.
func (c *collectionCache) load(ctx context.Context, name string, notBefore time.Time) (*collectionSchema, error) {
	for {
		c.mu.Lock()
		if s := c.entries[name]; s != nil && !s.fetchedAt.Before(notBefore) {
			c.mu.Unlock()
			return s, nil
		}
		f := c.inflight[name]
		if f == nil {
			f = &fetchCall{started: c.w.clk.now(), done: make(chan struct{})}
			c.inflight[name] = f
			c.mu.Unlock()
			f.s, f.err = c.fetch(ctx, name, f.started)
			c.mu.Lock()
			delete(c.inflight, name)
			if f.err == nil {
				c.store(name, f.s)
			}
			close(f.done)
			c.mu.Unlock()
			return f.s, f.err
		}
		// Wait for the fetch in flight. If it started too early for us, or
		// its caller gave up, loop and start our own.
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err == nil && !f.s.fetchedAt.Before(notBefore) {
			return f.s, nil
		}
	}
}

// store caches s under name (c.mu held), evicting when full: missing
// collections first, then anything.
func (c *collectionCache) store(name string, s *collectionSchema) {
	if cur := c.entries[name]; cur != nil && cur.fetchedAt.After(s.fetchedAt) {
		return // a newer fetch finished first
	}
	if _, ok := c.entries[name]; !ok && len(c.entries) >= maxCachedCollections {
		evicted := false
		for k, e := range c.entries {
			if e.missing {
				delete(c.entries, k)
				evicted = true
			}
		}
		if !evicted {
			for k := range c.entries {
				delete(c.entries, k)
				break
			}
		}
	}
	c.entries[name] = s
}

// fetch reads name's config from Qdrant, retrying retryable failures with
// backoff until ctx ends. NotFound and InvalidArgument (an invalid name)
// mean the collection does not exist.
func (c *collectionCache) fetch(ctx context.Context, name string, started time.Time) (*collectionSchema, error) {
	w := c.w
	b := newBackoff(ctx, w.retry, w.clk)
	for b.Ongoing() {
		var trailer metadata.MD
		callCtx, cancel := context.WithTimeout(ctx, w.timeout)
		resp, err := c.api.Get(callCtx, &qdrant.GetCollectionInfoRequest{CollectionName: name}, grpc.Trailer(&trailer))
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err == nil {
			return schemaOf(resp.GetResult(), started), nil
		}
		v := Classify(err, trailer)
		if v.Code == codes.NotFound || v.Code == codes.InvalidArgument {
			return &collectionSchema{missing: true, fetchedAt: started}, nil
		}
		w.m.retry(v.Class)
		d := b.Next(v.RetryAfter)
		w.logRetry(ctx, "GetCollectionInfo", name, v, b.Retries(), d)
		b.Sleep(d)
	}
	return nil, b.Err()
}
