package control

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/auth"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

const (
	opsSecret = "ops-secret-0123456789abcdef0123456789"
	ciSecret  = "ci-secret-0123456789abcdef01234567890"
)

// withAuth requires signed commands: key ops may send anything, ci only
// index builds.
func withAuth(e *env) {
	e.cfg.Control.Auth = config.ControlAuth{
		Keys:     map[string]config.Secret{"ops": opsSecret, "ci": ciSecret},
		Commands: map[string]string{"ops": "*", "ci": "index_defer,index_build"},
		Window:   5 * time.Minute,
	}
}

// signedValue is c as JSON with issued_at (now when zero).
func signedValue(c schemas.Command) []byte {
	if c.IssuedAt.IsZero() {
		c.IssuedAt = time.Now().UTC().Truncate(time.Second)
	}
	b, _ := json.Marshal(c)
	return b
}

// produce writes rec to the control topic and returns it with its offset.
func (e *env) produce(rec *kgo.Record) *kgo.Record {
	e.t.Helper()
	res, err := e.prod.ProduceSync(e.t.Context(), rec).First()
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// sendSigned sends value under key id signed with secret (as keyID).
func (e *env) sendSigned(keyID, secret string, id string, value []byte) *kgo.Record {
	e.t.Helper()
	return e.produce(&kgo.Record{Key: []byte(id), Value: value, Headers: []kgo.RecordHeader{
		{Key: auth.HeaderKey, Value: []byte(keyID)},
		{Key: auth.HeaderSignature, Value: []byte(auth.Sign([]byte(secret), value))},
	}})
}

// unauthorized waits for the failed/unauthorized status of rec (under its
// generated id) and checks that it names the record and the claimed id.
func (e *env) unauthorized(t *testing.T, rec *kgo.Record, claimed, msg string) schemas.Status {
	t.Helper()
	id := schemas.InvalidCommandID(rec.Partition, rec.Offset, rec.Key, rec.Value)
	fin := e.log.waitFinal(id)
	if fin.State != schemas.StateFailed || fin.Error == nil || fin.Error.Code != schemas.ErrUnauthorized || !strings.Contains(fin.Error.Message, msg) {
		t.Fatalf("record at %d: %+v %+v, want failed/unauthorized containing %q", rec.Offset, fin, fin.Error, msg)
	}
	if fin.Record == nil || fin.Record.Offset != rec.Offset || fin.Record.ID != claimed {
		t.Fatalf("record at %d: status names record %+v, want offset %d and id %q", rec.Offset, fin.Record, rec.Offset, claimed)
	}
	if evs := e.log.events(id); len(evs) != 1 {
		t.Fatalf("unauthorized record at %d has %d events, want only its failed status:\n%s", rec.Offset, len(evs), dump(evs))
	}
	for _, s := range []string{opsSecret, ciSecret} {
		if strings.Contains(fin.Error.Message, s) {
			t.Fatalf("status shows a secret: %s", fin.Error.Message)
		}
	}
	return fin
}

// TestAuthorization: with control.auth, only commands signed by a key that
// may send their type run; every other record ends failed/unauthorized
// under its generated id and does nothing: no accepted event, no change
// in Qdrant, no effect on the command whose id or target it names.
func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	withAuth(e)
	e.createCollection("movies", 3000)
	rn := e.startRunner("kq-a")

	deferCmd := signedValue(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.sendSigned("ci", ciSecret, "defer-1", deferCmd)
	if fin := e.log.waitFinal("defer-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("signed index_defer: %+v %+v", fin, fin.Error)
	}
	if m := e.hnswM("movies"); m != 0 {
		t.Fatalf("m = %d after index_defer", m)
	}
	// build-1 runs until the clock moves.
	build := signedValue(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	buildRec := e.sendSigned("ci", ciSecret, "build-1", build)
	e.log.waitState("build-1", schemas.StateRunning, yellow)
	updates := e.qs.CallCount(updateMethod)

	cancelBuild := signedValue(schemas.Command{ID: "cancel-1", Type: schemas.CommandCancel, Target: "build-1"})
	other := signedValue(schemas.Command{ID: "build-other", Type: schemas.CommandIndexBuild, Collection: "movies"})
	forged := []byte(strings.Replace(string(build), `"build-1"`, `"build-1b"`, 1))
	cases := []struct {
		name, claimed, msg string
		rec                *kgo.Record
		reason             auth.Reason
	}{
		{name: "unsigned cancel of a running command", claimed: "cancel-1", msg: "not signed", reason: auth.ReasonUnsigned,
			rec: &kgo.Record{Key: []byte("cancel-1"), Value: cancelBuild}},
		{name: "cancel by a key that may not send cancel", claimed: "cancel-1", msg: `key "ci" may not send "cancel"`, reason: auth.ReasonNotPermitted,
			rec: signedRecord("ci", ciSecret, "cancel-1", cancelBuild)},
		{name: "restore by a key that may not send restore", claimed: "restore-1", msg: `may not send "restore"`, reason: auth.ReasonNotPermitted,
			rec: signedRecord("ci", ciSecret, "restore-1", signedValue(schemas.Command{ID: "restore-1", Type: schemas.CommandRestore, Collection: "movies"}))},
		{name: "unsigned record reusing the running command's id", claimed: "build-1", msg: "not signed", reason: auth.ReasonUnsigned,
			rec: &kgo.Record{Key: []byte("build-1"), Value: []byte(`{"id":"build-1","type":"index_defer","collection":"movies"}`)}},
		{name: "signed command replayed under a new id", claimed: "build-1b", msg: "does not match", reason: auth.ReasonBadSignature,
			rec: &kgo.Record{Key: []byte("build-1b"), Value: forged, Headers: buildRec.Headers}},
		{name: "signed with another key's secret", claimed: "build-other", msg: "does not match", reason: auth.ReasonBadSignature,
			rec: signedRecord("ops", ciSecret, "build-other", other)},
		{name: "unknown key", claimed: "build-other", msg: `unknown key "root"`, reason: auth.ReasonUnknownKey,
			rec: signedRecord("root", ciSecret, "build-other", other)},
		{name: "issued an hour ago", claimed: "build-old", msg: "control.auth.window is 5m0s", reason: auth.ReasonExpired,
			rec: signedRecord("ci", ciSecret, "build-old", signedValue(schemas.Command{ID: "build-old", Type: schemas.CommandIndexBuild,
				Collection: "movies", IssuedAt: time.Now().Add(-time.Hour)}))},
		{name: "no issued_at", claimed: "build-now", msg: "no issued_at", reason: auth.ReasonIncomplete,
			rec: signedRecord("ci", ciSecret, "build-now", []byte(`{"id":"build-now","type":"index_build","collection":"movies"}`))},
		{name: "id only in the record key", claimed: "build-key", msg: "must carry its id in the value", reason: auth.ReasonIncomplete,
			rec: signedRecord("ci", ciSecret, "build-key", []byte(`{"type":"index_build","collection":"movies","issued_at":"`+time.Now().UTC().Format(time.RFC3339)+`"}`))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := metricValue(t, rn.reg, "kafka_qdrant_commands_unauthorized_total", map[string]string{"reason": string(tc.reason)})
			rec := e.produce(tc.rec)
			e.unauthorized(t, rec, tc.claimed, tc.msg)
			// Counted right after the status is published.
			deadline := time.Now().Add(5 * time.Second)
			for metricValue(t, rn.reg, "kafka_qdrant_commands_unauthorized_total", map[string]string{"reason": string(tc.reason)}) != before+1 {
				if time.Now().After(deadline) {
					t.Fatalf("unauthorized{reason=%s} is not %v", tc.reason, before+1)
				}
				time.Sleep(5 * time.Millisecond) // polling a counter, bounded by the deadline
			}
		})
	}
	for _, id := range []string{"cancel-1", "restore-1", "build-1b", "build-other", "build-old", "build-now", "build-key"} {
		if evs := e.log.events(id); len(evs) != 0 {
			t.Errorf("refused command %s has status events under its own id:\n%s", id, dump(evs))
		}
	}
	if evs := e.log.events("build-1"); finals(evs) != 0 || count(evs, schemas.StateAccepted) != 1 {
		t.Fatalf("build-1 was touched by the refused records:\n%s", dump(evs))
	}
	if n := e.qs.CallCount(updateMethod) - updates; n != 0 {
		t.Fatalf("refused records updated the collection %d times", n)
	}

	// build-1 goes on and succeeds; a cancel signed by ops would have
	// worked, and the exact record replayed gets build-1's own final.
	e.clock.Advance(10 * time.Second)
	fin := e.log.waitFinal("build-1")
	if fin.State != schemas.StateSucceeded {
		t.Fatalf("build-1: %+v %+v", fin, fin.Error)
	}
	e.produce(&kgo.Record{Key: buildRec.Key, Value: buildRec.Value, Headers: buildRec.Headers})
	evs := e.log.waitFor("build-1", "the re-published final", func(evs []schemas.Status) bool { return finals(evs) == 2 })
	if count(evs, schemas.StateAccepted) != 1 || evs[len(evs)-1].State != schemas.StateSucceeded {
		t.Fatalf("the replayed record ran again:\n%s", dump(evs))
	}
	e.waitCommitted(e.endOffset())
}

func signedRecord(keyID, secret, id string, value []byte) *kgo.Record {
	return &kgo.Record{Key: []byte(id), Value: value, Headers: []kgo.RecordHeader{
		{Key: auth.HeaderKey, Value: []byte(keyID)},
		{Key: auth.HeaderSignature, Value: []byte(auth.Sign([]byte(secret), value))},
	}}
}

// offsetClock is the real clock moved by d: a replica whose window check
// runs long after the command was sent.
type offsetClock struct{ d time.Duration }

func (c offsetClock) Now() time.Time                         { return time.Now().Add(c.d) }
func (c offsetClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TestAuthorizationSurvivesHandover: a signed command accepted once is not
// judged by its issued_at window again. The owner accepts build-1 and
// stops mid-build; the next owner handles the record when the window has
// long passed (its clock is an hour ahead) and resumes build-1 instead of
// refusing it. A new command it sees for the first time is refused.
func TestAuthorizationSurvivesHandover(t *testing.T) {
	e := newEnv(t)
	withAuth(e)
	e.createCollection("movies", 3000)
	a := e.startRunner("kq-a")
	e.sendSigned("ci", ciSecret, "defer-1", signedValue(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"}))
	e.log.waitFinal("defer-1")
	e.sendSigned("ci", ciSecret, "build-1", signedValue(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"}))
	e.log.waitState("build-1", schemas.StateRunning, yellow)
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}

	late := func(rc *RunnerConfig) { rc.Clock = offsetClock{time.Hour} }
	e.startRunner("kq-b", late)
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-b" })
	e.clock.Advance(10 * time.Second)
	if fin := e.log.waitFinal("build-1"); fin.State != schemas.StateSucceeded || fin.Replica != "kq-b" {
		t.Fatalf("build-1 after the handover: %+v %+v", fin, fin.Error)
	}
	rec := e.sendSigned("ci", ciSecret, "build-2", signedValue(schemas.Command{ID: "build-2", Type: schemas.CommandIndexBuild, Collection: "movies"}))
	e.unauthorized(t, rec, "build-2", "control.auth.window")
	e.waitCommitted(e.endOffset())
}

// TestAuthorizationOff: without keys, signature headers are ignored and
// unsigned commands run (the default).
func TestAuthorizationOff(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.produce(signedRecord("nobody", "x", "defer-2", signedValue(schemas.Command{ID: "defer-2", Type: schemas.CommandIndexDefer, Collection: "movies"})))
	for _, id := range []string{"defer-1", "defer-2"} {
		if fin := e.log.waitFinal(id); fin.State != schemas.StateSucceeded {
			t.Fatalf("%s: %+v %+v", id, fin, fin.Error)
		}
	}
}
