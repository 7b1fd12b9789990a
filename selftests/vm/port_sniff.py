#!/usr/bin/env python3
"""port_sniff.py - what an end host's link carried of one TCP or UDP port,
for the conntrack accounting test: a reference independent of the router
and of veth's own counters (which count some frames with their Ethernet
header and some without, depending on NAPI, so "ip -s link" is off by up
to 14 bytes a packet), and of nstat (which counts GSO and GRO super
packets as one).

  port_sniff.py IFACE PORT READY_FILE [tcp|udp]

Counts IPv4 packets of the protocol (TCP by default) to or from PORT on
IFACE and their IP total lengths, split into sent and received. Taps see
what is sent after GSO segmentation: the lab's end hosts lose TSO while
the router's end of their veth has an XDP program. What they receive is
not merged: pure ACKs never are by GRO, and UDP only for sockets that ask.
It creates READY_FILE once capturing, and on SIGTERM prints "sent_packets
sent_bytes received_packets received_bytes drops".
"""
import signal
import socket
import struct
import sys

ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33


def port_filter(port, proto):
    """Classic BPF: IPv4, PROTO, source or destination PORT; keep 64 bytes."""
    ins = [
        (0x28, 0, 0, 12),           # ldh [12]
        (0x15, 0, 8, 0x0800),       # jeq IPv4, else drop
        (0x30, 0, 0, 23),           # ldb [23]
        (0x15, 0, 6, proto),        # jeq PROTO, else drop
        (0xb1, 0, 0, 14),           # ldxb 4*([14]&0xf)
        (0x48, 0, 0, 14),           # ldh [x+14]: source port
        (0x15, 2, 0, port),         # jeq PORT: keep
        (0x48, 0, 0, 16),           # ldh [x+16]: destination port
        (0x15, 0, 1, port),         # jeq PORT: keep, else drop
        (0x06, 0, 0, 64),           # ret 64
        (0x06, 0, 0, 0),            # ret 0
    ]
    return b"".join(struct.pack("HBBI", *i) for i in ins)


def main(iface, port, ready, proto="tcp"):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    buf = bytearray(port_filter(int(port), {"tcp": 6, "udp": 17}[proto]))
    fprog = struct.pack("HL", len(buf) // 8, ctypes_addr(buf))
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    s.bind((iface, ETH_P_ALL))
    # What the socket got before the filter was attached is thrown away.
    s.setblocking(False)
    try:
        while s.recv(64):
            pass
    except BlockingIOError:
        pass
    s.setblocking(True)
    s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    count = [0, 0, 0, 0]
    done = []
    signal.signal(signal.SIGTERM, lambda *a: done.append(1))
    open(ready, "w").close()
    s.settimeout(0.2)
    while not done:
        try:
            data, a = s.recvfrom(64)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if len(data) < 18:
            continue
        i = 0 if a[2] == PACKET_OUTGOING else 2
        count[i] += 1
        count[i + 1] += struct.unpack(">H", data[16:18])[0]
    drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))[1]
    print(*count, drops)


def ctypes_addr(buf):
    import ctypes
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))


if __name__ == "__main__":
    main(*sys.argv[1:5])
