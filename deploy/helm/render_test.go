package helm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// valuesCases are the values files under testdata/values: the defaults,
// every optional part on, and an existing Secret with a topic regex.
func valuesCases(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "values", "*.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("values cases: %v, %v", files, err)
	}
	return files
}

func caseName(file string) string { return strings.TrimSuffix(filepath.Base(file), ".yaml") }

// TestLint runs helm lint --strict with each values file.
func TestLint(t *testing.T) {
	for _, f := range valuesCases(t) {
		t.Run(caseName(f), func(t *testing.T) {
			if out, err := helm(t, "lint", "--strict", chartDir, "--values", f); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

// TestGolden compares helm template of each values file with
// testdata/golden/<name>.yaml (-update rewrites them).
func TestGolden(t *testing.T) {
	for _, f := range valuesCases(t) {
		t.Run(caseName(f), func(t *testing.T) {
			checkFile(t, filepath.Join("testdata", "golden", caseName(f)+".yaml"), []byte(mustRender(t, []string{f})))
		})
	}
}

// TestOptionalParts: the defaults render only the core objects; all.yaml
// adds every optional one.
func TestOptionalParts(t *testing.T) {
	core := []string{"Deployment", "ConfigMap", "Service", "ServiceAccount", "PodDisruptionBudget", "Pod"}
	optional := []string{"Secret", "ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule"}
	def := objects(t, mustRender(t, nil))
	all := objects(t, mustRender(t, []string{"testdata/values/all.yaml"}))
	for _, k := range core {
		if !has(def, k) || !has(all, k) {
			t.Errorf("%s missing from a rendering", k)
		}
	}
	for _, k := range optional {
		if has(def, k) {
			t.Errorf("the defaults render a %s", k)
		}
		if !has(all, k) {
			t.Errorf("all.yaml renders no %s", k)
		}
	}
	// The helm test pod must not count as a replica for the Service or the
	// disruption budget.
	podLabels, _ := dig(find(t, def, "Pod", "-validate").Map, "metadata.labels").(map[string]any)
	selector, _ := dig(find(t, def, "PodDisruptionBudget", "").Map, "spec.selector.matchLabels").(map[string]any)
	matches := true
	for k, v := range selector {
		matches = matches && podLabels[k] == v
	}
	if matches {
		t.Errorf("the helm test pod (labels %v) matches the replicas' selector %v", podLabels, selector)
	}
	if d := find(t, def, "Deployment", ""); dig(d.Map, "spec.replicas") != 3 {
		t.Errorf("default replicas = %v, want 3", dig(d.Map, "spec.replicas"))
	}
	if d := find(t, all, "Deployment", ""); dig(d.Map, "spec.replicas") != nil {
		t.Errorf("with autoscaling the Deployment sets replicas (%v): helm upgrades would fight KEDA", dig(d.Map, "spec.replicas"))
	}
}

// TestOneSource: the PrometheusRule carries exactly the rule groups of
// deploy/prometheus/alerts.yaml and the dashboard ConfigMap exactly
// deploy/grafana/kafka-qdrant.json.
func TestOneSource(t *testing.T) {
	objs := objects(t, mustRender(t, []string{"testdata/values/all.yaml"}))

	raw, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var alerts map[string]any
	if err := yaml.Unmarshal(raw, &alerts); err != nil {
		t.Fatal(err)
	}
	rule := find(t, objs, "PrometheusRule", "")
	if got := dig(rule.Map, "spec.groups"); !reflect.DeepEqual(got, alerts["groups"]) {
		t.Errorf("PrometheusRule groups differ from deploy/prometheus/alerts.yaml")
	}

	dash, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "grafana", "kafka-qdrant.json"))
	if err != nil {
		t.Fatal(err)
	}
	cm := find(t, objs, "ConfigMap", "-dashboard")
	data, _ := dig(cm.Map, "data").(map[string]any)
	got, _ := data["kafka-qdrant.json"].(string)
	var a, b any
	if err := json.Unmarshal(dash, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(got), &b); err != nil {
		t.Fatalf("dashboard ConfigMap data is not JSON: %v", err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("dashboard ConfigMap differs from deploy/grafana/kafka-qdrant.json")
	}
	if ns := dig(cm.Map, "metadata.namespace"); ns != "monitoring" {
		t.Errorf("dashboard namespace = %v, want grafana.dashboard.namespace", ns)
	}
}

// TestGracePeriod: terminationGracePeriodSeconds is shutdown.timeout,
// rounded up, plus shutdownGraceMarginSeconds.
func TestGracePeriod(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want int
	}{
		{nil, 60}, // the default 30s
		{[]string{"config.shutdown.timeout=1m30s"}, 120},
		{[]string{"config.shutdown.timeout=250ms"}, 31},
		{[]string{"config.shutdown.timeout=1.5m"}, 120},
		{[]string{"config.shutdown.timeout=2h"}, 7230},
		{[]string{"config.shutdown.timeout=45s", "shutdownGraceMarginSeconds=10"}, 55},
	} {
		t.Run(strings.Join(tc.sets, ","), func(t *testing.T) {
			d := find(t, objects(t, mustRender(t, nil, tc.sets...)), "Deployment", "")
			if got := dig(d.Map, "spec.template.spec.terminationGracePeriodSeconds"); got != tc.want {
				t.Errorf("terminationGracePeriodSeconds = %v, want %d", got, tc.want)
			}
		})
	}
}

// TestGoMemLimit: GOMEMLIMIT is goMemLimitPercent of the memory limit, a
// literal, or absent.
func TestGoMemLimit(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want any // nil: no GOMEMLIMIT
	}{
		{nil, "483183820"}, // 90% of 512Mi
		{[]string{"resources.limits.memory=1536Mi"}, "1449551462"},
		{[]string{"resources.limits.memory=2G", "goMemLimitPercent=80"}, "1600000000"},
		{[]string{"goMemLimit=off"}, nil},
		{[]string{"goMemLimit=900MiB"}, "900MiB"},
		{[]string{"resources.limits=null"}, nil},
	} {
		t.Run(strings.Join(tc.sets, ","), func(t *testing.T) {
			d := find(t, objects(t, mustRender(t, nil, tc.sets...)), "Deployment", "")
			var got any
			env, _ := dig(d.Map, "spec.template.spec.containers.0.env").([]any)
			for _, e := range env {
				if dig(e, "name") == "GOMEMLIMIT" {
					got = dig(e, "value")
				}
			}
			if got != tc.want {
				t.Errorf("GOMEMLIMIT = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRefusals: values that cannot work fail helm template with a message
// naming what to change.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		sets []string
		want string
	}{
		{"unknown config key", []string{"config.kafka.brokerz=a:9092"}, "brokerz"},
		{"config value of the wrong type", []string{"config.kafka.tls.enabled[0]=x"}, "enabled"},
		{"bad duration", []string{"config.shutdown.timeout=30"}, "config.shutdown.timeout"},
		{"autoscaling without a partition count", []string{"autoscaling.enabled=true"}, "autoscaling.partitions"},
		{"more replicas than partitions", []string{"autoscaling.enabled=true", "autoscaling.partitions=6", "autoscaling.maxReplicas=8"},
			"autoscaling.maxReplicas (8) is above autoscaling.partitions (6)"},
		{"scale to zero with the control plane", []string{"autoscaling.enabled=true", "autoscaling.partitions=6", "autoscaling.minReplicas=0"},
			"autoscaling.minReplicas 0"},
		{"SASL for KEDA without a password", []string{"autoscaling.enabled=true", "autoscaling.partitions=6",
			"config.kafka.sasl.mechanism=PLAIN", "config.kafka.sasl.username=u"}, "no Secret holds the password"},
		{"secrets in two places", []string{"secret.existingSecret=creds", "config.qdrant.api_key=k"},
			"secret.existingSecret is set and so are secret keys under config (KQ__QDRANT__API_KEY)"},
		{"listen without a port", []string{"config.http.listen=localhost"}, "config.http.listen"},
		{"unparsable memory limit", []string{"resources.limits.memory=1.5Gi"}, "goMemLimit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, nil, tc.sets...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("helm template %v: %v, want an error containing %q", tc.sets, err, tc.want)
			}
		})
	}
	// Scale to zero is fine without the control plane.
	mustRender(t, nil, "autoscaling.enabled=true", "autoscaling.partitions=6", "autoscaling.minReplicas=0", "config.control.enabled=false")
}

// TestAutoscaling: the ScaledObject targets the data group's lag with the
// connector's topics and reset policy, bounded by the partition count.
func TestAutoscaling(t *testing.T) {
	objs := objects(t, mustRender(t, []string{"testdata/values/all.yaml"}))
	so := find(t, objs, "ScaledObject", "")
	for path, want := range map[string]any{
		"spec.scaleTargetRef.name":                      "kq-kafka-qdrant",
		"spec.minReplicaCount":                          1,
		"spec.maxReplicaCount":                          12, // autoscaling.partitions
		"spec.triggers.0.type":                          "kafka",
		"spec.triggers.0.metadata.consumerGroup":        "kafka-qdrant",
		"spec.triggers.0.metadata.topic":                "vectors",
		"spec.triggers.0.metadata.bootstrapServers":     "kafka-0.kafka.svc:9093,kafka-1.kafka.svc:9093",
		"spec.triggers.0.metadata.lagThreshold":         "50000", // targetRecordsPerSecond x commit_interval (1s)
		"spec.triggers.0.metadata.offsetResetPolicy":    "earliest",
		"spec.triggers.0.metadata.sasl":                 "scram_sha512",
		"spec.triggers.0.metadata.tls":                  "enable",
		"spec.triggers.0.metadata.excludePersistentLag": "true",
		"spec.triggers.0.authenticationRef.name":        "kq-kafka-qdrant",
		"spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds": 600,
	} {
		if got := dig(so.Map, path); got != want {
			t.Errorf("ScaledObject %s = %v, want %v", path, got, want)
		}
	}
	ta := find(t, objs, "TriggerAuthentication", "")
	refs := map[string]string{}
	for _, r := range dig(ta.Map, "spec.secretTargetRef").([]any) {
		refs[dig(r, "parameter").(string)] = dig(r, "name").(string) + "/" + dig(r, "key").(string)
	}
	for _, r := range dig(ta.Map, "spec.configMapTargetRef").([]any) {
		refs[dig(r, "parameter").(string)] = dig(r, "name").(string) + "/" + dig(r, "key").(string)
	}
	want := map[string]string{
		"password": "kq-kafka-qdrant/KQ__KAFKA__SASL__PASSWORD",
		"ca":       "kafka-client-tls/ca.crt",
		"cert":     "kafka-client-tls/tls.crt",
		"key":      "kafka-client-tls/tls.key",
		"username": "kq-kafka-qdrant-keda/username",
	}
	if !reflect.DeepEqual(refs, want) {
		t.Errorf("TriggerAuthentication refs = %v, want %v", refs, want)
	}
	if got := dig(find(t, objs, "ConfigMap", "-keda").Map, "data.username"); got != "kafka-qdrant" {
		t.Errorf("KEDA username = %v", got)
	}

	// A topic regex: no topic, so KEDA sums the lag of every topic the
	// group committed; maxReplicas below the partition count is kept.
	objs = objects(t, mustRender(t, []string{"testdata/values/existing-secret.yaml"}))
	so = find(t, objs, "ScaledObject", "")
	if got := dig(so.Map, "spec.triggers.0.metadata.topic"); got != nil {
		t.Errorf("topic = %v with kafka.topic_regex, want none", got)
	}
	if got := dig(so.Map, "spec.maxReplicaCount"); got != 8 {
		t.Errorf("maxReplicaCount = %v, want autoscaling.maxReplicas 8", got)
	}
	if got := dig(so.Map, "spec.triggers.0.metadata.lagThreshold"); got != "40000" {
		t.Errorf("lagThreshold = %v, want autoscaling.lagThreshold 40000", got)
	}
}

// TestLagThreshold: without autoscaling.lagThreshold, KEDA's target lag per
// replica is the rate a replica should carry times kafka.commit_interval,
// the time its committed offset trails its writes.
func TestLagThreshold(t *testing.T) {
	base := []string{"autoscaling.enabled=true", "autoscaling.partitions=12"}
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{nil, "50000"},
		{[]string{"config.kafka.commit_interval=500ms"}, "25000"},
		{[]string{"config.kafka.commit_interval=2s", "autoscaling.targetRecordsPerSecond=80000"}, "160000"},
		{[]string{"autoscaling.lagThreshold=1234"}, "1234"},
	} {
		t.Run(strings.Join(tc.sets, ","), func(t *testing.T) {
			so := find(t, objects(t, mustRender(t, nil, append(base, tc.sets...)...)), "ScaledObject", "")
			if got := dig(so.Map, "spec.triggers.0.metadata.lagThreshold"); got != tc.want {
				t.Errorf("lagThreshold = %v, want %s", got, tc.want)
			}
		})
	}
}
