# SPDX-License-Identifier: GPL-2.0-only
"""rawpkt.py - what the frame forgers of the e2e tests share (forge_rst.py,
diffpkt.py): MAC parsing, the RFC 1071 checksum, and an AF_PACKET socket
that sends whole frames out of a device. Standard library only; imported
from the scripts' own directory.
"""
import socket
import struct


def mac(s):
    """"02:00:00:00:00:01" as 6 bytes."""
    return bytes(int(x, 16) for x in s.split(":"))


def csum(data):
    """The full RFC 1071 sum of DATA (padded to even length), complemented."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def sender(dev):
    """An AF_PACKET socket bound to DEV: send() puts a whole frame on its
    wire as given. Its MAC is sender(dev).getsockname()[4]."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    return s
