#!/usr/bin/env bash
# Runs a local Portask cluster: 3 etcd members and 3 portaskd brokers (release build) on loopback ports, each
# with its own data directory. Prints the bootstrap servers; Ctrl-C (or SIGTERM) stops everything. Data is kept
# between runs (use --clean to start afresh).
#
#   scripts/run-cluster.sh [--dir DIR] [--kafka-port PORT] [--etcd-port PORT] [--prefix PREFIX] [--clean]
#                          [--debug] [-- portaskd options...]
#
#   --dir DIR          data and logs (default ./portask-cluster): etcdN/, brokerN/, etcdN.log, brokerN.log
#   --kafka-port PORT  brokers 1, 2, 3 listen on PORT, PORT+1, PORT+2 (default 9092)
#   --etcd-port PORT   etcd member N serves clients on PORT+2N and peers on PORT+2N+1 (default 2379)
#   --prefix PREFIX    metadata.etcd.prefix (default /portask/)
#   --clean            delete DIR first
#   --debug            build and run the debug configuration instead of release
#   -- OPTIONS...      passed to every portaskd, e.g. -- --override num.partitions=6
set -euo pipefail
cd "$(dirname "$0")/.."

dir=portask-cluster
kafka_port=9092
etcd_port=2379
prefix=/portask/
clean=false
configuration=release
broker_options=()
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) dir="$2"; shift 2 ;;
        --kafka-port) kafka_port="$2"; shift 2 ;;
        --etcd-port) etcd_port="$2"; shift 2 ;;
        --prefix) prefix="$2"; shift 2 ;;
        --clean) clean=true; shift ;;
        --debug) configuration=debug; shift ;;
        --) shift; broker_options=("$@"); break ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
for number in "$kafka_port" "$etcd_port"; do
    [[ "$number" =~ ^[0-9]+$ ]] && [ "$number" -ge 1 ] && [ "$number" -le 65530 ] \
        || { echo "invalid port $number" >&2; exit 2; }
done

if ! command -v etcd >/dev/null; then
    echo "installing etcd (Debian package etcd-server)"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq etcd-server >/dev/null
fi
scripts/install-deps.sh --build
swift build -c "$configuration" --product portaskd
portaskd=".build/$configuration/portaskd"

[ "$clean" = true ] && rm -rf "$dir"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

pids=()
stop_all() {
    trap - INT TERM EXIT
    echo "stopping the cluster"
    # Brokers first (they deregister from etcd), then etcd.
    for pid in "${pids[@]:3}" "${pids[@]:0:3}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

etcd_healthy() { # client port
    (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /health HTTP/1.0\r\n\r\n' >&3 && grep -q '"health":"true"' <&3) \
        2>/dev/null
}

initial_cluster=""
endpoints=""
for n in 0 1 2; do
    initial_cluster+="${initial_cluster:+,}etcd$n=http://127.0.0.1:$((etcd_port + 2 * n + 1))"
    endpoints+="${endpoints:+,}http://127.0.0.1:$((etcd_port + 2 * n))"
done
for n in 0 1 2; do
    client="http://127.0.0.1:$((etcd_port + 2 * n))"
    peer="http://127.0.0.1:$((etcd_port + 2 * n + 1))"
    etcd --name "etcd$n" --data-dir "$dir/etcd$n" \
        --listen-client-urls "$client" --advertise-client-urls "$client" \
        --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
        --initial-cluster "$initial_cluster" --initial-cluster-state new --initial-cluster-token portask-cluster \
        --logger zap --log-outputs stderr >>"$dir/etcd$n.log" 2>&1 &
    pids+=($!)
done
for n in 0 1 2; do
    for _ in $(seq 300); do
        etcd_healthy $((etcd_port + 2 * n)) && break
        kill -0 "${pids[$n]}" 2>/dev/null || { echo "etcd$n exited; see $dir/etcd$n.log" >&2; exit 1; }
        sleep 0.1
    done
    etcd_healthy $((etcd_port + 2 * n)) || { echo "etcd$n is not healthy; see $dir/etcd$n.log" >&2; exit 1; }
done
echo "etcd: $endpoints"

# Every broker's meta.properties carries the same cluster id (what `kafka-storage format -t` does for Kafka).
[ -s "$dir/cluster.id" ] || head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$dir/cluster.id"
cluster_id="$(cat "$dir/cluster.id")"
bootstrap=""
for node in 1 2 3; do
    port=$((kafka_port + node - 1))
    data="$dir/broker$node"
    mkdir -p "$data"
    if [ ! -e "$data/meta.properties" ]; then
        directory_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        printf '#\nversion=1\ncluster.id=%s\nnode.id=%s\ndirectory.id=%s\n' "$cluster_id" "$node" "$directory_id" \
            >"$data/meta.properties"
    fi
    "$portaskd" --override "node.id=$node" --override "listeners=PLAINTEXT://127.0.0.1:$port" \
        --override "log.dirs=$data" --override "metadata.etcd.endpoints=$endpoints" \
        --override "metadata.etcd.prefix=$prefix" "${broker_options[@]}" >>"$dir/broker$node.log" 2>&1 &
    pids+=($!)
    bootstrap+="${bootstrap:+,}127.0.0.1:$port"
done
for node in 1 2 3; do
    port=$((kafka_port + node - 1))
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        kill -0 "${pids[$((node + 2))]}" 2>/dev/null || { echo "broker $node exited; see $dir/broker$node.log" >&2; exit 1; }
        sleep 0.1
    done
done

echo "brokers: node 1, 2, 3 (logs: $dir/broker{1,2,3}.log)"
echo "bootstrap servers: $bootstrap"
echo "Ctrl-C stops the cluster."
# Runs until a signal arrives or a process exits.
wait -n "${pids[@]}" || true
echo "a cluster process exited; see the logs in $dir" >&2
exit 1
