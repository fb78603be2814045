#!/bin/sh
# Measures chapter 7 beside chapter 9 with chapter 9's load generator, for the book's chapter 9
# page, and appends one JSON line per run to book/src/figures/ch09-measurements.jsonl (or $OUT).
# Each line holds the server measured, the experiment, the run, the exact command, the 1-minute
# load average just before the run, what `perf stat` counted over the server's whole life,
# logins included (its system calls that write to a socket, its futex calls: threads sleeping
# on and waking each other's locks and condition variables, and its context switches), its
# peak resident memory (VmHWM) and the generator's --json report.
#
#   book/src/experiments/ch09/measure.sh main       chapter 7 and chapter 9
#   book/src/experiments/ch09/measure.sh variants   chapter 9, without TCP_NODELAY, unbatched
#   book/src/experiments/ch09/measure.sh queue      chapter 9 with its default queue, with 8192,
#                                                   and notifying the writer only when empty
#   book/src/experiments/ch09/measure.sh timeline   timeline.py on chapters 7 and 9
#   book/src/experiments/ch09/measure.sh stalled    chapter 8's stalled-reader run, on 7 and 9
#   book/src/experiments/ch09/measure.sh ch10       chapter 9 and chapter 10 (chapter 10's page)
#   book/src/experiments/ch09/measure.sh latency    chapters 7, 9 and 10 at 100 x 5 lines/s
#   book/src/experiments/ch09/measure.sh notify     chapter 9, and notifying under the queue's lock
#   book/src/experiments/ch09/measure.sh flood      chapters 7 and 9, the unpaced flood alone
#
# The variants are binaries you build yourself from chapter 9 with nodelay-off.diff or
# unbatched.diff (next to this script) applied, put at $VARIANTS/ch09-nodelay-off and
# $VARIANTS/ch09-unbatched (and notify-when-empty.diff: $VARIANTS/ch09-notify-when-empty,
# notify-under-lock.diff: $VARIANTS/ch09-notify-under-lock); then revert the change.
# Every experiment runs $RUNS times (3), the servers back to back within each run.
# The first run waits until the machine's 1-minute load average is below $QUIET (3), and each
# server until nothing else is running (wait_idle). Run it from the repository's
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

# Starts server $1 on a free port with the options that follow, under `perf stat`, which counts
# its system calls that write (Rust's TcpStream::write is a send(): the sendto system call), its
# futex calls and its context switches from start to exit. Sets $pid, $addr, $log, $counts.
# A latency experiment counts context switches only: tracing every system call costs the server
# time on each one, and it raised chapter 9's p99 at 100 x 5/s from 2.6 to 4.2 ms (median of 3
# runs each, alternating), so its write and futex counts are null.
start_server() {
    case $1 in
        ch07) server=$bin/ch07-shutdown-solution ;;
        ch09) server=$bin/ch09-slow-solution ;;
        ch09-nodelay-off) server=$variants/ch09-nodelay-off ;;
        ch09-unbatched) server=$variants/ch09-unbatched ;;
        ch09-notify-when-empty) server=$variants/ch09-notify-when-empty ;;
        ch09-notify-under-lock) server=$variants/ch09-notify-under-lock ;;
        ch10) server=$bin/ch10-poll-solution ;;
    esac
    shift
    log=$(mktemp)
    counts=$(mktemp)
    # shellcheck disable=SC2086
    perf stat -x, -o "$counts" $events \
        -- "$server" --addr 127.0.0.1:0 --max-clients 2000 "$@" >"$log" 2>&1 &
    perf=$!
    tries=0
    while ! grep -q '^listening on' "$log"; do
        tries=$((tries + 1))
        if [ "$tries" -gt 300 ]; then
            echo "error: starting $server: no 'listening on' within 30 s" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    addr=$(sed -n 's/^listening on //p' "$log" | head -1)
    pid=$(ps -o pid= --ppid "$perf" | tr -d ' ')
}

vmhwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status"; }

# Stops the server; sets $writes (the three write calls together), $futex and $switches.
stop_server() {
    kill "$pid" 2>/dev/null || true
    wait "$perf" 2>/dev/null || true
    writes=$(awk -F, '/sys_enter_(sendto|write|writev),/ { n += $1; seen = 1 } END { print seen ? n : "null" }' "$counts")
    futex=$(awk -F, '/sys_enter_futex,/ { n = $1 + 0; seen = 1 } END { print seen ? n : "null" }' "$counts")
    switches=$(awk -F, '/context-switches,/ { print $1 + 0 }' "$counts")
    rm -f "$log" "$counts"
}

# Waits until nothing else is running right now: at most 2 runnable threads (the one reading
# /proc/loadavg included) in each of 10 samples 0.1 s apart. The servers of one run go back to back, and
# the one before lifts the 1-minute average for a minute after it has finished, so this is the
# check before each server; the load average is checked once, before the first.
wait_idle() {
    calm=0
    while [ "$calm" -lt 10 ]; do
        # A builtin read: no process of ours is counted but this shell.
        read -r _ _ _ threads _ </proc/loadavg
        if [ "${threads%/*}" -le 2 ]; then calm=$((calm + 1)); else calm=0; fi
        sleep 0.1
    done
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
            case $experiment in
                latency*) events="-e context-switches" ;;
                *) events="-e syscalls:sys_enter_sendto,syscalls:sys_enter_write,syscalls:sys_enter_writev -e syscalls:sys_enter_futex,context-switches" ;;
            esac
            wait_idle
            loadavg=$(cut -d' ' -f1 /proc/loadavg)
            # shellcheck disable=SC2086
            start_server "$name" $options
            report=$($load load --addr "$addr" --server-pid "$pid" --json --prefix "r$run" "$@" || true)
            hwm=$(vmhwm)
            too_slow=$(grep -c '^too slow' "$log" || true)
            stop_server
            [ -n "$report" ] || report=null
            printf '{"set":"%s","chapter":"%s","experiment":"%s","run":%s,"command":"load %s","server_options":"%s","loadavg":%s,"server_writes":%s,"server_futex":%s,"server_context_switches":%s,"server_vmhwm_kib":%s,"server_too_slow_lines":%s,"report":%s}\n' \
                "$set_name" "$label" "$experiment" "$run" "$*" "$options" "$loadavg" "$writes" "$futex" "$switches" "$hwm" "$too_slow" "$report" >>"$out"
            echo "$label: $experiment, run $run done (load average $loadavg)" >&2
        done
    done
}

ulimit -n 20000 2>/dev/null || echo "warning: ulimit -n stays at $(ulimit -n)" >&2
# A quiet machine to begin with; then each server waits until nothing else runs (wait_idle):
# the runs themselves lift the 1-minute average for a minute or two after they end.
wait_quiet
case $set_name in
    main)
        servers="ch07 ch09"
        measure "throughput 100x100" -n 100 -m 100
        measure "latency 100 at 5/s" -n 100 -m 25 --rate 5
        measure "flood, stalled 1" -n 10 -m 10000 --size 1000 --stalled 1
        # The same 100 MB, paced so that the readers can keep up: 10 MB/s for 10 s.
        measure "flood at 1000/s, stalled 1" -n 10 -m 10000 --size 1000 --stalled 1 --rate 1000
        ;;
    flood)
        # main's unpaced flood again, measured after the generator's fix: its readers now shut
        # a connection down when it ends, which wakes a writer blocked sending to it.
        servers="ch07 ch09"
        measure "flood, stalled 1" -n 10 -m 10000 --size 1000 --stalled 1
        ;;
    variants)
        servers="ch09 ch09-nodelay-off ch09-unbatched"
        measure "throughput 100x100" -n 100 -m 100
        measure "latency 100 at 5/s" -n 100 -m 25 --rate 5
        ;;
    stalled)
        servers="ch07 ch09"
        measure "stalled 1 at 100/s" -n 10 -m 1000 --rate 100 --size 1000 --stalled 1
        ;;
    ch10)
        # Chapter 10's page: chapter 9 beside chapter 10.
        servers="ch09 ch10"
        measure "throughput 100x100" -n 100 -m 100
        measure "latency 100 at 5/s" -n 100 -m 25 --rate 5
        measure "idle 1000" --idle 1000 --hold 2
        ;;
    latency)
        # Chapters 7, 9 and 10 at an ordinary chat's pace, five runs each.
        servers="ch07 ch09 ch10"
        runs=${RUNS:-5}
        measure "latency 100 at 5/s" -n 100 -m 25 --rate 5
        ;;
    notify)
        # Waking the writer after letting go of the queue's lock (the solution), and before.
        servers="ch09 ch09-notify-under-lock"
        measure "latency 100 at 5/s" -n 100 -m 25 --rate 5
        ;;
    queue)
        # The default queue, and one that holds a whole 100x100 run (9900 lines per client).
        servers="ch09 ch09:--queue-lines,16384"
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
            python3 "$(dirname "$0")/timeline.py" "$server" "$name" | sed 's/^{/{"set":"timeline",/' >>"$out"
            echo "$name: timeline done (load average $loadavg)" >&2
        done
        ;;
    *)
        echo "error: measuring: no experiment set '$set_name' (main, variants, queue, timeline, stalled, ch10, latency, notify)" >&2
        exit 2
        ;;
esac
