// Package tcpproxy is a small TCP proxy the e2e suite puts between the
// replicas and a server (Qdrant's gRPC API) so a test can make the server
// unreachable for a while (Cut), or hang mid-request (Stall), whatever the
// server is.
//
// Invariants: while cut, no byte reaches the target: every connection that
// was open is closed and every new one is closed as soon as it is
// accepted; after Restore new connections are forwarded again. While
// stalled, no byte is forwarded and nothing is closed; Resume lets the held
// bytes through.
package tcpproxy
