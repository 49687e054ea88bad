package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Index defer modes (IndexDeferParams.Mode).
const (
	// DeferHNSWM0 sets HNSW m=0: Qdrant builds no graph while loading
	// (payload indexes still work). The default.
	DeferHNSWM0 = "hnsw_m0"
	// DeferThreshold0 sets the optimizer's indexing_threshold to 0: no
	// segment is indexed while loading.
	DeferThreshold0 = "threshold0"
)

// IndexDeferParams are the params of index_defer.
type IndexDeferParams struct {
	// Mode is DeferHNSWM0 (default when empty) or DeferThreshold0.
	Mode string `json:"mode,omitempty"`
}

// IndexDeferParamsOf decodes and validates the params of an index_defer
// command; Mode is defaulted. Errors are *CommandError (ErrInvalidParameters).
func IndexDeferParamsOf(c Command) (IndexDeferParams, error) {
	var p IndexDeferParams
	if err := c.DecodeParams(&p); err != nil {
		return p, err
	}
	switch p.Mode {
	case "":
		p.Mode = DeferHNSWM0
	case DeferHNSWM0, DeferThreshold0:
	default:
		return p, commandErrorf(ErrInvalidParameters, "index_defer params: mode %q is not one of %q, %q", p.Mode, DeferHNSWM0, DeferThreshold0)
	}
	return p, nil
}

// IndexBuildParams are the params of index_build. A nil setting that is
// deferred in the collection (m=0, indexing_threshold=0) is restored to the
// value recorded by the collection's last successful index_defer, else to
// Qdrant's default; a nil setting that is not deferred is left alone.
type IndexBuildParams struct {
	// M is the HNSW m to restore (>= 1).
	M *uint64 `json:"m,omitempty"`
	// EfConstruct is the HNSW ef_construct to restore (>= 4).
	EfConstruct *uint64 `json:"ef_construct,omitempty"`
	// IndexingThreshold is the optimizer indexing_threshold to restore, in
	// kilobytes (>= 1).
	IndexingThreshold *uint64 `json:"indexing_threshold,omitempty"`
	// Timeout bounds the whole build; zero means no bound. When it passes
	// the command ends failed with error.code "timeout" (Qdrant keeps
	// indexing; another index_build waits for the rest).
	Timeout Duration `json:"timeout,omitempty"`
	// PollInterval is the first delay between two status polls (>= 10ms);
	// zero means the runner's default.
	PollInterval Duration `json:"poll_interval,omitempty"`
}

// MinPollInterval is the smallest accepted IndexBuildParams.PollInterval.
const MinPollInterval = 10 * time.Millisecond

// IndexBuildParamsOf decodes and validates the params of an index_build
// command. Errors are *CommandError (ErrInvalidParameters).
func IndexBuildParamsOf(c Command) (IndexBuildParams, error) {
	var p IndexBuildParams
	if err := c.DecodeParams(&p); err != nil {
		return p, err
	}
	switch {
	case p.M != nil && *p.M == 0:
		return p, commandErrorf(ErrInvalidParameters, "index_build params: m must be >= 1 (m=0 disables the index; that is index_defer)")
	case p.EfConstruct != nil && *p.EfConstruct < 4:
		return p, commandErrorf(ErrInvalidParameters, "index_build params: ef_construct must be >= 4, got %d", *p.EfConstruct)
	case p.IndexingThreshold != nil && *p.IndexingThreshold == 0:
		return p, commandErrorf(ErrInvalidParameters, "index_build params: indexing_threshold must be >= 1 (0 disables indexing; that is index_defer)")
	case p.Timeout < 0:
		return p, commandErrorf(ErrInvalidParameters, "index_build params: timeout must not be negative, got %s", p.Timeout)
	case p.PollInterval != 0 && p.PollInterval.D() < MinPollInterval:
		return p, commandErrorf(ErrInvalidParameters, "index_build params: poll_interval must be >= %s, got %s", MinPollInterval, p.PollInterval)
	}
	return p, nil
}

// Duration is a time.Duration that JSON writes as a Go duration string
// ("1m30s") and reads from such a string or from a number of seconds.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads "90s", "1h30m" or a number of seconds (90, 0.5).
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: want a Go duration such as \"90s\" or \"1h30m\"", s)
		}
		*d = Duration(v)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("duration %s: want a string such as \"90s\" or a number of seconds", b)
	}
	*d = Duration(f * float64(time.Second))
	return nil
}
