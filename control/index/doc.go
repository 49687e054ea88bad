// Package index implements the index_defer and index_build commands.
//
// index_defer prepares a collection for bulk loading: HNSW m=0 (mode
// hnsw_m0, the default: no graph is built while points stream in) or the
// optimizer's indexing_threshold=0 (mode threshold0: no segment is indexed).
// Its result records the settings it replaced ("previous"), which is how a
// later index_build knows what to restore.
//
// index_build restores indexing — the settings given as params; for a
// setting that is deferred (m=0, indexing_threshold=0) and not given, the
// previous value recorded by the collection's last successful index_defer,
// else Qdrant's default (m=16, indexing_threshold=10000 kB); settings nobody
// deferred are left alone — and then
// polls until the collection is green with the optimizer idle, publishing
// progress (points, indexed vectors, segments, status, optimizer activity).
//
//	restore settings ──► poll ──► green + optimizer ok + no optimization
//	                      ▲  │     running or queued, twice in a row ──► succeeded
//	                      └──┘ jittered, growing interval (reset on change)
//	   grey  ──► nudge (an empty optimizer update makes Qdrant start)
//	   red   ──► failed optimizer_error
//	   timeout passed ──► failed timeout (retryable; Qdrant keeps indexing)
//	   cancel ──► cancelled (Qdrant keeps indexing)
//
// Invariants:
//   - Both handlers are safe to run again for the same command: settings are
//     only written when they differ from the target, and a resumed build keeps
//     the deadline of the first attempt (recorded in its progress data).
//   - Transient Qdrant failures (unavailable, deadline, rate limit, internal)
//     are retried with capped exponential backoff and full jitter; failing for
//     longer than Options.RetryFor ends the command failed/unavailable.
//     Permanent ones (collection missing, invalid request, permission) fail at
//     once.
//   - "Idle" is observed twice in a row, so a status read between the
//     settings update and the optimizer picking it up is not taken for done;
//     where Qdrant has GET /collections/{c}/optimizations (1.17+), running
//     and queued optimizations must both be zero.
package index
