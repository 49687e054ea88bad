package qdrantmem

import (
	"fmt"
	"strings"
)

// This file reproduces the texts of Qdrant's request validation, which come
// from the Rust `validator` crate (v0.20.0, as locked by Qdrant v1.18.3) and
// two renderers:
//
//   - gRPC handlers call `validate(request)` (src/tonic/api/mod.rs), which
//     renders with `label_errors("Validation error in body", ...)`
//     (lib/collection/src/operations/validation.rs):
//     "Validation error in body: [path: message; path: message]".
//   - do_upsert_points calls `operation.validate()` on the REST form of the
//     points and wraps `err.to_string()` in StorageError::bad_input
//     (src/common/update.rs); that is validator's own Display
//     (validator/src/display_impl.rs): "path: message", lists rendered as
//     "path[i]", struct fields joined by ".".
//
// A ValidationError with no message displays as
// "Validation error: {code} [{params:?}]"; describe_error prefers the message,
// then params["message"], then a text per code.

// vfield is one failed field: its path and its rendered message.
type vfield struct {
	path string
	msg  string
}

// bodyError renders fields as a gRPC "Validation error in body" status.
func bodyError(fields ...vfield) *apiError {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.path + ": " + f.msg
	}
	return invalidArgument("Validation error in body: [%s]", strings.Join(parts, "; "))
}

// codeOnly is the Display of a validator ValidationError that has a code and
// no message or params, e.g. the sparse checks of validate_sparse_vector_impl
// (lib/sparse/src/common/sparse_vector.rs).
func codeOnly(code string) string {
	return "Validation error: " + code + " [{}]"
}

// messageParam is the Display of a ValidationError whose text is in
// params["message"] (common::validation::validate_multi_vector_by_length).
func messageParam(code, message string) string {
	return fmt.Sprintf("Validation error: %s [{\"message\": String(%q)}]", code, message)
}

// validateCollectionName is the gRPC validation of a collection_name field:
// `length(min = 1, max = 255)` plus validate_collection_name (create) or
// validate_collection_name_legacy (every other request), from
// lib/api/build.rs and lib/common/common/src/validation.rs.
func validateCollectionName(name string, create bool) *apiError {
	if f := collectionNameField(name, create); f != nil {
		return bodyError(*f)
	}
	return nil
}

// collectionNameField is the failed collection_name field, or nil.
func collectionNameField(name string, create bool) *vfield {
	if n := len(name); n < 1 || n > 255 {
		return &vfield{"collection_name", fmt.Sprintf("value %q invalid, must be from 1 to 255 characters", name)}
	}
	invalid := "/\x00"
	if create {
		invalid = "<>:\"/\\|?*\x00\x1f"
	}
	if i := strings.IndexAny(name, invalid); i >= 0 {
		return &vfield{"collection_name", fmt.Sprintf("collection name cannot contain \"%c\" char", name[i])}
	}
	return nil
}
