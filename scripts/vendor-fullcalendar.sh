#!/usr/bin/env bash
# Re-create the vendored FullCalendar standard bundle (MIT) from the npm registry and check it is the pinned release.
#   origin:  npm package `fullcalendar` 6.1.22 (https://registry.npmjs.org/fullcalendar/-/fullcalendar-6.1.22.tgz),
#            file package/index.global.min.js ("FullCalendar Standard Bundle v6.1.22") and package/LICENSE.md
#   pinned:  the tarball's and the file's SHA-256 below; tests/integration/web/test_static.py checks the file's.
# Only the MIT standard bundle is used; no premium (resource) plugin: see docs/decisions/0032-a-real-calendar.md.
# The committed files are what the app serves; run this only to verify or to re-fetch them (needs npm).
set -euo pipefail

VERSION=6.1.22
TARBALL_SHA256=44d3b853622df17902c2e1f34113ef40492a80e1ad2a6bd103683307a74c123d
BUNDLE_SHA256=65f927f1802cb35428b9c5e2a8d2276633880a89ee5ea5f9a7727f79892786ea
VENDOR="$(cd "$(dirname "$0")/.." && pwd)/src/vertebro/web/static/vendor"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "fullcalendar@${VERSION}" >/dev/null)
echo "${TARBALL_SHA256}  ${work}/fullcalendar-${VERSION}.tgz" | sha256sum --check --quiet
tar -xzf "${work}/fullcalendar-${VERSION}.tgz" -C "$work"
echo "${BUNDLE_SHA256}  ${work}/package/index.global.min.js" | sha256sum --check --quiet
cp "${work}/package/index.global.min.js" "${VENDOR}/fullcalendar-${VERSION}.min.js"
cp "${work}/package/LICENSE.md" "${VENDOR}/fullcalendar-LICENSE"
echo "vendored FullCalendar ${VERSION} (MIT) into ${VENDOR}"
