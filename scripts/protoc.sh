#!/usr/bin/env bash
# protoc.sh — generate the Go code of schemas/record.v1.proto into
# schemas/recordpb (run by `make generate`, i.e. go generate ./schemas/...).
#
# protoc is Google's release binary, fetched once with Maven from Maven
# Central (com.google.protobuf:protoc:<ver>:exe:<os>-<arch>) into
# $KQ_CACHE_DIR/protoc-<ver>/ and checked against a pinned SHA-256 on
# linux-x86_64. protoc-gen-go is the go.mod tool
# (google.golang.org/protobuf/cmd/protoc-gen-go), so the generated code
# always matches the protobuf runtime the module builds with.
# schemas/recordpb's TestGeneratedIsCurrent fails when the .proto and the
# committed code disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=protoc
# shellcheck source=lib.sh
source scripts/lib.sh

PROTOC_VERSION=${PROTOC_VERSION:-4.33.2} # protoc 33.2
PROTOC_SHA256_LINUX_X86_64=0e3f0ae2a73bc27682baa8981bc18312bab1b2f90c804d528c6ee1f600247189
KQ_CACHE_DIR=${KQ_CACHE_DIR:-$HOME/.cache/kafka-qdrant}
GO=${GO:-go}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) classifier=linux-x86_64 ;;
  Linux-aarch64) classifier=linux-aarch_64 ;;
  Darwin-x86_64) classifier=osx-x86_64 ;;
  Darwin-arm64) classifier=osx-aarch_64 ;;
  *) die "no protoc release for $(uname -s)-$(uname -m)" ;;
esac

dir=$KQ_CACHE_DIR/protoc-$PROTOC_VERSION
protoc=$dir/protoc-$classifier
if [[ ! -x $protoc ]]; then
  command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
  mkdir -p "$dir"
  log "fetching protoc $PROTOC_VERSION ($classifier) from Maven Central"
  mvn -B -ntp -q dependency:copy \
    -Dartifact="com.google.protobuf:protoc:$PROTOC_VERSION:exe:$classifier" \
    -DoutputDirectory="$dir" >&2 || die "maven fetch failed"
  mv "$dir/protoc-$PROTOC_VERSION-$classifier.exe" "$protoc.tmp"
  if [[ $classifier == linux-x86_64 && $PROTOC_VERSION == 4.33.2 ]]; then
    echo "$PROTOC_SHA256_LINUX_X86_64  $protoc.tmp" | sha256sum -c --quiet - ||
      { rm -f "$protoc.tmp"; die "protoc checksum mismatch"; }
  fi
  chmod +x "$protoc.tmp"
  mv "$protoc.tmp" "$protoc"
fi

plugin_dir=$(mktemp -d)
trap 'rm -rf "$plugin_dir"' EXIT
"$GO" build -o "$plugin_dir/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go

"$protoc" --plugin=protoc-gen-go="$plugin_dir/protoc-gen-go" \
  -I schemas --go_out=. --go_opt=module=github.com/seed-a550a1ef/kafka-qdrant \
  schemas/record.v1.proto
log "generated schemas/recordpb from schemas/record.v1.proto with $("$protoc" --version)"
