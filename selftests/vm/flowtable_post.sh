#!/usr/bin/env bash
# flowtable_post.sh - BENCH_POST_HOOK for bench_vm.sh: prints how many
# packets of the offloaded flow the forward chain saw (the rule
# flowtable_hook.sh added), as "VMBENCH ft_forward_pkts N", and whether
# conntrack still holds the flow offloaded.
set -eu
FT_SPORT=${FT_SPORT:-40100}
n=$(ip netns exec "$R" nft list chain inet filter forward |
	awk '/ft_flow/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')
echo "VMBENCH ft_forward_pkts ${n:-none}"
if ip netns exec "$R" conntrack -L -p udp --orig-port-src "$FT_SPORT" 2>/dev/null | grep -q OFFLOAD; then
	echo "VMBENCH ft_offloaded 1"
else
	echo "VMBENCH ft_offloaded 0"
fi
