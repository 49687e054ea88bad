#!/usr/bin/env bash
# check.sh — static checks of deploy/: Prometheus rules and their unit tests,
# the Prometheus config, the Grafana dashboard JSON, the config keys used by
# the compose file, and the Helm chart (helm lint, helm template with the
# default values and with every optional part on, golden renderings, strict
# decoding of every object, every config key reachable from values,
# validate --offline of the rendered config: go test ./deploy/helm/).
# promtool, python3 and docker are optional: a check whose tool is missing
# prints "<tool> not installed; skipped" and does not fail the run. helm is
# built by scripts/helm.sh when missing. Exit status: 0 when every check that
# ran passed.
#
#   deploy/check.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cd "$here"
status=0

step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; status=1; }

step "prometheus: rules, rule unit tests, config"
if command -v promtool >/dev/null 2>&1; then
  promtool check rules prometheus/alerts.yaml || fail "promtool check rules"
  promtool test rules prometheus/alerts_test.yaml || fail "promtool test rules"
  promtool check config prometheus/prometheus.yml || fail "promtool check config"
else
  echo "promtool not installed; skipped (apt-get install prometheus)"
fi

step "grafana: dashboard JSON"
if command -v python3 >/dev/null 2>&1; then
  python3 -m json.tool grafana/kafka-qdrant.json >/dev/null && echo "grafana/kafka-qdrant.json: valid JSON" \
    || fail "grafana/kafka-qdrant.json is not valid JSON"
else
  echo "python3 not installed; skipped"
fi

step "config keys: compose.yaml, config.yaml against config/example.yaml"
if command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null; then
  # config/example.yaml sets every key of config.Config (config's own test
  # keeps it complete), so it is the list of valid keys.
  python3 - "$root/config/example.yaml" <<'PY' || fail "unknown configuration keys in deploy/"
import re, sys, yaml

schema = yaml.safe_load(open(sys.argv[1]))
bad = []

def known(path):
    node = schema
    for part in path:
        if not isinstance(node, dict):
            return False
        if node == {}:          # a map key (routing.topics): any entry name
            return True
        if part not in node:
            return False
        node = node[part]
    return True

def check_tree(tree, where, prefix=()):
    for k, v in (tree or {}).items():
        path = prefix + (str(k),)
        if not known(path):
            bad.append(f"{where}: {'.'.join(path)}")
        elif isinstance(v, dict) and v:
            check_tree(v, where, path)

def check_env(name, where):
    if name.startswith("KQ__"):
        path = tuple(name[4:].lower().split("__"))
        if not known(path):
            bad.append(f"{where}: {name} ({'.'.join(path)})")

check_tree(yaml.safe_load(open("config.yaml")), "config.yaml")
for svc, spec in yaml.safe_load(open("compose.yaml"))["services"].items():
    env = spec.get("environment") or {}
    names = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
    for n in names:
        check_env(n, f"compose.yaml services.{svc}")

if bad:
    print("unknown configuration keys:\n  " + "\n  ".join(bad))
    sys.exit(1)
print("all configuration keys exist")
PY
else
  echo "python3 with PyYAML not installed; skipped"
fi

step "helm chart: lint, template (defaults, every optional part on), golden files, config keys, validate --offline"
# The chart's values cover every key of config/example.yaml (the config
# section is checked against the code), so the Helm checks need no key list
# here. The Go tests find helm through scripts/helm.sh.
(cd "$root" && go test -count=1 ./deploy/helm/) || fail "go test ./deploy/helm/ (go test ./deploy/helm/ -update rewrites generated and golden files)"

step "compose: config"
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  docker compose -f compose.yaml config --quiet && echo "compose.yaml: ok" || fail "docker compose config"
else
  echo "docker compose not installed; skipped"
fi

if [[ $status -ne 0 ]]; then
  echo "deploy checks FAILED" >&2
else
  echo "deploy checks passed"
fi
exit $status
