package qdrantmem

import (
	"runtime"
	"time"
)

// Clock tells the indexing model what time it is. The collection status,
// indexed_vectors_count and the optimizations report are pure functions of
// the writes applied so far and Clock.Now(), so a test that advances a fake
// clock sees indexing progress without sleeping.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Option configures a Server. Options are applied in order by New.
type Option func(*options)

type options struct {
	apiKey       string
	clock        Clock
	indexingRate float64
	cpus         int
	version      string
	// recreateDelay is how long after UpdateCollection the optimizers
	// get the new settings.
	recreateDelay time.Duration
	snapshotsDir  string
	// noURLRecovery is service.enable_snapshot_url_recovery = false.
	noURLRecovery bool
}

// DefaultIndexingRate is the speed, in vectors per second, at which the
// indexing model builds an HNSW index when no WithIndexingRate option is given.
const DefaultIndexingRate = 20000

// Version is the Qdrant version the server reports (HealthCheck and GET /).
// It matches the pinned go-client so the client's compatibility check passes.
const Version = "1.18.3"

func defaultOptions() options {
	return options{
		clock:        realClock{},
		indexingRate: DefaultIndexingRate,
		cpus:         runtime.NumCPU(),
		version:      Version,
	}
}

// WithAPIKey makes every call except Qdrant.HealthCheck (and REST /, /healthz,
// /readyz, /livez) require the key, in gRPC metadata "api-key" or
// "authorization: Bearer <key>", as Qdrant does. Calls without a key fail
// with Unauthenticated "Must provide an API key or an Authorization bearer
// token"; calls with a wrong key with Unauthenticated "Invalid API key or JWT"
// (REST: 401 with the same text as a plain body). An empty key disables the
// check (the default).
func WithAPIKey(key string) Option {
	return func(o *options) { o.apiKey = key }
}

// WithClock injects the clock that drives the indexing model. The default is
// the real clock. A nil clock is ignored.
func WithClock(c Clock) Option {
	return func(o *options) {
		if c != nil {
			o.clock = c
		}
	}
}

// WithIndexingRate sets how many vectors per second the indexing model
// indexes once an index build has started (default DefaultIndexingRate).
// A rate <= 0 makes builds complete instantly.
func WithIndexingRate(vectorsPerSecond float64) Option {
	return func(o *options) { o.indexingRate = vectorsPerSecond }
}

// WithOptimizerRecreateDelay sets how long (on the injected clock) after
// UpdateCollection the optimizers get the new settings: Qdrant recreates
// them in a background task that first waits for the optimization in
// flight (recreate_optimizers_background), so a collection can still look
// green and idle right after a settings change. The model always waits for
// the optimization in flight; the default delay is 0.
func WithOptimizerRecreateDelay(d time.Duration) Option {
	return func(o *options) { o.recreateDelay = max(d, 0) }
}

// WithVersion sets the version HealthCheck and GET / report (default
// Version), to play an older or newer Qdrant. It changes nothing else: the
// server still behaves like v1.18.3.
func WithVersion(v string) Option {
	return func(o *options) { o.version = v }
}

// WithCPUs sets the CPU count the server pretends to have. Like Qdrant, a
// collection created with optimizers_config.default_segment_number = 0 (the
// default) gets clamp(cpus/2, 2, 8) segments. The default is runtime.NumCPU().
func WithCPUs(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.cpus = n
		}
	}
}

// WithSnapshotsDir keeps snapshots in dir (Qdrant's storage.snapshots_path):
// collection snapshots in dir/<collection>, full snapshots in dir. A
// recovery from a file:// location must name a file inside it. Default: a
// temporary directory created on first use and removed by Stop.
func WithSnapshotsDir(dir string) Option {
	return func(o *options) { o.snapshotsDir = dir }
}

// WithSnapshotURLRecovery(false) refuses recoveries from http(s)://
// locations with Forbidden, as service.enable_snapshot_url_recovery: false
// does. Default true.
func WithSnapshotURLRecovery(enabled bool) Option {
	return func(o *options) { o.noURLRecovery = !enabled }
}
