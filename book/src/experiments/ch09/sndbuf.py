#!/usr/bin/env python3
"""How much waits in the kernel for a client that has stopped reading.

    python3 sndbuf.py SERVER_BINARY [LINES]

Starts the server on a free port, logs in a client that never reads ("stalled"), a reader and
a sender; the sender sends LINES lines of 1000 bytes (default 1000), and once the reader has
received every one of them (so the server has queued them for the stalled client too), `ss -tmn`
shows the server's side of the stalled client's connection: Send-Q, the bytes the kernel holds
for it, and skmem's tb, the size its send buffer has grown to.
"""

import re
import signal
import socket
import subprocess
import sys


def read_line(sock, pending):
    while b"\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        pending += chunk
    line, _, rest = bytes(pending).partition(b"\n")
    pending[:] = rest
    return line.decode()


def login(addr, name):
    sock = socket.create_connection(addr, timeout=10)
    pending = bytearray()
    read_line(sock, pending)
    sock.sendall(name.encode() + b"\n")
    while not read_line(sock, pending).startswith("welcome "):
        pass
    return sock, pending


def main():
    binary = sys.argv[1]
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    server = subprocess.Popen(
        [binary, "--addr", "127.0.0.1:0", "--max-clients", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in server.stdout:
        if line.startswith("listening on "):
            host, port = line.split()[-1].rsplit(":", 1)
            break
    addr = (host, int(port))
    stalled, _ = login(addr, "stalled")
    stalled_port = stalled.getsockname()[1]
    reader, pending = login(addr, "reader")
    sender, _ = login(addr, "sender")
    text = "x" * 1000
    for _ in range(lines):
        sender.sendall(text.encode() + b"\n")
    got = 0
    while got < lines:
        if read_line(reader, pending).endswith(text):
            got += 1
    # The server's end of the stalled client's connection: local port = the server's.
    ss = subprocess.run(
        ["ss", "-tmn", "state", "established", f"( sport = :{port} and dport = :{stalled_port} )"],
        capture_output=True,
        text=True,
    ).stdout
    fields = ss.split("\n", 1)[1].split()
    tb = re.search(r"tb(\d+)", ss)
    # And the stalled client's end: what arrived and waits for it to read (Recv-Q).
    theirs = subprocess.run(
        ["ss", "-tn", "state", "established", f"( sport = :{stalled_port} )"],
        capture_output=True,
        text=True,
    ).stdout.split("\n", 1)[1].split()
    print(
        f"{binary}: after {lines} lines of 1000 bytes, the kernel holds {int(fields[1]):,} bytes "
        f"to send to the stalled reader (server's Send-Q; send buffer {int(tb.group(1)):,} "
        f"bytes, skmem tb) and {int(theirs[0]):,} bytes it received (its Recv-Q)"
    )
    for sock in (stalled, reader, sender):
        sock.close()
    server.send_signal(signal.SIGINT)
    server.wait(timeout=10)


if __name__ == "__main__":
    main()
