#!/usr/bin/env bash
# kafka.sh — a real Apache Kafka broker for the e2e suite: single node KRaft,
# combined broker+controller, on 127.0.0.1, from the official
# org.apache.kafka:kafka_2.13 artifacts fetched with Maven into a cache.
#
#   scripts/kafka.sh fetch    download the jars into $KQ_CACHE_DIR/kafka-<ver>/libs (once)
#   scripts/kafka.sh start    format storage, start, wait until it answers metadata;
#                             prints KQ_E2E_KAFKA_BROKERS=host:port on stdout
#   scripts/kafka.sh stop     SIGTERM, wait for a clean exit (SIGKILL after a deadline)
#   scripts/kafka.sh status   exit 0 and print the address if the broker is running
#
# Environment:
#   KQ_CACHE_DIR      cache root (default $HOME/.cache/kafka-qdrant)
#   KQ_KAFKA_VERSION  the pinned Kafka version (default below)
#   KQ_KAFKA_RUN_DIR  where one broker keeps its config, data, pid and log
#                     (default $KQ_CACHE_DIR/run/kafka); one broker per run dir
#   KQ_KAFKA_PORT     listener port (default: a free port)
#   KQ_KEEP_LOGS=1    stop keeps the run dir (server.log) instead of removing it
#
# Diagnostics go to stderr; stdout carries only the machine-readable lines.
set -euo pipefail

KQ_CACHE_DIR=${KQ_CACHE_DIR:-$HOME/.cache/kafka-qdrant}
KAFKA_VERSION=${KQ_KAFKA_VERSION:-4.1.1}
KAFKA_HOME=$KQ_CACHE_DIR/kafka-$KAFKA_VERSION
RUN_DIR=${KQ_KAFKA_RUN_DIR:-$KQ_CACHE_DIR/run/kafka}
START_TIMEOUT=${KQ_KAFKA_START_TIMEOUT:-120}
STOP_TIMEOUT=${KQ_KAFKA_STOP_TIMEOUT:-60}

NAME=kafka.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fetch() {
  if [[ -f $KAFKA_HOME/.complete ]]; then
    log "Kafka $KAFKA_VERSION already in $KAFKA_HOME"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
  command -v java >/dev/null || die "java not found (Kafka 4.x needs Java 17+)"
  local work
  work=$(mktemp -d)
  # kafka_2.13 is the broker (kafka.Kafka, kafka.tools.StorageTool); its POM
  # brings the server, storage, raft, metadata, clients and log4j-core jars
  # (runtime scope). The slf4j 1.7 binding to log4j2 is only in the binary
  # distribution, so it is listed here: without it the broker logs nothing.
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kafka-qdrant</groupId>
  <artifactId>kafka-broker-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
EOF
  log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime dependencies"
  rm -rf "$KAFKA_HOME.tmp"
  mkdir -p "$KAFKA_HOME.tmp/libs"
  if ! (cd "$work" && mvn -B -ntp -Dstyle.color=never dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME.tmp/libs") >"$work/mvn.log" 2>&1; then
    tail -n 40 "$work/mvn.log" >&2
    die "maven fetch failed"
  fi
  rm -rf "$work" "$KAFKA_HOME"
  mv "$KAFKA_HOME.tmp" "$KAFKA_HOME"
  touch "$KAFKA_HOME/.complete"
  log "Kafka $KAFKA_VERSION: $(ls "$KAFKA_HOME/libs" | wc -l) jars in $KAFKA_HOME/libs"
}

pid_alive() { [[ -f $RUN_DIR/pid ]] && kill -0 "$(cat "$RUN_DIR/pid")" 2>/dev/null; }

# answers reports whether the broker answers a metadata request listing itself.
answers() {
  local addr=$1
  if command -v kcat >/dev/null; then
    kcat -b "$addr" -L -m 3 -J 2>/dev/null | grep -q '"brokers":\[{'
  else
    (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null
  fi
}

write_config() {
  local port=$1 cport=$2
  mkdir -p "$RUN_DIR/data"
  cat >"$RUN_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$RUN_DIR/data
# Topics are created explicitly: the connector creates its control topics,
# tests create theirs with kadm. A produce to a missing topic must fail here
# as it does on most production clusters.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
# The control plane publishes status events in transactions: a single
# node needs the transaction state log on it.
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
# The log cleaner looks for dirty compacted logs every second (default
# 15s), so tests of the compacted status topic see it cleaned soon.
log.cleaner.backoff.ms=1000
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests start and stop consumers all the time: no initial rebalance delay.
group.initial.rebalance.delay.ms=0
group.consumer.min.session.timeout.ms=6000
group.classic.min.session.timeout.ms=3000
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
EOF
  cat >"$RUN_DIR/log4j2.properties" <<EOF
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRefs = out
rootLogger.appenderRef.out.ref = OUT
logger.kafka-request.name = kafka.request.logger
logger.kafka-request.level = WARN
logger.state-change.name = state.change.logger
logger.state-change.level = WARN
EOF
}

# java_args are the JVM flags of both the storage tool and the broker.
java_args() {
  JAVA_ARGS=(-Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$RUN_DIR/log4j2.properties" -cp "$KAFKA_HOME/libs/*")
}

start() {
  [[ -f $KAFKA_HOME/.complete ]] || fetch
  if pid_alive; then
    die "a broker is already running from $RUN_DIR (pid $(cat "$RUN_DIR/pid")); stop it first"
  fi
  local attempt port cport cluster_id deadline addr pid
  for attempt in 1 2 3; do
    rm -rf "$RUN_DIR"
    mkdir -p "$RUN_DIR"
    port=${KQ_KAFKA_PORT:-$(free_port)}
    cport=$(free_port)
    while [[ $cport == "$port" ]]; do cport=$(free_port); done
    addr=127.0.0.1:$port
    write_config "$port" "$cport"
    # A Kafka cluster id is 16 random bytes, base64url without padding. One
    # starting with "-" would be read as an option by StorageTool: draw again.
    cluster_id=-
    while [[ $cluster_id == -* ]]; do
      cluster_id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    java_args
    java "${JAVA_ARGS[@]}" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$RUN_DIR/server.properties" >"$RUN_DIR/format.log" 2>&1 \
      || { cat "$RUN_DIR/format.log" >&2; die "storage format failed"; }
    log "starting Kafka $KAFKA_VERSION on $addr (run dir $RUN_DIR)"
    # setsid: the broker outlives this script, and a ^C in the caller's
    # terminal does not reach it; stop sends the SIGTERM.
    # (A non-interactive shell's background child is no group leader, so
    # setsid execs in place and $! is the broker's pid.)
    setsid java "${JAVA_ARGS[@]}" kafka.Kafka "$RUN_DIR/server.properties" \
      >"$RUN_DIR/server.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$RUN_DIR/pid"
    echo "$addr" >"$RUN_DIR/addr"
    deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
      if ! kill -0 "$pid" 2>/dev/null; then
        break
      fi
      if answers "$addr"; then
        # The version line, so a reader of a CI log sees a real broker ran.
        grep -m1 -E 'Kafka version: ' "$RUN_DIR/server.log" >&2 || true
        log "broker ready on $addr (pid $pid)"
        echo "KQ_E2E_KAFKA_BROKERS=$addr"
        return 0
      fi
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      tail -n 60 "$RUN_DIR/server.log" >&2 || true
      die "broker did not answer within ${START_TIMEOUT}s; log in $RUN_DIR/server.log"
    fi
    if grep -q 'Address already in use' "$RUN_DIR/server.log" && [[ -z ${KQ_KAFKA_PORT:-} ]]; then
      log "port race on attempt $attempt; retrying with other ports"
      continue
    fi
    tail -n 60 "$RUN_DIR/server.log" >&2 || true
    die "broker exited during startup; log in $RUN_DIR/server.log"
  done
  die "could not start the broker"
}

stop() {
  if ! pid_alive; then
    log "no broker running from $RUN_DIR"
    [[ ${KQ_KEEP_LOGS:-0} == 1 ]] || rm -rf "$RUN_DIR"
    return 0
  fi
  local pid deadline
  pid=$(cat "$RUN_DIR/pid")
  kill -TERM "$pid"
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "broker (pid $pid) did not stop within ${STOP_TIMEOUT}s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    [[ ${KQ_KEEP_LOGS:-0} == 1 ]] || KQ_KEEP_LOGS=1
    log "log kept in $RUN_DIR/server.log"
  else
    log "broker stopped (pid $pid)"
  fi
  if [[ ${KQ_KEEP_LOGS:-0} == 1 ]]; then
    rm -rf "$RUN_DIR/data"
  else
    rm -rf "$RUN_DIR"
  fi
}

status() {
  if pid_alive; then
    echo "KQ_E2E_KAFKA_BROKERS=$(cat "$RUN_DIR/addr")"
    return 0
  fi
  log "not running"
  return 1
}

case ${1:-} in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {fetch|start|stop|status}" >&2; exit 2 ;;
esac
