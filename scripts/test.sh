#!/usr/bin/env bash
# Runs every test: unit and storage tests, codec golden tests, and real-client tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export PORTASK_CLIENT_TESTS=1
export PORTASK_PYTHON="$PWD/.venv/bin/python"
swift build --build-tests
swift test --skip-build
