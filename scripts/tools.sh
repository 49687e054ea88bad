#!/usr/bin/env bash
# tools.sh — make sure the system tools the test suite needs are there:
# kcat, Java 17+ and Maven (the real Kafka broker), curl, and promtool
# (optional: the deploy checks skip without it). Missing ones are installed
# with apt-get when this runs as root on a Debian-like machine; otherwise it
# says what to install and fails (promtool: warns only).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_install() {
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    echo "tools.sh: missing $*; install it (Debian: apt-get install -y $*)" >&2
    return 1
  fi
  if [[ $apt_updated == 0 ]]; then
    apt-get update -qq </dev/null
    apt_updated=1
  fi
  apt-get install -y -qq "$@" </dev/null
}

java_major() { java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -1; }

command -v kcat >/dev/null || apt_install kcat
command -v curl >/dev/null || apt_install curl
if ! command -v java >/dev/null || (($(java_major) < 17)); then
  apt_install default-jre-headless
fi
command -v mvn >/dev/null || apt_install maven
command -v promtool >/dev/null || apt_install prometheus ||
  echo "tools.sh: promtool not installed; the deploy checks will skip it" >&2

echo "go: $(go version)"
echo "java: $(java -version 2>&1 | head -1)"
echo "kcat: $(kcat -V 2>&1 | head -1)"
echo "promtool: $(promtool --version 2>&1 | head -1 || echo none)"
