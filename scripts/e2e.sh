#!/usr/bin/env bash
# e2e.sh — run the end-to-end suite (./e2e/...) against the real binary.
#
#   KAFKA=embedded ./scripts/e2e.sh   (default) kfake and the in-memory Qdrant,
#                                     each in its own process; no S3
#   KAFKA=real ./scripts/e2e.sh       a real Apache Kafka broker (scripts/kafka.sh)
#                                     and a real S3 server (scripts/s3.sh), started
#                                     here and stopped at the end; Qdrant stays
#                                     in-memory unless KQ_E2E_QDRANT_GRPC is set
#
# Servers named by KQ_E2E_KAFKA_BROKERS / KQ_E2E_QDRANT_GRPC / KQ_E2E_S3_ENDPOINT
# are used as they are and never started (see e2e/internal/harness/doc.go).
# Logs of a failing run are kept under e2e/logs/<time>/ (git-ignored).
#
# Docker (testcontainers: apache/kafka, qdrant/qdrant, minio/minio) when an
# engine is reachable: E2E_TAGS=docker KQ_E2E_DOCKER=1 ./scripts/e2e.sh
#
# Other knobs: E2E_RUN (go test -run pattern), E2E_PARALLEL (default 4),
# E2E_TIMEOUT (default 20m), E2E_TAGS (go build tags), GO (default go),
# E2E_BENCH (a -bench pattern: runs only those benchmarks, e.g.
# E2E_BENCH=ReplicaThroughput for one replica's records/s).
set -euo pipefail
cd "$(dirname "$0")/.."

KAFKA=${KAFKA:-embedded}
GO=${GO:-go}
E2E_PARALLEL=${E2E_PARALLEL:-4}
E2E_TIMEOUT=${E2E_TIMEOUT:-20m}
RUN_ROOT=$PWD/e2e/logs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$RUN_ROOT"
export KQ_E2E_LOG_DIR=$RUN_ROOT/processes
export KQ_KAFKA_RUN_DIR=$RUN_ROOT/kafka
export KQ_S3_RUN_DIR=$RUN_ROOT/s3

started_kafka=0
started_s3=0
status=1

stop_servers() {
  local keep=0
  [[ $status == 0 ]] || keep=1
  if [[ $started_kafka == 1 ]]; then
    KQ_KEEP_LOGS=$keep ./scripts/kafka.sh stop || true
    started_kafka=0
  fi
  if [[ $started_s3 == 1 ]]; then
    KQ_KEEP_LOGS=$keep ./scripts/s3.sh stop || true
    started_s3=0
  fi
  if [[ $keep == 0 ]]; then
    rm -rf "$RUN_ROOT"
  else
    echo "e2e.sh: logs kept in $RUN_ROOT" >&2
    if [[ -f $RUN_ROOT/kafka/server.log ]]; then
      echo "e2e.sh: last lines of the Kafka broker log:" >&2
      tail -n 20 "$RUN_ROOT/kafka/server.log" >&2 || true
    fi
  fi
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

# load_env exports the KEY=VALUE lines a start script prints.
load_env() {
  local line
  while IFS= read -r line; do
    [[ $line == KQ_E2E_*=* ]] && export "${line?}"
  done <<<"$1"
}

case $KAFKA in
  embedded) ;;
  real)
    if [[ -z ${KQ_E2E_KAFKA_BROKERS:-} ]]; then
      out=$(./scripts/kafka.sh start)
      started_kafka=1
      load_env "$out"
      export KQ_E2E_KAFKA_ENV="real-local (Apache Kafka ${KQ_KAFKA_VERSION:-4.1.1}, KRaft)"
    fi
    if [[ -z ${KQ_E2E_S3_ENDPOINT:-} ]]; then
      out=$(./scripts/s3.sh start)
      started_s3=1
      load_env "$out"
      export KQ_E2E_S3_ENV=real-local
    fi
    ;;
  *)
    echo "e2e.sh: KAFKA must be embedded or real, not $KAFKA" >&2
    exit 2
    ;;
esac

command -v kcat >/dev/null || { echo "e2e.sh: kcat not found (apt-get install -y kcat)" >&2; exit 1; }

out_file=$RUN_ROOT/go-test.out
set +e
"$GO" test -count=1 -v -timeout "$E2E_TIMEOUT" -parallel "$E2E_PARALLEL" \
  ${E2E_TAGS:+-tags "$E2E_TAGS"} ${E2E_RUN:+-run "$E2E_RUN"} \
  ${E2E_BENCH:+-run '^$' -bench "$E2E_BENCH" -benchtime 1x} \
  ./e2e/... 2>&1 | tee "$out_file"
status=${PIPESTATUS[0]}
# The control plane's e2e test (kcat against the control and status topics)
# needs a broker address; it runs whenever the suite has one.
if [[ -n ${KQ_E2E_KAFKA_BROKERS:-} && -z ${E2E_RUN:-} && -z ${E2E_BENCH:-} ]]; then
  "$GO" test -count=1 -v -timeout "$E2E_TIMEOUT" -run '^TestE2E' ./control/ 2>&1 | tee -a "$out_file"
  control_status=${PIPESTATUS[0]}
  [[ $control_status == 0 ]] || status=$control_status
fi
set -e
# The servers stop before the summary, so go test's own lines end the output.
failed_tests=$(grep -E '^[[:space:]]*--- FAIL' "$out_file" || true)
packages=$(grep -E '^(ok|FAIL)[[:space:]]' "$out_file" || true)
stop_servers
trap - EXIT
echo "=== e2e summary (KAFKA=$KAFKA) ==="
[[ -z $failed_tests ]] || echo "$failed_tests"
[[ -z $packages ]] || echo "$packages"
exit "$status"
