package ctl

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/control"
	"github.com/seed-a550a1ef/kafka-qdrant/control/auth"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// waitGrace is how much longer than an index-build's own timeout ctl
// waits, so the build's failed/timeout status arrives before ctl gives up.
const waitGrace = 30 * time.Second

// sendRequest is a parsed sending command.
type sendRequest struct {
	name  string
	cmd   schemas.Command
	value []byte // the record value
	wait  bool
	limit time.Duration // wait limit; 0 = none
	json  bool
	key   string // --key: the control.auth key to sign with
}

// sendFlags are the flags of every sending command.
type sendFlags struct {
	id, output, key string
	wait            bool
	timeout         durationFlag
}

// newSendFlags defines the sending commands' flags on fs; timeoutUsage
// documents --timeout.
func newSendFlags(fs *flag.FlagSet, timeoutUsage string) *sendFlags {
	f := &sendFlags{}
	fs.StringVar(&f.id, "id", "", "command id (default: generated)")
	fs.BoolVar(&f.wait, "wait", false, "follow the status topic to the final state")
	fs.Var(&f.timeout, "timeout", timeoutUsage)
	fs.StringVar(&f.output, "output", "text", "text or json")
	fs.StringVar(&f.key, "key", "", keyUsage)
	return f
}

// parse parses the arguments of the command name with fs (where f's flags
// are defined), checks f's flags and starts the command's request; it
// returns the positional arguments.
func (f *sendFlags) parse(fs *flag.FlagSet, name string, args []string) ([]string, sendRequest, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return nil, sendRequest{}, usageErrorf("%v", err)
	}
	if f.output != "text" && f.output != "json" {
		return nil, sendRequest{}, usageErrorf("--output must be text or json, got %q", f.output)
	}
	return pos, sendRequest{name: name, wait: f.wait, limit: f.timeout.d, json: f.output == "json", key: f.key}, nil
}

// encode finishes a request whose command is built: it gives the command
// id (--id when the command has none; generated when neither has one),
// checks it, and sets the record value — the command as ctl built it,
// checked as the runner will (paramsChecks), or, for ctl send, the file's
// value with the id added (left to the runner: its failed status says
// what is wrong).
func (req sendRequest) encode(id string) (sendRequest, error) {
	if req.cmd.ID == "" {
		req.cmd.ID = id
	}
	if req.cmd.ID == "" {
		req.cmd.ID = generateID(req.cmd)
	}
	if err := schemas.CheckID(req.cmd.ID); err != nil {
		return sendRequest{}, usageErrorf("--id: %v", err)
	}
	if req.value != nil {
		var err error
		req.value, err = withID(req.value, req.cmd.ID)
		return req, err
	}
	req.value = mustJSON(req.cmd)
	c, err := schemas.DecodeCommand([]byte(req.cmd.ID), req.value)
	if check := paramsChecks[c.Type]; err == nil && check != nil {
		err = check(c)
	}
	if err != nil {
		return sendRequest{}, usageErrorf("%v", err)
	}
	return req, nil
}

// paramsChecks check a command's params as the runner's handler of its
// type will, so ctl refuses what the runner would fail.
var paramsChecks = map[schemas.CommandType]func(schemas.Command) error{
	schemas.CommandIndexDefer:    paramsCheck(schemas.IndexDeferParamsOf),
	schemas.CommandIndexBuild:    paramsCheck(schemas.IndexBuildParamsOf),
	schemas.CommandBackup:        paramsCheck(schemas.BackupParamsOf),
	schemas.CommandBackupStorage: paramsCheck(schemas.BackupParamsOf),
	schemas.CommandRestore:       paramsCheck(schemas.RestoreParamsOf),
	schemas.CommandListBackups:   paramsCheck(schemas.ListBackupsParamsOf),
	schemas.CommandPruneBackups:  paramsCheck(schemas.PruneBackupsParamsOf),
}

func paramsCheck[P any](of func(schemas.Command) (P, error)) func(schemas.Command) error {
	return func(c schemas.Command) error {
		_, err := of(c)
		return err
	}
}

// parseSend turns the arguments of an index command, cancel or send into
// the record to send. It does no I/O except reading the file of `send`.
func parseSend(name string, args []string, stderr io.Writer) (sendRequest, error) {
	fs := newFlagSet("ctl "+name, stderr)
	f := newSendFlags(fs, "with --wait: give up after this long (exit 3); index-build: also the build's timeout")
	var mode string
	var m, ef, thr uintFlag
	switch name {
	case "index-defer":
		fs.StringVar(&mode, "mode", schemas.DeferHNSWM0, "hnsw_m0 (HNSW m=0) or threshold0 (indexing_threshold=0)")
	case "index-build":
		fs.Var(&m, "m", "HNSW m to restore")
		fs.Var(&ef, "ef-construct", "HNSW ef_construct to set")
		fs.Var(&thr, "indexing-threshold", "optimizer indexing_threshold (kB) to restore")
	}
	pos, req, err := f.parse(fs, name, args)
	if err != nil {
		return sendRequest{}, err
	}
	if len(pos) != 1 {
		return sendRequest{}, usageErrorf("ctl %s takes exactly one argument, got %d (see kafka-qdrant ctl --help)", name, len(pos))
	}
	switch name {
	case "index-defer":
		req.cmd = schemas.Command{Type: schemas.CommandIndexDefer, Collection: pos[0], Params: mustJSON(schemas.IndexDeferParams{Mode: mode})}
	case "index-build":
		var p schemas.IndexBuildParams
		if m.set {
			p.M = &m.v
		}
		if ef.set {
			p.EfConstruct = &ef.v
		}
		if thr.set {
			p.IndexingThreshold = &thr.v
		}
		p.Timeout = schemas.Duration(f.timeout.d)
		req.cmd = schemas.Command{Type: schemas.CommandIndexBuild, Collection: pos[0]}
		if b := mustJSON(p); string(b) != "{}" {
			req.cmd.Params = b
		}
		if req.limit > 0 {
			req.limit += waitGrace
		}
	case "cancel":
		req.cmd = schemas.Command{Type: schemas.CommandCancel, Target: pos[0]}
	case "send":
		if req.cmd, req.value, err = readCommand(pos[0], f.id); err != nil {
			return sendRequest{}, err
		}
	}
	return req.encode(f.id)
}

// send parses the sending command args[0] with parse, then delivers it.
func send(ctx context.Context, env Env, parse func(name string, args []string, stderr io.Writer) (sendRequest, error), args []string) error {
	req, err := parse(args[0], args[1:], env.Stderr)
	if err != nil {
		return err
	}
	return deliver(ctx, env, req)
}

// keyUsage documents --key of the sending commands.
const keyUsage = "sign with this control.auth key (default: the only key of control.auth.keys, if any)"

// deliver signs a parsed command (when control.auth has a key) and sends
// it and, with --wait, follows it to its end.
func deliver(ctx context.Context, env Env, req sendRequest) error {
	signer, err := auth.NewSigner(env.Control.Auth, req.key)
	if err != nil {
		return usageErrorf("%v", err)
	}
	var headers []kgo.RecordHeader
	if signer != nil {
		if req.value, headers, err = signer.Sign(req.value, time.Now()); err != nil {
			return usageErrorf("%v", err)
		}
	}
	cl, err := kgo.NewClient(env.KafkaOpts...)
	if err != nil {
		return fmt.Errorf("creating Kafka client: %w", err)
	}
	defer cl.Close()
	if err := control.EnsureTopics(ctx, env.KafkaOpts, env.Control.Topic, env.Control.StatusTopic, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		fmt.Fprintf(env.Stderr, "kafka-qdrant ctl: warning: %v\n", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var after map[int32]int64
	if req.wait {
		// Where the status topic ends now: an event of this id before
		// it answers an earlier command with the same id.
		ends, err := kadm.NewClient(cl).ListEndOffsets(pctx, env.Control.StatusTopic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return fmt.Errorf("reading the end of %s: %w", env.Control.StatusTopic, err)
		}
		after = map[int32]int64{}
		ends.Each(func(o kadm.ListedOffset) { after[o.Partition] = o.Offset })
	}
	rec := &kgo.Record{Topic: env.Control.Topic, Key: []byte(req.cmd.ID), Value: req.value, Headers: headers}
	if err := cl.ProduceSync(pctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("sending command %s to %s: %w", req.cmd.ID, env.Control.Topic, err)
	}
	switch {
	case req.json && !req.wait:
		fmt.Fprintf(env.Stdout, "{\"id\":%q}\n", req.cmd.ID)
	case !req.json:
		fmt.Fprintf(env.Stdout, "sent %s %s\n", req.cmd.Type, req.cmd.ID)
	}
	if !req.wait {
		return nil
	}
	s := &sent{partition: rec.Partition, offset: rec.Offset, key: rec.Key, value: rec.Value, after: after}
	return waitFinal(ctx, env, req.cmd.ID, req.limit, printer{w: env.Stdout, json: req.json}, s)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9._:@+=/-]+`)

// generateID returns "<type>-<collection or target>-<8 hex>".
func generateID(c schemas.Command) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	id := string(c.Type)
	if id == "" {
		id = "cmd"
	}
	if obj := c.Collection + c.Target; obj != "" {
		id += "-" + unsafeID.ReplaceAllString(obj, "-")
	}
	id += "-" + hex.EncodeToString(b[:])
	if len(id) > schemas.MaxIDLength {
		id = id[len(id)-schemas.MaxIDLength:]
	}
	return id
}

// readCommand reads a command for `ctl send` from a file or stdin ("-").
// It must be a JSON object; its id, when present, must match --id.
func readCommand(path, flagID string) (schemas.Command, []byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return schemas.Command{}, nil, usageErrorf("reading command: %v", err)
	}
	b = bytes.TrimSpace(b)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return schemas.Command{}, nil, usageErrorf("reading command from %s: not a JSON object: %v", path, err)
	}
	var c schemas.Command
	for k, dst := range map[string]any{"id": &c.ID, "type": &c.Type, "collection": &c.Collection, "target": &c.Target} {
		if raw, ok := obj[k]; ok {
			_ = json.Unmarshal(raw, dst) // a wrong type is the runner's to report
		}
	}
	if c.ID != "" && flagID != "" && c.ID != flagID {
		return c, nil, usageErrorf("--id %q differs from the id %q in %s", flagID, c.ID, path)
	}
	return c, b, nil
}

// withID sets "id" in the JSON object value when it has none.
func withID(value []byte, id string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(value, &obj); err != nil {
		return nil, usageErrorf("command is not a JSON object: %v", err)
	}
	if _, ok := obj["id"]; ok {
		return value, nil
	}
	obj["id"] = mustJSON(id)
	return json.Marshal(obj)
}
