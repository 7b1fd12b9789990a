#!/usr/bin/env bash
# lab.sh - the demo/test topology, sourced by selftests/e2e, demo.sh and bench.sh.
#
#   client (c0) ---- (r0) router (r1) ---- (s0) server
#   10.0.1.2/24        10.0.1.1  10.0.2.1       10.0.2.2/24
#   fd00:1::2/64       fd00:1::1 fd00:2::1      fd00:2::2/64
#
# The server has no route back to the client's network, so replies only
# work through the router's masquerade, as behind a real home router.
# The router runs the reference ruleset of DESIGN.md.
#
# Namespace names carry LAB_ID (default: the caller's pid), so parallel
# labs never collide, and lab_down removes exactly what lab_up created.

LAB_ID=${LAB_ID:-$$}
NS_C=fpc-$LAB_ID
NS_R=fpr-$LAB_ID
NS_S=fps-$LAB_ID
FP=${FP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/fastpath}
# Each lab keeps its own pins, so labs (and a real router's fastpath on the
# same host) never share a table.
export FASTPATH_PIN_DIR=/sys/fs/bpf/fastpath-$LAB_ID

# The end hosts stand for other machines: their programs share one core
# (the last), so they never take every core from the router's own control
# plane, as clients on a real LAN cannot. With one core there is no choice.
HOST_PIN=()
[ "$(nproc)" -gt 1 ] && HOST_PIN=(taskset -c "$(($(nproc) - 1))")
in_host() {
	local ns=$1
	shift
	ip netns exec "$ns" "${HOST_PIN[@]}" "$@"
}
in_c() { in_host "$NS_C" "$@"; }
in_s() { in_host "$NS_S" "$@"; }
# The router uses nsenter, not "ip netns exec": the latter remounts /sys and
# so hides the host's bpffs, where fastpath keeps its pins.
in_r() { nsenter --no-fork --net=/run/netns/"$NS_R" "$@"; }
fp() { in_r "$FP" "$@"; }

# lab_ruleset [WAN [NAT6]]: the reference ruleset (DESIGN.md) with
# masquerade out of WAN (default r1), for IPv6 too unless NAT6 is "routed",
# and, as on OpenWrt, TCP MSS clamped to the route's MTU.
lab_ruleset() {
	local wan=${1:-r1} nat6=
	[ "${2:-masquerade}" = routed ] || nat6="
	table ip6 nat {
		chain postrouting {
			type nat hook postrouting priority srcnat;
			oifname \"$wan\" masquerade
		}
	}"
	in_r nft -f - <<-NFT
	table inet filter {
		counter fwd_pkts { }
		counter invalid_pkts { }
		chain forward {
			type filter hook forward priority filter; policy drop;
			counter name fwd_pkts
			ct state invalid counter name invalid_pkts drop
			tcp dport { 80, 443 } ct state established ct mark set ct mark or 0x1
			ct state established,related accept
			accept
		}
	}
	table inet mangle {
		chain forward {
			type filter hook forward priority mangle;
			tcp flags syn tcp option maxseg size set rt mtu
		}
	}
	table ip nat {
		chain postrouting {
			type nat hook postrouting priority srcnat;
			oifname "$wan" masquerade
		}
	}$nat6
	NFT
}

# lab_link NS_A DEV_A NS_B DEV_B: the wire between two namespaces, a veth
# pair, or with LAB_LINK=ppesim a pair of simulated PPE ports (selftests/kmod/ppe_sim.ko).
lab_link() {
	if [ "${LAB_LINK:-veth}" = ppesim ]; then
		ip link add "$2" netns "$1" type ppesim &&
			ip -n "$1" link add "$4" link "$2" type ppesim &&
			ip -n "$1" link set "$4" netns "$3"
	else
		ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	fi
}

# lab_tier: the tier the daemon chooses for the lab's ingress devices:
# "tc" with the end hosts' default checksum offload, "xdp" with
# LAB_TX_OFFLOAD=off.
lab_tier() {
	if [ "${LAB_TX_OFFLOAD:-on}" = off ]; then echo xdp; else echo tc; fi
}

lab_up() {
	ip netns add "$NS_C" && ip netns add "$NS_R" && ip netns add "$NS_S" || return 1
	lab_link "$NS_C" c0 "$NS_R" r0 || return 1
	lab_link "$NS_S" s0 "$NS_R" r1 || return 1

	in_c ip addr add 10.0.1.2/24 dev c0
	in_c ip addr add fd00:1::2/64 dev c0 nodad
	in_r ip addr add 10.0.1.1/24 dev r0
	in_r ip addr add fd00:1::1/64 dev r0 nodad
	in_r ip addr add 10.0.2.1/24 dev r1
	in_r ip addr add fd00:2::1/64 dev r1 nodad
	in_s ip addr add 10.0.2.2/24 dev s0
	in_s ip addr add fd00:2::2/64 dev s0 nodad
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		ip -n "$ns" link set lo up
	done
	in_c ip link set c0 up
	in_r ip link set r0 up
	in_r ip link set r1 up
	in_s ip link set s0 up
	in_c ip route add default via 10.0.1.1
	in_c ip -6 route add default via fd00:1::1
	in_r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

	# A veth only takes XDP-redirected frames when its peer runs NAPI,
	# which GRO turns on (DESIGN.md, "Redirect").
	in_c ethtool -K c0 gro on >/dev/null
	in_s ethtool -K s0 gro on >/dev/null
	# The end hosts keep the veth's default offloads, transmit checksum
	# offload included, as every container and VM has: the router then
	# receives CHECKSUM_PARTIAL skbs, whose checksum field holds only the
	# pseudo-header sum, and the daemon puts that ingress on the TC tier
	# (an XDP redirect would drop the skb's checksum state). One lab sets
	# LAB_TX_OFFLOAD=off, so the end hosts send complete checksums as hosts
	# on a wire do and the router's ingress stays on the XDP tier.
	if [ "$(lab_tier)" = xdp ]; then
		in_c ethtool -K c0 tx off >/dev/null
		in_s ethtool -K s0 tx off >/dev/null
	fi

	lab_ruleset || return 1
	# Resolve neighbours both ways before any test relies on them.
	in_c ping -c1 -W2 10.0.2.2 >/dev/null &&
		in_c ping -6 -c1 -W2 fd00:2::2 >/dev/null
}

# Every process still running in the lab's namespaces, by namespace.
lab_pids() {
	local ns
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		[ -e /run/netns/"$ns" ] && ip netns pids "$ns"
	done
}

lab_down() {
	local pids tries=20
	# Processes keep a namespace alive after "ip netns del"; end them first.
	# SIGTERM lets a daemon detach itself; SIGKILL whatever lingers.
	pids=$(lab_pids)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	while [ -n "$(lab_pids)" ] && [ $tries -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	pids=$(lab_pids)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	# Detach: the pins in the host's bpffs outlive the namespaces.
	[ -e /run/netns/"$NS_R" ] && fp detach >/dev/null 2>&1
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# JSON is read with jq, not python: under the VM's emulation every python
# start costs seconds.
# A named counter of the router's filter table: fwd_pkts counts every
# packet the forward chain sees, invalid_pkts those "ct state invalid" drops.
lab_counter() {
	in_r nft -j list counter inet filter "$1" |
		jq '[.nftables[] | select(.counter) | .counter.packets][0]'
}
lab_fwd_packets() { lab_counter fwd_pkts; }

# rx+tx packets of a device in a namespace.
lab_dev_packets() {
	local ns=$1 dev=$2
	ip -n "$ns" -s -j link show "$dev" |
		jq '.[0].stats64 | .rx.packets + .tx.packets'
}
