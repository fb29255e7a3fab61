#!/usr/bin/env python3
"""TEST ONLY: a webhook that accepts connections and never answers (a service that hangs),
keeping every connection open, so that a verifier which waits for its webhook in the poller
would stall every agent's poll. Usage: dead-webhook.py PORT"""
import socket
import sys

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(64)
held = []
while True:
    conn, _ = server.accept()
    held.append(conn)  # read nothing, answer nothing, close nothing
