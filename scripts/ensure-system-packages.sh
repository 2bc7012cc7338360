#!/usr/bin/env bash
# Install the Debian packages vertebro's tests and documents need, if any is missing.
#   chromium             real browser for the end-to-end web tests (driven by Playwright)
#   libpango*, harfbuzz  WeasyPrint's text layout for PDF handouts
#   fonts-dejavu-core    a font with the symbols the handouts use
#   poppler-utils        pdftoppm/pdftotext: tests look at the PDFs
#   dcmtk                findscu/storescu: an independent DICOM client queries the worklist and sends dose reports
#   dicom3tools          dciodvfy: an independent validator checks the DICOM objects the tests write
# Idempotent and quick when everything is present; needs root (or sudo) otherwise.
set -euo pipefail

PACKAGES=(chromium libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils dcmtk dicom3tools)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
