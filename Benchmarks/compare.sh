#!/usr/bin/env bash
# Runs the librdkafka comparison matrix against BOOTSTRAP (and OTHER_BOOTSTRAP) and prints a side-by-side table.
#
#   Benchmarks/compare.sh BOOTSTRAP [OTHER_BOOTSTRAP] [--scale F] [--latency-seconds S] [--json FILE] [--markdown]
#
# Environment: PYTHON (a python with confluent-kafka; default .venv/bin/python of the repository),
# BENCH_SCALE (multiplies message counts, default 1), BENCH_LATENCY_SECONDS (default 10), BENCH_JSON (file).
# The driver (compare/rdkafka_driver.c) is built with cc against the librdkafka bundled in the confluent-kafka
# wheel, into .build/compare/ (rebuilt when the source is newer).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
. "$HERE/compare/rdkafka_driver.sh"
exec "$PYTHON" "$HERE/compare/compare.py" --driver "$DRIVER" --python "$PYTHON" "$@"
