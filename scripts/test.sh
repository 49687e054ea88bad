#!/usr/bin/env bash
# test.sh — everything `make test` runs, in order:
#   1. go vet on every package (and the e2e suite's Docker code: -tags docker);
#   2. deploy/check.sh: Prometheus rules, dashboard, config keys, and the Helm
#      chart's tests (go test ./deploy/helm/, with helm from scripts/helm.sh);
#   3. unit and integration tests with the race detector, every package but
#      ./e2e/... and ./deploy/helm (step 2 ran it);
#   4. the end-to-end suite on a real Apache Kafka broker and a real S3 server
#      (scripts/e2e.sh with KAFKA=real; the broker's version line is printed).
# Every step runs even when an earlier one failed; the output ends with go
# test's own summary lines, and the exit status is non-zero on any failure.
#
# Knobs: GO (default go), UNIT_TIMEOUT (default 10m), and those of e2e.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-10m}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()

step() { echo; echo "=== $* ==="; }

step "tools (kcat, Java, Maven, promtool, helm: installed when missing)"
./scripts/tools.sh
./scripts/helm.sh install

step "go vet"
if ! "$GO" vet ./...; then failed+=("go vet"); fi
if ! "$GO" vet -tags docker ./e2e/...; then failed+=("go vet -tags docker"); fi

step "deploy checks (promtool rules and their tests, dashboard JSON, config keys, Helm chart)"
if ! ./deploy/check.sh; then failed+=("deploy checks"); fi

step "unit and integration tests (race detector)"
mapfile -t pkgs < <("$GO" list ./... | grep -v '/e2e\(/\|$\)' | grep -v '/deploy/helm$')
set +e
"$GO" test -race -count=1 -timeout "$UNIT_TIMEOUT" "${pkgs[@]}" 2>&1 | tee "$work/unit.out"
unit_status=${PIPESTATUS[0]}
set -e
[[ $unit_status == 0 ]] || failed+=("unit tests")

step "end-to-end suite on a real Apache Kafka broker"
set +e
KAFKA=real ./scripts/e2e.sh 2>&1 | tee "$work/e2e.out"
e2e_status=${PIPESTATUS[0]}
set -e
[[ $e2e_status == 0 ]] || failed+=("e2e suite")

step "summary"
if ((${#failed[@]})); then
  echo "failed: ${failed[*]}"
fi
grep -hE '^[[:space:]]*--- FAIL' "$work/unit.out" "$work/e2e.out" | sort -u || true
# go test's own package lines, last: unit packages, then the e2e ones.
grep -hE '^(ok|FAIL)[[:space:]]' "$work/unit.out" || true
sed -n '/^=== e2e summary/,$p' "$work/e2e.out" | grep -E '^(ok|FAIL)[[:space:]]' || true
((${#failed[@]} == 0))
