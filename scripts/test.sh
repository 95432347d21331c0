#!/usr/bin/env bash
# Runs every test: unit, codec and storage tests (swift test), then real-client tests (pytest, Tests/clients)
# against portaskd processes the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build --build-tests
swift test --skip-build
.venv/bin/python -m pytest -q -p no:cacheprovider Tests/clients
