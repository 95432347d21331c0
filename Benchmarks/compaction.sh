#!/usr/bin/env bash
# Log cleaner benchmark: cleaner throughput on a dirty compacted topic (1 KiB values, 10 % distinct keys) and its
# memory, and librdkafka produce throughput while the cleaner runs as a ratio to produce alone, in the same run.
#
#   Benchmarks/compaction.sh [--portaskd PATH] [--dirty-mb N] [--produce-count N]
#
# Needs a built portaskd (default .build/release/portaskd). The driver is built as compare.sh builds it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
LIBDIR="$("$PYTHON" -c 'import confluent_kafka, pathlib; p = pathlib.Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"; print(p)')"
LIB="$(cd "$LIBDIR" && ls librdkafka*.so* | head -n 1)"
DRIVER="$ROOT/.build/compare/rdkafka_driver"
SOURCE="$HERE/compare/rdkafka_driver.c"
if [ ! -x "$DRIVER" ] || [ "$SOURCE" -nt "$DRIVER" ]; then
    mkdir -p "$(dirname "$DRIVER")"
    cc -O2 -Wall -o "$DRIVER" "$SOURCE" -L"$LIBDIR" -l:"$LIB" -Wl,-rpath,"$LIBDIR" -lpthread
fi
exec "$PYTHON" "$HERE/compare/compaction_bench.py" --driver "$DRIVER" --portaskd "$ROOT/.build/release/portaskd" "$@"
