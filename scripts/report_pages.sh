#!/usr/bin/env bash
# Look at an analyserapport as a reader does: print the HTML to PDF the way `lsb report --pdf`
# does (headless Chromium, page numbers in the contents), and cut the pages into PNGs.
# Installs Debian's chromium and poppler-utils when missing (scripts/system_deps.sh).
# Usage: scripts/report_pages.sh [reports/herenthout-isom/analyserapport.html] [out-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
html=$(realpath "${1:-reports/herenthout-isom/analyserapport.html}")
out=${2:-/tmp/report-pages}
python=${PYTHON:-$root/.venv/bin/python}
"$root/scripts/system_deps.sh"
mkdir -p "$out"
rm -f "$out"/pagina-*.png
"$python" -m lsbanalysis.report.pdf "$html" "$out/rapport.pdf"
pdftoppm -png -r 60 "$out/rapport.pdf" "$out/pagina"
echo "$(ls "$out"/pagina-*.png | wc -l) pagina's in $out"
