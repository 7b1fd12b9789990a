#!/usr/bin/env python3
"""udp_ttl.py - one UDP flow from a fixed source port, for the per-flow pass
reasons of "fastpath explain".

  udp_ttl.py HOST PORT SPORT warm SECONDS   echo exchanges (udp_echo.py
                                            server), 10 a second; prints
                                            how many were echoed
  udp_ttl.py HOST PORT SPORT ttl1 COUNT     COUNT datagrams with TTL 1,
                                            20 a second: the router must
                                            pass each up (ICMP time
                                            exceeded comes back)
"""
import socket
import sys
import time


def main(host, port, sport, mode, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(sport)))
    s.connect((host, int(port)))
    s.settimeout(0.1)
    echoed = 0
    if mode == "warm":
        end = time.monotonic() + float(n)
        while time.monotonic() < end:
            try:
                s.send(b"w" * 100)
                if s.recv(2000):
                    echoed += 1
            except OSError:
                pass            # a timeout, or an ICMP error from before
            time.sleep(0.1)
        print(echoed)
        return
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
    for _ in range(int(n)):
        try:
            s.send(b"t" * 100)
        except OSError:
            pass                # the last time exceeded, reported here
        time.sleep(0.05)


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(*sys.argv[1:6])
