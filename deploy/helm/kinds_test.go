package helm

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// TestObjectsDecodeStrictly decodes every object of every rendering into
// its API type with unknown fields rejected: a misspelt or misplaced field
// fails here, as the API server would reject it (or, worse, drop it).
// Kubernetes kinds use k8s.io/api, the Prometheus Operator's its own
// module; KEDA's module is too heavy to import, so its two kinds use the
// mirror types below.
func TestObjectsDecodeStrictly(t *testing.T) {
	apiVersions := map[string]string{
		"Deployment": "apps/v1", "Pod": "v1", "Service": "v1", "ConfigMap": "v1", "Secret": "v1", "ServiceAccount": "v1",
		"PodDisruptionBudget": "policy/v1", "ServiceMonitor": "monitoring.coreos.com/v1",
		"PrometheusRule": "monitoring.coreos.com/v1", "ScaledObject": "keda.sh/v1alpha1",
		"TriggerAuthentication": "keda.sh/v1alpha1",
	}
	seen := map[string]bool{}
	for _, f := range valuesCases(t) {
		for _, o := range objects(t, mustRender(t, []string{f})) {
			seen[o.Kind] = true
			t.Run(caseName(f)+"/"+o.Kind+"/"+o.Name, func(t *testing.T) {
				if want, ok := apiVersions[o.Kind]; !ok {
					t.Fatalf("no strict check for kind %s", o.Kind)
				} else if got := o.Map["apiVersion"]; got != want {
					t.Errorf("apiVersion %v, want %s", got, want)
				}
				into, err := typed(o.Kind)
				if err != nil {
					t.Fatal(err)
				}
				if err := yaml.UnmarshalStrict(o.YAML, into); err != nil {
					t.Fatalf("%v\n%s", err, o.YAML)
				}
			})
		}
	}
	kinds := make([]string, 0, len(seen))
	for k := range seen {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for k := range apiVersions {
		if !slices.Contains(kinds, k) {
			t.Errorf("no rendering has a %s: the strict check of it never runs", k)
		}
	}
}

func typed(kind string) (any, error) {
	switch kind {
	case "Deployment":
		return &appsv1.Deployment{}, nil
	case "Pod":
		return &corev1.Pod{}, nil
	case "Service":
		return &corev1.Service{}, nil
	case "ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "Secret":
		return &corev1.Secret{}, nil
	case "ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, nil
	case "PrometheusRule":
		return &monitoringv1.PrometheusRule{}, nil
	case "ScaledObject":
		return &kedaScaledObject{}, nil
	case "TriggerAuthentication":
		return &kedaTriggerAuthentication{}, nil
	}
	return nil, fmt.Errorf("no type for kind %s", kind)
}

// The KEDA types below mirror the fields of keda.sh/v1alpha1 that exist in
// KEDA v2.20 (apis/keda/v1alpha1/scaledobject_types.go,
// scaletriggers_types.go, triggerauthentication_types.go); the Kafka
// scaler's metadata names are those of pkg/scalers/kafka_scaler.go.

type kedaScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		ScaleTargetRef *struct {
			Name                   string `json:"name"`
			APIVersion             string `json:"apiVersion,omitempty"`
			Kind                   string `json:"kind,omitempty"`
			EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
		} `json:"scaleTargetRef"`
		PollingInterval       *int32 `json:"pollingInterval,omitempty"`
		InitialCooldownPeriod *int32 `json:"initialCooldownPeriod,omitempty"`
		CooldownPeriod        *int32 `json:"cooldownPeriod,omitempty"`
		IdleReplicaCount      *int32 `json:"idleReplicaCount,omitempty"`
		MinReplicaCount       *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount       *int32 `json:"maxReplicaCount,omitempty"`
		Advanced              *struct {
			HorizontalPodAutoscalerConfig *struct {
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
				Name     string                                         `json:"name,omitempty"`
			} `json:"horizontalPodAutoscalerConfig,omitempty"`
			RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
		} `json:"advanced,omitempty"`
		Triggers []kedaKafkaTrigger `json:"triggers"`
	} `json:"spec"`
}

type kedaKafkaTrigger struct {
	Type              string            `json:"type"`
	Name              string            `json:"name,omitempty"`
	UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
	Metadata          kafkaScalerParams `json:"metadata"`
	AuthenticationRef *struct {
		Name string `json:"name"`
		Kind string `json:"kind,omitempty"`
	} `json:"authenticationRef,omitempty"`
	MetricType string `json:"metricType,omitempty"`
}

// kafkaScalerParams are the trigger metadata the Kafka scaler reads (all
// strings in a ScaledObject); anything else is a typo KEDA would ignore.
type kafkaScalerParams struct {
	BootstrapServers                   string `json:"bootstrapServers"`
	ConsumerGroup                      string `json:"consumerGroup"`
	Topic                              string `json:"topic,omitempty"`
	PartitionLimitation                string `json:"partitionLimitation,omitempty"`
	LagThreshold                       string `json:"lagThreshold,omitempty"`
	ActivationLagThreshold             string `json:"activationLagThreshold,omitempty"`
	OffsetResetPolicy                  string `json:"offsetResetPolicy,omitempty"`
	AllowIdleConsumers                 string `json:"allowIdleConsumers,omitempty"`
	ExcludePersistentLag               string `json:"excludePersistentLag,omitempty"`
	ScaleToZeroOnInvalidOffset         string `json:"scaleToZeroOnInvalidOffset,omitempty"`
	LimitToPartitionsWithLag           string `json:"limitToPartitionsWithLag,omitempty"`
	EnsureEvenDistributionOfPartitions string `json:"ensureEvenDistributionOfPartitions,omitempty"`
	Version                            string `json:"version,omitempty"`
	TLS                                string `json:"tls,omitempty"`
	UnsafeSsl                          string `json:"unsafeSsl,omitempty"`
	Sasl                               string `json:"sasl,omitempty"`
	SaslTokenProvider                  string `json:"saslTokenProvider,omitempty"`
	AwsRegion                          string `json:"awsRegion,omitempty"`
}

type kedaTargetRef struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

type kedaTriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		SecretTargetRef    []kedaTargetRef `json:"secretTargetRef,omitempty"`
		ConfigMapTargetRef []kedaTargetRef `json:"configMapTargetRef,omitempty"`
	} `json:"spec"`
}
