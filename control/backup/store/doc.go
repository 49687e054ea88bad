// Package store keeps backup objects: s3://bucket/prefix through the AWS
// SDK for Go v2 (its transfer manager for streaming multipart uploads), or
// file:///dir on a local or mounted file system. The backup handlers write
// snapshots and manifests through it and the restore reads them back.
//
//	Open(backup config) ─▶ Store
//	Put(key, reader, size, sha256) ─▶ hashReader ─▶ S3 UploadObject | temp file + fsync + rename
//	Create(key, manifest)          ─▶ PutObject If-None-Match: * | link(2)
//	Get(key)                       ─▶ body ─▶ hashReader (stored SHA-256 checked at EOF)
//	List / Delete / AbortUploads / Probe
//
// # Invariants
//
//   - A Put whose bytes do not have the SHA-256 it was given leaves no
//     object: the last read fails with ErrChecksumMismatch before the S3
//     multipart upload is completed (the transfer manager aborts it) or
//     before the temporary file is renamed into place. A cancelled Put
//     leaves none either. Only an AbortUploads after a crash is needed to
//     clean what a killed process left.
//   - Every object written by Put carries its SHA-256 (S3 metadata
//     x-amz-meta-sha256; file: a .sha256 sidecar), and S3 verifies a
//     SHA-256 checksum of every request body it stores (PutObject, each
//     UploadPart). Get fails the last read of an object whose bytes
//     differ from its stored SHA-256.
//   - Create never replaces an object: manifests, written last, are
//     created exactly once, so a manifest names a complete backup.
//   - Memory: one Put holds at most (concurrency+1) parts of 8 MiB; Get
//     streams. Object size is not bounded by memory.
//   - Failures to reach the store are *UnavailableError; missing objects
//     ErrNotFound; refused creates ErrExists.
package store
