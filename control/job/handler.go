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

// Reporter is a running command's line to its status events.
type Reporter interface {
	// Progress publishes a running event with p. Events are rate-limited
	// and deduplicated by the runner; the call does not block for long
	// and never fails the command.
	Progress(p schemas.Progress)
	// Previous is the last non-final status an earlier attempt of this
	// command published (a resume after a crash or handover), or nil on
	// the first attempt.
	Previous() *schemas.Status
}

// ErrCancelled is the context cause when a cancel command stops a command.
var ErrCancelled = errors.New("cancelled by a cancel command")

// ErrHandover is the context cause when the runner gives a command up
// (shutdown, partition revoked or lost): the command is neither failed nor
// cancelled, and the next owner of the control partition resumes it.
var ErrHandover = errors.New("handed over to the next owner of the control partition")
