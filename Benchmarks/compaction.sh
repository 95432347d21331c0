#!/usr/bin/env bash
# Log cleaner benchmark: librdkafka produce throughput while the cleaner runs as a ratio to produce alone, in
# alternating pairs of runs of the same invocation (median ratio), and the cleaner's throughput on dirty compacted
# topics (1 KiB values, 10 % distinct keys) while the producer runs and on an idle broker, and its memory.
#
#   Benchmarks/compaction.sh [--portaskd PATH] [--dirty-topics N] [--dirty-mb N] [--produce-seconds S] [--pairs N]
#                            [--warm-gib G] [--keep-up-seconds S] [--keep-up-keys N] [--work DIR]
#
# Defaults: 48 dirty topics of 128 MB (rounds small enough that the cleaner's progress during the produce phase is
# measured finely, and enough of them that it cleans for the whole phase), 10 s produce phases, 3 pairs, a 20 s
# keep-up run (about 8 minutes; needs ~25 GB of disk in DIR, default the system temporary directory). Needs a built portaskd (.build/release/portaskd). The driver is
# built as compare.sh builds it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
. "$HERE/compare/rdkafka_driver.sh"
exec "$PYTHON" "$HERE/compare/compaction_bench.py" --driver "$DRIVER" --portaskd "$ROOT/.build/release/portaskd" "$@"
