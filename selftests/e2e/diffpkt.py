#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""diffpkt.py - mutated packets for test_differential.sh.

  diffpkt.py frames SPEC OUT      write the mutated frames, one per line:
                                  "CASE HEX" (SPEC is JSON, see below)
  diffpkt.py inject DEV FRAMES    send them out of DEV with AF_PACKET
  diffpkt.py capture DEV FRAMES OUT READY
                                  write every TCP/UDP frame DEV receives
                                  for a port of FRAMES, one "CASE HEX"
                                  per line, until the end marker
                                  arrives; touch READY once bound

SPEC: {"cmac", "rmac", "flows": [{"family": 4|6, "proto": "tcp"|"udp",
"src", "dst", "sport", "dport"}]}. Every frame's payload starts with its
sequence number (2 bytes), then the marker "FPDIFF" and its case name, so
the capture can tell which case a frame belongs to, whatever order it
arrives in, and even when the case cut the payload short. A frame cut
shorter than that is named "?", and still compared byte for byte. Written with the standard library only (and rawpkt.py beside it): every header
field is set byte by byte, and every checksum is a full RFC 1071 sum.
"""
import json
import os
import socket
import struct
import sys
import time

from rawpkt import csum, mac, sender

MARK = b"FPDIFF"
END = b"FPDIFF-END"
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
OTHER_MAC = "02:00:00:00:77:77"


class Pkt:
    """One packet to build; a mutation changes fields before build()."""

    def __init__(self, flow, case, seq, payload_len):
        self.f = flow
        self.case = case
        self.family = flow["family"]
        self.proto = flow["proto"]
        self.src = socket.inet_pton(socket.AF_INET if self.family == 4 else socket.AF_INET6, flow["src"])
        self.dst = socket.inet_pton(socket.AF_INET if self.family == 4 else socket.AF_INET6, flow["dst"])
        self.sport, self.dport = flow["sport"], flow["dport"]
        tag = struct.pack("!H", seq) + MARK + b" " + case.encode() + b" "
        self.payload = (tag + b"." * max(0, payload_len - len(tag)))
        self.ttl = 64
        self.tos = 0			# DSCP << 2 | ECN, or the v6 traffic class
        self.flowlabel = 0
        self.ip_id = 0x1000 + seq
        self.frag = 0x4000 if self.family == 4 else 0	# DF, as Linux sends
        self.ip_opts = b""
        self.ip_csum_delta = 0
        self.v6_ext = None		# (next header number, 8-byte header)
        self.tcp_flags = 0x10		# ACK
        # Far-apart sequence numbers: GRO at the server must not merge.
        self.tcp_seq = 0x10000000 + seq * 0x100000
        self.l4_csum_delta = 0
        self.udp_csum_zero = False
        self.l4_trunc = None		# keep only this many L4 bytes
        self.trailing = b""		# bytes after the IP packet
        self.dmac = None
        self.tags = []			# (TPID, TCI), outer first

    def l4(self):
        if self.proto == "tcp":
            h = struct.pack("!HHIIBBHHH", self.sport, self.dport, self.tcp_seq,
                            0x2000, 5 << 4, self.tcp_flags, 0xFFFF, 0, 0)
            num = 6
        else:
            h = struct.pack("!HHHH", self.sport, self.dport, 8 + len(self.payload), 0)
            num = 17
        seg = h + self.payload
        if self.family == 4:
            pseudo = self.src + self.dst + struct.pack("!BBH", 0, num, len(seg))
        else:
            pseudo = self.src + self.dst + struct.pack("!IxxxB", len(seg), num)
        c = csum(pseudo + seg)
        if num == 17 and c == 0:
            c = 0xFFFF
        if self.udp_csum_zero:
            c = 0
        else:
            c = (c + self.l4_csum_delta) & 0xFFFF
        off = 16 if num == 6 else 6
        seg = seg[:off] + struct.pack("!H", c) + seg[off + 2:]
        return num, seg

    def build(self, cmac, rmac):
        num, seg = self.l4()
        if self.l4_trunc is not None:
            seg = seg[:self.l4_trunc]
        if self.family == 4:
            hl = 20 + len(self.ip_opts)
            ip = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, self.tos, hl + len(seg),
                             self.ip_id, self.frag, self.ttl, num, 0, self.src,
                             self.dst) + self.ip_opts
            c = (csum(ip) + self.ip_csum_delta) & 0xFFFF
            ip = ip[:10] + struct.pack("!H", c) + ip[12:]
            l3 = ip + seg
            etype = 0x0800
        else:
            nh, ext = num, b""
            if self.v6_ext:
                nh, ext = self.v6_ext[0], bytes([num]) + self.v6_ext[1][1:]
            first = 6 << 28 | self.tos << 20 | self.flowlabel
            l3 = struct.pack("!IHBB16s16s", first, len(ext) + len(seg), nh, self.ttl,
                             self.src, self.dst) + ext + seg
            etype = 0x86DD
        eth = mac(self.dmac or rmac) + mac(cmac)
        for tpid, tci in self.tags:
            eth += struct.pack("!HH", tpid, tci)
        return eth + struct.pack("!H", etype) + l3 + self.trailing


def mutations(flow):
    """(case, function that mutates a Pkt) for one flow, in sending order:
    the cases that end the connection (FIN, RST) come last."""
    v4, tcp = flow["family"] == 4, flow["proto"] == "tcp"
    m = [
        ("base", lambda p: None),
        ("ttl0", lambda p: setattr(p, "ttl", 0)),
        ("ttl1", lambda p: setattr(p, "ttl", 1)),
        ("ttl2", lambda p: setattr(p, "ttl", 2)),
        ("dscp-ef", lambda p: setattr(p, "tos", 46 << 2)),
        ("ecn-ect0", lambda p: setattr(p, "tos", 2)),
        ("ecn-ce", lambda p: setattr(p, "tos", 3)),
        ("dscp-cs1-ecn-ect1", lambda p: setattr(p, "tos", 8 << 2 | 1)),
        ("bad-l4-csum", lambda p: setattr(p, "l4_csum_delta", 1)),
        ("trunc-l4-hdr", lambda p: setattr(p, "l4_trunc", 6)),
        ("trunc-l4-payload", lambda p: setattr(p, "l4_trunc", (20 if tcp else 8) + 2)),
        ("trailing-1", lambda p: setattr(p, "trailing", b"\xaa")),
        ("trailing-6", lambda p: setattr(p, "trailing", b"\0" * 6)),
        ("trailing-64", lambda p: setattr(p, "trailing", bytes(range(64)))),
        ("wrong-dmac", lambda p: setattr(p, "dmac", OTHER_MAC)),
        ("broadcast-dmac", lambda p: setattr(p, "dmac", "ff:ff:ff:ff:ff:ff")),
        ("vlan-extra", lambda p: setattr(p, "tags", [(0x8100, 10)])),
        ("vlan-priority-tag", lambda p: setattr(p, "tags", [(0x8100, 0xA000)])),
        ("vlan-qinq", lambda p: setattr(p, "tags", [(0x88A8, 100), (0x8100, 10)])),
    ]
    if v4:
        m += [
            ("ip-options-nop", lambda p: setattr(p, "ip_opts", b"\x01\x01\x01\x00")),
            ("ip-options-rr", lambda p: setattr(p, "ip_opts", b"\x07\x07\x04" + b"\0" * 4 + b"\x00")),
            ("bad-ip-csum", lambda p: setattr(p, "ip_csum_delta", 1)),
            ("df-clear", lambda p: setattr(p, "frag", 0)),
            ("frag-mf", lambda p: setattr(p, "frag", 0x2000)),
            ("frag-offset", lambda p: setattr(p, "frag", 0x0010)),
            ("frag-df-mf-offset", lambda p: setattr(p, "frag", 0x6001)),
        ]
        if not tcp:
            m.append(("udp-csum-zero", lambda p: setattr(p, "udp_csum_zero", True)))
    else:
        hbh = bytes([0, 0, 1, 4, 0, 0, 0, 0])	# PadN
        m += [
            ("flowlabel", lambda p: setattr(p, "flowlabel", 0xABCDE)),
            ("flowlabel-dscp", lambda p: (setattr(p, "flowlabel", 1), setattr(p, "tos", 46 << 2))),
            ("ext-hop-by-hop", lambda p: setattr(p, "v6_ext", (0, hbh))),
            ("ext-dest-opts", lambda p: setattr(p, "v6_ext", (60, hbh))),
            ("ext-fragment-atomic", lambda p: setattr(p, "v6_ext", (44, bytes(8)))),
        ]
    if tcp:
        m += [
            ("tcp-no-flags", lambda p: setattr(p, "tcp_flags", 0)),
            ("tcp-psh-no-ack", lambda p: setattr(p, "tcp_flags", 0x08)),
            ("tcp-urg-no-ack", lambda p: setattr(p, "tcp_flags", 0x20)),
            ("tcp-urg-ack", lambda p: setattr(p, "tcp_flags", 0x30)),
            ("tcp-psh-ack-ece-cwr", lambda p: setattr(p, "tcp_flags", 0xD8)),
            ("tcp-syn-fin", lambda p: setattr(p, "tcp_flags", 0x03)),
            ("tcp-syn", lambda p: setattr(p, "tcp_flags", 0x02)),
            ("tcp-fin-no-ack", lambda p: setattr(p, "tcp_flags", 0x01)),
            ("base-after", lambda p: None),
            ("tcp-fin-ack", lambda p: setattr(p, "tcp_flags", 0x11)),
            ("after-fin", lambda p: None),
            ("tcp-rst", lambda p: setattr(p, "tcp_flags", 0x04)),
            ("after-rst", lambda p: None),
        ]
    else:
        m.append(("base-after", lambda p: None))
    return m


def cmd_frames(spec_file, out):
    spec = json.load(open(spec_file))
    seq = 0
    lines = []
    # Two payload sizes: a few bytes (a frame below the Ethernet minimum
    # on a real wire) and a few hundred.
    for size in (10, 300):
        for fi, flow in enumerate(spec["flows"]):
            name = "f%d-%s%d" % (fi, flow["proto"], flow["family"])
            for case, mut in mutations(flow):
                cname = "%s-%s-%d" % (name, case, size)
                p = Pkt(flow, cname, seq, size)
                mut(p)
                spec.setdefault("names", {})[seq] = cname
                seq += 1
                lines.append("%s %s\n" % (cname, p.build(spec["cmac"], spec["rmac"]).hex()))
    # The FIN/RST cases of the first size must not end the flows before
    # the second size is sent: send every non-closing case first.
    closing = ("tcp-fin-ack", "after-fin", "tcp-rst", "after-rst")
    first = [l for l in lines if not any("-%s-" % c in l.split()[0] for c in closing)]
    last = [l for l in lines if l not in first]
    with open(out, "w") as f:
        f.writelines(first + last)
    with open(out + ".spec", "w") as f:
        json.dump(spec, f)


def cmd_inject(dev, frames):
    s = sender(dev)
    for line in open(frames):
        s.send(bytes.fromhex(line.split()[1]))
        # One frame per NAPI poll at the router, so that no batch mixes
        # redirected and passed frames of one case.
        time.sleep(0.002)


def frame_seq(data, ports):
    """The sequence number of a test frame, None if it is no test frame,
    -1 if it is one whose payload lost it."""
    off = 12
    while data[off:off + 2] in (b"\x81\x00", b"\x88\xa8"):
        off += 4
    etype = data[off:off + 2]
    off += 2
    if etype == b"\x08\x00":
        proto = data[off + 9]
        off += (data[off] & 15) * 4
    elif etype == b"\x86\xdd":
        proto = data[off + 6]
        off += 40
        while proto in (0, 43, 60) and off + 8 <= len(data):
            proto, off = data[off], off + 8 + data[off + 1] * 8
        if proto == 44:
            proto, off = data[off], off + 8
    else:
        return None
    if proto not in (6, 17) or off + 4 > len(data):
        return None
    if struct.unpack("!H", data[off + 2:off + 4])[0] not in ports:
        return None
    off += (data[off + 12] >> 4) * 4 if proto == 6 and off + 13 <= len(data) else 8
    if off + 2 > len(data):
        return -1
    return struct.unpack("!H", data[off:off + 2])[0]


def cmd_capture(dev, frames, out, ready):
    spec = json.load(open(frames + ".spec"))
    names = {int(k): v for k, v in spec["names"].items()}
    ports = set(flow["dport"] for flow in spec["flows"])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((dev, 0))
    s.settimeout(30)
    open(ready, "w").close()
    got = []
    deadline = None
    while deadline is None or time.monotonic() < deadline:
        try:
            if deadline is not None:
                s.settimeout(max(0.01, deadline - time.monotonic()))
            data, addr = s.recvfrom(65536)
        except socket.timeout:
            break
        if addr[2] == PACKET_OUTGOING:
            continue
        if END in data:
            # Whatever the router still had queued arrives right after.
            deadline = time.monotonic() + 0.5
            continue
        seq = frame_seq(data, ports)
        if seq is None:
            continue
        got.append("%s %s\n" % (names.get(seq, "?"), data.hex()))
    with open(out, "w") as f:
        f.writelines(got)
    if deadline is None:
        sys.exit("capture: no end marker within 30 s")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"frames": cmd_frames, "inject": cmd_inject, "capture": cmd_capture}[cmd](*args)


if __name__ == "__main__":
    main()
