# lib.sh — helpers shared by the server scripts (kafka.sh, s3.sh). Source it
# after setting NAME (the prefix of log lines).

log() { echo "$NAME: $*" >&2; }
die() { log "$*"; exit 1; }

# free_port prints a TCP port on 127.0.0.1 nobody listens on. The server
# binds it moments later; callers retry with another port if that races.
free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$(( (RANDOM * 32768 + RANDOM) % 30000 + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}
