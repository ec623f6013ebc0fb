#!/usr/bin/env bash
# Make sure a headless Chromium is here for the deck's browser and PDF tests (tests/test_deck.py).
#
# Chromium comes from Debian's packages and is installed when missing and we are root, as
# PostgreSQL is by scripts/with-postgres.sh. Where that cannot work, the tests that need it are
# skipped with a loud notice -- except under CI, where a missing Chromium is a failure.
set -euo pipefail

for name in chromium chromium-browser google-chrome; do
  command -v "$name" >/dev/null 2>&1 && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium from Debian's packages…" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  command -v chromium >/dev/null 2>&1 && exit 0
fi
if [ "${CI:-}" = "true" ]; then
  echo "Chromium is required in CI but could not be installed" >&2
  exit 1
fi
printf '\n\033[1;33m*** %s ***\033[0m\n\n' "Chromium not found: the deck's browser tests will be SKIPPED" >&2
