#!/usr/bin/env python3
"""Many TCP connections at once, each verified end to end.

  tcp_echo.py server PORT
  tcp_echo.py client HOST PORT N SECONDS

The server echoes every connection. The client opens N connections, then
for SECONDS keeps sending random chunks on all of them and checks that
each comes back byte for byte. It prints "ok N" or exits non-zero.
"""
import os
import selectors
import socket
import sys
import threading
import time


def server(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(512)

    def echo(c):
        with c:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                c.sendall(data)

    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def client(host, port, n, seconds):
    socks = []
    for _ in range(n):
        c = socket.create_connection((host, port), timeout=10)
        socks.append(c)
    time.sleep(1)  # let every connection become a candidate first
    end = time.time() + seconds
    sel = selectors.DefaultSelector()
    pending = {}
    for c in socks:
        c.setblocking(False)
        pending[c] = bytearray()
        sel.register(c, selectors.EVENT_READ)
    while time.time() < end:
        for c in socks:
            chunk = os.urandom(512)
            c.sendall(chunk)
            pending[c] += chunk
        deadline = time.time() + 10
        while any(pending.values()):
            if time.time() > deadline:
                sys.exit("echo timed out")
            for key, _ in sel.select(timeout=1):
                c = key.fileobj
                data = c.recv(65536)
                if not data:
                    sys.exit("connection closed early")
                want = pending[c][:len(data)]
                if data != want:
                    sys.exit("echo differs")
                del pending[c][:len(data)]
        time.sleep(0.05)
    for c in socks:
        c.close()
    print("ok", n)


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "server":
        server(int(a[1]))
    elif len(a) == 5 and a[0] == "client":
        client(a[1], int(a[2]), int(a[3]), float(a[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
