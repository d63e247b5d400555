#!/usr/bin/env bash
# CI leg "containers": the blob, queue and key-value conformance suites of every cloud, with each
# emulator started as a container through testcontainers (POLYCLOUD_SOURCE=container) instead of
# as a local process. Here the Docker engine is podman (scripts/podman-setup.sh: installs it,
# starts its Docker API socket, builds the emulator images from .emulators/). Where a Docker
# engine already answers (DOCKER_HOST or /var/run/docker.sock), set POLYCLOUD_PODMAN=0 to use it
# and pull the official images instead.
#
# Reports: reports/conformance/<name>-container.json (source "container"), beside the process ones.
# Needs `npm ci` and `npm run emulators:install` first; run as root for podman.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$(date +%s)

if [[ ${POLYCLOUD_PODMAN:-1} != 0 ]]; then
  socket=${POLYCLOUD_PODMAN_SOCKET:-/run/polycloud/podman.sock}
  already=0
  [[ -S $socket ]] && already=1
  eval "$(scripts/podman-setup.sh | tail -n 1)"
  # Stop the API service again unless it was running before (the images stay for the next run).
  ((already)) || trap 'scripts/podman-setup.sh --stop' EXIT
fi

export TESTCONTAINERS_RYUK_DISABLED=true
export POLYCLOUD_SOURCE=container
export POLYCLOUD_EMULATORS=moto,localstack,fake-gcs-server,pstest,bigtable-emulator,azurite

status=0
npx vitest run \
  adapters/aws/test/s3.conformance.test.ts \
  adapters/aws/test/sqs.conformance.test.ts \
  adapters/aws/test/dynamodb.conformance.test.ts \
  adapters/aws/test/s3-localstack.conformance.test.ts \
  adapters/aws/test/sqs-localstack.conformance.test.ts \
  adapters/gcp/test/storage.conformance.test.ts \
  adapters/gcp/test/pubsub.conformance.test.ts \
  adapters/gcp/test/bigtable.conformance.test.ts \
  adapters/azure/test/blob.conformance.test.ts \
  adapters/azure/test/queue.conformance.test.ts \
  adapters/azure/test/kv.conformance.test.ts \
  conformance/test/harness/containers-engine.test.ts || status=$?

# The harness removes its containers (teardown, a watchdog, and a sweep on the next start); this
# makes a leftover visible in the CI log rather than silently kept.
if command -v podman >/dev/null 2>&1; then
  left=$(podman ps -aq --filter label=org.polycloud.harness | wc -l)
  if ((left > 0)); then
    echo "ci-containers: $left harness container(s) left behind" >&2
    status=1
  fi
fi
echo "ci-containers: $(($(date +%s) - started)) s in all (exit $status)"
exit "$status"
