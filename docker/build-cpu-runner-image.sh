#!/usr/bin/env bash
# Builds the CPU runner image (docker/Dockerfile.cpu-runner) from this checkout, with
# no registry: stages a root file system (node, its libraries and loader, the app and
# its production node_modules) and builds FROM scratch. Needs `dist/` (npm run build)
# and a Docker Engine (DOCKER_HOST is honoured; see scripts/ci/start-dockerd.sh).
#
#   docker/build-cpu-runner-image.sh [TAG]      # default shoal/cpu-runner:test
#
# Skips the build when an image with TAG was built from the same inputs (node binary,
# package-lock.json, the files under dist/src, bin/, contracts/, this script and the
# Dockerfile): the hash of those inputs is the image's `shoal.build-hash` label.
# Prints the image id on stdout; progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TAG="${1:-${SHOAL_CPU_RUNNER_IMAGE:-shoal/cpu-runner:test}}"
DOCKER="${DOCKER:-docker}"
log () { echo "build-cpu-runner-image: $*" >&2; }

cd "$ROOT"
[ -f dist/src/cli/main.js ] || { log "dist/ is missing: run \`npm run build\` (npx tsc -p tsconfig.json) first"; exit 1; }
command -v "$DOCKER" >/dev/null 2>&1 || { log "the docker CLI is missing (apt-get install -y docker.io)"; exit 1; }
NODE="$(readlink -f "$(command -v node)")"

# what the image is made of, cheaply: paths, sizes and mtimes of the app files
hash="$({
  echo "node $("$NODE" --version) $(stat -c '%s %Y' "$NODE")"
  sha256sum package.json package-lock.json docker/Dockerfile.cpu-runner "$0"
  find dist/src bin contracts -type f -printf '%P %s %T@\n' | sort
} | sha256sum | cut -c1-32)"

current="$("$DOCKER" image inspect --format '{{ index .Config.Labels "shoal.build-hash" }}' "$TAG" 2>/dev/null || true)"
if [ "$current" = "$hash" ]; then
  log "$TAG is up to date ($hash)"
  "$DOCKER" image inspect --format '{{.Id}}' "$TAG"
  exit 0
fi

started=$(date +%s%N)
elapsed () { echo "$(( ($(date +%s%N) - started) / 1000000 )) ms"; }
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/shoal-cpu-runner.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
FS="$STAGE/rootfs"
mkdir -p "$FS/app" "$FS/usr/local/bin" "$FS/tmp"
chmod 1777 "$FS/tmp"
cp "$NODE" "$FS/usr/local/bin/node"

# the app: hard links where possible (same file system), copies otherwise
link () { cp -al "$@" 2>/dev/null || cp -a "$@"; }
link package.json bin contracts "$FS/app/"
mkdir -p "$FS/app/dist"
link dist/src "$FS/app/dist/"
[ -d dist/contracts ] && link dist/contracts "$FS/app/dist/"

# production dependencies only (what `npm ls --omit=dev` lists), without source maps,
# type declarations and docs
mkdir -p "$FS/app/node_modules"
npm ls --omit=dev --all --parseable 2>/dev/null | sort -u | while read -r dir; do
  rel="${dir#"$ROOT"/}"
  case "$rel" in node_modules/*) ;; *) continue ;; esac
  # a nested package (node_modules/a/node_modules/b) came with its parent
  [ -e "$FS/app/$rel" ] && continue
  mkdir -p "$FS/app/$(dirname "$rel")"
  link "$rel" "$FS/app/$rel"
done
find "$FS/app/node_modules" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -iname '*.md' \) -delete

# shared libraries of node and of every native addon, and the dynamic loader(s)
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
# /lib64 -> usr/lib64 style links: the loader path the binaries ask for must exist
for d in lib lib64; do
  if [ -L "/$d" ] && [ -d "$FS/$d" ] && [ ! -L "$FS/$d" ]; then
    target="$(readlink "/$d")"
    mkdir -p "$FS/$target"; cp -a "$FS/$d/." "$FS/$target/"; rm -rf "${FS:?}/$d"; ln -s "$target" "$FS/$d"
  fi
done

log "staged $(du -sh "$FS" | cut -f1) in $(elapsed); building $TAG"
DOCKER_BUILDKIT=0 "$DOCKER" build -q --label "shoal.build-hash=$hash" -f docker/Dockerfile.cpu-runner -t "$TAG" "$STAGE" >&2
log "built $TAG ($hash) in $(elapsed)"
"$DOCKER" image inspect --format '{{.Id}}' "$TAG"
