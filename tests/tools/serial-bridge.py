#!/usr/bin/env python3
"""What qemu does for a virtio-serial port whose chardev is a UNIX socket
(tests/integration/test-host-fresh.sh): one connection to `vmattest-host serve` kept for the
guest's lifetime, the guest's side a character device; here a pseudo-terminal in raw mode whose
path is written to LINK (a symlink). Bytes pass both ways unchanged.
Usage: serial-bridge.py SERVICE-PATH LINK"""
import os
import pty
import select
import socket
import sys
import tty


def main():
    service_path, link = sys.argv[1], sys.argv[2]
    master, slave = pty.openpty()
    tty.setraw(slave)
    # the slave stays open here too: the pty must not hang up between the agent's opens
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.ttyname(slave), link)
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    upstream.connect(service_path)
    print("bridging", os.ttyname(slave), flush=True)
    while True:
        ready, _, _ = select.select([master, upstream], [], [])
        if master in ready:
            data = os.read(master, 4096)
            if data:
                upstream.sendall(data)
        if upstream in ready:
            data = upstream.recv(4096)
            if not data:
                return
            os.write(master, data)


main()
