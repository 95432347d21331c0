#!/usr/bin/env bash
# TLS and SASL benchmark: one portaskd with PLAINTEXT, SSL and SASL_SSL (SCRAM-SHA-512) listeners; produce and
# consume of 1 KiB values over each listener in alternating order, as ratios to PLAINTEXT within each round (median
# of the rounds) per client (librdkafka, Kafka's Java client, or both), the broker's and the client's CPU seconds
# per GB for each, and the SCRAM connection set-up rate.
#
#   Benchmarks/security_bench.sh [--client rdkafka|java|both] [--portaskd PATH] [--rounds N] [--seconds S]
#                                [--fill-mb N] [--connect-seconds S] [--workers N] [--warm-gib G] [--work DIR]
#
# Defaults: both clients, 3 rounds of 6 s runs, a 2 GB topic to consume, 10 s of connections from 2 processes
# (about 30 minutes with both clients on a 2-core VM, half that with one; a few GB of disk in DIR, default the
# system temporary directory). Needs a
# built portaskd (.build/release/portaskd) and openssl; the Java client needs `java` (skipped with a message
# otherwise) and fetches kafka-clients with scripts/fetch-java-clients.sh. The librdkafka driver is built as
# compare.sh builds it; the Java one (compare/JavaPerfDriver.java) runs from source.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
. "$HERE/compare/rdkafka_driver.sh"
exec "$PYTHON" "$HERE/compare/security_bench.py" --driver "$DRIVER" --portaskd "$ROOT/.build/release/portaskd" "$@"
