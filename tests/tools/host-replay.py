#!/usr/bin/env python3
"""A replaying proxy in front of `vmattest-host serve` (tests/integration/test-host-fresh.sh): listens
on a UNIX socket, passes the first request to the real service and keeps its answer, then answers
every later request with that same answer: a fresh binding replayed, which the verifier must
refuse as stale. Usage: host-replay.py LISTEN-PATH SERVICE-PATH"""
import os
import socket
import struct
import sys

HEADER = 12


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_frame(conn):
    header = read_exact(conn, HEADER)
    (length,) = struct.unpack(">I", header[8:12])
    if length > 4096:
        raise EOFError
    return header + read_exact(conn, length)


def main():
    listen_path, service_path = sys.argv[1], sys.argv[2]
    if os.path.exists(listen_path):
        os.unlink(listen_path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(listen_path)
    server.listen(4)
    kept = None
    while True:
        conn, _ = server.accept()
        try:
            request = read_frame(conn)
            if kept is None:
                upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                upstream.connect(service_path)
                upstream.sendall(request)
                kept = read_frame(upstream)
                upstream.close()
                print("kept the first answer", flush=True)
            conn.sendall(kept)
        except (EOFError, OSError):
            pass
        conn.close()


main()
