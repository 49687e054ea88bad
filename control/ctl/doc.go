// Package ctl is `kafka-qdrant ctl`: it sends control commands to the
// control topic and reads their outcome from the status topic, the same
// topics an operator can drive with kcat.
//
//	kafka-qdrant ctl index-defer COLLECTION [--mode hnsw_m0|threshold0]
//	kafka-qdrant ctl index-build COLLECTION [--m N] [--ef-construct N] [--indexing-threshold N] [--timeout D]
//	kafka-qdrant ctl backup COLLECTION [--backup-id ID]
//	kafka-qdrant ctl backup-storage [--backup-id ID]
//	kafka-qdrant ctl backups [COLLECTION]
//	kafka-qdrant ctl restore COLLECTION [--backup ID] [--into TARGET] [--alias NAME] [--replay] [--until TIME] [--overwrite] [--method M]
//	kafka-qdrant ctl prune COLLECTION [--keep-last N] [--max-age D] [--dry-run]
//	kafka-qdrant ctl cancel ID
//	kafka-qdrant ctl send FILE|-
//	kafka-qdrant ctl status [ID] [--wait]
//	kafka-qdrant ctl list
//
// Exit codes: 0 succeeded (or sent, without --wait); 1 failed or
// cancelled, or a runtime error (Kafka unreachable: --wait gives up once
// the status topic could not be read for 30s); 2 bad usage; 3 timed out
// waiting (--wait --timeout) — the command itself may still finish.
//
// --wait after a send follows the command's own events (those after the
// send; an earlier command with the same id does not answer it) and the
// record's generated id (schemas.InvalidCommandID): a rejected record is
// reported as such. Statuses are read at read_committed. --wait prints an
// event only when it shows something new (state, progress, error, result,
// replica): running events that only carry a newer checkpoint repeat the
// latest progress and are not printed again.
//
// With a control.auth key in its config (--key ID chooses among several;
// secrets from KQ__CONTROL__AUTH__KEYS__<ID>), every sending command is
// signed in deliver: auth.Signer adds issued_at to the value and the
// headers kq.auth.key and kq.auth.signature over the value as sent.
//
// Invariants: ctl never joins the control consumer group (it only produces
// commands and reads statuses), so it can run anywhere, any number of
// times; a command it sends is keyed by its id, so sending the same id
// twice runs it once.
package ctl
