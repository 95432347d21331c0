#!/usr/bin/env bash
# Installs what is missing. `--build`: only what building portaskd needs (the compression libraries' -dev
# packages and pkg-config). Without it, also what the tests need: client tools, Go and the Go Kafka clients, etcd,
# the Python Kafka clients in .venv, and Java 17 with Kafka's Java client (scripts/fetch-java-clients.sh). Safe to
# run repeatedly; does nothing when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev pkg-config)
if [ "${1:-}" != "--build" ]; then
    apt_packages+=(kcat python3-venv golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev
        openjdk-17-jdk-headless etcd-server)
fi
missing=()
for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--build" ] && exit 0

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if ! .venv/bin/python -c "import confluent_kafka, kafka, aiokafka, pytest, snappy, lz4.frame, zstandard, xxhash" 2>/dev/null; then
    echo "installing Python test clients into .venv"
    .venv/bin/pip install -q --disable-pip-version-check -r Tests/tools/requirements.txt
fi
scripts/fetch-java-clients.sh >/dev/null
