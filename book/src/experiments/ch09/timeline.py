#!/usr/bin/env python3
"""Every line's latency over a run, while one client in the room has stopped reading.

    python3 timeline.py SERVER_BINARY LABEL [--clients 10] [--rate 100] [--size 1000]
                        [--lines 1000] [--stalled 1] [--bin-ms 100]

Starts the server on a free port, logs in the stalled clients first (they never read), then
the reading clients, which each send --lines lines of --size bytes at --rate lines per second
on a fixed schedule while reading everything. Each line carries the time it was due, so a
stall shows up in the latency of every line that waited for it (no coordinated omission). The
result is one JSON line on standard output: per bin of --bin-ms of due time, how many lines
arrived and their median and largest latency, plus the totals and what the server's console
said about slow clients. The book's chapter 9 draws its timeline figure from it.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def start_server(binary):
    """Starts the server on a free port; returns the process, its address and its console."""
    server = subprocess.Popen(
        [binary, "--addr", "127.0.0.1:0", "--max-clients", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in server.stdout:
        if line.startswith("listening on "):
            host, port = line.split()[-1].rsplit(":", 1)
            break
    else:
        sys.exit("error: starting the server: it exited before saying `listening on`")
    console = []
    # Keep reading the console, so the server never blocks on a full pipe.
    threading.Thread(target=lambda: console.extend(server.stdout), daemon=True).start()
    return server, (host, int(port)), console


def read_line(sock, pending):
    """Reads one line (without its newline); `pending` holds bytes read beyond it."""
    while b"\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection during the login")
        pending += chunk
    line, _, rest = bytes(pending).partition(b"\n")
    pending[:] = rest
    return line.decode()


def login(addr, name):
    """Connects and logs in as `name`; returns the socket and the bytes read past the welcome."""
    sock = socket.create_connection(addr, timeout=5)
    pending = bytearray()
    read_line(sock, pending)  # Enter username:
    sock.sendall(name.encode() + b"\n")
    while not read_line(sock, pending).startswith("welcome "):
        pass
    sock.settimeout(None)
    return sock, pending


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("label")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--stalled", type=int, default=1)
    parser.add_argument("--bin-ms", type=int, default=100)
    parser.add_argument("--drain", type=float, default=5.0)
    args = parser.parse_args()

    loadavg = os.getloadavg()[0]
    server, addr, console = start_server(args.binary)
    stalled = [login(addr, f"stalled-{k}")[0] for k in range(args.stalled)]
    clients = [login(addr, f"c-{me}") for me in range(args.clients)]

    # (due time since the start, latency) of every line received, in ns, per reader.
    samples = [[] for _ in clients]
    expected = args.clients * (args.clients - 1) * args.lines
    received = [0] * args.clients
    done = threading.Event()

    def read_all(me, sock, pending):
        while True:
            try:
                chunk = sock.recv(1 << 16)
            except OSError:
                return
            if not chunk:
                return
            now = time.monotonic_ns()
            pending += chunk
            *lines, rest = bytes(pending).split(b"\n")
            pending[:] = rest
            for line in lines:
                # [c-3] T 3 42 DUE xxxx...
                fields = line.split(b" ", 5)
                if len(fields) >= 5 and fields[1] == b"T":
                    due = int(fields[4])
                    samples[me].append((due - start, now - due))
                    received[me] += 1
            if sum(received) >= expected:
                done.set()

    def send_all(me, sock):
        for seq in range(args.lines):
            # Due on a fixed schedule, the clients spread over one period.
            due = start + int((seq + me / args.clients) * 1e9 / args.rate)
            wait = (due - time.monotonic_ns()) / 1e9
            if wait > 0:
                time.sleep(wait)
            head = f"T {me} {seq} {due} "
            try:
                sock.sendall((head + "x" * (args.size - len(head))).encode() + b"\n")
            except OSError:
                return

    start = time.monotonic_ns() + 100_000_000
    readers = [
        threading.Thread(target=read_all, args=(me, sock, pending))
        for me, (sock, pending) in enumerate(clients)
    ]
    senders = [
        threading.Thread(target=send_all, args=(me, sock))
        for me, (sock, _) in enumerate(clients)
    ]
    for thread in readers + senders:
        thread.start()
    for thread in senders:
        thread.join()
    done.wait(args.drain)
    for sock, _ in clients:
        sock.shutdown(socket.SHUT_RDWR)
    for thread in readers:
        thread.join()
    for sock in stalled:
        sock.close()
    server.send_signal(signal.SIGINT)
    server.wait(timeout=10)

    bin_ns = args.bin_ms * 1_000_000
    bins = {}
    for one in samples:
        for due, latency in one:
            bins.setdefault(due // bin_ns, []).append(latency)
    t_s, count, p50_ms, max_ms = [], [], [], []
    for index in sorted(bins):
        latencies = sorted(bins[index])
        t_s.append(round(index * bin_ns / 1e9, 3))
        count.append(len(latencies))
        p50_ms.append(round(latencies[len(latencies) // 2] / 1e6, 3))
        max_ms.append(round(latencies[-1] / 1e6, 3))
    command = "python3 timeline.py BINARY " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k not in ("binary", "label")
    )
    print(
        json.dumps(
            {
                "chapter": args.label,
                "experiment": "timeline",
                "run": 1,
                "command": command,
                "loadavg": loadavg,
                "report": None,
                "timeline": {
                    "bin_ms": args.bin_ms,
                    "expected": expected,
                    "deliveries": sum(received),
                    "t_s": t_s,
                    "count": count,
                    "p50_ms": p50_ms,
                    "max_ms": max_ms,
                    "console": [
                        line.strip()
                        for line in console
                        if "too slow" in line or "error" in line
                    ],
                },
            }
        )
    )


if __name__ == "__main__":
    main()
