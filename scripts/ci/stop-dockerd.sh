#!/usr/bin/env bash
# Stops the dockerd that start-dockerd.sh started (by the pid in its pid file), after
# removing the containers left on it. Keeps its data root (images stay cached for the
# next run); pass --purge to delete the whole directory too.
set -euo pipefail

DIR="${SHOAL_DOCKERD_DIR:-/tmp/shoal-dockerd}"
PIDFILE="$DIR/dockerd.pid"
SOCK="$DIR/docker.sock"
log () { echo "stop-dockerd: $*" >&2; }

if [ ! -f "$PIDFILE" ]; then
  log "no pid file at $PIDFILE: nothing to stop"
else
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    # containers first, so that none is left running under a dead daemon's containerd
    if [ -S "$SOCK" ] && command -v docker >/dev/null 2>&1; then
      ids="$(DOCKER_HOST="unix://$SOCK" docker ps -aq 2>/dev/null || true)"
      [ -z "$ids" ] || DOCKER_HOST="unix://$SOCK" docker rm -f $ids >/dev/null 2>&1 || true
    fi
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "dockerd $pid still running after 20 s; SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
    fi
    log "stopped dockerd $pid"
  else
    log "dockerd $pid is not running"
  fi
  rm -f "$PIDFILE"
fi

if [ "${1:-}" = "--purge" ]; then
  # overlay mounts of a killed daemon would make rm fail; unmount what is left under DIR
  grep -o " $DIR[^ ]*" /proc/mounts | sort -r | while read -r m; do umount "$m" 2>/dev/null || true; done
  rm -rf "$DIR"
  log "removed $DIR"
fi
