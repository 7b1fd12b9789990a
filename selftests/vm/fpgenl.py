#!/usr/bin/env python3
"""fpgenl.py - a raw client of the "fastpath" generic netlink family, for tests.

  fpgenl.py dev IFINDEX [--probe]      device capability (JSON)
  fpgenl.py devs                       every device the module has seen (JSON lines)
  fpgenl.py add ATTR=VALUE...          FP_CMD_FLOW_ADD
  fpgenl.py del ATTR=VALUE...          FP_CMD_FLOW_DEL
  fpgenl.py flows                      FP_CMD_FLOW_GET dump (JSON lines)
  fpgenl.py flush                      FP_CMD_FLUSH
  fpgenl.py raw CMD TYPE:HEX...        any attributes, valid or not
  fpgenl.py CMD ARGS -- CMD ARGS ...   several commands in one run (python
                                       starts slowly under emulation)
  fpgenl.py hash WAYS SRC SPORT DST DPORT       MediaTek's PPE hash (first way)
  fpgenl.py collide WAYS N SRC SPORT DST DPORT OTHER_SRC
                                       N source ports of OTHER_SRC whose tuple
                                       lands in the same bucket

ATTR names are those of include/fastpath_genl.h without "FP_A_", in lower
case (key_saddr=10.0.1.2, flow_dmac=02:00:00:00:00:01, flags=snat|dnat).
The command and attribute numbers are read from that header, so this
client follows it. Errors print "error ERRNO NAME: extack message" on
stderr and exit 1.
"""
import errno
import ipaddress
import itertools
import json
import os
import re
import socket
import struct
import sys

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "../../include/fastpath_genl.h")

NETLINK_GENERIC = 16
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
SOL_NETLINK = 270
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLM_F_ACK_TLVS = 0x200
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLMSGERR_ATTR_MSG = 1

FP_F = {"snat": 1, "dnat": 2, "static": 4}


def enum(name):
    text = open(HEADER).read()
    body = re.search(r"enum %s \{(.*?)\};" % name, text, re.S).group(1)
    out, val = {}, 0
    for line in body.splitlines():
        m = re.match(r"\s*(\w+)\s*(?:=\s*(\d+))?\s*,", line)
        if m:
            if m.group(2):
                val = int(m.group(2))
            out[m.group(1)] = val
            val += 1
    return out


CMD = enum("fp_genl_cmd")
ATTR = enum("fp_genl_attr")
ATTR_NAME = {v: k for k, v in ATTR.items()}


def nla(t, data):
    n = 4 + len(data)
    return struct.pack("HH", n, t) + data + b"\0" * (-n % 4)


def parse_attrs(buf):
    out = {}
    while len(buf) >= 4:
        n, t = struct.unpack("HH", buf[:4])
        if n < 4:
            break
        out[t & 0x3fff] = buf[4:n]
        buf = buf[(n + 3) & ~3:]
    return out


class Genl:
    def __init__(self):
        self.sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sk.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sk.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.sk.bind((0, 0))
        self.seq = 0
        self.family = self.resolve("fastpath")

    def request(self, ftype, cmd, attrs, dump=False, version=1):
        self.seq += 1
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if dump else 0)
        payload = struct.pack("BBH", cmd, version, 0) + attrs
        self.sk.send(struct.pack("IHHII", 16 + len(payload), ftype, flags,
                                 self.seq, 0) + payload)
        replies = []
        while True:
            data = self.sk.recv(1 << 20)
            while data:
                n, t, fl, seq, _ = struct.unpack("IHHII", data[:16])
                body = data[16:n]
                data = data[(n + 3) & ~3:]
                if t == NLMSG_DONE:
                    return replies
                if t == NLMSG_ERROR:
                    err = -struct.unpack("i", body[:4])[0]
                    if err == 0:
                        return replies
                    msg = ""
                    if fl & NLM_F_ACK_TLVS:
                        tlv = parse_attrs(body[4 + 16:])
                        msg = tlv.get(NLMSGERR_ATTR_MSG, b"").rstrip(b"\0").decode()
                    raise OSError(err, msg)
                replies.append(parse_attrs(body[4:]))

    def resolve(self, name):
        try:
            r = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                             nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        except OSError as e:
            if e.errno == errno.ENOENT:
                sys.stderr.write("fpgenl: family \"%s\" not registered (module not loaded)\n" % name)
                sys.exit(2)
            raise
        return struct.unpack("H", r[0][CTRL_ATTR_FAMILY_ID][:2])[0]

    def cmd(self, name, attrs=b"", dump=False):
        return self.request(self.family, CMD["FP_CMD_" + name], attrs, dump)


def addr16(s):
    a = ipaddress.ip_address(s)
    return a.packed + b"\0" * (16 - len(a.packed))


def encode(name, value):
    """key_saddr=10.0.0.1 -> the attribute, typed by its name."""
    t = ATTR["FP_A_" + name.upper()]
    n = name.lower()
    if n in ("key_saddr", "key_daddr", "flow_nat_saddr", "flow_nat_daddr"):
        return nla(t, addr16(value))
    if n in ("flow_dmac", "flow_smac"):
        return nla(t, bytes(int(x, 16) for x in value.split(":")))
    if n in ("key_sport", "key_dport", "flow_nat_sport", "flow_nat_dport"):
        return nla(t, struct.pack(">H", int(value)))
    if n == "key_family":
        return nla(t, struct.pack("B", {"inet": 2, "inet6": 10}.get(value) or int(value)))
    if n == "key_proto":
        return nla(t, struct.pack("B", {"tcp": 6, "udp": 17}.get(value) or int(value)))
    if n == "flow_flags":
        v = 0
        for f in value.split("|"):
            v |= FP_F[f] if f in FP_F else int(f, 0)
        return nla(t, struct.pack("B", v))
    if n == "dev_probe":
        return nla(t, b"")
    if n in ("key_ifindex", "flow_oif", "ifindex"):
        return nla(t, struct.pack("I", int(value)))
    if n in ("key_pppoe_sid", "key_vlan0", "key_vlan1", "flow_mtu",
             "flow_out_vlan0", "flow_out_vlan1", "flow_out_pppoe_sid"):
        return nla(t, struct.pack("H", int(value, 0)))
    raise SystemExit("fpgenl: unknown attribute %s" % name)


def decode_dev(a):
    g = lambda t: a.get(ATTR[t])
    return {
        "ifindex": struct.unpack("I", g("FP_A_IFINDEX"))[0],
        "name": g("FP_A_DEV_NAME").rstrip(b"\0").decode(),
        "bind": ["none", "direct", "indirect"][g("FP_A_DEV_BIND")[0]],
        "err": struct.unpack("i", g("FP_A_DEV_ERR"))[0],
        "flows": struct.unpack("I", g("FP_A_DEV_FLOWS"))[0],
        "driver": g("FP_A_DEV_DRIVER").rstrip(b"\0").decode(),
    }


def decode_flow(a):
    g = lambda t: a.get(ATTR[t])
    fam = g("FP_A_KEY_FAMILY")[0]

    def ip(b):
        return str(ipaddress.ip_address(b[:4] if fam == 2 else b))
    out = {
        "ifindex": struct.unpack("I", g("FP_A_KEY_IFINDEX"))[0],
        "family": fam, "proto": g("FP_A_KEY_PROTO")[0],
        "saddr": ip(g("FP_A_KEY_SADDR")), "daddr": ip(g("FP_A_KEY_DADDR")),
        "sport": struct.unpack(">H", g("FP_A_KEY_SPORT"))[0],
        "dport": struct.unpack(">H", g("FP_A_KEY_DPORT"))[0],
        "oif": struct.unpack("I", g("FP_A_FLOW_OIF"))[0],
        "state": ["queued", "offloaded", "bound", "failed"][g("FP_A_HW_STATE")[0]],
        "packets": struct.unpack("Q", g("FP_A_HW_PACKETS"))[0],
        "bytes": struct.unpack("Q", g("FP_A_HW_BYTES"))[0],
    }
    if g("FP_A_HW_ERR"):
        out["err"] = struct.unpack("i", g("FP_A_HW_ERR"))[0]
    if g("FP_A_HW_MSG"):
        out["msg"] = g("FP_A_HW_MSG").rstrip(b"\0").decode()
    if g("FP_A_HW_IDLE_MS"):
        out["idle_ms"] = struct.unpack("Q", g("FP_A_HW_IDLE_MS"))[0]
    return out


def mtk_hash(ways, src, sport, dst, dport):
    """mtk_ppe_hash_entry(), as kmod/sim_ppe.c models it."""
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    ports = (sport << 16) | dport
    if len(s) == 4:
        hv1, hv2, hv3 = ports, int.from_bytes(d, "big"), int.from_bytes(s, "big")
    else:
        w = lambda b, i: int.from_bytes(b[4 * i:4 * i + 4], "big")
        hv1 = w(s, 3) ^ w(d, 3) ^ ports
        hv2 = w(s, 2) ^ w(d, 2) ^ w(d, 0)
        hv3 = w(s, 1) ^ w(d, 1) ^ w(s, 0)
    h = (hv1 & hv2) | (~hv1 & 0xffffffff & hv3)
    h = ((h >> 24) | ((h & 0xffffff) << 8)) & 0xffffffff
    h ^= hv1 ^ hv2 ^ hv3
    h ^= h >> 16
    return (h << (ways.bit_length() - 1)) & (8192 - 1)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    if "--" in argv:
        i = argv.index("--")
        return main(argv[:i]) or main(argv[:1] + argv[i + 1:])
    op, args = argv[1], argv[2:]
    if op == "hash":
        print(mtk_hash(int(args[0]), args[1], int(args[2]), args[3], int(args[4])))
        return 0
    if op == "collide":
        ways, n = int(args[0]), int(args[1])
        want = mtk_hash(ways, args[2], int(args[3]), args[4], int(args[5]))
        found = list(itertools.islice(
            (p for p in range(1024, 65536)
             if mtk_hash(ways, args[6], p, args[4], int(args[5])) == want), n))
        print(" ".join(map(str, found)))
        return 0 if len(found) == n else 1
    g = Genl()
    try:
        if op == "dev":
            attrs = nla(ATTR["FP_A_IFINDEX"], struct.pack("I", int(args[0])))
            if "--probe" in args:
                attrs += nla(ATTR["FP_A_DEV_PROBE"], b"")
            print(json.dumps(decode_dev(g.cmd("DEV_GET", attrs)[0])))
        elif op == "devs":
            for a in g.cmd("DEV_GET", dump=True):
                print(json.dumps(decode_dev(a)))
        elif op in ("add", "del"):
            attrs = b"".join(encode(*kv.split("=", 1)) for kv in args)
            g.cmd("FLOW_ADD" if op == "add" else "FLOW_DEL", attrs)
        elif op == "flows":
            for a in g.cmd("FLOW_GET", dump=True):
                print(json.dumps(decode_flow(a)))
        elif op == "flush":
            g.cmd("FLUSH")
        elif op == "raw":
            cmd = CMD.get("FP_CMD_" + args[0].upper(), None)
            cmd = int(args[0]) if cmd is None else cmd
            attrs = b""
            for spec in args[1:]:
                t, hexdata = spec.split(":", 1)
                attrs += nla(int(t), bytes.fromhex(hexdata))
            g.request(g.family, cmd, attrs)
        else:
            raise SystemExit("fpgenl: unknown command %s" % op)
    except OSError as e:
        name = "EOPNOTSUPP" if e.errno == errno.EOPNOTSUPP else errno.errorcode.get(e.errno, "?")
        sys.stderr.write("error %d %s: %s\n" % (e.errno, name, e.strerror or ""))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
