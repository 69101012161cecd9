#!/usr/bin/env bash
# The accessibility run in one command: axe-core in headless Chromium over the HTML worksheets and
# every Anki card side (question and answer; day, night, and older AnkiDroid's night), with MathJax 3.
#
#   tests/a11y/run.sh [pytest arguments]          e.g. tests/a11y/run.sh -s   (print the summary)
#   GEN_A11Y_SCREENSHOTS=/tmp/a11y-review tests/a11y/run.sh    also saves PNGs of a few pages
#
# Installs what is missing: Debian's chromium (and node, npm) with apt-get, the npm packages pinned
# in tests/a11y/package-lock.json with `npm ci`, the project with its test extras. No browser is
# downloaded: puppeteer-core drives /usr/bin/chromium (or $CHROMIUM).
set -euo pipefail
cd "$(dirname "$0")/../.."

apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

missing=()
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# npm records the installed tree in node_modules/.package-lock.json: reinstall when the lock changed.
if [ ! tests/a11y/node_modules/.package-lock.json -nt tests/a11y/package-lock.json ]; then
  npm ci --prefix tests/a11y --ignore-scripts --no-audit --no-fund
fi

python3 -c 'import anki, generator' 2>/dev/null || python3 -m pip install -q -e '.[test]'

# GEN_A11Y=1: under CI a missing piece fails the run instead of skipping it.
GEN_A11Y=1 exec python3 -m pytest -m a11y "$@" tests/test_a11y.py
