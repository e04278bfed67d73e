#!/usr/bin/env bash
# Builds the custom capability example image from this checkout, with no registry:
# the CPU runner image first (docker/build-cpu-runner-image.sh, skipped when up to
# date), then docker/custom-example/Dockerfile on top of it.
#
#   docker/custom-example/build.sh [TAG]       # default shoal/custom-example:test
#
# Needs `dist/` (npm run build), the docker CLI and an engine (DOCKER_HOST is honoured).
# Prints the image id on stdout; progress goes to stderr.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TAG="${1:-shoal/custom-example:test}"
BASE="${SHOAL_CPU_RUNNER_IMAGE:-shoal/cpu-runner:test}"
DOCKER="${DOCKER:-docker}"
"$ROOT/docker/build-cpu-runner-image.sh" "$BASE" >/dev/null
DOCKER_BUILDKIT=0 "$DOCKER" build -q --build-arg "BASE=$BASE" -t "$TAG" "$ROOT/docker/custom-example" 2> >(grep -v -e DEPRECATED -e 'legacy builder' -e BuildKit -e '^ *environment-variable' -e '^$' >&2) >/dev/null
echo "build-custom-example: built $TAG on $BASE" >&2
"$DOCKER" image inspect --format '{{.Id}}' "$TAG"
