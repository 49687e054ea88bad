// Package registry is kafka-qdrant's Schema Registry client: it finds the
// schemas that values in the Schema Registry wire format (record.format:
// registry) name by id, with the schemas they reference, over the
// registry's REST API (Confluent's, which Redpanda, Karapace and Apicurio
// serve too), using franz-go's pkg/sr. It implements schemas.SchemaSource;
// schemas.SchemaCache keeps and compiles what it finds.
//
// Requests: GET /schemas/ids/{id}, then GET
// /subjects/{subject}/versions/{version} for each reference, depth first.
// Authentication is HTTP basic (schema_registry.username and .password) or
// a bearer token (schema_registry.bearer_token); TLS follows
// schema_registry.tls.
//
// Invariants:
//   - A schema, or one of its references, that the registry answers 404
//     with its own "not found" error code (40401, 40402, 40403) for is
//     reported as schemas.ErrSchemaNotFound: its records go to the DLQ.
//     Every other failure (no connection, a timeout, 5xx, 401/403, a 404
//     without such a code, as a wrong URL path gives) is returned as is:
//     the registry could not be asked, and the record is retried.
//   - Requests are bounded by schema_registry.timeout each and by the
//     caller's context.
//   - kafka_qdrant_schema_registry_requests_total counts the requests by
//     result (ok, not_found, error).
package registry
