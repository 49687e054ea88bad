// Package auth signs and verifies control commands (control.auth): the
// second layer of command authorization, after the Kafka ACLs that decide
// who may write the control topic at all.
//
// The signature is byte-exact over the record value, so what is signed is
// what is sent and a kcat user can compute it with one openssl call:
//
//	value (JSON, with "id" and "issued_at") ──HMAC-SHA256(secret)──► hex
//	record: key = id, value, headers kq.auth.key = <key id>,
//	                                 kq.auth.signature = <hex>
//
// The runner checks a record in three steps (control/dispatch.go, handle):
//
//	Verifier.Verify  headers and value bytes: a known key, a matching
//	                 signature (constant-time compare)
//	Verifier.Permit  the decoded command: its id and issued_at are inside
//	                 the signed value, its type is one the key may send
//	Verifier.Fresh   only for a command id not seen before: issued_at is
//	                 within the window of the record's time (its broker
//	                 append time when the topic stamps it, else now)
//
// Invariants:
//   - The id is inside the signature: a signed command replayed under a
//     new id fails Verify (the value changed) or Permit (the key of the
//     record differs from the signed id).
//   - A command accepted once is never refused later: Fresh is skipped for
//     an id that is in flight, final, or accepted on the status topic, so a
//     redelivery after a crash or a replay of the same record gets the
//     command's own answer however old it is. Signature and permission do
//     not depend on time and give the same answer on every delivery.
//   - Nothing here logs or returns a secret or the expected signature
//     (which would let a caller sign anything); errors name the key id and
//     the reason only.
package auth
