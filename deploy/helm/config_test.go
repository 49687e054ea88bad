package helm

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/testpki"
)

// rendered is what a replica of a rendering gets: its config file and the
// KQ__ environment of the chart's Secret.
type rendered struct {
	configYAML string
	env        []string // KEY=value
}

func replicaInput(t *testing.T, objs []object) rendered {
	t.Helper()
	cm := find(t, objs, "ConfigMap", "-config")
	data, _ := dig(cm.Map, "data").(map[string]any)
	r := rendered{configYAML: data["config.yaml"].(string)}
	for _, o := range objs {
		if o.Kind != "Secret" {
			continue
		}
		for k, v := range dig(o.Map, "data").(map[string]any) {
			b, err := base64.StdEncoding.DecodeString(v.(string))
			if err != nil {
				t.Fatalf("Secret %s key %s: %v", o.Name, k, err)
			}
			r.env = append(r.env, k+"="+string(b))
		}
	}
	return r
}

// TestEveryConfigKeyReachable sets every key of config/example.yaml through
// values (the secret keys to non-empty values) and checks that each one
// reaches the replica: the plain keys in the ConfigMap's config file with
// the value given, the secret keys only in the Secret, as KQ__ variables;
// that the replica loads from them exactly the config the values describe;
// and that `kafka-qdrant validate --offline` accepts it. The keys come from
// example.yaml and config.Keys, so keys added later are covered.
func TestEveryConfigKeyReachable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "config", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfgTree map[string]any
	if err := yaml.Unmarshal(raw, &cfgTree); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{} // KQ__ variable -> value
	for _, k := range config.Keys() {
		envName := "KQ__" + strings.ToUpper(strings.ReplaceAll(k.Name, ".", "__"))
		v := "secret-value-of-" + strings.ReplaceAll(k.Name, ".", "-")
		switch k.Kind {
		case config.KindSecret:
			secrets[envName] = v
			setKey(cfgTree, k.Name, v)
		case config.KindSecretMap:
			secrets[envName+"__OPS"] = v + "-ops"
			secrets[envName+"__CI_BOT"] = v + "-ci_bot"
			setKey(cfgTree, k.Name, map[string]any{"ops": v + "-ops", "ci_bot": v + "-ci_bot"})
		}
	}
	// What the secrets need to be valid: a SASL mechanism and user for the
	// password, an access key id for the secret key, a registry user.
	setKey(cfgTree, "kafka.sasl.mechanism", "SCRAM-SHA-512")
	setKey(cfgTree, "kafka.sasl.username", "kafka-qdrant")
	setKey(cfgTree, "backup.s3.access_key_id", "AKIAEXAMPLE")
	setKey(cfgTree, "schema_registry.username", "kafka-qdrant")
	setKey(cfgTree, "routing.topics", map[string]any{"vectors": "movies"})
	setKey(cfgTree, "control.auth.commands", map[string]any{"ops": "*", "ci_bot": "index_defer,index_build"})

	valuesYAML, err := yaml.Marshal(map[string]any{"config": cfgTree})
	if err != nil {
		t.Fatal(err)
	}
	valuesFile := writeFile(t, "values.yaml", valuesYAML)
	in := replicaInput(t, objects(t, mustRender(t, []string{valuesFile})))

	var got map[string]any
	if err := yaml.Unmarshal([]byte(in.configYAML), &got); err != nil {
		t.Fatalf("rendered config: %v\n%s", err, in.configYAML)
	}
	env := map[string]string{}
	for _, kv := range in.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	keys := config.Keys()
	if len(keys) < 50 {
		t.Fatalf("config.Keys() has only %d keys", len(keys))
	}
	for envName, v := range secrets {
		if env[envName] != v {
			t.Errorf("secret: Secret has %s=%q, want %q from values", envName, env[envName], v)
		}
		if strings.Contains(in.configYAML, v) {
			t.Errorf("secret %s is in the ConfigMap", envName)
		}
	}
	for _, k := range keys {
		if k.Kind == config.KindSecret || k.Kind == config.KindSecretMap {
			continue
		}
		want, wok := lookupKey(cfgTree, k.Name)
		have, hok := lookupKey(got, k.Name)
		if !wok {
			t.Errorf("config/example.yaml does not set %s", k.Name)
			continue
		}
		if !hok || !reflect.DeepEqual(have, want) {
			t.Errorf("config key %s: rendered %v (present %v), values %v", k.Name, have, hok, want)
		}
	}

	// The replica loads the same config from the rendering as from the
	// values' config section.
	renderedFile := writeFile(t, "config.yaml", []byte(in.configYAML))
	fromChart, err := config.Load(renderedFile, in.env, nil)
	if err != nil {
		t.Fatalf("loading the rendered config: %v", err)
	}
	cfgYAML, err := yaml.Marshal(cfgTree)
	if err != nil {
		t.Fatal(err)
	}
	fromValues, err := config.Load(writeFile(t, "direct.yaml", cfgYAML), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromChart, fromValues) {
		t.Errorf("the rendered config loads differently from the values:\n chart  %+v\n values %+v", fromChart, fromValues)
	}
	validateOffline(t, renderedFile, in.env)
}

// TestRenderedConfigValidates runs `kafka-qdrant validate --offline` on the
// config and Secret of every values case, with the TLS Secrets' files
// present where the chart mounts them.
func TestRenderedConfigValidates(t *testing.T) {
	mount := t.TempDir()
	ca := testpki.New(t)
	leaf := ca.Issue(t, "kafka-qdrant", x509.ExtKeyUsageClientAuth)
	for dir, files := range map[string]map[string]string{
		"kafka":  {"ca.crt": ca.File, "tls.crt": leaf.CertFile, "tls.key": leaf.KeyFile},
		"qdrant": {"ca.crt": ca.File},
	} {
		if err := os.MkdirAll(filepath.Join(mount, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, src := range files {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(mount, dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range valuesCases(t) {
		t.Run(caseName(f), func(t *testing.T) {
			in := replicaInput(t, objects(t, mustRender(t, []string{f}, "tls.mountPath="+mount)))
			env := in.env
			if strings.Contains(in.configYAML, "mechanism") && len(env) == 0 {
				// secret.existingSecret: the cluster's Secret holds the
				// password.
				env = append(env, "KQ__KAFKA__SASL__PASSWORD=from-the-existing-secret")
			}
			validateOffline(t, writeFile(t, "config.yaml", []byte(in.configYAML)), env)
		})
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// validateOffline runs the kafka-qdrant binary (built once per run) as
// `validate --offline --config file` with env, and fails unless it exits 0.
func validateOffline(t *testing.T, file string, env []string) {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kq-helm-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "kafka-qdrant")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/kafka-qdrant").CombinedOutput()
		if err != nil {
			binErr = err
			binPath = string(out)
		}
	})
	if binErr != nil {
		t.Fatalf("building kafka-qdrant: %v\n%s", binErr, binPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "validate", "--offline", "--config", file)
	cmd.Env = append(cleanEnv(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		cfg, _ := os.ReadFile(file)
		t.Fatalf("kafka-qdrant validate --offline: %v\n%s\nconfig:\n%s", err, out.String(), cfg)
	}
	if !strings.Contains(out.String(), "ok   config") {
		t.Errorf("validate --offline output lacks the config line:\n%s", out.String())
	}
}

// cleanEnv is the test's environment without KQ__ variables.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KQ__") {
			out = append(out, kv)
		}
	}
	return out
}

func setKey(tree map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	m := tree
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

func lookupKey(tree map[string]any, key string) (any, bool) {
	var cur any = tree
	for _, p := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}
