#!/usr/bin/env bash
# TLS and SASL benchmark: one portaskd with PLAINTEXT, SSL and SASL_SSL (SCRAM-SHA-512) listeners; librdkafka
# produce and consume of 1 KiB values over each listener in alternating order, as ratios to PLAINTEXT within each
# round (median of the rounds), the broker's CPU seconds per GB for each, and the SCRAM connection set-up rate.
#
#   Benchmarks/security_bench.sh [--portaskd PATH] [--rounds N] [--seconds S] [--fill-mb N]
#                                [--connect-seconds S] [--workers N] [--warm-gib G] [--work DIR]
#
# Defaults: 3 rounds of 6 s runs, a 2 GB topic to consume, 10 s of connections from 2 processes (about 3 minutes;
# a few GB of disk in DIR, default the system temporary directory). Needs a built portaskd
# (.build/release/portaskd) and openssl. The driver is built as compare.sh builds it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
. "$HERE/compare/rdkafka_driver.sh"
exec "$PYTHON" "$HERE/compare/security_bench.py" --driver "$DRIVER" --portaskd "$ROOT/.build/release/portaskd" "$@"
