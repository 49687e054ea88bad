package qdrantmem

import (
	"context"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Texts of AuthKeys::validate_request (src/common/auth/mod.rs, v1.18.3); the
// gRPC middleware (src/tonic/auth.rs) maps AuthError::Unauthorized to
// Status::unauthenticated, the REST one (src/actix/auth.rs) to a 401 whose
// body is the bare text.
const (
	msgMissingAPIKey = "Must provide an API key or an Authorization bearer token"
	msgInvalidAPIKey = "Invalid API key or JWT"
)

// authError is an authentication failure; it carries the text Qdrant sends.
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }

// GRPCStatus reports authentication failures as Unauthenticated.
func (e *authError) GRPCStatus() *status.Status {
	return status.New(codes.Unauthenticated, e.msg)
}

// checkAPIKey enforces WithAPIKey. header returns the value of a request
// header (gRPC metadata key) or "".
func (s *Server) checkAPIKey(header func(name string) string) error {
	if s.opts.apiKey == "" {
		return nil
	}
	key := header("api-key")
	if key == "" {
		key, _ = strings.CutPrefix(header("authorization"), "Bearer ")
	}
	if key == "" {
		return &authError{msg: msgMissingAPIKey}
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.apiKey)) != 1 {
		return &authError{msg: msgInvalidAPIKey}
	}
	return nil
}

// grpcHeader returns a metadata getter for the incoming gRPC call.
func grpcHeader(ctx context.Context) func(string) string {
	md, _ := metadata.FromIncomingContext(ctx)
	return func(name string) string {
		if v := md.Get(name); len(v) > 0 {
			return v[0]
		}
		return ""
	}
}
