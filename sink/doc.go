// Package sink is the Qdrant side of kafka-qdrant's data path: it builds
// the gRPC client (NewClient), checks the server (CheckServer) and applies
// batches of decoded records to Qdrant collections (Writer). Its gRPC error
// table (Classify) is the one the control plane uses too. It also holds
// the REST client of Qdrant's snapshot API (SnapshotClient) that backups
// and restores use.
//
// # Snapshots
//
// SnapshotClient talks to one node's REST API: create, list, delete,
// download and upload collection snapshots, recover from a URL, and the
// full-storage twins. Snapshot bodies stream both ways: a download is the
// response body behind a stall timer (no byte for qdrant.timeout fails it,
// retryably), an upload is the multipart header, the caller's reader and
// the closing boundary chained with io.MultiReader (with a Content-Length
// when the size is known), so a snapshot of any size passes through a few
// kilobytes of buffers. Non-2xx answers become *RESTError carrying Qdrant's
// message (JSON status.error or actix's plain text); what one means is
// decided in one table, restStatusRules (snapshots_http.go), in the gRPC
// table's actions (retry; retry once an operator acted, for 401 and 403;
// reject), and RetryableREST adds transport failures. The client never retries by
// itself: an upload's reader can be read only once, and the caller knows
// how long to keep trying.
//
// # Writer
//
// Check validates a record against its collection's vector config (cached)
// before it is batched; Write applies a batch:
//
//	ops ──merge by point id (last offset wins)──▶ winners ──apply──▶ applied / rejected
//
//	apply: stack of sub-batches, first all winners
//	  cut by encoded size (max_request_bytes)? ─ yes ─▶ push the parts
//	  send: UpdateBatch(wait=true), upserts in operations of ≤ upsert_max_batchsize,
//	        timeout ≤ max_timeout (collection's strict mode, cached config)
//	    ├─ one Completed result per operation ─▶ (fencing: read back) applied
//	    ├─ retryable ─ backoff ─▶ send again, until ctx ends
//	    ├─ collection-wide (strict mode) ─ re-read config, rebuild ─ backoff ─▶ send again
//	    ├─ too large (gRPC limit, proxy 413) ─▶ halves; one op ─▶ rejected (qdrant_rejected)
//	    └─ invalid (InvalidArgument / NotFound)
//	         ├─ collection gone (fresh config)        ─▶ all rejected (unknown_collection)
//	         ├─ some ops do not fit the fresh config  ─▶ those rejected (validate), push the rest
//	         ├─ one op left                           ─▶ rejected (qdrant_rejected)
//	         └─ else                                  ─▶ halves
//	rejected winner ─▶ its id's next-latest op becomes the winner (next round)
//
// # Collection-wide refusals
//
// Qdrant's strict mode answers its limits as InvalidArgument ("Bad
// request: ..."), the code of a bad point. Classify tells them apart by
// their text (messageRules, texts from Qdrant v1.18.3): a refusal that
// holds for every write to the collection (max_points_count, storage,
// memory and disk limits, a filter on an unindexed key, too many filter
// conditions) is ActionRetryCollection and handled like an outage: the
// config is fetched again (a lowered upsert limit or timeout is met by the
// rebuilt request, a missing payload index is created), the call retried
// with backoff and logged at ERROR, retries_total{class="strict_mode"}
// counted; no record is rejected for it. Limits on the request itself are
// met up front from CollectionInfo.config.strict_mode_config: upsert
// operations of at most upsert_max_batchsize points (Qdrant checks each
// operation of an UpdateBatch on its own, so one request still carries the
// whole batch) and a request timeout of at most max_timeout.
//
// # Request size
//
// cut bounds each request's encoded size by max_request_bytes with an
// upper bound computed by the encoder's own size functions (one extra size
// pass per point). Qdrant's gRPC server accepts any size; the limits are in
// front of it: a gRPC proxy ("grpc: received message larger than max",
// ResourceExhausted), an HTTP proxy (413, which grpc-go reports as
// Unknown), or the client's own 256 MiB send limit. Those answers are
// ActionSplit: the request is halved, and a single op too large for any
// request is rejected. A response with fewer (or more) results than
// operations is an error and retried, never counted as applied.
//
// # Fencing
//
// With WriterConfig.Fencing each upsert stores a fence value in the payload
// key _kq_offset (OffsetKey) and is sent with an update_filter
// "_kq_offset <= value OR _kq_offset is empty"; each delete is a
// delete-by-filter with the same condition plus has_id. The value is
// epoch·2^43 + offset (FencingEpoch, 0..MaxFencingEpoch), so a bumped epoch
// wins over every older write; epoch 0 is the bare offset. A replica that
// lost its partitions and writes late can then neither overwrite nor
// delete a point written from a newer offset or epoch.
//
// Qdrant answers Completed for a conditional write whose filter did not
// match, and UpdateResult carries no count. So after each fenced request
// the writer reads the points back (verifyFenced: one Get of the request's
// ids, payload _kq_offset only, read consistency majority): an upsert whose
// point does not hold its value, or a delete whose point still exists,
// lost to a newer write. It is counted in kafka_qdrant_fenced_writes_total
// instead of upserted/deleted and logged at WARN per collection and
// partition (Op.Partition), at most every 10 s per partition. The other
// ways considered cost as much or more: a read before the write is racy and
// needs the same Get; a Count per request would need one range condition
// per op. The read-back costs one Get per UpdateBatch (2 calls per request
// instead of 1; BenchmarkWrite/fencing measures it).
//
// Lost writes are expected when records are read again (restart,
// rebalance, offset reset: their later records win again). They are
// drops when offsets go back for good: a topic recreated, partitions
// added. Bumping the epoch makes the new writes win.
//
// CheckServer refuses fencing on Qdrant older than MinFencingVersion
// (1.15.4), which ignores update_filter on upserts. Strict mode with
// unindexed_filtering_update: false refuses deletes by filter on an
// unindexed key (upserts' update_filter is exempt), so the writer creates
// the integer payload index on _kq_offset when a collection's config lacks
// it (ensureOffsetIndex, once per fetched config).
//
// Limits: every op becomes its own operation in the UpdateBatch (slower),
// offsets of different partitions are not comparable (a point id must be
// written from one partition only), and a late upsert can still re-create
// a point a newer delete removed.
//
// # Encoding
//
// The writer's UpdateBatch requests are not marshalled by protobuf-go's
// reflective encoder, whose map<string, Value> payload encoding dominated
// the connector's CPU profile, but by an encoder generated from the
// go-client's descriptors (wire_gen.go, written by internal/wiregen; `go
// generate ./sink` after a go-client upgrade) on hand-written primitives
// (wire.go): one pass over the request, written back to front into a
// buffer from gRPC's pool, with no allocation per point. A record's
// payload comes as bytes (schemas.Record.Payload, in wire form): they go
// into its PointStruct's unknown fields, which the encoder writes last and
// Qdrant reads as payload entries; with fencing the _kq_offset entry
// follows them, so it wins over a payload key of that name. Its output
// decodes into a message proto.Equal to the request and has proto.Size's
// length; it covers every message reachable from UpdateBatchPoints. At
// first use the descriptors of the linked go-client are compared with the
// ones wire_gen.go was generated from (checkWireSchema); if they differ,
// every request is encoded by protobuf-go instead. It reaches gRPC as a
// codec passed per call with grpc.ForceCodecV2 (codec.go), never
// registered, so every other call and every response uses the standard
// proto codec; the content-type stays application/grpc and the
// go-client's interceptors (API key, rate limit) run as before.
//
// # Files
//
// client.go (NewClient, PlaintextAPIKey, PooledPoints), writer.go (types,
// Write), merge.go, bisect.go (apply: cutting, bisection, re-check; send:
// the retrying call), request.go (limits, cut, UpdateBatch building, fence
// values), fencing.go (CheckServer, the offset index, read-back and its
// reports), codec.go (the per-call gRPC codec), wire.go and the generated
// wire_gen.go (the UpdateBatchPoints encoder; internal/wiregen writes
// wire_gen.go, internal/wireschema describes what it covers),
// classify.go (the gRPC code and message table), backoff.go,
// collections.go (config cache: vectors, strict-mode limits, offset index;
// Check), validate.go (vector checks), metrics.go, snapshots.go (SnapshotClient),
// snapshots_http.go (RESTError, the HTTP status table, the stall timer).
//
// # Invariants
//
//   - Write returns nil error only when every op is applied (confirmed
//     by one Completed result per operation with wait=true, or superseded
//     by an applied op on the same id, or with fencing lost to a newer
//     write and reported) or returned as Rejected. Otherwise it returns
//     ctx.Err() and the caller must treat the whole batch as not applied;
//     re-applying it is harmless because point ids are deterministic.
//   - Retryable failures and collection-wide refusals never reject data:
//     they are retried with capped, fully jittered exponential backoff
//     until the caller's context ends. That includes failures only an
//     operator can fix (bad API key, missing permission, full disk,
//     strict-mode limits reached), which are logged at ERROR instead.
//   - Which gRPC code or message is retried, split or rejected is decided
//     in one table, codeRules and messageRules in classify.go (Classify).
//   - No request the writer plans encodes to more than max_request_bytes,
//     unless it holds a single op.
//   - Every gRPC call gets its own timeout (WriterConfig.Timeout) and sets
//     wait=true explicitly.
//   - The UpdateBatch encoder never sends anything protobuf-go would not:
//     when the go-client is not the one wire_gen.go was generated from it
//     hands the request to protobuf-go, and it fails, as proto.Marshal
//     does, on strings that are not valid UTF-8.
//   - A Writer is safe for concurrent use; concurrent Checks of one
//     uncached collection share one fetch.
//   - Metrics carry no per-record, per-id or per-collection labels.
//   - NewClient logs nothing; callers warn about a plaintext API key once
//     (PlaintextAPIKey).
package sink
