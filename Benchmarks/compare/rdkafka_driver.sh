# Sourced by the benchmark scripts: sets PYTHON (the .venv's, else python3) and DRIVER (the librdkafka driver,
# built from rdkafka_driver.c against the librdkafka in the confluent-kafka wheel when missing or older than its
# source). Expects HERE (the Benchmarks directory) and ROOT (the repository).
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
LIBDIR="$("$PYTHON" -c 'import confluent_kafka, pathlib; p = pathlib.Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"; print(p)')"
LIB="$(cd "$LIBDIR" && ls librdkafka*.so* | head -n 1)"
[ -n "$LIB" ] || { echo "no librdkafka in $LIBDIR" >&2; exit 2; }
DRIVER="$ROOT/.build/compare/rdkafka_driver"
SOURCE="$HERE/compare/rdkafka_driver.c"
if [ ! -x "$DRIVER" ] || [ "$SOURCE" -nt "$DRIVER" ]; then
    mkdir -p "$(dirname "$DRIVER")"
    cc -O2 -Wall -o "$DRIVER" "$SOURCE" -L"$LIBDIR" -l:"$LIB" -Wl,-rpath,"$LIBDIR" -lpthread
fi
