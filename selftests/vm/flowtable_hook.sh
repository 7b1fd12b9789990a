#!/usr/bin/env bash
# flowtable_hook.sh - BENCH_LAB_HOOK for bench_vm.sh: turn the bench lab's
# router into an nf_flowtable router and offload the benchmark's flow
# (UDP 10.0.1.2:40000 -> 10.0.2.2:9), so that the frames fp_bench passes
# up with XDP_PASS take the kernel flowtable's path.
set -eu
nft_r() { ip netns exec "$R" nft "$@"; }
nft_r add flowtable inet filter f '{ hook ingress priority 0; devices = { rc0, rs0 }; }'
nft_r insert rule inet filter forward meta l4proto udp ct state established flow add @f

# A request, the server's answer (conntrack then calls it established) and
# one more request, which the rule above offloads.
ip netns exec "$C" socat -u - UDP4-SENDTO:10.0.2.2:9,sourceport=40000 <<<"request"
ip netns exec "$S" socat -u - UDP4-SENDTO:10.0.2.1:40000,sourceport=9 <<<"answer"
sleep 0.2
ip netns exec "$C" socat -u - UDP4-SENDTO:10.0.2.2:9,sourceport=40000 <<<"request"
sleep 0.2
if ! ip netns exec "$R" conntrack -L -p udp --orig-port-src 40000 2>/dev/null | grep -q OFFLOAD; then
	echo "flowtable_hook: the flow did not reach the flowtable:" >&2
	ip netns exec "$R" conntrack -L 2>&1 >&2
	exit 1
fi
