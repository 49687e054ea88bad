package control

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// kcatSigned is the README's way to send a signed command with kcat: the
// signature computed by openssl over the value exactly as sent.
const kcatSigned = `cmd='{"id":"'"$ID"'","type":"index_defer","collection":"'"$COLL"'","issued_at":"'"${ISSUED:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}"'"}'
sig=$(printf '%s' "$cmd" | openssl dgst -sha256 -hmac "$SECRET" | awk '{print $NF}')
printf '%s\n' "$cmd" | kcat -P -b "$BROKERS" -t "$TOPIC" -k "$ID" -H kq.auth.key="$KEY" -H kq.auth.signature="$sig"
printf '%s\n' "$cmd" >"$OUT.value"; printf '%s' "$sig" >"$OUT.sig"`

// TestE2EAuthKcat: commands signed with kcat and openssl on the real
// broker. The runner's clock is an hour ahead, so every window check
// passes only because it uses the broker's append time (the control topic
// is LogAppendTime): a command waiting in the topic is judged by when it
// arrived. A signed command replayed under a new id, an unsigned one and
// one issued an hour before it arrived are refused with nothing done; the
// same signed record replayed gets its command's own final again.
//
//	KQ_E2E_KAFKA_BROKERS=127.0.0.1:9092 go test -run TestE2EAuthKcat -v ./control/
func TestE2EAuthKcat(t *testing.T) {
	e := newRealEnv(t, nil)
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed (apt-get install kcat): the e2e run needs it")
	}
	withAuth(e)
	movies := e.coll("movies")
	e.createCollection(movies, 300)
	e.startRunner("kq-a", func(c *RunnerConfig) { c.Clock = offsetClock{time.Hour} })

	dir := t.TempDir()
	send := func(id, key, secret, issued string) (value, sig string) {
		t.Helper()
		cmd := exec.Command("bash", "-c", kcatSigned)
		cmd.Env = append(cmd.Environ(), "ID="+id, "COLL="+movies, "KEY="+key, "SECRET="+secret, "ISSUED="+issued,
			"BROKERS="+strings.Join(e.brokers, ","), "TOPIC="+e.ctlTopic, "OUT="+dir+"/"+id)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat/openssl: %v\n%s", err, out)
		}
		v, _ := exec.Command("cat", dir+"/"+id+".value").Output()
		s, _ := exec.Command("cat", dir+"/"+id+".sig").Output()
		return strings.TrimSuffix(string(v), "\n"), string(s)
	}
	raw := func(key string, value string, headers ...string) {
		t.Helper()
		args := []string{"-P", "-b", strings.Join(e.brokers, ","), "-t", e.ctlTopic, "-k", key}
		for _, h := range headers {
			args = append(args, "-H", h)
		}
		cmd := exec.Command(kcat, args...)
		cmd.Stdin = strings.NewReader(value + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat -P: %v\n%s", err, out)
		}
	}
	refused := func(claimed, msg string) {
		t.Helper()
		evs := e.log.waitFor("", "the refusal of "+claimed, func(evs []schemas.Status) bool {
			for _, s := range evs {
				if s.Record != nil && s.Record.ID == claimed {
					return true
				}
			}
			return false
		})
		for _, s := range evs {
			if s.Record == nil || s.Record.ID != claimed {
				continue
			}
			if !strings.HasPrefix(s.CommandID, "kq-invalid-") || s.State != schemas.StateFailed || s.Error == nil ||
				s.Error.Code != schemas.ErrUnauthorized || !strings.Contains(s.Error.Message, msg) {
				t.Fatalf("refusal of %s: %+v %+v, want failed/unauthorized containing %q", claimed, s, s.Error, msg)
			}
		}
	}

	value, sig := send("defer-1", "ci", ciSecret, "")
	if fin := e.log.waitFinal("defer-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("defer-1 signed with openssl: %+v %+v", fin, fin.Error)
	}
	// The same command under a new id, with defer-1's signature.
	raw("defer-1b", strings.Replace(value, `"defer-1"`, `"defer-1b"`, 1), "kq.auth.key=ci", "kq.auth.signature="+sig)
	refused("defer-1b", "does not match the record value")
	raw("defer-2", `{"id":"defer-2","type":"index_defer","collection":"`+movies+`"}`)
	refused("defer-2", "not signed")
	send("defer-3", "ci", ciSecret, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	refused("defer-3", "control.auth.window is 5m0s")
	send("defer-4", "ci", opsSecret, "")
	refused("defer-4", "does not match")
	// The exact record again: defer-1's own final, not a second run.
	raw("defer-1", value, "kq.auth.key=ci", "kq.auth.signature="+sig)
	evs := e.log.waitFor("defer-1", "the re-published final", func(evs []schemas.Status) bool { return finals(evs) == 2 })
	if count(evs, schemas.StateAccepted) != 1 || evs[len(evs)-1].State != schemas.StateSucceeded {
		t.Fatalf("the replayed record ran again:\n%s", dump(evs))
	}
	for _, id := range []string{"defer-1b", "defer-2", "defer-3", "defer-4"} {
		if evs := e.log.events(id); len(evs) != 0 {
			t.Fatalf("refused %s has events under its own id:\n%s", id, dump(evs))
		}
	}
	e.waitCommitted(e.endOffset())
}
