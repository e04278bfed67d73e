#!/bin/sh
# Entry point of the shoal/node image (docker/Dockerfile.node): `shoal "$@"`, plus:
# - no arguments: `shoal runner` when PIPELINE is set (the image then serves as an
#   ai-runner-compatible CPU runner image, on 0.0.0.0 unless HOST says otherwise,
#   with the AUTH_TOKEN it is given or a generated one), else `shoal --help`;
# - SHOAL_BOOTSTRAP_ADDR and SHOAL_BOOTSTRAP_PEER_FILE set (compose): waits up to 60 s
#   for the file holding the bootstrap node's peer id, then adds
#   `--bootstrap $SHOAL_BOOTSTRAP_ADDR/p2p/<peer id>`.
set -eu
if [ "$#" -eq 0 ]; then
  # a runner in a container serves the container's own interface (`shoal runner` alone
  # binds 127.0.0.1); the port is published only where the operator or manager says
  if [ -n "${PIPELINE:-}" ]; then set -- runner; export HOST="${HOST:-0.0.0.0}"; else set -- --help; fi
fi
if [ -n "${SHOAL_BOOTSTRAP_ADDR:-}" ] && [ -n "${SHOAL_BOOTSTRAP_PEER_FILE:-}" ]; then
  waited=0
  while [ ! -s "$SHOAL_BOOTSTRAP_PEER_FILE" ]; do
    if [ "$waited" -ge 600 ]; then
      echo "shoal-entrypoint: no bootstrap peer id in $SHOAL_BOOTSTRAP_PEER_FILE after 60 s" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  set -- "$@" --bootstrap "$SHOAL_BOOTSTRAP_ADDR/p2p/$(cat "$SHOAL_BOOTSTRAP_PEER_FILE")"
fi
exec node /app/bin/shoal.js "$@"
