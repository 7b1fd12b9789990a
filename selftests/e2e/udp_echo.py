#!/usr/bin/env python3
"""UDP transfer with verification, for the end-to-end labs.

  udp_echo.py server PORT
  udp_echo.py client HOST PORT FILE [--sport N] [--first]

The server echoes every datagram. The client sends FILE in numbered
1200-byte datagrams with a sliding window, retransmits what is not echoed,
and checks that every echoed payload equals what it sent. It prints the
SHA-256 of the file as echoed back, so the caller compares it with the
original. --first sends one datagram and waits for its echo, so conntrack
sees a reply before flows are installed, then waits for a line on stdin
before the bulk transfer.
"""
import hashlib
import socket
import struct
import sys
import time

CHUNK = 1200
WINDOW = 64
TIMEOUT = 0.2


def server(port):
    fam = socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def send(s, buf):
    """False when the socket's buffer stayed full for TIMEOUT (a starved
    emulated CPU drains it slowly): the datagram goes again later."""
    try:
        s.send(buf)
    except socket.timeout:
        return False
    return True


def client(host, port, path, sport, first):
    info = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
    s = socket.socket(info[0], socket.SOCK_DGRAM)
    s.bind(("::" if info[0] == socket.AF_INET6 else "0.0.0.0", sport))
    s.connect(info[4])
    s.settimeout(TIMEOUT)
    with open(path, "rb") as f:
        blob = f.read()
    chunks = [blob[i:i + CHUNK] for i in range(0, len(blob), CHUNK)]

    if first:
        for _ in range(50):
            s.send(b"\xff" * 8)
            try:
                if s.recv(65535) == b"\xff" * 8:
                    break
            except (socket.timeout, ConnectionRefusedError):
                # the server may not be bound yet (ICMP port unreachable)
                time.sleep(TIMEOUT)
                continue
        else:
            sys.exit("no echo for the first datagram")
        print("ready", flush=True)
        sys.stdin.readline()

    got = [None] * len(chunks)
    sent_at = {}
    base = nxt = 0
    deadline = time.time() + 120
    while base < len(chunks):
        if time.time() > deadline:
            sys.exit("transfer timed out at chunk %d of %d" % (base, len(chunks)))
        while nxt < len(chunks) and nxt < base + WINDOW:
            if not send(s, struct.pack("!I", nxt) + chunks[nxt]):
                break
            sent_at[nxt] = time.time()
            nxt += 1
        try:
            data = s.recv(65535)
        except (socket.timeout, ConnectionRefusedError):
            data = None
        if data and len(data) >= 4 and data != b"\xff" * 8:
            (seq,) = struct.unpack("!I", data[:4])
            if seq < len(chunks):
                if data[4:] != chunks[seq]:
                    sys.exit("chunk %d came back corrupted" % seq)
                got[seq] = data[4:]
        while base < len(chunks) and got[base] is not None:
            base += 1
        now = time.time()
        for seq in range(base, nxt):
            if got[seq] is None and now - sent_at[seq] > TIMEOUT:
                if not send(s, struct.pack("!I", seq) + chunks[seq]):
                    break
                sent_at[seq] = now
    print(hashlib.sha256(b"".join(got)).hexdigest())


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "server":
        server(int(a[1]))
    elif len(a) >= 4 and a[0] == "client":
        sport = int(a[a.index("--sport") + 1]) if "--sport" in a else 0
        client(a[1], int(a[2]), a[3], sport, "--first" in a)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
