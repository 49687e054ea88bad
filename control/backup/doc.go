// Package backup implements the backup commands of the control plane —
// backup, backup_storage, restore, list_backups, prune_backups — and the
// backup schedule. Snapshots come from Qdrant's REST API (sink.SnapshotClient,
// one per node of qdrant.nodes), go to the backup store (package store) and
// back; a manifest (schemas.BackupManifest) written last names a complete
// backup and the Kafka offsets it corresponds to.
//
// # Backup
//
//	collection exists? ─▶ committed offsets of the data group (topics that route to it)
//	  ─▶ nodes holding shards (GET /collections/{c}/cluster on each node)
//	  ─▶ per node: create snapshot ─▶ download ═▶ store.Put (SHA-256 = Qdrant's checksum)
//	                ─▶ delete the node's snapshot
//	  ─▶ end offsets ─▶ collection config ─▶ manifest (conditional create) ─▶ succeeded
//
// The committed offsets are read before the first snapshot and the end
// offsets after the last: replaying from the former re-applies anything a
// snapshot may lack (replay is idempotent), records from the latter on
// are certainly not in it. backup_storage does the same with one
// full-storage snapshot of a single-node Qdrant.
//
// # Restore
//
//	manifest (named, newest, or newest before until) ─▶ target exists? (needs overwrite)
//	  ─▶ per snapshot: store.Get ═▶ Qdrant upload (priority snapshot, checksum) [or presigned URL recover]
//	  ─▶ replay? from the manifest's committed offsets, as the data path decodes (its
//	            connector.Decoders: each topic's format, a Schema Registry outage retried)
//	            and routes, with its writer, up to: until's offsets | the data group's committed offsets
//	  ─▶ alias the data path writes to? (records of some topic route to it; needs replay)
//	            publish a data pause ─▶ every partition's commit acknowledges it
//	            ─▶ replay to those exact offsets ─▶ switch (one UpdateAliases) ─▶ lift
//	     other alias: switch (one UpdateAliases)
//
// # The alias switch (datapath.go)
//
// The pause is a schemas.DataPause in the restore's running status event
// (checkpointed, so Kafka has it before the restore waits). Every
// replica's connector (connector/datapause.go) follows the status topic:
// it holds the partitions of the pause's topics (no new batch; fetching
// paused; a partition assigned during the pause is held until the
// replica's status view caught up, so it sees the pause), lets the batch
// in flight finish, and commits its applied offset with metadata
// "kq-pause:<id>". Once every partition's committed offset carries the id
// (kadm FetchOffsets returns the metadata), everything below those
// offsets was applied to the alias's old collection and nothing more is
// being applied: the replay reaches them, the alias switches, the restore
// publishes an event without the pause, and the data path resumes into
// the new collection. The pause lapses at its until (PauseTimeout + 30s)
// on every replica whatever happens, and any later event of the command
// (a resumed attempt, the final status) ends it.
//
// # Invariants
//
//   - A manifest exists only for a backup whose every snapshot object was
//     stored and verified: it is created last, and never overwritten.
//   - Every byte moves as a stream: snapshot ═▶ store and store ═▶ Qdrant
//     pass through a few buffers (the store's part buffers, 24 MiB at
//     most), whatever the snapshot's size.
//   - Each step is checkpointed through the control plane (Checkpoint,
//     acknowledged by Kafka). A command resumed by the next owner skips
//     what is done: no second snapshot of a node whose snapshot still
//     exists, no second upload of a restored snapshot.
//   - Destructive steps (store deletes, node snapshot deletes, a restore,
//     an alias switch, dropping a failed restore's target) check the
//     ownership token first: a replica that lost the command changes
//     nothing.
//   - A failed or cancelled backup removes its objects, unfinished uploads
//     and node snapshots; a failed or cancelled restore removes a target it
//     created (unless the alias already serves it). A handover removes
//     nothing: the next owner resumes.
//   - Prune deletes a backup's manifest before its objects, never the
//     newest complete backup, never a backup without manifest.
//   - Errors end commands with one code each (errors.go): backup_not_found,
//     checksum_mismatch, store_unavailable, target_exists, replay_gap,
//     collection_not_found, qdrant_error, unavailable; transient failures
//     are retried for Options.RetryFor first. Qdrant's failures follow the
//     control plane's one policy (job.QdrantPolicy), as index commands do:
//     Internal (REST 500) gets job.DefaultBriefAttempts attempts, what only
//     an operator can fix (API key, permission: REST 401, 403) fails at
//     once with a retryable qdrant_error.
//   - An alias switch loses no record and lets no older write overwrite
//     a newer one: no replica applies a record of the pause's topics
//     between the acknowledged offsets and the switch; a replica that
//     does not acknowledge (control disabled, an older version) makes the
//     restore fail timeout, alias untouched.
//   - Commands of one collection run one at a time (the runner's
//     per-collection queues): a restore queues on its source collection,
//     its target and its alias (handlerFunc.Touches), so it never overlaps
//     a backup or restore of any of them.
package backup
