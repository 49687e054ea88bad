// Package sink is the Qdrant side of kafka-qdrant's data path: it builds
// the gRPC client (NewClient) and applies batches of decoded records to
// Qdrant collections (Writer).
//
// # Writer
//
// Check validates a record against its collection's vector config (cached)
// before it is batched; Write applies a batch:
//
//	ops ──merge by point id (last offset wins)──▶ winners
//	winners ──UpdateBatch(wait=true)──┬─ Completed ───────────────▶ applied
//	                                  ├─ retryable ─ backoff ─▶ (again, until ctx ends)
//	                                  └─ InvalidArgument/NotFound ─▶ bisect
//	bisect: collection gone? ─ yes ─▶ all rejected (unknown_collection)
//	        one op left?     ─ yes ─▶ rejected (qdrant_rejected)
//	        else             ─────▶ each half: UpdateBatch again
//	rejected winner ─▶ its id's next-latest op becomes the winner (next round)
//
// # Fencing
//
// With WriterConfig.Fencing each upsert stores its Kafka offset in the
// payload key _kq_offset (OffsetKey) and is sent with an update_filter
// "_kq_offset <= offset OR _kq_offset is empty"; each delete is a
// delete-by-filter with the same condition plus has_id. A replica that lost
// its partitions and writes late can then neither overwrite nor delete a
// point written from a newer offset. Limits: every op becomes its own
// operation in the UpdateBatch (slower), offsets of different partitions
// are not comparable (a point id must be written from one partition only),
// and a late upsert can still re-create a point a newer delete removed.
//
// # Encoding
//
// The writer's UpdateBatch requests are not marshalled by protobuf-go's
// reflective encoder, whose map<string, Value> payload encoding dominated
// the connector's CPU profile, but by an encoder generated from the
// go-client's descriptors (wire_gen.go, written by internal/wiregen; `go
// generate ./sink` after a go-client upgrade) on hand-written primitives
// (wire.go): one pass over the request, written back to front into a
// buffer from gRPC's pool, with no allocation per point. Its output
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
// client.go (NewClient, PooledPoints), writer.go (types, Write),
// merge.go, bisect.go (bisection and the retrying send), request.go
// (UpdateBatch building, fencing), codec.go (the per-call gRPC codec),
// wire.go and the generated wire_gen.go (the UpdateBatchPoints encoder;
// internal/wiregen writes wire_gen.go, internal/wireschema describes what
// it covers), classify.go (the gRPC code table),
// backoff.go, collections.go (config cache, Check), validate.go (vector
// checks), metrics.go.
//
// # Invariants
//
//   - Write returns nil error only when every op is applied (confirmed
//     Completed with wait=true, or superseded by an applied op on the same
//     id) or returned as Rejected. Otherwise it returns ctx.Err() and the
//     caller must treat the whole batch as not applied; re-applying it is
//     harmless because point ids are deterministic.
//   - Retryable failures never reject data: they are retried with capped,
//     fully jittered exponential backoff until the caller's context ends.
//     That includes failures only an operator can fix (bad API key,
//     missing permission, full disk), which are logged at ERROR instead.
//   - Which gRPC code is retried or rejected is decided in one table,
//     codeRules in classify.go.
//   - Every gRPC call gets its own timeout (WriterConfig.Timeout) and sets
//     wait=true explicitly.
//   - The UpdateBatch encoder never sends anything protobuf-go would not:
//     when the go-client is not the one wire_gen.go was generated from it
//     hands the request to protobuf-go, and it fails, as proto.Marshal
//     does, on strings that are not valid UTF-8.
//   - A Writer is safe for concurrent use; concurrent Checks of one
//     uncached collection share one fetch.
//   - Metrics carry no per-record, per-id or per-collection labels.
package sink
