package control

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

const updateMethod = "/qdrant.Collections/Update"

func TestDuplicateID(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.log.waitFinal("defer-1")
	updatesBefore := e.qs.CallCount(updateMethod)

	// Three copies while the first is in flight: it runs once.
	build := schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"}
	e.sendCmd(build)
	e.log.waitState("build-1", schemas.StateRunning, yellow)
	e.sendCmd(build)
	e.sendCmd(build)
	e.clock.Advance(10 * time.Second)
	fin := e.log.waitFinal("build-1")
	if fin.State != schemas.StateSucceeded {
		t.Fatalf("build-1 %+v", fin)
	}
	e.waitCommitted(e.endOffset()) // the duplicates completed with it
	evs := e.log.events("build-1")
	if count(evs, schemas.StateAccepted) != 1 || finals(evs) != 1 {
		t.Fatalf("in-flight duplicates were not merged:\n%s", dump(evs))
	}
	if n := e.qs.CallCount(updateMethod) - updatesBefore; n != 1 {
		t.Fatalf("index_build updated the collection %d times, want 1", n)
	}

	// Once final, a duplicate re-publishes the same final status and does
	// not run again.
	e.sendCmd(build)
	e.log.waitFor("build-1", "the re-published final", func(evs []schemas.Status) bool { return finals(evs) == 2 })
	e.waitCommitted(e.endOffset())
	evs = e.log.events("build-1")
	again := evs[len(evs)-1]
	a, _ := json.Marshal(fin)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Fatalf("re-published final differs:\n%s\n%s", a, b)
	}
	if count(evs, schemas.StateAccepted) != 1 || count(evs[len(evs)-2:], schemas.StateRunning) != 0 {
		t.Fatalf("the duplicate ran again:\n%s", dump(evs))
	}
	if n := e.qs.CallCount(updateMethod) - updatesBefore; n != 1 {
		t.Fatalf("collection updated %d times after the duplicate, want still 1", n)
	}
}

// A new runner (no memory of its own) learns finals from the status topic.
func TestFinalsSurviveRestart(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 100)
	a := e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.log.waitFinal("defer-1")
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	updates := e.qs.CallCount(updateMethod)
	e.startRunner("kq-b")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	evs := e.log.waitFor("defer-1", "a second final", func(evs []schemas.Status) bool { return finals(evs) == 2 })
	if last := evs[len(evs)-1]; last.Replica != "kq-a" || last.State != schemas.StateSucceeded {
		t.Fatalf("re-published final %+v, want kq-a's succeeded status", last)
	}
	if e.qs.CallCount(updateMethod) != updates {
		t.Fatal("the command ran again on the new runner")
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.log.waitFinal("defer-1")

	// build-1 runs (the clock is frozen); build-2 on the same collection
	// queues behind it.
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.log.waitState("build-1", schemas.StateRunning, yellow)
	e.sendCmd(schemas.Command{ID: "build-2", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.log.waitState("build-2", schemas.StateAccepted, nil)

	tests := []struct {
		name, id, target      string
		wantState             schemas.State
		wantCode, wantMessage string
		targetState           schemas.State
		targetMessage         string
	}{
		{name: "queued target never runs", id: "cancel-2", target: "build-2", wantState: schemas.StateSucceeded,
			targetState: schemas.StateCancelled, targetMessage: "cancelled by command cancel-2 before it started"},
		{name: "running target stops", id: "cancel-1", target: "build-1", wantState: schemas.StateSucceeded,
			targetState: schemas.StateCancelled, targetMessage: "cancelled by command cancel-1"},
		{name: "already cancelled target: succeeds again", id: "cancel-1b", target: "build-1", wantState: schemas.StateSucceeded},
		{name: "finished target", id: "cancel-3", target: "defer-1", wantState: schemas.StateFailed,
			wantCode: schemas.ErrNotCancellable, wantMessage: "command defer-1 already succeeded"},
		{name: "unknown target", id: "cancel-4", target: "nope", wantState: schemas.StateFailed,
			wantCode: schemas.ErrNotFound, wantMessage: "command nope is not running"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.sendCmd(schemas.Command{ID: tc.id, Type: schemas.CommandCancel, Target: tc.target})
			fin := e.log.waitFinal(tc.id)
			if fin.State != tc.wantState {
				t.Fatalf("%s ended %s %+v, want %s", tc.id, fin.State, fin.Error, tc.wantState)
			}
			if tc.wantCode != "" && (fin.Error == nil || fin.Error.Code != tc.wantCode || !strings.Contains(fin.Error.Message, tc.wantMessage)) {
				t.Fatalf("%s error %+v, want %s containing %q", tc.id, fin.Error, tc.wantCode, tc.wantMessage)
			}
			if tc.wantState == schemas.StateSucceeded {
				var res CancelResult
				if err := json.Unmarshal(fin.Result, &res); err != nil || res.Target != tc.target || res.TargetState != schemas.StateCancelled {
					t.Fatalf("cancel result %s", fin.Result)
				}
			}
			if tc.targetState != "" {
				tf := e.log.waitFinal(tc.target)
				if tf.State != tc.targetState || tf.Error == nil || tf.Error.Code != schemas.ErrCancelled || tf.Error.Message != tc.targetMessage {
					t.Fatalf("target %s ended %s %+v", tc.target, tf.State, tf.Error)
				}
			}
		})
	}
	if n := count(e.log.events("build-2"), schemas.StateRunning); n != 0 {
		t.Fatalf("cancelled queued build-2 ran (%d running events)", n)
	}
	e.waitCommitted(e.endOffset())
}

func TestMalformedCommands(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 100)
	e.startRunner("kq-a")
	// An id in use, for the "typo must not overwrite" case.
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.log.waitFinal("defer-1")

	tests := []struct {
		name, key, value string
		id               string // "" = a generated kq-invalid-… id
		code, message    string
	}{
		{name: "invalid JSON with key", key: "bad-1", value: `{"id":"bad-1",`, id: "bad-1", code: schemas.ErrInvalidCommand, message: "invalid JSON"},
		{name: "invalid JSON without key", value: `not json`, code: schemas.ErrInvalidCommand, message: "decoding command: invalid JSON"},
		{name: "empty value", key: "bad-2", value: ``, id: "bad-2", code: schemas.ErrInvalidCommand, message: "command value is empty"},
		{name: "no id anywhere", value: `{"type":"index_defer","collection":"movies"}`, code: schemas.ErrInvalidCommand, message: "command has no id"},
		{name: "unknown type", value: `{"id":"bad-3","type":"frobnicate"}`, id: "bad-3", code: schemas.ErrUnknownType, message: `unknown command type "frobnicate"; known types: backup,`},
		{name: "known but unsupported", value: `{"id":"bad-4","type":"backup","collection":"movies"}`, id: "bad-4", code: schemas.ErrUnsupported, message: `command type "backup" is not supported`},
		{name: "missing collection", value: `{"id":"bad-5","type":"index_build"}`, id: "bad-5", code: schemas.ErrInvalidParameters, message: "index_build needs a collection"},
		{name: "invalid parameter", value: `{"id":"bad-6","type":"index_build","collection":"movies","params":{"m":0}}`, id: "bad-6", code: schemas.ErrInvalidParameters, message: "m must be >= 1"},
		{name: "unknown parameter", value: `{"id":"bad-7","type":"index_defer","collection":"movies","params":{"mod":"x"}}`, id: "bad-7", code: schemas.ErrInvalidParameters, message: `unknown field "mod"`},
		{name: "unknown collection", value: `{"id":"bad-8","type":"index_defer","collection":"nope"}`, id: "bad-8", code: schemas.ErrCollectionNotFound, message: `collection "nope" does not exist`},
		{name: "key differs from id", key: "k-9", value: `{"id":"bad-9","type":"index_defer","collection":"movies"}`, id: "bad-9", code: schemas.ErrInvalidCommand, message: `record key "k-9" differs from the command id "bad-9"`},
		{name: "typo reusing a final id gets its own id", value: `{"id":"defer-1","type":"index_defer","colection":"movies"}`,
			code: schemas.ErrInvalidCommand, message: `unknown field "colection" (command id "defer-1" belongs to another command`},
		{name: "cancel without target", value: `{"id":"bad-10","type":"cancel"}`, id: "bad-10", code: schemas.ErrInvalidParameters, message: "cancel needs a target"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.send(tc.key, tc.value)
			var fin schemas.Status
			if tc.id != "" {
				fin = e.log.waitFinal(tc.id)
			} else {
				e.log.waitFor("", "a generated-id failure", func(evs []schemas.Status) bool {
					for _, s := range evs {
						if strings.HasPrefix(s.CommandID, "kq-invalid-") && s.Error != nil && strings.Contains(s.Error.Message, tc.message) {
							fin = s
							return true
						}
					}
					return false
				})
			}
			if fin.State != schemas.StateFailed || fin.Error == nil || fin.Error.Code != tc.code || !strings.Contains(fin.Error.Message, tc.message) {
				t.Fatalf("got %s %+v, want failed %s containing %q", fin.State, fin.Error, tc.code, tc.message)
			}
		})
	}
	// The runner is still alive and did not lose its place.
	e.waitCommitted(e.endOffset())
	if n := finals(e.log.events("defer-1")); n != 1 {
		t.Fatalf("defer-1 got %d finals: a malformed command overwrote it", n)
	}
	e.sendCmd(schemas.Command{ID: "ok-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.log.waitState("ok-1", schemas.StateRunning, yellow)
	e.clock.Advance(time.Second)
	if fin := e.log.waitFinal("ok-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("ok-1 after bad commands: %+v", fin)
	}
}

// Commands on different collections run at once; on one collection, in order.
func TestConcurrencyByCollection(t *testing.T) {
	e := newEnv(t)
	e.createCollection("a", 2000)
	e.createCollection("b", 2000)
	e.startRunner("kq-a")
	for _, c := range []string{"a", "b"} {
		e.sendCmd(schemas.Command{ID: "defer-" + c, Type: schemas.CommandIndexDefer, Collection: c})
	}
	for _, c := range []string{"a", "b"} {
		e.log.waitFinal("defer-" + c)
	}
	e.sendCmd(schemas.Command{ID: "build-a", Type: schemas.CommandIndexBuild, Collection: "a"})
	e.sendCmd(schemas.Command{ID: "defer-a2", Type: schemas.CommandIndexDefer, Collection: "a"})
	e.sendCmd(schemas.Command{ID: "build-b", Type: schemas.CommandIndexBuild, Collection: "b"})
	// Both builds run at once with the clock frozen...
	e.log.waitState("build-a", schemas.StateRunning, yellow)
	e.log.waitState("build-b", schemas.StateRunning, yellow)
	// ...while defer-a2 waits for build-a.
	e.log.waitState("defer-a2", schemas.StateAccepted, nil)
	if n := count(e.log.events("defer-a2"), schemas.StateRunning); n != 0 {
		t.Fatal("defer-a2 started while build-a ran on the same collection")
	}
	e.clock.Advance(10 * time.Second)
	fa, fb, fd := e.log.waitFinal("build-a"), e.log.waitFinal("build-b"), e.log.waitFinal("defer-a2")
	if fa.State != schemas.StateSucceeded || fb.State != schemas.StateSucceeded || fd.State != schemas.StateSucceeded {
		t.Fatalf("finals %s %s %s", fa.State, fb.State, fd.State)
	}
	if !fd.Time.After(fa.Time) && !fd.Time.Equal(fa.Time) {
		t.Fatalf("defer-a2 ended before build-a")
	}
	if m := e.hnswM("a"); m != 0 {
		t.Fatalf("a: m=%d, want 0 (defer-a2 ran after build-a)", m)
	}
}
