package control

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// readmeKcat returns the README's three lines that sign and send a
// command with openssl and kcat, made to send an index_defer of $ID on
// $COLL with key $KEY to $BROKERS/$TOPIC (issued at $ISSUED when set), and
// to keep the value and signature in $OUT.value and $OUT.sig: the test
// runs what users copy.
func readmeKcat(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, `cmd='{"id":"build-7"`) })
	if i < 0 || i+2 >= len(lines) || !strings.Contains(lines[i+2], "kcat -P") {
		t.Fatal("README.md has no kcat signing example starting with cmd='{\"id\":\"build-7\"")
	}
	script := strings.Join(lines[i:i+3], "\n")
	for old, repl := range map[string]string{
		`"build-7"`: `"'"$ID"'"`, "-k build-7": `-k "$ID"`, `"index_build"`: `"index_defer"`, `"movies"`: `"'"$COLL"'"`,
		"$(date -u +%FT%TZ)": `"${ISSUED:-$(date -u +%FT%TZ)}"`, "$KQ_CI_SECRET": "$SECRET", "kq.auth.key=ci": `kq.auth.key="$KEY"`,
		"localhost:9092": `"$BROKERS"`, "kafka-qdrant.control": `"$TOPIC"`,
	} {
		if !strings.Contains(script, old) {
			t.Fatalf("README's kcat example lacks %q:\n%s", old, script)
		}
		script = strings.ReplaceAll(script, old, repl)
	}
	return script + "\nprintf '%s' \"$cmd\" >\"$OUT.value\"; printf '%s' \"$sig\" >\"$OUT.sig\""
}

// TestE2EAuthKcat: commands signed with kcat and openssl on the real
// broker, as the README shows. The runner's clock is an hour ahead, so every window check
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
	script := readmeKcat(t)
	send := func(id, key, secret, issued string) (value, sig string) {
		t.Helper()
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = append(cmd.Environ(), "ID="+id, "COLL="+movies, "KEY="+key, "SECRET="+secret, "ISSUED="+issued,
			"BROKERS="+strings.Join(e.brokers, ","), "TOPIC="+e.ctlTopic, "OUT="+dir+"/"+id)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat/openssl: %v\n%s", err, out)
		}
		v, _ := exec.Command("cat", dir+"/"+id+".value").Output()
		s, _ := exec.Command("cat", dir+"/"+id+".sig").Output()
		return string(v), string(s)
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
