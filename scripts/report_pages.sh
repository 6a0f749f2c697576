#!/usr/bin/env bash
# Render an analyserapport the way a reader sees it: headless Chromium prints the HTML to PDF,
# pdftoppm turns the pages into PNGs to look at. Installs Debian's chromium and poppler-utils
# when missing (root, as on the project's machines).
# Usage: scripts/report_pages.sh [reports/herenthout-isom/analyserapport.html] [out-dir]
set -euo pipefail
html=$(realpath "${1:-reports/herenthout-isom/analyserapport.html}")
out=${2:-/tmp/report-pages}
if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium poppler-utils >/dev/null
fi
mkdir -p "$out"
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --no-pdf-header-footer --print-to-pdf="$out/rapport.pdf" \
  "file://$html" 2>/dev/null
rm -rf "$profile"
pdftoppm -png -r 60 "$out/rapport.pdf" "$out/pagina"
echo "$(ls "$out"/pagina-*.png | wc -l) pagina's in $out"
