#!/usr/bin/env bash
# Builds and runs portaskd in release mode; arguments are passed on (see `portaskd --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build
swift build -c release --product portaskd
exec .build/release/portaskd "$@"
