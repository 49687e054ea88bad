package qdrantmem

import (
	"fmt"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errKind mirrors Qdrant's StorageError variants (and the bare tonic statuses
// its gRPC conversions return). The gRPC code of each kind is Qdrant's
// `impl From<StorageError> for tonic::Status`
// (lib/storage/src/content_manager/conversions.rs, v1.18.3); the HTTP status
// is `impl ResponseError for HttpError` (src/actix/helpers.rs, v1.18.3).
type errKind int

const (
	// kindBadInput is StorageError::BadInput, displayed "Wrong input: {description}".
	kindBadInput errKind = iota
	// kindNotFound is StorageError::NotFound, displayed "Not found: {description}".
	kindNotFound
	// kindAlreadyExists is StorageError::AlreadyExists, displayed "Wrong input: {description}".
	kindAlreadyExists
	// kindInvalidArgument is a bare tonic Status::invalid_argument raised by
	// Qdrant's gRPC conversions and request validation (no prefix).
	kindInvalidArgument
	// kindUnimplemented marks a request this in-memory server does not model.
	kindUnimplemented
	// kindBadRequest is StorageError::BadRequest, displayed "Bad request: {description}".
	kindBadRequest
	// kindService is StorageError::ServiceError, displayed "Service internal
	// error: {description}" (also io::Error and a CollectionError::NotFound
	// of a snapshot directory that cannot be created).
	kindService
	// kindForbidden is StorageError::Forbidden, displayed "Forbidden: {description}".
	kindForbidden
	// kindChecksum is StorageError::ChecksumMismatch, displayed
	// "Checksum mismatch: expected {expected}, actual {actual}".
	kindChecksum
	// kindUnprocessable is a REST request whose path, query or body failed
	// validation (validation_error_handler, src/actix/mod.rs): HTTP 422.
	kindUnprocessable
)

// apiError is an error as Qdrant reports it: a kind (which fixes the gRPC code
// and HTTP status) and the full message text.
type apiError struct {
	kind errKind
	msg  string
}

func (e *apiError) Error() string { return e.msg }

// GRPCStatus lets grpc-go send the error with its Qdrant code.
func (e *apiError) GRPCStatus() *status.Status {
	return status.New(e.code(), e.msg)
}

func (e *apiError) code() codes.Code {
	switch e.kind {
	case kindNotFound:
		return codes.NotFound
	case kindAlreadyExists:
		return codes.AlreadyExists
	case kindUnimplemented:
		return codes.Unimplemented
	case kindService:
		return codes.Internal
	case kindForbidden:
		return codes.PermissionDenied
	case kindChecksum:
		return codes.DataLoss
	default:
		return codes.InvalidArgument
	}
}

func (e *apiError) httpStatus() int {
	switch e.kind {
	case kindNotFound:
		return http.StatusNotFound
	case kindAlreadyExists:
		return http.StatusConflict
	case kindUnimplemented:
		return http.StatusNotImplemented
	case kindService:
		return http.StatusInternalServerError
	case kindForbidden:
		return http.StatusForbidden
	case kindUnprocessable:
		return http.StatusUnprocessableEntity
	default:
		return http.StatusBadRequest
	}
}

// badInput is StorageError::BadInput / CollectionError::BadInput.
func badInput(format string, args ...any) *apiError {
	return &apiError{kind: kindBadInput, msg: "Wrong input: " + fmt.Sprintf(format, args...)}
}

// badRequest is StorageError::BadRequest (lib/storage/src/content_manager/errors.rs),
// which CollectionError::BadRequest and ::StrictMode become.
func badRequest(format string, args ...any) *apiError {
	return &apiError{kind: kindBadRequest, msg: "Bad request: " + fmt.Sprintf(format, args...)}
}

// serviceError is StorageError::ServiceError.
func serviceError(format string, args ...any) *apiError {
	return &apiError{kind: kindService, msg: "Service internal error: " + fmt.Sprintf(format, args...)}
}

// forbidden is StorageError::Forbidden.
func forbidden(format string, args ...any) *apiError {
	return &apiError{kind: kindForbidden, msg: "Forbidden: " + fmt.Sprintf(format, args...)}
}

// invalidArgument is a bare tonic Status::invalid_argument.
func invalidArgument(format string, args ...any) *apiError {
	return &apiError{kind: kindInvalidArgument, msg: fmt.Sprintf(format, args...)}
}

// unsupported reports a request shape the in-memory server does not model.
func unsupported(format string, args ...any) *apiError {
	return &apiError{kind: kindUnimplemented, msg: "qdrantmem: " + fmt.Sprintf(format, args...)}
}

// errCollectionNotFound is Checker::validate_collection_exists
// (lib/storage/src/content_manager/collections_ops.rs):
// StorageError::not_found("Collection `{collection_name}` doesn't exist!").
func errCollectionNotFound(name string) *apiError {
	return &apiError{kind: kindNotFound, msg: "Not found: Collection `" + name + "` doesn't exist!"}
}

// errCollectionExists is Checker::validate_collection_not_exists
// (lib/storage/src/content_manager/collections_ops.rs):
// StorageError::already_exists("Collection `{collection_name}` already exists!").
func errCollectionExists(name string) *apiError {
	return &apiError{kind: kindAlreadyExists, msg: "Wrong input: Collection `" + name + "` already exists!"}
}

// errAliasNotFound is AliasPersistence::rename_alias
// (lib/storage/src/content_manager/alias_mapping.rs).
func errAliasNotFound(alias string) *apiError {
	return &apiError{kind: kindNotFound, msg: "Not found: Alias " + alias + " does not exists!"}
}

// errWrongDim is OperationError::WrongVectorDimension
// (lib/segment/src/common/operation_error.rs) as the segment and the query
// path report it, and validate_vector_dimensions for unnamed vectors
// (src/common/validate_vectors.rs): "Vector dimension error: expected dim: {expected_dim}, got {received_dim}".
func errWrongDim(expected, got int) *apiError {
	return badInput("Vector dimension error: expected dim: %d, got %d", expected, got)
}

// errWrongDimNamed is validate_single_vector_dim (src/common/validate_vectors.rs):
// "Vector dimension error: expected dim: {expected_dim}, got {} for vector '{name}'".
func errWrongDimNamed(expected, got int, name string) *apiError {
	return badInput("Vector dimension error: expected dim: %d, got %d for vector '%s'", expected, got, name)
}

// errVectorNameNotExists is OperationError::VectorNameNotExists
// (lib/segment/src/common/operation_error.rs): "Not existing vector name error: {received_name}".
func errVectorNameNotExists(name string) *apiError {
	return badInput("Not existing vector name error: %s", name)
}

// errWrongSparse is OperationError::WrongSparse as CollectionError converts it
// (lib/collection/src/operations/types.rs).
func errWrongSparse() *apiError {
	return badInput("Conversion between sparse and regular vectors failed")
}

// errWrongMulti is OperationError::WrongMulti as CollectionError converts it
// (lib/collection/src/operations/types.rs).
func errWrongMulti() *apiError {
	return badInput("Conversion between multi and regular vectors failed")
}
