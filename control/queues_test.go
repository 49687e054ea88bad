package control

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// gates is a handler whose commands run until released; it records which
// ran at the same time. Restores touch their target (as the backup
// handlers' restore does).
type gates struct {
	mu      sync.Mutex
	open    map[string]chan struct{}
	running []string
	started []string
	// together lists, at each start, what else was running.
	together map[string][]string
}

func newGates() *gates {
	return &gates{open: map[string]chan struct{}{}, together: map[string][]string{}}
}

func (g *gates) gate(id string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open[id] == nil {
		g.open[id] = make(chan struct{})
	}
	return g.open[id]
}

// waitStarted waits until command id's handler runs.
func (g *gates) waitStarted(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		ok := slices.Contains(g.started, id)
		g.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never started", id)
		}
		time.Sleep(5 * time.Millisecond) // polling the handler's record, bounded by the deadline
	}
}

func (g *gates) Validate(schemas.Command) error { return nil }

func (g *gates) Run(ctx context.Context, cmd schemas.Command, _ job.Reporter) (any, error) {
	gate := g.gate(cmd.ID)
	g.mu.Lock()
	g.together[cmd.ID] = slices.Clone(g.running)
	g.running = append(g.running, cmd.ID)
	g.started = append(g.started, cmd.ID)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running = slices.DeleteFunc(g.running, func(id string) bool { return id == cmd.ID })
		g.mu.Unlock()
	}()
	select {
	case <-gate:
		return nil, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (g *gates) Touches(cmd schemas.Command) []string {
	if cmd.Type != schemas.CommandRestore {
		return nil
	}
	p, err := schemas.RestoreParamsOf(cmd)
	if err != nil {
		return nil
	}
	return []string{p.Target, p.Alias}
}

// TestCommandsOfACollectionQueue: commands touching the same collection
// run one at a time in arrival order, whether it is their own collection
// or a restore's target; others run at once.
func TestCommandsOfACollectionQueue(t *testing.T) {
	e := newEnv(t)
	g := newGates()
	e.startRunner("kq-a", func(c *RunnerConfig) {
		c.Handlers = map[schemas.CommandType]job.Handler{schemas.CommandBackup: g, schemas.CommandRestore: g}
	})
	restore := func(id, collection, target string) schemas.Command {
		return schemas.Command{ID: id, Type: schemas.CommandRestore, Collection: collection,
			Params: json.RawMessage(`{"target": "` + target + `", "overwrite": true}`)}
	}
	e.sendCmd(schemas.Command{ID: "backup-x", Type: schemas.CommandBackup, Collection: "x"})
	e.log.waitState("backup-x", schemas.StateRunning, nil)
	// Into x while x is backed up: waits. Then a backup of y, the
	// restore's source: waits behind the restore.
	e.sendCmd(restore("restore-y-into-x", "y", "x"))
	e.log.waitState("restore-y-into-x", schemas.StateAccepted, nil)
	e.sendCmd(schemas.Command{ID: "backup-y", Type: schemas.CommandBackup, Collection: "y"})
	e.log.waitState("backup-y", schemas.StateAccepted, nil)
	// Another collection runs at once.
	e.sendCmd(schemas.Command{ID: "backup-z", Type: schemas.CommandBackup, Collection: "z"})
	g.waitStarted(t, "backup-z")

	close(g.gate("backup-x"))
	e.log.waitFinal("backup-x")
	e.log.waitState("restore-y-into-x", schemas.StateRunning, nil)
	close(g.gate("restore-y-into-x"))
	e.log.waitFinal("restore-y-into-x")
	g.waitStarted(t, "backup-y")
	close(g.gate("backup-y"))
	close(g.gate("backup-z"))
	e.log.waitFinal("backup-y")
	e.log.waitFinal("backup-z")

	g.mu.Lock()
	defer g.mu.Unlock()
	if want := []string{"backup-x", "backup-z", "restore-y-into-x", "backup-y"}; !slices.Equal(g.started, want) {
		t.Fatalf("started %v, want %v", g.started, want)
	}
	for id, others := range map[string][]string{"restore-y-into-x": {"backup-z"}, "backup-y": {"backup-z"}} {
		if !slices.Equal(g.together[id], others) {
			t.Fatalf("%s ran beside %v, want only %v", id, g.together[id], others)
		}
	}
}
