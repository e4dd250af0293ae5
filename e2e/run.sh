#!/bin/sh
# Runs the end-to-end suite against a freshly built cmd/pos-demo in the
# system Chromium (/usr/bin/chromium; the Makefile installs it).
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
exec npx playwright test "$@"
