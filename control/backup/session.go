package backup

import (
	"context"
	"reflect"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// session is what a handler needs from the control plane while a command
// runs: progress events, durable checkpoints (acknowledged by Kafka before
// Checkpoint returns; Restore reads the last one of this command, from any
// attempt) and the ownership token, checked before each destructive step
// (an S3 delete, a Qdrant snapshot delete, a restore, an alias switch) so
// that a replica that lost the control partition changes nothing.
type session interface {
	Progress(p schemas.Progress)
	Previous() *schemas.Status
	Checkpoint(ctx context.Context, v any) error
	Restore(v any) (bool, error)
	// CheckOwner fails (wrapping the control plane's not-owner error) when
	// this replica no longer owns the command.
	CheckOwner(ctx context.Context) error
}

// checkpointer is the checkpoint half of the control plane's Reporter.
type checkpointer interface {
	Checkpoint(ctx context.Context, v any) error
	Restore(v any) (bool, error)
}

// ownerToken is the ownership token the Reporter hands out.
type ownerToken interface {
	Check(ctx context.Context) error
}

// sessionOf adapts the runner's Reporter. It needs the control plane of
// issue 8 (Checkpoint, Restore, Owner); a runner without them cannot run
// backups safely, and the command fails unsupported.
func sessionOf(rep job.Reporter) (session, error) {
	if s, ok := rep.(session); ok {
		return s, nil
	}
	cp, ok := rep.(checkpointer)
	tok := ownerOf(rep)
	if !ok || tok == nil {
		return nil, job.Errorf(schemas.ErrUnsupported, false,
			"this control plane has no durable checkpoints or ownership tokens; backups and restores need them")
	}
	return adapted{Reporter: rep, checkpointer: cp, tok: tok}, nil
}

// ownerOf calls rep.Owner() whatever the named type of the token it
// returns, and keeps it when it has Check.
func ownerOf(rep job.Reporter) ownerToken {
	m := reflect.ValueOf(rep).MethodByName("Owner")
	if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 {
		return nil
	}
	tok, _ := m.Call(nil)[0].Interface().(ownerToken)
	return tok
}

type adapted struct {
	job.Reporter
	checkpointer
	tok ownerToken
}

func (a adapted) CheckOwner(ctx context.Context) error { return a.tok.Check(ctx) }
