package job

import (
	"context"
	"errors"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Handler executes one command type. Implementations are safe for
// concurrent use: commands on different collections run at once.
type Handler interface {
	// Validate checks cmd (params, collection, target) without side
	// effects. An error fails the command before it runs: a *Error keeps
	// its code, a *schemas.CommandError its code, anything else becomes
	// invalid_parameters.
	Validate(cmd schemas.Command) error
	// Run executes cmd and returns its result (marshalled to JSON into the
	// succeeded status; nil for none) or an error. See the package doc for
	// the cancellation and resume contract.
	Run(ctx context.Context, cmd schemas.Command, rep Reporter) (result any, err error)
}

// Reporter is a running command's line to its status events and to the
// state it keeps across attempts.
type Reporter interface {
	// Progress publishes a running event with p. It never blocks and never
	// fails the command: events are published asynchronously, at most one
	// per ProgressInterval per command, and a newer p replaces one not yet
	// published (the latest always goes out, unless the command ends first).
	Progress(p schemas.Progress)
	// Previous is the last non-final status an earlier attempt of this
	// command published (a resume after a crash or hand-over), or nil on
	// the first attempt.
	Previous() *schemas.Status
	// Checkpoint durably saves the handler's own state v (JSON-marshalled,
	// at most a few hundred KiB) for this command and returns once Kafka
	// acknowledged it. It fails when ownership of the control partition was
	// lost (an error wrapping ErrNotOwner) or ctx ended; a Kafka outage
	// makes it wait.
	Checkpoint(ctx context.Context, v any) error
	// Restore decodes the last checkpoint saved by any attempt of this
	// command into v and reports whether there was one.
	Restore(v any) (bool, error)
	// Owner is this execution's ownership token.
	Owner() Token
}

// Token proves the replica still owns the control partition for this
// execution. Handlers call Check before each destructive step (a Qdrant
// settings change, an S3 delete, a restore).
type Token interface {
	// Check returns nil while ownership holds; an error wrapping
	// ErrNotOwner once it does not (revoked, lost, fenced, heartbeat
	// failing, epoch ended) — the step must not run. It confirms
	// membership with the group coordinator (one round trip, retried while
	// Kafka does not answer), so a replica cut off from Kafka never passes.
	Check(ctx context.Context) error
}

// ErrCancelled is the context cause when a cancel command stops a command.
var ErrCancelled = errors.New("cancelled by a cancel command")

// ErrHandover is the context cause when the runner gives a command up
// (shutdown, partition revoked or lost): the command is neither failed nor
// cancelled, and the next owner of the control partition resumes it.
var ErrHandover = errors.New("handed over to the next owner of the control partition")

// ErrNotOwner is wrapped by Token.Check and Reporter.Checkpoint errors once
// this replica no longer owns the control partition for the execution. A
// handler returning it is treated like a hand-over: no final status, the
// next owner resumes the command.
var ErrNotOwner = errors.New("not the owner of the control partition")
