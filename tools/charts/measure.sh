#!/bin/sh
# Measures chapters 4 to 7 with chapter 8's load generator and appends one JSON line per run
# to book/src/figures/ch08-measurements.jsonl (or to $1). Each line holds the chapter, the
# experiment, the run number, the exact command and the generator's --json report.
# Then `cargo run -p charts` draws the book's charts from that file.
#
# Run it from the repository's root on a machine as quiet as you can make it; it takes about
# ten minutes. Every experiment runs three times; the charts use the median.
set -eu

out=${1:-book/src/figures/ch08-measurements.jsonl}
runs=${RUNS:-3}
cargo build --release --quiet -p ch04-mutex-solution -p ch05-names-solution \
    -p ch06-cap-solution -p ch07-shutdown-solution -p ch08-load-solution
bin=target/release
load=$bin/ch08-load-solution

# Starts chapter $1's server on a free port; sets $pid and $addr.
start_server() {
    case $1 in
        ch04) server=$bin/ch04-mutex-solution; extra= ;;
        ch05) server=$bin/ch05-names-solution; extra= ;;
        ch06) server=$bin/ch06-cap-solution; extra="--max-clients 6000" ;;
        ch07) server=$bin/ch07-shutdown-solution; extra="--max-clients 6000" ;;
    esac
    log=$(mktemp)
    # shellcheck disable=SC2086
    $server --addr 127.0.0.1:0 $extra >"$log" 2>&1 &
    pid=$!
    while ! grep -q '^listening on' "$log"; do sleep 0.1; done
    addr=$(sed -n 's/^listening on //p' "$log" | head -1)
}

stop_server() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$log"
}

# Runs the experiment $2 on chapter $1 with the load options that follow, $runs times.
measure() {
    chapter=$1 experiment=$2
    shift 2
    for run in $(seq 1 "$runs"); do
        start_server "$chapter"
        report=$($load load --addr "$addr" --server-pid "$pid" --json --prefix "r$run" "$@" || true)
        stop_server
        [ -n "$report" ] || report=null
        printf '{"chapter":"%s","experiment":"%s","run":%s,"command":"load %s","report":%s}\n' \
            "$chapter" "$experiment" "$run" "$*" "$report" >>"$out"
        echo "$chapter $experiment run $run done" >&2
    done
}

ulimit -n 20000 2>/dev/null || echo "warning: ulimit -n stays at $(ulimit -n)" >&2
for ch in ch04 ch05 ch06 ch07; do
    measure $ch "throughput 10x1000" -n 10 -m 1000
    measure $ch "throughput 100x100" -n 100 -m 100
    measure $ch "latency 100 at 5/s" -n 100 -m 25 --rate 5
    measure $ch "latency 100 at 5/s, quickack" -n 100 -m 25 --rate 5 --quickack
    measure $ch "idle 1000" --idle 1000 --hold 2 --time-limit 120
done
for ch in ch04 ch07; do
    measure $ch "stalled 0" -n 10 -m 1000 --rate 100 --size 1000
    measure $ch "stalled 1" -n 10 -m 1000 --rate 100 --size 1000 --stalled 1
done
RUNS=1
runs=1
measure ch07 "idle 5000" --idle 5000 --hold 2 --time-limit 300
