#!/usr/bin/env bash
# Unit tests: the CO-RE portability check, then the packet vectors.
#
# The vectors run in a private network namespace with a veth pair: the
# kernel resolves the test context's ingress_ifindex and every devmap
# entry to a real device of the current namespace. Prints one
# "PASS name" / "FAIL name: why" line per case for selftests/run.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1

ns="fpu-$$"
made_ns=0
cleanup() {
	[ "$made_ns" -eq 1 ] && ip netns del "$ns" 2>/dev/null
	return 0
}
trap cleanup EXIT
# A signal must still leave through the EXIT trap, which removes the netns.
trap 'exit 130' INT TERM HUP

rc=0
bash selftests/unit/check_core.sh build/fastpath.bpf.o || rc=1

if [ ! -x build/test_vectors ]; then
	echo "FAIL test_vectors: build/test_vectors is missing (make build/test_vectors)"
	exit 1
fi

if ! ip netns add "$ns"; then
	echo "FAIL test_vectors-netns: cannot create network namespace $ns"
	exit 1
fi
made_ns=1
# fpp0 -> fpp1 (TC ingress) and fpq1 -> fpq0 carry tc_partial.c's frames;
# no IPv6 there, so nothing but those frames crosses them.
if ! { ip -n "$ns" link set lo up &&
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
	ip -n "$ns" link add fpu0 type veth peer name fpu1 &&
	ip -n "$ns" link add fpp0 type veth peer name fpp1 &&
	ip -n "$ns" link add fpq0 type veth peer name fpq1 &&
	for d in fpu0 fpu1 fpp0 fpp1 fpq0 fpq1; do
		ip -n "$ns" link set "$d" up || exit 1
	done; }; then
	echo "FAIL test_vectors-netns: cannot set up the veth pairs in $ns"
	exit 1
fi

ip netns exec "$ns" build/test_vectors fpu0 fpu1 || rc=1
exit "$rc"
