#!/usr/bin/env python3
"""fpgenl.py - a raw client of the "fastpath" generic netlink family, for tests.

  fpgenl.py dev IFINDEX [--probe]      device capability (JSON)
  fpgenl.py devs                       every device the module has seen (JSON lines)
  fpgenl.py add ATTR=VALUE...          FP_CMD_FLOW_ADD
  fpgenl.py del ATTR=VALUE...          FP_CMD_FLOW_DEL
  fpgenl.py flows                      FP_CMD_FLOW_GET dump (JSON lines)
  fpgenl.py flush                      FP_CMD_FLUSH
  fpgenl.py lease [ATTR=VALUE...]      FP_CMD_LEASE (lease_ms=, idle_s=); prints
                                       the lease state (JSON)
  fpgenl.py acct ATTR=VALUE...         FP_CMD_CT_ACCT: key_family, key_proto,
                                       key_saddr, key_daddr, key_sport,
                                       key_dport, [ct_zone], acct_packets,
                                       acct_bytes, acct_rev_packets, ...
  fpgenl.py raw CMD TYPE:HEX...        any attributes, valid or not
  fpgenl.py CMD ARGS -- CMD ARGS ...   several commands in one run (python
                                       starts slowly under emulation)
  fpgenl.py sleep SECONDS              pause, between commands of one run
  fpgenl.py hash WAYS SRC SPORT DST DPORT       MediaTek's PPE hash (first way)
  fpgenl.py collide WAYS N SRC SPORT DST DPORT OTHER_SRC
                                       N source ports of OTHER_SRC whose tuple
                                       lands in the same bucket

ATTR names are those of include/fastpath_genl.h without "FP_A_", in lower
case (key_saddr=10.0.1.2, flow_dmac=02:00:00:00:00:01, flow_flags=snat|dnat).
That header is the family's only description: the command and attribute
numbers, each attribute's type (the first word of its comment), and the
names of the device bind and hardware states are all read from it, and
the flow flags from include/fastpath.h. Errors print "error ERRNO NAME:
extack message" on stderr and exit 1.
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
import time

INCLUDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../include")
HEADER = os.path.join(INCLUDE, "fastpath_genl.h")

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

def enum(name, types=None):
    """enum NAME of the header as {enumerator: value}; with a dict in
    TYPES, also each enumerator's type: the first word of its comment."""
    text = open(HEADER).read()
    body = re.search(r"enum %s \{(.*?)\};" % name, text, re.S).group(1)
    out, val = {}, 0
    for line in body.splitlines():
        m = re.match(r"\s*(\w+)\s*(?:=\s*(\d+))?\s*,\s*(?:/\*\s*(\w+)(.*))?", line)
        if m:
            if m.group(2):
                val = int(m.group(2))
            out[m.group(1)] = val
            if types is not None and m.group(3):
                size = re.match(r",\s*(\d+) bytes", m.group(4) or "")
                types[m.group(1)] = (m.group(3), int(size.group(1)) if size else None)
            val += 1
    return out


def defines(path, prefix):
    """#define PREFIX_NAME (1U << N) of a header, as {"name": value}."""
    out = {}
    for m in re.finditer(r"#define %s(\w+)\s+\(1U << (\d+)\)" % prefix, open(path).read()):
        out[m.group(1).lower()] = 1 << int(m.group(2))
    return out


def names(enum_name, prefix):
    """An enum's values as lower-case names without PREFIX, by value."""
    return {v: k[len(prefix):].lower() for k, v in enum(enum_name).items()
            if not k.endswith("_MAX")}


ATTR_TYPE = {}
CMD = enum("fp_genl_cmd")
ATTR = enum("fp_genl_attr", ATTR_TYPE)
ATTR_NAME = {v: k for k, v in ATTR.items()}
BIND_NAME = names("fp_dev_bind", "FP_BIND_")
HW_STATE_NAME = names("fp_hw_state", "FP_HW_")
FP_F = defines(os.path.join(INCLUDE, "fastpath.h"), "FP_F_")
INT_FMT = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "s32": "i", "be16": ">H"}


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


# Values that may be given by name, per attribute.
SYMBOLS = {"key_family": {"inet": 2, "inet6": 10}, "key_proto": {"tcp": 6, "udp": 17}}


def encode(name, value):
    """key_saddr=10.0.0.1 -> the attribute, typed as the header says."""
    full = "FP_A_" + name.upper()
    if full not in ATTR or full not in ATTR_TYPE:
        raise SystemExit("fpgenl: unknown attribute %s" % name)
    t, (kind, size) = ATTR[full], ATTR_TYPE[full]
    n = name.lower()
    if kind == "binary" and size == 16:
        return nla(t, addr16(value))
    if kind == "binary" and size == 6:
        return nla(t, bytes(int(x, 16) for x in value.split(":")))
    if kind == "flag":
        return nla(t, b"")
    if kind == "string":
        return nla(t, value.encode() + b"\0")
    if kind not in INT_FMT:
        raise SystemExit("fpgenl: attribute %s has type %s" % (name, kind))
    if n == "flow_flags":
        v = 0
        for f in value.split("|"):
            v |= FP_F[f] if f in FP_F else int(f, 0)
    else:
        v = SYMBOLS.get(n, {}).get(value)
        v = int(value, 0) if v is None else v
    return nla(t, struct.pack(INT_FMT[kind], v))


def decode(attrs):
    """Reply attributes as {lower-case name: value}, typed as the header says."""
    out = {}
    for t, data in attrs.items():
        full = ATTR_NAME.get(t)
        kind, size = ATTR_TYPE.get(full, (None, None))
        if kind in INT_FMT:
            out[full[5:].lower()] = struct.unpack(INT_FMT[kind], data[:struct.calcsize(INT_FMT[kind])])[0]
        elif kind == "string":
            out[full[5:].lower()] = data.rstrip(b"\0").decode()
        elif kind == "binary":
            out[full[5:].lower()] = data
    return out


def decode_dev(a):
    d = decode(a)
    return {
        "ifindex": d["ifindex"], "name": d["dev_name"],
        "bind": BIND_NAME[d["dev_bind"]], "err": d["dev_err"],
        "flows": d["dev_flows"], "driver": d["dev_driver"],
    }


def decode_flow(a):
    d = decode(a)
    fam = d["key_family"]

    def ip(b):
        return str(ipaddress.ip_address(b[:4] if fam == 2 else b))
    out = {
        "ifindex": d["key_ifindex"], "family": fam, "proto": d["key_proto"],
        "saddr": ip(d["key_saddr"]), "daddr": ip(d["key_daddr"]),
        "sport": d["key_sport"], "dport": d["key_dport"], "oif": d["flow_oif"],
        "state": HW_STATE_NAME[d["hw_state"]],
        "packets": d["hw_packets"], "bytes": d["hw_bytes"],
    }
    for k, name in (("hw_err", "err"), ("hw_msg", "msg"), ("hw_idle_ms", "idle_ms")):
        if k in d:
            out[name] = d[k]
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
    if op == "sleep":
        time.sleep(float(args[0]))
        return 0
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
        elif op == "lease":
            attrs = b"".join(encode(*kv.split("=", 1)) for kv in args)
            print(json.dumps(decode(g.cmd("LEASE", attrs)[0])))
        elif op == "acct":
            g.cmd("CT_ACCT", b"".join(encode(*kv.split("=", 1)) for kv in args))
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
