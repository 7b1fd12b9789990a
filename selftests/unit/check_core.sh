#!/usr/bin/env bash
# The XDP object must load on kernels built without BTF (OpenWrt), so it
# may carry no CO-RE relocations: .BTF.ext's core_relo_len must be 0.
#
#   check_core.sh OBJECT
#
# A probe object that does use CO-RE is checked too, so a parser that
# always said "none" would be caught.
set -u

obj=${1:-build/fastpath.bpf.o}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints the CO-RE relocation section length of an ELF's .BTF.ext.
core_relo_len() {
	local o=$1 ext=$tmp/btf.ext
	rm -f "$ext"
	if ! llvm-objcopy --dump-section ".BTF.ext=$ext" "$o" "$tmp/discard.o" \
		2>"$tmp/err"; then
		# No .BTF.ext at all means no relocations of any kind.
		if grep -q "not found" "$tmp/err"; then
			echo 0
			return 0
		fi
		cat "$tmp/err" >&2
		return 1
	fi
	python3 - "$ext" <<'PY'
import struct, sys

data = open(sys.argv[1], "rb").read()
if len(data) < 24:
    sys.exit("short .BTF.ext header")
for order in ("<", ">"):
    if struct.unpack(order + "H", data[:2])[0] == 0xEB9F:
        break
else:
    sys.exit("bad .BTF.ext magic")
(_magic, _version, _flags, hdr_len) = struct.unpack(order + "HBBI", data[:8])
if hdr_len < 32:
    print(0)  # header predates CO-RE relocations
else:
    _off, length = struct.unpack(order + "II", data[24:32])
    print(length)
PY
}

fail() {
	echo "FAIL no-core-relocations: $*"
	exit 1
}

[ -f "$obj" ] || fail "$obj is missing (make $obj)"
command -v llvm-objcopy >/dev/null || fail "llvm-objcopy not found (Debian: llvm)"

# Positive control: preserve_access_index is what BPF_CORE_READ() expands to.
if command -v clang >/dev/null; then
	cat >"$tmp/probe.c" <<'C'
struct task { int pid; } __attribute__((preserve_access_index));
int probe(struct task *t) { return t->pid; }
C
	if clang -target bpf -O2 -g -c "$tmp/probe.c" -o "$tmp/probe.o" \
		2>"$tmp/cc"; then
		n=$(core_relo_len "$tmp/probe.o") ||
			fail "cannot parse the probe's .BTF.ext"
		[ "$n" -gt 0 ] ||
			fail "no CO-RE relocation found in a probe that has one"
		echo "PASS core-check-detects-relocations"
	else
		echo "SKIP core-check-detects-relocations: clang cannot build the probe"
	fi
fi

n=$(core_relo_len "$obj") || fail "cannot parse .BTF.ext of $obj"
[ "$n" -eq 0 ] || fail "$obj has $n bytes of CO-RE relocations"
echo "PASS no-core-relocations"
