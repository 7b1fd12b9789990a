#!/usr/bin/env bash
# flowtable_hook.sh - BENCH_LAB_HOOK for bench_vm.sh: turn the bench lab's
# router into an nf_flowtable router and offload one UDP flow to it,
# 10.0.1.2:$FT_SPORT -> 10.0.2.2:9, so that the frames fp_bench's
# "flowtable" path (--flowtable-sport $FT_SPORT) passes up with XDP_PASS
# take the kernel flowtable's path. The "slow" path's flow (port 40000)
# never gets an answer, so it stays on the forward chain, and "fast" is
# redirected by XDP before either sees it: the three are measured in the
# same lab, in turns. A counter in the forward chain shows afterwards
# that the offloaded flow really bypassed it (flowtable_post.sh).
set -eu
FT_SPORT=${FT_SPORT:-40100}
nft_r() { ip netns exec "$R" nft "$@"; }
nft_r add flowtable inet filter f '{ hook ingress priority 0; devices = { rc0, rs0 }; }'
nft_r insert rule inet filter forward meta l4proto udp ct state established flow add @f
nft_r insert rule inet filter forward udp sport "$FT_SPORT" counter comment '"ft_flow"'

# A request, the server's answer (conntrack then calls it established) and
# one more request, which the rule above offloads.
ip netns exec "$C" socat -u - UDP4-SENDTO:10.0.2.2:9,sourceport="$FT_SPORT" <<<"request"
ip netns exec "$S" socat -u - UDP4-SENDTO:10.0.2.1:"$FT_SPORT",sourceport=9 <<<"answer"
sleep 0.2
ip netns exec "$C" socat -u - UDP4-SENDTO:10.0.2.2:9,sourceport="$FT_SPORT" <<<"request"
sleep 0.2
if ! ip netns exec "$R" conntrack -L -p udp --orig-port-src "$FT_SPORT" 2>/dev/null | grep -q OFFLOAD; then
	echo "flowtable_hook: the flow did not reach the flowtable:" >&2
	ip netns exec "$R" conntrack -L 2>&1 >&2
	exit 1
fi
