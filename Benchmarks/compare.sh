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
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3

LIBDIR="$("$PYTHON" -c 'import confluent_kafka, pathlib; p = pathlib.Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"; print(p)')"
LIB="$(cd "$LIBDIR" && ls librdkafka*.so* | head -n 1)"
[ -n "$LIB" ] || { echo "compare.sh: no librdkafka in $LIBDIR" >&2; exit 2; }

DRIVER="$ROOT/.build/compare/rdkafka_driver"
SOURCE="$HERE/compare/rdkafka_driver.c"
if [ ! -x "$DRIVER" ] || [ "$SOURCE" -nt "$DRIVER" ]; then
    mkdir -p "$(dirname "$DRIVER")"
    cc -O2 -Wall -o "$DRIVER" "$SOURCE" -L"$LIBDIR" -l:"$LIB" -Wl,-rpath,"$LIBDIR" -lpthread
fi
exec "$PYTHON" "$HERE/compare/compare.py" --driver "$DRIVER" --python "$PYTHON" "$@"
