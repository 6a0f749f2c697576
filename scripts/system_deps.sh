#!/usr/bin/env bash
# Debian packages the project needs besides Python: Chromium (prints the analyserapport to PDF,
# runs the browser test), poppler-utils (scripts/report_pages.sh) and the fonts the report names.
# Installs only what is missing, so it is fast when everything is there. Called by `make test`
# (and so by CI) and, best effort, by `make report`.
# Without root or apt-get it says what to install; it fails then only under CI (CI=true).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -e /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || need+=(fonts-liberation)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need+=(fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="-"; fi
fi
if [ "$sudo" = "-" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Ontbreekt: ${need[*]}. Installeer met: sudo apt-get install -y ${need[*]}" \
       "(zonder Chromium maakt lsb report geen PDF)." >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
echo "Installeren: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${need[@]}" >/dev/null
