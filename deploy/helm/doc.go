// Package helm holds the checks of the Helm chart in kafka-qdrant/, run by
// `go test ./deploy/helm/` (part of `make test`). There is no Go code of
// the product here, only tests and the generator of the chart's files that
// derive from the rest of the repository:
//
//	kafka-qdrant/values.schema.json        from config.Keys: every config key, typed;
//	                                       helm rejects unknown keys under config
//	kafka-qdrant/templates/_configkeys.tpl  the secret keys (config.Secret) and
//	                                       config/example.yaml's defaults
//	kafka-qdrant/files/alerts.yaml         copy of deploy/prometheus/alerts.yaml
//	kafka-qdrant/files/kafka-qdrant.json   copy of deploy/grafana/kafka-qdrant.json
//	testdata/golden/*.yaml                 helm template of testdata/values/*.yaml
//
// TestGenerated and TestGolden fail when any of them is stale;
// `go test ./deploy/helm/ -update` rewrites them. Helm comes from
// scripts/helm.sh (built once into the tool cache); KQ_HELM overrides it.
//
// Beside the golden renderings the tests check what a cluster would: helm
// lint; every rendered object decoded strictly into its Kubernetes (or
// Prometheus Operator, or KEDA) type, so a misspelt field fails; every key
// of config/example.yaml set through values reaches the replica's config
// (secrets through the Secret only) and loads into the same config.Config;
// the rendered config passes `kafka-qdrant validate --offline`; and the
// chart's computed values (grace period, GOMEMLIMIT, KEDA bounds) and its
// refusals (bad combinations fail `helm template` with a message naming the
// value).
package helm
