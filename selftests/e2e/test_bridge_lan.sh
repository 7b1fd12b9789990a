#!/usr/bin/env bash
# The LAN as a bridge on the host kernel: br-lan over two ports (r0, r2)
# with a client on each, masquerade out of r1. "fastpath run br-lan r1"
# attaches to the member ports and says so; the direction from a client
# arrives on br-lan and is keyed on the port where the bridge sends the
# client's MAC; a MAC that moves to the other port takes its flows off
# the fast path. (VLAN and PPPoE need modules the host kernel lacks:
# selftests/vm/test_home_router.sh and test_vlan_router.sh.)
source "$(dirname "$0")/../lib.sh"

# TCP transfers are 100 MB: on veth the RTT is ~20 us, so slow start can
# put a few hundred packets through the slow path in the ~0.5 ms the daemon
# takes to learn a connection; 100 MB keeps that fixed cost well under the
# 1% bound, as a real RTT would.
MB=${MB:-100}
UDP_MB=${UDP_MB:-24}
NS_C2=fpc2-$LAB_ID
NS_C3=fpc3-$LAB_ID
EXTRA_NS+=("$NS_C2" "$NS_C3")

# bridge_client NS PORT N: a client 10.0.1.N in NS behind br-lan's PORT.
bridge_client() {
	local ns=$1 port=$2 n=$3
	ip netns add "$ns" || return 1
	ip link add c0 netns "$ns" type veth peer name "$port" netns "$NS_R" || return 1
	in_r ip link set "$port" master br-lan
	in_r ip link set "$port" up
	ip -n "$ns" link set lo up
	ip -n "$ns" link set c0 up
	ip -n "$ns" addr add 10.0.1."$n"/24 dev c0
	ip -n "$ns" addr add fd00:1::"$n"/64 dev c0 nodad
	ip -n "$ns" route add default via 10.0.1.1
	ip -n "$ns" -6 route add default via fd00:1::1
	# As lab_up's client: GRO for XDP redirects to it; the veth's default
	# transmit checksum offload unless the lab's hosts send complete checksums.
	ip netns exec "$ns" ethtool -K c0 gro on >/dev/null
	[ "$(lab_tier)" = xdp ] && ip netns exec "$ns" ethtool -K c0 tx off >/dev/null
	ip netns exec "$ns" ping -c1 -W2 10.0.2.2 >/dev/null &&
		ip netns exec "$ns" ping -6 -c1 -W2 fd00:2::2 >/dev/null
}

# attached_ports: the interfaces the table's program runs on, sorted.
attached_ports() {
	fp status --json | jq -r '[.interfaces[].name] | sort | join(" ")'
}

bridge_up() {
	lab_up || return 1
	# r0 becomes a port of br-lan, which takes over its addresses.
	in_r ip addr flush dev r0
	in_r ip link add br-lan type bridge || return 1
	in_r ip link set r0 master br-lan
	in_r ip link set br-lan up
	in_r ip addr add 10.0.1.1/24 dev br-lan
	in_r ip addr add fd00:1::1/64 dev br-lan nodad
	in_c ip neigh flush all
	in_c ping -c1 -W2 10.0.2.2 >/dev/null && in_c ping -6 -c1 -W2 fd00:2::2 >/dev/null &&
		bridge_client "$NS_C2" r2 3
}

# flow_with IN OUT: the table has an untagged entry from IN to OUT (2:
# the table cannot be read; no_flow_with fails then too).
FLOW_WITH='.in == $i and .out == $o and (.in_encap // "") == "" and (.out_encap // "") == ""'
flow_with() { flows_match "$FLOW_WITH" --arg i "$1" --arg o "$2"; }
no_flow_with() { no_flow_match "$FLOW_WITH" --arg i "$1" --arg o "$2"; }

if ! bridge_up; then
	fail bridge-setup "lab setup failed"
	exit 1
fi
if ! start_daemon --policy all br-lan r1; then
	fail bridge-daemon "the daemon did not start"
	exit 1
fi
if grep -qF "br-lan: bridge over r0, r2: attaching to r0, r2" "$DAEMON_LOG"; then
	pass bridge-attach-explains
else
	fail bridge-attach-explains "$(tr '\n' '|' <"$DAEMON_LOG")"
fi
if [ "$(attached_ports)" = "r0 r1 r2" ]; then
	pass bridge-attached-to-ports
else
	fail bridge-attached-to-ports "$(attached_ports)"
fi

tcp_xfer bridge-tcp4-port1 ipv4 10.0.2.2 80 "$MB" && check_offloaded bridge-tcp4-port1-offloaded
NS_C=$NS_C2 tcp_xfer bridge-tcp6-port2 ipv6 fd00:2::2 443 "$MB" &&
	check_offloaded bridge-tcp6-port2-offloaded

# UDP from the second port: the entry stays until it idles out.
NS_C=$NS_C2 udp_xfer bridge-udp4-port2 10.0.2.2 5300 "$UDP_MB" &&
	check_offloaded bridge-udp4-port2-offloaded
flow_with r2 r1 && flow_with r1 r2 && pass bridge-entries-on-port2 ||
	fail bridge-entries-on-port2 "$(fp flows | tr '\n' '|')"

# The second client's MAC shows up on r0: its flows leave the fast path.
mac2=$(ip -n "$NS_C2" -j link show c0 | jq -r '.[0].address')
in_r bridge fdb replace "$mac2" dev r0 master static
if wait_for 3 no_flow_with r1 r2; then
	pass bridge-fdb-move-tears-down
else
	fail bridge-fdb-move-tears-down "$(fp flows | tr '\n' '|')"
fi
in_r bridge fdb del "$mac2" dev r0 master static

# A port that joins br-lan while the daemon runs (hostapd adds Wi-Fi
# interfaces after boot) is attached, and its client's flows offloaded;
# when it leaves the bridge it is detached.
if bridge_client "$NS_C3" r3 4 &&
	wait_for 5 grep -qF "r3: new port under br-lan: attached" "$DAEMON_LOG" &&
	[ "$(attached_ports)" = "r0 r1 r2 r3" ]; then
	pass bridge-new-port-attached
else
	fail bridge-new-port-attached "$(attached_ports) | $(tr '\n' '|' <"$DAEMON_LOG")"
fi
NS_C=$NS_C3 tcp_xfer bridge-tcp4-port3 ipv4 10.0.2.2 80 "$MB" &&
	check_offloaded bridge-tcp4-port3-offloaded
in_r ip link set r3 nomaster
if wait_for 5 grep -qF "r3: no longer under the interfaces given: detached" "$DAEMON_LOG" &&
	[ "$(attached_ports)" = "r0 r1 r2" ] && r3=$(in_r ip link show r3) && ! grep -q xdp <<<"$r3"; then
	pass bridge-port-left-detached
else
	fail bridge-port-left-detached "$(attached_ports) | $(in_r ip link show r3 | head -1)"
fi

# attach and detach resolve the bridge the same way.
stop_daemon
if fp attach br-lan 2>/dev/null &&
	[ "$(attached_ports)" = "r0 r2" ] &&
	fp detach br-lan && fp status --json | jq -e '[.interfaces[]] | length == 0' >/dev/null; then
	pass bridge-attach-detach-by-name
else
	fail bridge-attach-detach-by-name "$(fp status | head -3 | tr '\n' '|')"
fi

exit $E2E_FAILED
