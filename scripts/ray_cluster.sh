#!/usr/bin/env bash
# A real multi-node Ray cluster on this machine for evoforge's tests and benchmarks: a head node and
# $EVOFORGE_RAY_WORKERS more worker nodes (default 1), each a raylet of its own started with `ray start`, all on
# 127.0.0.1, the head's GCS on port $EVOFORGE_RAY_PORT (default 6390), each node with $EVOFORGE_RAY_CPUS CPUs
# (default 1). Its files live in /tmp/evoforge-ray-PORT, so `stop` ends this cluster and no other Ray on the machine.
# Token authentication is off (RAY_AUTH_MODE=disabled): a throwaway cluster for tests, not a production setup.
#   scripts/ray_cluster.sh start   # idempotent; prints the address to pass to `evoforge run --executor ray --address`
#   scripts/ray_cluster.sh stop
#   scripts/ray_cluster.sh address
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${EVOFORGE_RAY_PORT:-6390}"
WORKERS="${EVOFORGE_RAY_WORKERS:-1}"
CPUS="${EVOFORGE_RAY_CPUS:-1}"
TMP="/tmp/evoforge-ray-$PORT"
ADDRESS="127.0.0.1:$PORT"
export RAY_AUTH_MODE=disabled RAY_USAGE_STATS_ENABLED=0

ray_bin() {
    if [ -x .venv/bin/ray ]; then echo .venv/bin/ray
    elif command -v ray >/dev/null; then command -v ray
    else echo "ray_cluster: Ray is not installed (pip install evoforge[ray])" >&2; exit 1
    fi
}

alive_nodes() {
    # ray.init would wait a minute for a GCS that is not there: look for its port first.
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { echo 0; return; }
    timeout 60 "$(dirname "$(ray_bin)")/python" - "$ADDRESS" <<'EOF' 2>/dev/null || echo 0
import sys, ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
print(sum(n["Alive"] for n in ray.nodes()))
EOF
}

start() {
    local ray; ray=$(ray_bin)
    if [ "$(alive_nodes)" -ge $((WORKERS + 1)) ] 2>/dev/null; then echo "$ADDRESS"; return; fi
    stop
    mkdir -p "$TMP"
    "$ray" start --head --node-ip-address=127.0.0.1 --port="$PORT" --num-cpus="$CPUS" --num-gpus=0 \
        --include-dashboard=false --temp-dir="$TMP" --disable-usage-stats >"$TMP/head.log" 2>&1 ||
        { echo "ray_cluster: the head node did not start (see $TMP/head.log)" >&2; exit 1; }
    for i in $(seq 1 "$WORKERS"); do
        "$ray" start --address="$ADDRESS" --node-ip-address=127.0.0.1 --num-cpus="$CPUS" --num-gpus=0 \
            --temp-dir="$TMP" --disable-usage-stats >"$TMP/worker-$i.log" 2>&1 ||
            { echo "ray_cluster: worker node $i did not start (see $TMP/worker-$i.log)" >&2; exit 1; }
    done
    for _ in $(seq 1 30); do
        [ "$(alive_nodes)" -ge $((WORKERS + 1)) ] && { echo "$ADDRESS"; return; }
        sleep 1
    done
    echo "ray_cluster: $((WORKERS + 1)) nodes did not all join within 30 s" >&2
    exit 1
}

stop() {
    # Every process of this cluster names its session directory under $TMP on its command line.
    pkill -9 -f -- "$TMP/" 2>/dev/null || true
    pkill -9 -f -- "--temp-dir=$TMP" 2>/dev/null || true
    sleep 0.5
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    address) echo "$ADDRESS" ;;
    *) echo "usage: scripts/ray_cluster.sh start|stop|address" >&2; exit 2 ;;
esac
