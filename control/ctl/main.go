package ctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/kafkaclient"
)

// Exit codes.
const (
	ExitOK       = 0 // succeeded, or sent without --wait, or found
	ExitFailed   = 1 // failed or cancelled, or a runtime error
	ExitUsage    = 2 // bad usage or configuration
	ExitTimedOut = 3 // --wait gave up before the final state
)

// Env is what ctl runs against.
type Env struct {
	// KafkaOpts connect to the brokers (seed brokers, TLS, SASL).
	KafkaOpts []kgo.Opt
	// Control names the topics; the keys of Control.Auth sign the
	// commands sent (none: unsigned).
	Control        config.Control
	Stdout, Stderr io.Writer
	// KafkaDownAfter is how long --wait goes on while the status topic
	// cannot be read before it gives up (exit 1); default 30s.
	KafkaDownAfter time.Duration
}

// Main runs `kafka-qdrant ctl` with args (what follows "ctl") against the
// brokers and topics of cfg, writing to stdout and stderr, and returns the
// process exit code. It stops early when ctx ends (exit 1).
func Main(ctx context.Context, args []string, cfg config.Config, stdout, stderr io.Writer) int {
	opts, err := kafkaclient.Options(cfg.Kafka)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-qdrant ctl: %v\n", err)
		return ExitUsage
	}
	return Run(ctx, args, Env{KafkaOpts: opts, Control: cfg.Control, Stdout: stdout, Stderr: stderr})
}

const usage = `usage: kafka-qdrant ctl <command> [flags]

Commands (sent to control.topic; outcome on control.status_topic):
  index-defer COLLECTION   prepare for bulk load [--mode hnsw_m0|threshold0]
  index-build COLLECTION   restore indexing and wait until green
                           [--m N] [--ef-construct N] [--indexing-threshold KB] [--timeout D]
  backup COLLECTION        back the collection up to backup.store [--backup-id ID]
  backup-storage           full-storage snapshot of a single-node Qdrant [--backup-id ID]
  backups [COLLECTION]     list the backups (no COLLECTION: storage backups); waits
  restore COLLECTION       restore a backup [--backup ID] [--into TARGET] [--alias NAME]
                           [--replay] [--until RFC3339] [--overwrite] [--method upload|recover_url]
  prune COLLECTION         delete backups beyond backup.retention [--keep-last N] [--max-age D] [--dry-run]
  cancel ID                cancel a running or queued command
  send FILE|-              send any command (a JSON object; "id" is generated when missing)
  status [ID]              the latest status of a command (--wait: until final); no ID: as list
  list                     recent commands and their states [--limit N]

Flags of the sending commands:
  --id ID          command id (default: generated)
  --wait           follow the status topic to the final state
  --timeout D      with --wait, give up after D (exit 3); index-build also sends it as the build's timeout
  --output FORMAT  text (default) or json (status events as JSON lines)
  --key ID         sign with this control.auth key (default: the only key configured). With a
                   key, ctl adds issued_at and the headers kq.auth.key and kq.auth.signature;
                   secrets come from control.auth.keys or KQ__CONTROL__AUTH__KEYS__<ID>

Exit codes: 0 succeeded (or sent without --wait); 1 failed, cancelled or error; 2 usage; 3 timed out waiting.
`

// Run is Main with the Kafka options given (tests).
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.Stderr, usage)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	var err error
	switch args[0] {
	case "index-defer", "index-build", "cancel", "send":
		err = send(ctx, env, parseSend, args)
	case "backup", "backup-storage", "backups", "restore", "prune":
		err = send(ctx, env, parseBackupSend, args)
	case "status":
		err = statusCommand(ctx, args[1:], env)
	case "list":
		err = listCommand(ctx, args[1:], env)
	default:
		err = usageErrorf("unknown command %q (see kafka-qdrant ctl --help)", args[0])
	}
	return exitCode(err, env.Stderr)
}

// usageError is bad usage: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// outcomeError carries the exit code of a command's outcome.
type outcomeError struct {
	code int
	msg  string
}

func (e *outcomeError) Error() string { return e.msg }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "kafka-qdrant ctl: %v\n", err)
		return ExitUsage
	}
	var oe *outcomeError
	if errors.As(err, &oe) {
		if oe.msg != "" {
			fmt.Fprintf(stderr, "kafka-qdrant ctl: %s\n", oe.msg)
		}
		return oe.code
	}
	fmt.Fprintf(stderr, "kafka-qdrant ctl: %v\n", err)
	return ExitFailed
}

// durationFlag is a flag.Value for a non-negative duration.
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string { return f.d.String() }
func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("want a non-negative duration such as 90s or 1h30m")
	}
	f.d, f.set = d, true
	return nil
}

// uintFlag is a flag.Value that records whether it was set.
type uintFlag struct {
	v   uint64
	set bool
}

func (f *uintFlag) String() string { return fmt.Sprint(f.v) }
func (f *uintFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want a non-negative integer")
	}
	f.v, f.set = v, true
	return nil
}
