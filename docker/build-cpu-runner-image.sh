#!/usr/bin/env bash
# Builds the CPU runner image from this checkout with no registry: FROM scratch, in two
# steps so that a code change rebuilds only a small layer.
#
#   docker/build-cpu-runner-image.sh [TAG]      # default shoal/cpu-runner:test
#
# 1. shoal/cpu-runner-base:<hash> (docker/Dockerfile.cpu-runner-base): the node binary,
#    the shared libraries `ldd` lists for it and for every native addon, the dynamic
#    loader, and the production node_modules (`npm ls --omit=dev`, without source maps,
#    type declarations and docs). Rebuilt only when node or package-lock.json change.
# 2. TAG (docker/Dockerfile.cpu-runner): package.json, bin/, dist/src, contracts/ on
#    top. Skipped when TAG's `shoal.build-hash` label matches the content of its inputs.
#
# Needs `dist/` (npm run build), the docker CLI and an engine (DOCKER_HOST is
# honoured; scripts/ci/start-dockerd.sh starts one). Prints the image id on stdout;
# progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TAG="${1:-${SHOAL_CPU_RUNNER_IMAGE:-shoal/cpu-runner:test}}"
DOCKER="${DOCKER:-docker}"
BASE_REPO="shoal/cpu-runner-base"
SELF="$ROOT/docker/build-cpu-runner-image.sh"
log () { echo "build-cpu-runner-image: $*" >&2; }
started=$(date +%s%N)
elapsed () { echo "$(( ($(date +%s%N) - started) / 1000000 )) ms"; }
label () { "$DOCKER" image inspect --format '{{ index .Config.Labels "shoal.build-hash" }}' "$1" 2>/dev/null || true; }
# the legacy builder: it needs no buildx plugin and works with dockerd 20.10
build () { DOCKER_BUILDKIT=0 "$DOCKER" build -q "$@" 2> >(grep -v -e DEPRECATED -e 'legacy builder' -e BuildKit -e '^ *environment-variable' -e '^$' >&2) >/dev/null; }

cd "$ROOT"
[ -f dist/src/cli/main.js ] || { log "dist/ is missing: run \`npm run build\` (npx tsc -p tsconfig.json) first"; exit 1; }
command -v "$DOCKER" >/dev/null 2>&1 || { log "the docker CLI is missing (apt-get install -y docker.io)"; exit 1; }
NODE="$(readlink -f "$(command -v node)")"

base_hash="$({
  echo "node $("$NODE" --version) $(sha256sum < "$NODE")"
  sha256sum package-lock.json docker/Dockerfile.cpu-runner-base "$SELF"
} | sha256sum | cut -c1-16)"
BASE="$BASE_REPO:$base_hash"
app_hash="$({
  echo "$BASE"
  sha256sum package.json docker/Dockerfile.cpu-runner
  # dist/contracts exists only once the contract has been compiled (a chain test or command ran)
  { find dist/src dist/contracts bin contracts -type f -print0 2>/dev/null || true; } | sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-32)"

if [ "$(label "$TAG")" = "$app_hash" ] && "$DOCKER" image inspect "$BASE" >/dev/null 2>&1; then
  log "$TAG is up to date ($app_hash)"
  "$DOCKER" image inspect --format '{{.Id}}' "$TAG"
  exit 0
fi

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/shoal-cpu-runner.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
# hard links where possible (same file system), copies otherwise; the stage is deleted after
link () { cp -al "$@" 2>/dev/null || cp -a "$@"; }

if ! "$DOCKER" image inspect "$BASE" >/dev/null 2>&1; then
  FS="$STAGE/base/rootfs"
  mkdir -p "$FS/app/node_modules" "$FS/usr/local/bin" "$FS/tmp"
  chmod 1777 "$FS/tmp"
  cp "$NODE" "$FS/usr/local/bin/node"
  npm ls --omit=dev --all --parseable 2>/dev/null | sort -u | while read -r dir; do
    rel="${dir#"$ROOT"/}"
    case "$rel" in node_modules/*) ;; *) continue ;; esac
    # a nested package (node_modules/a/node_modules/b) came with its parent
    [ -e "$FS/app/$rel" ] && continue
    mkdir -p "$FS/app/$(dirname "$rel")"
    link "$rel" "$FS/app/$rel"
  done
  find "$FS/app/node_modules" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -iname '*.md' \) -delete
  # shared libraries of node and of every native addon (those of other platforms fail ldd and are skipped)
  {
    echo "$NODE"
    find "$FS/app/node_modules" -type f \( -name '*.node' -o -name '*.so' -o -name '*.so.*' \)
  } | while read -r bin; do ldd "$bin" 2>/dev/null || true; done \
    | grep -oE '(=> )?/[^ ]+' | sed 's/^=> //' | sort -u | while read -r lib; do
      case "$lib" in "$FS"/*) continue ;; esac
      [ -e "$lib" ] || continue
      mkdir -p "$FS$(dirname "$lib")"
      cp -L "$lib" "$FS$lib"
    done
  # merged /usr: /lib64 -> usr/lib64 as on the host, so the loader path in the binaries resolves
  for d in lib lib64; do
    if [ -L "/$d" ] && [ -d "$FS/$d" ] && [ ! -L "$FS/$d" ]; then
      target="$(readlink "/$d")"
      mkdir -p "$FS/$target"; cp -a "$FS/$d/." "$FS/$target/"; rm -rf "${FS:?}/$d"; ln -s "$target" "$FS/$d"
    fi
  done
  log "staged base $(du -sh "$FS" | cut -f1) in $(elapsed); building $BASE"
  build --label "shoal.build-hash=$base_hash" -f docker/Dockerfile.cpu-runner-base -t "$BASE" "$STAGE/base"
  log "built $BASE in $(elapsed)"
  # older bases are no longer needed (an image still using one keeps it alive)
  "$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}' "$BASE_REPO" | grep -vxF "$BASE" | xargs -r "$DOCKER" image rm >/dev/null 2>&1 || true
fi

previous="$("$DOCKER" image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
APP="$STAGE/app/app"
mkdir -p "$APP/dist"
link package.json bin contracts "$APP/"
link dist/src "$APP/dist/"
[ -d dist/contracts ] && link dist/contracts "$APP/dist/"
build --build-arg "BASE=$BASE" --label "shoal.build-hash=$app_hash" -f docker/Dockerfile.cpu-runner -t "$TAG" "$STAGE/app"
log "built $TAG ($app_hash) in $(elapsed)"
id="$("$DOCKER" image inspect --format '{{.Id}}' "$TAG")"
# the image TAG named before is now untagged: drop it unless a container still uses it
if [ -n "$previous" ] && [ "$previous" != "$id" ]; then "$DOCKER" image rm "$previous" >/dev/null 2>&1 || true; fi
echo "$id"
