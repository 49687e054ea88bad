#!/usr/bin/env bash
# s3.sh — a real S3 server for the e2e suite: versitygw with its posix
# backend on 127.0.0.1, binary built once with `go install` into a cache.
#
#   scripts/s3.sh install   go install versitygw into $KQ_CACHE_DIR/bin (once)
#   scripts/s3.sh start     start it on a free port, wait until it answers HTTP;
#                           prints KQ_E2E_S3_ENDPOINT=..., KQ_E2E_S3_ACCESS_KEY=...,
#                           KQ_E2E_S3_SECRET_KEY=..., KQ_E2E_S3_REGION=... on stdout
#   scripts/s3.sh stop      SIGTERM and wait
#
# Environment:
#   KQ_CACHE_DIR       cache root (default $HOME/.cache/kafka-qdrant)
#   KQ_S3_RUN_DIR      where one server keeps its objects, pid and log
#                      (default $KQ_CACHE_DIR/run/s3); one server per run dir
#   KQ_KEEP_LOGS=1     stop keeps the run dir's log
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
KQ_CACHE_DIR=${KQ_CACHE_DIR:-$HOME/.cache/kafka-qdrant}
BIN=$KQ_CACHE_DIR/bin/versitygw
STAMP=$KQ_CACHE_DIR/bin/versitygw.version
RUN_DIR=${KQ_S3_RUN_DIR:-$KQ_CACHE_DIR/run/s3}
ACCESS_KEY=${KQ_S3_ACCESS_KEY:-kqe2eaccess}
SECRET_KEY=${KQ_S3_SECRET_KEY:-kqe2esecretkey0123456789}
REGION=us-east-1

NAME=s3.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install() {
  # A binary built from the pinned version is reused; the stamp file says
  # which version it is (versitygw built by go install reports "git").
  if [[ -x $BIN ]] && { [[ ! -f $STAMP ]] || [[ $(cat "$STAMP") == "$VERSITYGW_VERSION" ]]; }; then
    echo "$VERSITYGW_VERSION" >"$STAMP"
    log "versitygw $VERSITYGW_VERSION already in $BIN"
    return 0
  fi
  log "go install github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION (takes a few minutes once)"
  mkdir -p "$KQ_CACHE_DIR/bin"
  GOBIN=$KQ_CACHE_DIR/bin GOFLAGS=-buildvcs=false \
    go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
  echo "$VERSITYGW_VERSION" >"$STAMP"
}

pid_alive() { [[ -f $RUN_DIR/pid ]] && kill -0 "$(cat "$RUN_DIR/pid")" 2>/dev/null; }

# answers reports whether the server answers HTTP at all (an unsigned
# request gets an S3 error document: that is an answer).
answers() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1/" 2>/dev/null) || return 1
  [[ $code != 000 ]]
}

start() {
  [[ -x $BIN ]] || install
  command -v curl >/dev/null || die "curl not found"
  if pid_alive; then
    die "an S3 server is already running from $RUN_DIR; stop it first"
  fi
  local attempt port endpoint pid deadline
  for attempt in 1 2 3; do
    rm -rf "$RUN_DIR"
    mkdir -p "$RUN_DIR/root" "$RUN_DIR/meta"
    port=$(free_port)
    endpoint=http://127.0.0.1:$port
    # --sidecar keeps object metadata in a directory, so the backend works on
    # file systems without user xattrs (overlay, some tmpfs).
    setsid "$BIN" --access "$ACCESS_KEY" --secret "$SECRET_KEY" --region "$REGION" \
      --port "127.0.0.1:$port" --quiet posix --sidecar "$RUN_DIR/meta" "$RUN_DIR/root" \
      >"$RUN_DIR/server.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$RUN_DIR/pid"
    deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)) && kill -0 "$pid" 2>/dev/null; do
      if answers "$endpoint"; then
        log "versitygw $VERSITYGW_VERSION (posix backend) ready on $endpoint (pid $pid)"
        echo "KQ_E2E_S3_ENDPOINT=$endpoint"
        echo "KQ_E2E_S3_ACCESS_KEY=$ACCESS_KEY"
        echo "KQ_E2E_S3_SECRET_KEY=$SECRET_KEY"
        echo "KQ_E2E_S3_REGION=$REGION"
        echo "KQ_E2E_S3_SERVER=versitygw $VERSITYGW_VERSION"
        return 0
      fi
      sleep 0.2
    done
    kill -TERM "$pid" 2>/dev/null || true
    cat "$RUN_DIR/server.log" >&2 || true
    if grep -q 'address already in use' "$RUN_DIR/server.log"; then
      log "port race on attempt $attempt; retrying"
      continue
    fi
    die "versitygw did not answer; log above"
  done
  die "could not start versitygw"
}

stop() {
  if ! pid_alive; then
    log "no S3 server running from $RUN_DIR"
    [[ ${KQ_KEEP_LOGS:-0} == 1 ]] || rm -rf "$RUN_DIR"
    return 0
  fi
  local pid deadline
  pid=$(cat "$RUN_DIR/pid")
  kill -TERM "$pid"
  deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "versitygw (pid $pid) did not stop; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  else
    log "versitygw stopped (pid $pid)"
  fi
  if [[ ${KQ_KEEP_LOGS:-0} == 1 ]]; then
    rm -rf "$RUN_DIR/root" "$RUN_DIR/meta"
  else
    rm -rf "$RUN_DIR"
  fi
}

case ${1:-} in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 {install|start|stop}" >&2; exit 2 ;;
esac
