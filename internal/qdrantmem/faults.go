package qdrantmem

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// AllMethods is the method name that makes a fault rule apply to every call.
const AllMethods = "*"

// failRule makes the next `remaining` calls fail with code and msg.
type failRule struct {
	remaining int
	code      codes.Code
	msg       string
}

// faults holds the injected failures. Rules are keyed by full gRPC method
// name ("/qdrant.Points/UpdateBatch"), REST route name ("GET /collections/{collection_name}")
// or AllMethods.
type faults struct {
	mu          sync.Mutex
	fail        map[string][]*failRule
	latency     map[string]time.Duration
	hang        map[string]chan struct{}
	unavailable bool
	calls       map[string]int
}

func newFaults() *faults {
	return &faults{
		fail:    map[string][]*failRule{},
		latency: map[string]time.Duration{},
		hang:    map[string]chan struct{}{},
		calls:   map[string]int{},
	}
}

// FailNext makes the next n calls of method (or of any method, with
// AllMethods) fail with code and msg, before the call reaches the handler,
// so nothing is applied. Rules queue: a second FailNext for the same method
// takes effect once the first is used up. A call consumes from the
// method-specific queue first, then from the AllMethods queue. n <= 0 clears
// the queue of method.
func (s *Server) FailNext(method string, n int, code codes.Code, msg string) {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	if n <= 0 {
		delete(f.fail, method)
		return
	}
	f.fail[method] = append(f.fail[method], &failRule{remaining: n, code: code, msg: msg})
}

// SetLatency delays every call of method (or of every method, with
// AllMethods) by d before it is handled; the method-specific delay wins over
// the AllMethods one. A call whose context ends during the delay returns the
// context's status and is not applied. d <= 0 removes the delay.
func (s *Server) SetLatency(method string, d time.Duration) {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	if d <= 0 {
		delete(f.latency, method)
		return
	}
	f.latency[method] = d
}

// Hang makes calls of method (or of every method, with AllMethods) block
// before they are handled, until Unhang(method), the call's context ends
// (the call then fails with the context's status and is not applied), or the
// server stops (Unavailable). Hang on an already hung method is a no-op.
func (s *Server) Hang(method string) {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.hang[method]; !ok {
		f.hang[method] = make(chan struct{})
	}
}

// Unhang releases the calls blocked by Hang(method) (they proceed normally)
// and stops blocking new ones.
func (s *Server) Unhang(method string) {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	if ch, ok := f.hang[method]; ok {
		close(ch)
		delete(f.hang, method)
	}
}

// SetUnavailable makes every call (gRPC and REST, including health checks)
// answer codes.Unavailable (REST: 503) while on, as a Qdrant node that is
// down or restarting would; nothing is applied.
func (s *Server) SetUnavailable(on bool) {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unavailable = on
}

// CallCount returns how many calls of method (a full gRPC method name or a
// REST route name) the server has received, including calls that failed
// (injected faults, authentication, validation). AllMethods returns the total.
func (s *Server) CallCount(method string) int {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	if method == AllMethods {
		total := 0
		for _, n := range f.calls {
			total += n
		}
		return total
	}
	return f.calls[method]
}

// errUnavailable is what a call gets while SetUnavailable(true) is in force.
var errUnavailable = status.Error(codes.Unavailable, "qdrantmem: server unavailable (injected)")

// errStopped is what a hung call gets when the server stops.
var errStopped = status.Error(codes.Unavailable, "qdrantmem: server stopped")

// admit runs the fault pipeline for one call: count it, answer Unavailable
// when switched off, check the API key (unless public), wait out Hang and
// SetLatency, then consume a FailNext rule. It returns nil when the call may
// be handled.
func (s *Server) admit(ctx context.Context, method string, public bool, header func(name string) string) error {
	f := s.faults
	f.mu.Lock()
	f.calls[method]++
	unavailable := f.unavailable
	f.mu.Unlock()
	if unavailable {
		return errUnavailable
	}
	if !public {
		if err := s.checkAPIKey(header); err != nil {
			return err
		}
	}
	if err := s.waitHang(ctx, method); err != nil {
		return err
	}
	if err := s.waitLatency(ctx, method); err != nil {
		return err
	}
	return s.takeFailure(method)
}

func (s *Server) waitHang(ctx context.Context, method string) error {
	f := s.faults
	f.mu.Lock()
	chans := make([]chan struct{}, 0, 2)
	if ch, ok := f.hang[method]; ok {
		chans = append(chans, ch)
	}
	if ch, ok := f.hang[AllMethods]; ok {
		chans = append(chans, ch)
	}
	f.mu.Unlock()
	for _, ch := range chans {
		select {
		case <-ch:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-s.stopped:
			return errStopped
		}
	}
	return nil
}

func (s *Server) waitLatency(ctx context.Context, method string) error {
	f := s.faults
	f.mu.Lock()
	d, ok := f.latency[method]
	if !ok {
		d = f.latency[AllMethods]
	}
	f.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	case <-s.stopped:
		return errStopped
	}
}

func (s *Server) takeFailure(method string) error {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, key := range [...]string{method, AllMethods} {
		q := f.fail[key]
		if len(q) == 0 {
			continue
		}
		r := q[0]
		r.remaining--
		if r.remaining <= 0 {
			q = q[1:]
			if len(q) == 0 {
				delete(f.fail, key)
			} else {
				f.fail[key] = q
			}
		}
		return status.Error(r.code, r.msg)
	}
	return nil
}
