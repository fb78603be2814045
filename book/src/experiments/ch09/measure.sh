#!/bin/sh
# Measures chapter 7 beside chapter 9 with chapter 9's load generator, for the book's chapter 9
# page, and appends one JSON line per run to book/src/figures/ch09-measurements.jsonl (or $OUT).
# Each line holds the server measured, the experiment, the run, the exact command, the 1-minute
# load average just before the run, the server's system calls that write to sockets during the
# run (counted by `perf stat` on the tracepoints syscalls:sys_enter_{sendto,write,writev}),
# its peak resident memory (VmHWM) and the generator's --json report.
#
#   book/src/experiments/ch09/measure.sh main       chapter 7 and chapter 9
#   book/src/experiments/ch09/measure.sh variants   chapter 9, without TCP_NODELAY, unbatched
#   book/src/experiments/ch09/measure.sh queue      chapter 9 with its default queue and 8192
#   book/src/experiments/ch09/measure.sh timeline   timeline.py on chapters 7 and 9
#
# The variants are binaries you build yourself from chapter 9 with nodelay-off.diff or
# unbatched.diff (next to this script) applied, put at $VARIANTS/ch09-nodelay-off and
# $VARIANTS/ch09-unbatched; then revert the change.
# Every experiment runs $RUNS times (3), the servers back to back within each run. A run waits
# until the machine's 1-minute load average is below $QUIET (3). Run it from the repository's
# root: `cargo build --release -p ch07-shutdown-solution -p ch09-slow-solution` first.
set -eu

set_name=${1:-main}
out=${OUT:-book/src/figures/ch09-measurements.jsonl}
runs=${RUNS:-3}
quiet=${QUIET:-3}
variants=${VARIANTS:-/tmp/ch09-variants}
bin=target/release
load=$bin/ch09-slow-solution

# Waits until the 1-minute load average is below $quiet; sets $loadavg.
wait_quiet() {
    while :; do
        loadavg=$(cut -d' ' -f1 /proc/loadavg)
        if awk -v l="$loadavg" -v q="$quiet" 'BEGIN { exit !(l < q) }'; then
            return
        fi
        echo "load average $loadavg, waiting for < $quiet" >&2
        sleep 10
    done
}

# Starts server $1 on a free port with the options that follow; sets $pid, $addr and $log.
start_server() {
    case $1 in
        ch07) server=$bin/ch07-shutdown-solution ;;
        ch09) server=$bin/ch09-slow-solution ;;
        ch09-nodelay-off) server=$variants/ch09-nodelay-off ;;
        ch09-unbatched) server=$variants/ch09-unbatched ;;
    esac
    shift
    log=$(mktemp)
    "$server" --addr 127.0.0.1:0 --max-clients 2000 "$@" >"$log" 2>&1 &
    pid=$!
    while ! grep -q '^listening on' "$log"; do sleep 0.1; done
    addr=$(sed -n 's/^listening on //p' "$log" | head -1)
}

stop_server() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$log"
}

vmhwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status"; }

# Counts the server's write system calls until stop_counting; Rust's TcpStream::write is a
# send(), which is the sendto system call.
start_counting() {
    counts=$(mktemp)
    perf stat -x, -o "$counts" -p "$pid" \
        -e syscalls:sys_enter_sendto,syscalls:sys_enter_write,syscalls:sys_enter_writev &
    perf=$!
    while ! grep -q '^# started' "$counts"; do sleep 0.05; done
}

# Stops the count; sets $writes to the sum of the three.
stop_counting() {
    kill -INT "$perf"
    wait "$perf" || true
    writes=$(awk -F, '/^[0-9]/ { n += $1 } END { print n + 0 }' "$counts")
    rm -f "$counts"
}

# Measures, for each server in $servers (NAME or NAME:SERVER-OPTION,VALUE), the experiment $1
# with the load options that follow, $runs times, the servers back to back within each run.
measure() {
    experiment=$1
    shift
    for run in $(seq 1 "$runs"); do
        for spec in $servers; do
            name=${spec%%:*}
            options=
            [ "$name" = "$spec" ] || options=$(echo "${spec#*:}" | tr ',' ' ')
            label="$name${options:+ $options}"
            wait_quiet
            # shellcheck disable=SC2086
            start_server "$name" $options
            start_counting
            report=$($load load --addr "$addr" --server-pid "$pid" --json --prefix "r$run" "$@" || true)
            stop_counting
            hwm=$(vmhwm)
            too_slow=$(grep -c '^too slow' "$log" || true)
            stop_server
            [ -n "$report" ] || report=null
            printf '{"chapter":"%s","experiment":"%s","run":%s,"command":"load %s","server_options":"%s","loadavg":%s,"server_writes":%s,"server_vmhwm_kib":%s,"server_too_slow_lines":%s,"report":%s}\n' \
                "$label" "$experiment" "$run" "$*" "$options" "$loadavg" "$writes" "$hwm" "$too_slow" "$report" >>"$out"
            echo "$label: $experiment, run $run done (load average $loadavg)" >&2
        done
    done
}

ulimit -n 20000 2>/dev/null || echo "warning: ulimit -n stays at $(ulimit -n)" >&2
case $set_name in
    main)
        servers="ch07 ch09"
        measure "throughput 100x100" -n 100 -m 100
        measure "latency 100 at 5/s" -n 100 -m 25 --rate 5
        measure "stalled 1 at 100/s" -n 10 -m 1000 --rate 100 --size 1000 --stalled 1
        measure "flood, stalled 1" -n 10 -m 10000 --size 1000 --stalled 1
        # The same 100 MB, paced so that the readers can keep up: 10 MB/s for 10 s.
        measure "flood at 1000/s, stalled 1" -n 10 -m 10000 --size 1000 --stalled 1 --rate 1000
        ;;
    variants)
        servers="ch09 ch09-nodelay-off ch09-unbatched"
        measure "throughput 100x100" -n 100 -m 100
        measure "latency 100 at 5/s" -n 100 -m 25 --rate 5
        ;;
    queue)
        servers="ch09 ch09:--queue-lines,8192"
        measure "throughput 100x100" -n 100 -m 100
        ;;
    timeline)
        # Every line's latency over a run with one stalled reader (timeline.py), once each.
        for name in ch07 ch09; do
            wait_quiet
            case $name in
                ch07) server=$bin/ch07-shutdown-solution ;;
                ch09) server=$bin/ch09-slow-solution ;;
            esac
            python3 "$(dirname "$0")/timeline.py" "$server" "$name" >>"$out"
            echo "$name: timeline done (load average $loadavg)" >&2
        done
        ;;
    *)
        echo "error: measuring: no experiment set '$set_name' (main, variants, queue, timeline)" >&2
        exit 2
        ;;
esac
