package backup

import (
	"context"
	"errors"
	"testing"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Token mimics the control plane's named ownership token type.
type Token interface {
	Check(ctx context.Context) error
}

type lostToken struct{}

func (lostToken) Check(context.Context) error { return errNotOwner }

// issue8Reporter has the control plane's Reporter methods (and no
// CheckOwner: the token comes from Owner).
type issue8Reporter struct{ f fakeSession }

func (r *issue8Reporter) Progress(p schemas.Progress)                 { r.f.Progress(p) }
func (r *issue8Reporter) Previous() *schemas.Status                   { return nil }
func (r *issue8Reporter) Checkpoint(ctx context.Context, v any) error { return r.f.Checkpoint(ctx, v) }
func (r *issue8Reporter) Restore(v any) (bool, error)                 { return r.f.Restore(v) }
func (r *issue8Reporter) Owner() Token                                { return lostToken{} }

// plainReporter is a Reporter without checkpoints.
type plainReporter struct{}

func (plainReporter) Progress(schemas.Progress) {}
func (plainReporter) Previous() *schemas.Status { return nil }

func TestSessionOf(t *testing.T) {
	s, err := sessionOf(&issue8Reporter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckOwner(t.Context()); !errors.Is(err, errNotOwner) {
		t.Fatalf("CheckOwner = %v, want the token's error", err)
	}
	if err := s.Checkpoint(t.Context(), map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if ok, err := s.Restore(&got); !ok || err != nil || got["a"] != 1 {
		t.Fatalf("Restore = %v %v %v", got, ok, err)
	}
	if _, err := sessionOf(plainReporter{}); code(err) != schemas.ErrUnsupported {
		t.Fatalf("a Reporter without checkpoints: %v", err)
	}
}
