// Package s3probe is a minimal S3 client for the e2e harness: AWS
// Signature Version 4 signing and the five path-style calls needed to check
// that an S3 server works (create and delete a bucket, put, get and delete
// an object). It exists so the suite can check a real S3 server without the
// AWS SDK; the product's backup store does not use it.
//
// Invariant: Sign produces the signature AWS documents for its published
// examples (see the test), so a server that accepts AWS clients accepts it.
package s3probe
