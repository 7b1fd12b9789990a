#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""forge_rst.py - forged TCP RSTs for test_hostile.sh, as an attacker on
the WAN link sends them: the right tuple, random sequence numbers.

  forge_rst.py DEV DMAC SRC SPORT DST DPORT COUNT

Sends COUNT IPv4 frames out of DEV with AF_PACKET, from DEV's own MAC to
DMAC, SRC:SPORT -> DST:DPORT, flags RST only, each with a sequence number
from os.urandom, and prints them ("seq N" per line). Standard library
only (and rawpkt.py beside it); both checksums are full RFC 1071 sums.
"""
import os
import socket
import struct
import sys

from rawpkt import csum, mac, sender


def frame(smac, dmac, src, sport, dst, dport, seq, ident):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x04, 0, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ident, 0x4000, 64,
                     socket.IPPROTO_TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dmac + smac + b"\x08\x00" + ip + tcp


def main():
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    dev, dmac, src, sport, dst, dport, count = sys.argv[1:]
    dmac = mac(dmac)
    s = sender(dev)
    smac = s.getsockname()[4]
    for i in range(int(count)):
        seq = struct.unpack("!I", os.urandom(4))[0]
        s.send(frame(smac, dmac, socket.inet_aton(src), int(sport),
                     socket.inet_aton(dst), int(dport), seq, 0x5000 + i))
        print("seq", seq)
    s.close()


if __name__ == "__main__":
    main()
