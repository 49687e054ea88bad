// Package qdrantmem is an in-memory Qdrant server for tests and for
// `kafka-qdrant dev`. It serves the gRPC services Qdrant, Collections,
// Points and Snapshots (the go-client v1.18.3 generated interfaces) and a
// REST subset, and behaves like Qdrant v1.18.3 wherever the connector
// depends on it: status codes, error texts, validation order, id order,
// conditional upserts and the collection status during index builds. It
// adds fault injection (FailNext, SetLatency, Hang, SetUnavailable), call
// counting, a copy of the stored points (Points) for assertions, and
// WithVersion to play another server version.
//
// Error texts and codes are taken from Qdrant's source at tag v1.18.3; each
// constructor cites its origin (errors.go, validation.go,
// points_validate.go). StorageError kinds map to gRPC codes as
// lib/storage/src/content_manager/conversions.rs does (BadInput, BadRequest →
// InvalidArgument; NotFound → NotFound; AlreadyExists → AlreadyExists) and
// to HTTP statuses as src/actix/helpers.rs does.
//
// # Faithful
//
//   - Collections: Create (unnamed dense, named dense, multivector, sparse,
//     distance, datatype, hnsw/optimizers/wal diffs merged over the defaults
//     of Qdrant's config/config.yaml), Get (CollectionInfo filled field by
//     field as the gRPC conversion does, segments_count from
//     default_segment_number or clamp(cpus/2, 2, 8)), List (sorted), Update,
//     Delete (result=false for a missing collection), CollectionExists,
//     UpdateAliases, ListAliases, ListCollectionAliases. Aliases resolve for
//     every collection and points call.
//   - Points: Upsert, Delete (ids or filter), UpdateBatch (upsert,
//     delete_points), Get, Count (always exact), Scroll (numeric ids before
//     UUIDs, offset inclusive, next_page_offset), Search and Query (exact
//     kNN; Cosine vectors are stored normalised; Euclid and Manhattan report
//     distances, smaller first). Defaults as in Qdrant: Get, Search and Query
//     return no payload unless asked, Scroll returns it; limit 10.
//   - Validation in Qdrant's order and with its texts (points_validate.go):
//     gRPC request validation ("Validation error in body: [...]", Upsert
//     only), conversion errors, REST-form validation ("Wrong input: points[0]
//     ..."), collection lookup, the early dimension check, then the segment
//     check (unknown vector name, sparse/dense and multi/dense mix-ups).
//     A named vector may be omitted from a point, as in Qdrant.
//   - UpdateBatch: Qdrant does NOT validate the whole batch before applying
//     it. update_batch (src/tonic/api/update_common.rs) converts, validates,
//     checks strict mode for and applies one operation at a time. The first
//     failing operation ends the call with its error and the operations
//     before it stay applied. This server does the same.
//   - Strict mode (strict.go), when enabled, per operation and in Qdrant's
//     order, with its "Bad request: ... Help: ..." texts (InvalidArgument):
//     upsert_max_batchsize (points of one upsert operation), max_points_count,
//     unindexed_filtering_update and filter_max_conditions for delete by
//     filter (update_filter of an upsert is never checked), max_timeout
//     (the request's timeout), max_payload_index_count on CreateFieldIndex.
//     UpdateCollection merges a strict_mode_config diff into the stored one.
//   - Payload indexes (payload_index.go): CreateFieldIndex (a field type is
//     required) and DeleteFieldIndex; they show in payload_schema and
//     satisfy strict mode as Qdrant's index capabilities do.
//   - Request size: no limit on gRPC messages, as Qdrant sets
//     max_decoding_message_size(usize::MAX) (src/tonic/mod.rs).
//   - update_filter and update_mode: existing points that do not match the
//     filter are left alone (a point without the filtered key does not
//     match), absent points are inserted; the filter sees the state before
//     the operation; within one upsert the last point of an id wins.
//   - wait=false: writes still apply synchronously, the result is
//     Acknowledged instead of Completed, and segment-level errors are not
//     reported (Qdrant only logs them); earlier layers still fail the call.
//   - API key: metadata "api-key" or "authorization: Bearer", HealthCheck and
//     REST /, /healthz, /readyz, /livez exempt, Qdrant's Unauthenticated texts.
//   - REST: GET / (VersionInfo), /healthz, /livez, /readyz (plain text),
//     GET /collections/{name} and GET /collections/{name}/optimizations
//     (both in the OpenAPI spec of v1.18.3), with Qdrant's
//     {"result","status","time"} and {"status":{"error"},"time"} bodies.
//   - Snapshots (snapshots.go, rest_snapshots.go, grpc_snapshots.go,
//     snapshot_recover.go; src/actix/api/snapshot_api.rs and
//     lib/storage/src/content_manager/snapshots/ of v1.18.3): collection
//     snapshots create, list, download (Range requests; errors as plain
//     text, as actix renders them), delete, upload (multipart field
//     "snapshot", priority and checksum query parameters) and recover
//     (http(s):// or file:// inside the snapshots directory; other
//     schemes refused; URL recovery can be disabled); full-storage
//     snapshots create, list, download, delete (a tar of the collection
//     snapshots and config.json, as Qdrant writes it); gRPC Snapshots
//     create, list, delete and their full variants. Files live on disk
//     (WithSnapshotsDir) with a .checksum file of lowercase hex SHA-256;
//     names are "{collection}-{peer_id}-{time}.snapshot" (a second one in
//     the same second replaces the first, as in Qdrant); wait=false
//     answers 202 and runs in the background. Uploaded files stay in the
//     collection's snapshots directory after the recovery, as in Qdrant.
//     Recovery creates a missing collection from the snapshot's config
//     and payload indexes, refuses a different vectors config or shard
//     number, replaces the
//     recovered shards' points and follows the priority (default
//     snapshot, as `#[default] Snapshot` in snapshot_ops.rs; replica lets
//     another active replica's data win, which leaves a collection the
//     recovery created empty).
//   - Multi-node (cluster.go): NewCluster builds peers that share the
//     collections but each hold only some shards (shard i on node i mod
//     n) and have their own snapshots and listeners; a node's collection
//     snapshot holds only its shards, and recovery moves the recovered
//     shards to the recovering node. GET /collections/{name}/cluster
//     reports local and remote shards.
//
// # Simplified
//
//   - Segment-level errors reject the whole operation. Qdrant applies the
//     points of the operation that precede the bad one (in hash order).
//   - Several validation problems in one struct field (sparse values and
//     indices both wrong) are listed values first; Qdrant's order follows a
//     HashMap. A map of named vectors is checked in name order.
//   - The indexing model (indexing.go) stands in for Qdrant's optimizers,
//     one optimization at a time: the appendable segment is optimized once
//     a dense vector's storage reaches indexing_threshold KB (bytes by
//     datatype; 0 indexes nothing more but keeps what is indexed); a change
//     of the HNSW config that Qdrant rebuilds for (m, ef_construct, ...,
//     per vector: a vector's own hnsw_config overrides the collection's)
//     rebuilds every optimized segment, also towards m=0 (segments are
//     converted without a main graph). Settings reach the optimizers
//     after WithOptimizerRecreateDelay (default 0) and never before the
//     optimization in flight finished. indexed_vectors_count counts the
//     dense vectors with m > 0 and the sparse vectors of optimized
//     segments only; progress runs at WithIndexingRate on the injected
//     Clock; status is yellow while an optimization runs, grey after
//     SimulateRestart until a write or collection update triggers the
//     optimizers, red while SetOptimizerError holds; HoldUpdateQueue
//     fills update_queue.length. Simplified: one appendable "segment" per
//     collection whose share of every vector name is the same, payload_m
//     graphs are never built (indexed_vectors_count of an m=0 vector is
//     0), no merge or vacuum optimizers, segments_count does not change.
//   - Shards route points by a plain hash of the id (Qdrant uses a hash
//     ring); replicas are placement only (one copy of the data), so the
//     divergent replicas of a no_sync recovery are not modelled. A
//     snapshot is this server's own container (snapshot_format.go), not
//     Qdrant's tar: it is read only by this server. Serde's " at line L
//     column C" suffix is left out of JSON body errors; the
//     incompatibility error renders vectors configs close to Rust's Debug.
//   - Not modelled: the strict-mode limits not listed above (stored and
//     echoed only: rate limits, storage sizes, memory and disk, search
//     limits), index params (only plain field types; filters do not use
//     indexes), quantization (echoed), shard and partial
//     snapshots, order_by, sparse and multi-vector search, prefetch/fusion
//     and the other query variants, set/overwrite/delete payload and vector
//     updates, geo, datetime and values_count conditions. They answer
//     Unimplemented with a "qdrantmem:" message.
//
// # Invariants
//
//   - One RWMutex guards all collections and aliases; each write RPC holds it
//     for its whole duration, so readers never see part of an operation or
//     of a batch (a failing batch leaves the operations before the failure).
//   - Stored vectors and payloads are never modified after they are stored:
//     an upsert replaces the whole point. Responses and Points share or copy
//     them safely; Points returns deep copies.
//   - Every call passes the same pipeline before its handler, on Start's
//     server and on a caller's grpc.Server (Register) alike: count the call,
//     SetUnavailable, API key, Hang, SetLatency, FailNext. A call stopped
//     there applies nothing.
//   - The indexing state is a pure function of the applied changes and
//     Clock.Now(); nothing runs in the background.
//   - REST routes come in groups registered from init (rest_service.go,
//     rest_collections.go): more endpoints go in a new file that appends
//     its group to restRouteSets, or to nodeRouteSets when they belong to
//     one node (snapshots, cluster info).
//   - A snapshot is cut under the read lock (a copy of point pointers,
//     which are immutable) and written after it is released; it is never
//     held in memory whole, so its size is bounded by the disk. A
//     recovery reads the file first and applies it under the write lock.
package qdrantmem
