#!/usr/bin/env bash
# helm.sh — the helm binary the chart checks use (deploy/check.sh and the
# Go tests in deploy/helm), built once with `go install` into a cache, like
# scripts/s3.sh does for versitygw.
#
#   scripts/helm.sh install   go install helm into $KQ_CACHE_DIR/bin (once)
#   scripts/helm.sh path      install if needed, then print the binary's path
#
# Environment:
#   KQ_CACHE_DIR   cache root (default $HOME/.cache/kafka-qdrant)
set -euo pipefail

HELM_VERSION=v3.22.0
KQ_CACHE_DIR=${KQ_CACHE_DIR:-$HOME/.cache/kafka-qdrant}
BIN=$KQ_CACHE_DIR/bin/helm-$HELM_VERSION

NAME=helm.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install() {
  if [[ -x $BIN ]]; then
    log "helm $HELM_VERSION already in $BIN"
    return 0
  fi
  log "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (takes a few minutes once)"
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$KQ_CACHE_DIR/bin"
  # Stamped as helm's own release builds are (its Makefile): the version,
  # and the Kubernetes version of its client-go, which `helm template` and
  # `helm lint` assume for the cluster (v1.20 without it).
  local mod k8s_minor
  mod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  k8s_minor=$(sed -n 's|^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*|\1|p' "$mod")
  [[ -n $k8s_minor ]] || die "cannot read the client-go version from $mod"
  GOBIN=$tmp GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install -ldflags "\
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$tmp/helm" "$BIN"
}

case ${1:-} in
  install) install ;;
  path) install && echo "$BIN" ;;
  *) echo "usage: $0 {install|path}" >&2; exit 2 ;;
esac
