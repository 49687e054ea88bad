package helm

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the generated chart files and the golden renderings")

const (
	chartDir = "kafka-qdrant"
	repoRoot = "../.."
)

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helmBin returns the helm binary: $KQ_HELM, else the one scripts/helm.sh
// builds into the tool cache (building it on first use).
func helmBin(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() {
		if p := os.Getenv("KQ_HELM"); p != "" {
			helmPath = p
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command("bash", filepath.Join(repoRoot, "scripts", "helm.sh"), "path")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			helmErr = fmt.Errorf("scripts/helm.sh path: %v\n%s", err, stderr.String())
			return
		}
		helmPath = strings.TrimSpace(string(out))
	})
	if helmErr != nil {
		t.Fatal(helmErr)
	}
	return helmPath
}

// helm runs helm with args and returns its stdout, or an error carrying
// its stderr.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(helmBin(t), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// render is `helm template` of the chart as release "kq" in namespace "kq",
// with values files and --set flags.
func render(t *testing.T, valuesFiles []string, sets ...string) (string, error) {
	t.Helper()
	args := []string{"template", "kq", chartDir, "--namespace", "kq"}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return helm(t, args...)
}

// mustRender is render that fails the test on an error.
func mustRender(t *testing.T, valuesFiles []string, sets ...string) string {
	t.Helper()
	out, err := render(t, valuesFiles, sets...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// object is one document of a rendering.
type object struct {
	Kind, Name string
	YAML       []byte
	Map        map[string]any
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// objects splits a rendering into its objects.
func objects(t *testing.T, rendered string) []object {
	t.Helper()
	var out []object
	for _, doc := range docSep.Split(rendered, -1) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("rendered document is not YAML: %v\n%s", err, doc)
		}
		if m == nil {
			continue // comments only
		}
		kind, _ := m["kind"].(string)
		meta, _ := m["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		out = append(out, object{Kind: kind, Name: name, YAML: []byte(doc), Map: m})
	}
	return out
}

// find returns the object of kind whose name ends with suffix.
func find(t *testing.T, objs []object, kind, suffix string) object {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind && strings.HasSuffix(o.Name, suffix) {
			return o
		}
	}
	t.Fatalf("no %s named *%s in the rendering", kind, suffix)
	return object{}
}

// has reports whether objs hold an object of kind.
func has(objs []object, kind string) bool {
	for _, o := range objs {
		if o.Kind == kind {
			return true
		}
	}
	return false
}

// dig walks nested maps and lists ("spec.template.spec.containers.0.env").
func dig(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			if _, err := fmt.Sscanf(p, "%d", &i); err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// writeFile writes content to a file in t's temp dir and returns its path.
func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkFile compares got with the file at path, or writes it with -update.
func checkFile(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./deploy/helm/ -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./deploy/helm/ -update, review and commit the diff\n%s", path, firstDiff(want, got))
	}
}

// firstDiff shows the first differing line of want and got.
func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  file: %s\n  now:  %s", i+1, w, g)
		}
	}
	return ""
}
