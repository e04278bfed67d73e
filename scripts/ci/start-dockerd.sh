#!/usr/bin/env bash
# Starts a private Docker Engine for the tests (idempotent) and prints the line to use it:
#
#   eval "$(scripts/ci/start-dockerd.sh)"      # sets DOCKER_HOST=unix://.../docker.sock
#   npx mocha 'test/inference/managers/docker*.spec.ts'
#   scripts/ci/stop-dockerd.sh
#
# - installs Debian's docker.io (dockerd 20.10) with apt-get when dockerd is missing
#   (needs root; it runs `apt-get update` first);
# - runs dockerd with its own data root, exec root, pid file and socket under
#   $SHOAL_DOCKERD_DIR (default /tmp/shoal-dockerd), never touching /var/lib/docker or a
#   system daemon; no iptables rules (published ports go through docker-proxy); the
#   default bridge is kept (`--bridge=none` would silently disable port publishing);
# - tries the overlay2 storage driver first and falls back to vfs;
# - if a daemon started by this script already answers on that socket, reuses it.
#
# Everything but the final `export DOCKER_HOST=...` line goes to stderr.
set -euo pipefail

DIR="${SHOAL_DOCKERD_DIR:-/tmp/shoal-dockerd}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
WAIT_S="${SHOAL_DOCKERD_WAIT_S:-30}"

log () { echo "start-dockerd: $*" >&2; }

answers () {
  # the Engine API's ping: no docker CLI needed
  curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1
}

mkdir -p "$DIR"

if [ -S "$SOCK" ] && answers; then
  log "dockerd already answers on $SOCK"
  echo "export DOCKER_HOST=unix://$SOCK"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    log "dockerd is not installed and this is not root: install docker.io (apt-get install -y docker.io)"
    exit 1
  fi
  log "installing docker.io with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends docker.io >&2
fi
if ! command -v curl >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { log "curl is needed to ping the daemon"; exit 1; }
  apt-get install -y -qq --no-install-recommends curl >&2
fi

# a stale daemon of ours (pid file, no answer): stop it before starting again
if [ -f "$PIDFILE" ]; then
  old="$(cat "$PIDFILE" 2>/dev/null || true)"
  if [ -n "$old" ] && kill -0 "$old" 2>/dev/null; then
    log "stopping unresponsive dockerd (pid $old)"
    kill "$old" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$old" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
fi
rm -f "$SOCK"

start_with () {
  local driver="$1"
  log "starting dockerd (storage driver $driver), log $LOG"
  # setsid: the daemon must outlive this script and not get its terminal's signals
  setsid dockerd \
    --data-root "$DIR/data-$driver" \
    --exec-root "$DIR/exec" \
    --pidfile "$PIDFILE" \
    -H "unix://$SOCK" \
    --iptables=false --ip6tables=false \
    --storage-driver="$driver" \
    >>"$LOG" 2>&1 < /dev/null &
  local pid=$!
  local tries=$((WAIT_S * 5))
  for _ in $(seq 1 "$tries"); do
    if answers; then
      log "dockerd $pid answers on $SOCK"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "dockerd exited with storage driver $driver:"
      tail -n 5 "$LOG" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  log "dockerd did not answer within ${WAIT_S}s; stopping it"
  kill "$pid" 2>/dev/null || true
  return 1
}

if ! start_with overlay2; then
  rm -f "$SOCK" "$PIDFILE"
  start_with vfs || { log "could not start dockerd"; exit 1; }
fi

echo "export DOCKER_HOST=unix://$SOCK"
