#!/usr/bin/env bash
# home_router_inner.sh - the in-VM part of test_home_router.sh (pppoe) and
# test_vlan_router.sh (vlan): fastpath on a home router's real shape, in
# Debian's kernel (8021q, pppoe, bridge). Runs as root in the VM; prints
# PASS/FAIL/SKIP lines.
#
#   home_router_inner.sh pppoe|vlan
#
#   pppoe  client1 (c0)--(lan1)                          ISP
#                          br-lan  router  eth0.7 ----- s0.7 pppoe-server
#          client2 (c0)--(lan2)    ppp0 = PPPoE over VLAN 7 of eth0
#          10.0.1.0/24, fd00:1::/64; IPv4 masquerades on ppp0, IPv6 is
#          routed; the server is the ISP's 198.51.100.1 / 2001:db8:100::1.
#          "fastpath run ppp0 br-lan" attaches to eth0, lan1 and lan2.
#
#   vlan   A (c0, access VLAN 10)--+                      +-- C (s0.100.30)
#          B (s0, access VLAN 20)--+ switch ==trunk== eth1 router eth2 (QinQ:
#          (a bridge with vlan_filtering)   eth1.10, eth1.20       802.1ad 100,
#          VLAN to VLAN through one trunk port, and to a QinQ port.    inner 30)
#
# Transfers are small (TCG is slow); each proves the bytes arrive intact
# and that the forward chain saw under 1% of the packets the router
# forwarded (UDP: after the flow was learned).
set -u
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$VM_DIR/lib.sh"
# shellcheck source=../lib.sh
source "$VM_DIR/../lib.sh"

MB=${MB:-8}
UDP_MB=${UDP_MB:-3}
LAB=${1:-pppoe}

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# host NS DEV ADDR4/LEN ADDR6/LEN GW4 GW6: an end host on a veth end.
host_up() {
	local ns=$1 dev=$2
	ip -n "$ns" link set lo up
	ip -n "$ns" link set "$dev" up
	ip -n "$ns" addr add "$3" dev "$dev"
	ip -n "$ns" addr add "$4" dev "$dev" nodad
	ip -n "$ns" route add default via "$5"
	ip -n "$ns" -6 route add default via "$6"
}

# Hosts on a wire send complete checksums, and a veth only takes
# XDP-redirected frames when its peer runs NAPI (scripts/lab.sh).
wire_end() {
	in_ns "$1" ethtool -K "$2" tx off gro on >/dev/null
}

daemon_log_has() {
	if grep -qF "$2" "$DAEMON_LOG"; then
		pass "$1"
	else
		fail "$1" "no '$2' in: $(tr '\n' '|' <"$DAEMON_LOG" | head -c 600)"
	fi
}

# Transfers are judged once both directions are in the table: the check
# is about what happens after learning, which under TCG on a loaded host
# can take a few hundred ms. The sender streams the first half of its
# data meanwhile and pauses there only while the counters are read
# (XFER_HOLD; a wait from the first MB could outlast the 30 s idle
# timeout); a UDP flow is learned from a short exchange first
# (XFER_WARM). A host's own link count can be lower than the packets on
# the wire (behind the lab's switch, GRO merges them), which only makes
# the forward chain's 1% stricter.
#
# tcp_xfer2 NAME FAMILY SERVER PORT up|down: $MB MB over TCP, from the
# client to the server (up) or back (down).
tcp_xfer2() {
	XFER_DIR=$5 XFER_FIRST=$((MB << 19)) XFER_HOLD="in_table $4" XFER_HOLD_S=12 \
		tcp_xfer "$1" "$2" "$3" "$4" "$MB"
}

# udp_xfer2 NAME SERVER PORT: $UDP_MB MB through udp_echo.py.
udp_xfer2() {
	XFER_SPORT=$(($3 + 30000)) XFER_WARM=1 XFER_HOLD="in_table $3" XFER_HOLD_S=12 \
		udp_xfer "$1" "$2" "$3" "$UDP_MB"
}


# flow_with IN IN_ENCAP OUT OUT_ENCAP: the table has such an entry now.
FLOW_WITH='.in == $i and (.in_encap // "") == $ie and .out == $o and (.out_encap // "") == $oe'
flow_with() { flows_match "$FLOW_WITH" --arg i "$1" --arg ie "$2" --arg o "$3" --arg oe "$4"; }
no_flow_with() { no_flow_match "$FLOW_WITH" --arg i "$1" --arg ie "$2" --arg o "$3" --arg oe "$4"; }

check_flow() {
	if flow_with "$2" "$3" "$4" "$5"; then
		pass "$1"
	else
		fail "$1" "no $2 [$3] -> $4 [$5] entry in: $(fp flows | head -8 | tr '\n' '|')"
	fi
}

pppoe_lab() {
	local sid=0x1234 ispppp
	NS_C2=fpc2-$LAB_ID
	EXTRA_NS+=("$NS_C2")
	ip netns add "$NS_C" && ip netns add "$NS_C2" && ip netns add "$NS_R" &&
		ip netns add "$NS_S" || return 1
	ip link add s0 netns "$NS_S" type veth peer name eth0 netns "$NS_R" || return 1
	ip link add c0 netns "$NS_C" type veth peer name lan1 netns "$NS_R" || return 1
	ip link add c0 netns "$NS_C2" type veth peer name lan2 netns "$NS_R" || return 1

	# The ISP: PPPoE on VLAN 7. Its tagged frames must carry the tag in
	# their bytes: with tx-vlan-offload a veth hands it over in metadata,
	# which the router's XDP cannot see.
	ip -n "$NS_S" link set lo up
	ip -n "$NS_S" link set s0 up
	wire_end "$NS_S" s0
	in_s ethtool -K s0 txvlan off >/dev/null
	ip -n "$NS_S" link add link s0 name s0.7 type vlan id 7
	ip -n "$NS_S" link set s0.7 up
	ip -n "$NS_S" addr add 198.51.100.1/32 dev lo
	ip -n "$NS_S" addr add 2001:db8:100::1/128 dev lo
	cat >"$TMP/isp-options" <<-EOF
	noauth
	+ipv6
	ipv6 ::1,::2
	lcp-echo-interval 0
	mtu 1492
	mru 1492
	ip-up-script /bin/true
	ip-down-script /bin/true
	EOF
	# Session ids count from -o + 1: 4659 + 1 = 0x1234.
	spawn in_s pppoe-server -F -I s0.7 -L 10.64.0.1 -R 10.64.0.2 -N 2 -o 4659 \
		-O "$TMP/isp-options"

	# The router, as OpenWrt sets it up: ppp0 over eth0.7, br-lan.
	ip -n "$NS_R" link set lo up
	for dev in eth0 lan1 lan2; do
		ip -n "$NS_R" link set "$dev" up
	done
	ip -n "$NS_R" link add link eth0 name eth0.7 type vlan id 7
	ip -n "$NS_R" link set eth0.7 up
	ip -n "$NS_R" link add br-lan type bridge
	ip -n "$NS_R" link set lan1 master br-lan
	ip -n "$NS_R" link set lan2 master br-lan
	ip -n "$NS_R" link set br-lan up
	ip -n "$NS_R" addr add 10.0.1.1/24 dev br-lan
	ip -n "$NS_R" addr add fd00:1::1/64 dev br-lan nodad
	in_r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	mkdir -p /run/lock
	spawn in_r pppd plugin pppoe.so nic-eth0.7 unit 0 nodetach noauth noipdefault \
		nodefaultroute +ipv6 ipv6 ::2,::1 lcp-echo-interval 0 mtu 1492 mru 1492 \
		ip-up-script /bin/true ip-down-script /bin/true logfd 2 \
		>"$TMP/pppd.log" 2>&1
	PPPD_PID=$!

	host_up "$NS_C" c0 10.0.1.2/24 fd00:1::2/64 10.0.1.1 fd00:1::1
	host_up "$NS_C2" c0 10.0.1.3/24 fd00:1::3/64 10.0.1.1 fd00:1::1
	wire_end "$NS_C" c0
	wire_end "$NS_C2" c0

	if ! wait_for 40 eval 'in_r ip -4 addr show dev ppp0 | grep -q "inet 10.64.0.2"'; then
		fail pppoe-session "ppp0 got no address: $(tail -5 "$TMP/pppd.log" | tr '\n' '|')"
		return 1
	fi
	wait_for 20 eval 'in_r ip -6 addr show dev ppp0 | grep -q fe80::2' ||
		echo "  ppp0 has no IPv6 link-local address (IPV6CP): $(tail -3 "$TMP/pppd.log" | tr '\n' '|')"
	ispppp=$(in_s ip -o link show type ppp | awk -F': ' '{ print $2; exit }')
	[ -n "$ispppp" ] || ispppp=$(in_s ls /sys/class/net | grep -m1 '^ppp')
	in_r ip route add default dev ppp0
	in_r ip -6 route add default dev ppp0
	in_s ip -6 route add fd00:1::/64 dev "$ispppp"
	# Replies from a socket bound to any address (udp_echo.py) must come
	# from the server's address, not from the ISP's end of the link.
	in_s ip route replace 10.64.0.2 dev "$ispppp" src 198.51.100.1
	if in_r grep -qi "^$(printf %08X $(( (sid & 0xff) << 8 | sid >> 8 )))" /proc/net/pppoe; then
		pass pppoe-session
	else
		fail pppoe-session "session $sid not in /proc/net/pppoe: $(in_r cat /proc/net/pppoe | tr '\n' '|')"
	fi

	lab_ruleset ppp0 routed || return 1
	for c in "$NS_C" "$NS_C2"; do
		in_ns "$c" ping -c1 -W5 198.51.100.1 >/dev/null ||
			echo "  $c: no IPv4 reply from the ISP (slow path)"
		in_ns "$c" ping -6 -c1 -W5 2001:db8:100::1 >/dev/null ||
			echo "  $c: no IPv6 reply from the ISP (slow path)"
	done

	start_daemon --policy all ppp0 br-lan || return 1
	daemon_log_has attach-explains-ppp0 \
		"ppp0: PPPoE session $sid over eth0.7 = eth0 VLAN 7: attaching to eth0"
	daemon_log_has attach-explains-br-lan \
		"br-lan: bridge over lan1, lan2: attaching to lan1, lan2"
	if [ "$(fp status --json | jq -r '[.interfaces[].name] | sort | join(" ")')" = "eth0 lan1 lan2" ]; then
		pass attached-to-ports
	else
		fail attached-to-ports "$(fp status --json | jq -c '[.interfaces[].name]')"
	fi

	# Upload from client1, download to client2, IPv4 and IPv6.
	tcp_xfer2 pppoe-tcp4-up ipv4 198.51.100.1 80 up && check_offloaded pppoe-tcp4-up-offloaded
	NS_C=$NS_C2 tcp_xfer2 pppoe-tcp4-down ipv4 198.51.100.1 443 down &&
		check_offloaded pppoe-tcp4-down-offloaded
	NS_C=$NS_C2 tcp_xfer2 pppoe-tcp6-up ipv6 2001:db8:100::1 80 up &&
		check_offloaded pppoe-tcp6-up-offloaded
	tcp_xfer2 pppoe-tcp6-down ipv6 2001:db8:100::1 443 down &&
		check_offloaded pppoe-tcp6-down-offloaded

	udp_xfer2 pppoe-udp4 198.51.100.1 5300 && check_offloaded pppoe-udp4-offloaded
	# The UDP flow stays in the table until it idles out: look at its keys.
	check_flow pppoe-entry-wan-to-lan eth0 "vlan 7 pppoe $sid" lan1 ""
	check_flow pppoe-entry-lan-to-wan lan1 "" eth0 "vlan 7 pppoe $sid"
	# pppd may get a smaller MRU than the link allows: the entry's MTU
	# follows ppp0 (1480 + the 8 bytes PPPoE takes of eth0's 1500).
	in_r ip link set ppp0 mtu 1480
	NS_C=$NS_C2 udp_xfer2 pppoe-udp6 2001:db8:100::1 5301 && check_offloaded pppoe-udp6-offloaded
	check_flow pppoe-entry-lan2 eth0 "vlan 7 pppoe $sid" lan2 ""
	if fp flows --json | jq -e 'any(.[]; .in == "lan2" and .mtu == 1488)' >/dev/null; then
		pass pppoe-mtu-follows-ppp0
	else
		fail pppoe-mtu-follows-ppp0 "$(fp flows --json | jq -c '[.[] | {in, out, mtu}]')"
	fi

	# A client that shows up on another bridge port takes its flows off
	# the fast path (the bridge FDB moved).
	local mac1
	mac1=$(ip -n "$NS_C" -j link show c0 | jq -r '.[0].address')
	in_r bridge fdb replace "$mac1" dev lan2 master static
	if wait_for 10 no_flow_with eth0 "vlan 7 pppoe $sid" lan1 ""; then
		pass pppoe-fdb-move-tears-down
	else
		fail pppoe-fdb-move-tears-down "the entry to lan1 stayed: $(fp flows | tr '\n' '|')"
	fi
	in_r bridge fdb del "$mac1" dev lan2 master static

	# A shaper on ppp0 holds the connections that leave through eth0
	# under it (the SQM guard looks at every device on the way down).
	in_r tc qdisc add dev ppp0 root tbf rate 500mbit burst 64k latency 20ms
	if wait_for 10 status_is 0 entries; then
		pass pppoe-shaper-on-ppp0-flushes
	else
		fail pppoe-shaper-on-ppp0-flushes "$(fp flows | tr '\n' '|')"
	fi
	NS_C=$NS_C2 XFER_SPORT=35301 udp_xfer pppoe-udp6-shaped 2001:db8:100::1 5301 0.1
	if wait_for 5 eval '[ "$(status_field daemon slow_path sqm)" -ge 1 ]' &&
		[ "$(status_field entries)" = 0 ]; then
		pass pppoe-shaper-on-ppp0-holds
	else
		fail pppoe-shaper-on-ppp0-holds "sqm $(status_field daemon slow_path sqm), $(status_field entries) entries"
	fi
	# Without it, the connection comes back at its next packets.
	in_r tc qdisc del dev ppp0 root
	sleep 1
	NS_C=$NS_C2 XFER_SPORT=35301 udp_xfer pppoe-udp6-unshaped 2001:db8:100::1 5301 0.1

	# The PPPoE session ends: nothing may keep sending into it.
	if wait_for 5 eval '[ "$(status_field entries)" -gt 0 ]'; then
		pass pppoe-shaper-gone-offloads-again
	else
		fail pppoe-shaper-gone-offloads-again "no entries: $(status_field daemon slow_path | tr -d '\n ')"
	fi
	kill "$PPPD_PID" 2>/dev/null
	wait "$PPPD_PID" 2>/dev/null
	if wait_for 10 status_is 0 entries; then
		pass pppoe-down-flushes
	else
		fail pppoe-down-flushes "$(fp flows | tr '\n' '|')"
	fi
}

vlan_lab() {
	NS_W=fpw-$LAB_ID NS_Q=fpq-$LAB_ID
	EXTRA_NS+=("$NS_W" "$NS_Q")
	for ns in "$NS_C" "$NS_S" "$NS_R" "$NS_W" "$NS_Q"; do
		ip netns add "$ns" || return 1
	done
	ip link add t0 netns "$NS_W" type veth peer name eth1 netns "$NS_R" || return 1
	ip link add pa netns "$NS_W" type veth peer name c0 netns "$NS_C" || return 1
	ip link add pb netns "$NS_W" type veth peer name s0 netns "$NS_S" || return 1
	ip link add s0 netns "$NS_Q" type veth peer name eth2 netns "$NS_R" || return 1

	# The switch: access ports for VLAN 10 and 20, a trunk to the router.
	ip -n "$NS_W" link add sw type bridge vlan_filtering 1
	for p in t0 pa pb; do
		ip -n "$NS_W" link set "$p" master sw
		ip -n "$NS_W" link set "$p" up
	done
	ip -n "$NS_W" link set sw up
	in_ns "$NS_W" bridge vlan add dev t0 vid 10
	in_ns "$NS_W" bridge vlan add dev t0 vid 20
	in_ns "$NS_W" bridge vlan del dev pa vid 1
	in_ns "$NS_W" bridge vlan add dev pa vid 10 pvid untagged
	in_ns "$NS_W" bridge vlan del dev pb vid 1
	in_ns "$NS_W" bridge vlan add dev pb vid 20 pvid untagged
	wire_end "$NS_W" t0
	in_ns "$NS_W" ethtool -K t0 txvlan off >/dev/null

	# The QinQ host: 802.1ad 100 outside, 802.1Q 30 inside.
	ip -n "$NS_Q" link set lo up
	ip -n "$NS_Q" link set s0 up
	wire_end "$NS_Q" s0
	in_ns "$NS_Q" ethtool -K s0 txvlan off tx-vlan-stag-hw-insert off >/dev/null
	ip -n "$NS_Q" link add link s0 name s0.100 type vlan proto 802.1ad id 100
	ip -n "$NS_Q" link set s0.100 up
	in_ns "$NS_Q" ethtool -K s0.100 txvlan off >/dev/null 2>&1
	# Two tags take 8 bytes, and a veth takes frames up to MTU + 4: the
	# inner device gets 1496, as QinQ links without baby giants do.
	ip -n "$NS_Q" link add link s0.100 name s0.100.30 mtu 1496 type vlan id 30
	ip -n "$NS_Q" link set s0.100.30 up
	ip -n "$NS_Q" addr add 10.0.30.2/24 dev s0.100.30
	ip -n "$NS_Q" addr add fd00:30::2/64 dev s0.100.30 nodad
	ip -n "$NS_Q" route add default via 10.0.30.1
	ip -n "$NS_Q" -6 route add default via fd00:30::1

	host_up "$NS_C" c0 10.0.10.2/24 fd00:10::2/64 10.0.10.1 fd00:10::1
	host_up "$NS_S" s0 10.0.20.2/24 fd00:20::2/64 10.0.20.1 fd00:20::1
	in_c ethtool -K c0 tx off >/dev/null
	in_s ethtool -K s0 tx off >/dev/null

	ip -n "$NS_R" link set lo up
	ip -n "$NS_R" link set eth1 up
	ip -n "$NS_R" link set eth2 up
	for v in 10 20; do
		ip -n "$NS_R" link add link eth1 name eth1.$v type vlan id $v
		ip -n "$NS_R" link set eth1.$v up
		ip -n "$NS_R" addr add 10.0.$v.1/24 dev eth1.$v
		ip -n "$NS_R" addr add fd00:$v::1/64 dev eth1.$v nodad
	done
	ip -n "$NS_R" link add link eth2 name eth2.100 type vlan proto 802.1ad id 100
	ip -n "$NS_R" link set eth2.100 up
	ip -n "$NS_R" link add link eth2.100 name eth2.100.30 mtu 1496 type vlan id 30
	ip -n "$NS_R" link set eth2.100.30 up
	ip -n "$NS_R" addr add 10.0.30.1/24 dev eth2.100.30
	ip -n "$NS_R" addr add fd00:30::1/64 dev eth2.100.30 nodad
	in_r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	lab_ruleset eth1.20 routed || return 1
	in_c ping -c1 -W5 10.0.20.2 >/dev/null || echo "  no IPv4 reply across the VLANs (slow path)"
	in_c ping -6 -c1 -W5 fd00:20::2 >/dev/null || echo "  no IPv6 reply across the VLANs (slow path)"
	in_c ping -c1 -W5 10.0.30.2 >/dev/null || echo "  no IPv4 reply from the QinQ host (slow path)"

	start_daemon --policy all eth1.10 eth1.20 eth2.100.30 || return 1
	daemon_log_has attach-explains-vlan "eth1.10: eth1 VLAN 10: attaching to eth1"
	daemon_log_has attach-explains-qinq \
		"eth2.100.30: eth2.100 VLAN 30 = eth2 802.1ad VLAN 100: attaching to eth2"
	if [ "$(fp status --json | jq -r '[.interfaces[].name] | sort | join(" ")')" = "eth1 eth2" ]; then
		pass vlan-attached-to-ports
	else
		fail vlan-attached-to-ports "$(fp status --json | jq -c '[.interfaces[].name]')"
	fi

	# VLAN 10 to VLAN 20 through the same trunk port (XDP redirects back
	# out of the port it came in on), with masquerade on eth1.20.
	tcp_xfer2 vlan-tcp4 ipv4 10.0.20.2 80 up && check_offloaded vlan-tcp4-offloaded
	tcp_xfer2 vlan-tcp6-down ipv6 fd00:20::2 443 down && check_offloaded vlan-tcp6-down-offloaded
	udp_xfer2 vlan-udp4 10.0.20.2 5300 && check_offloaded vlan-udp4-offloaded
	check_flow vlan-entry-10-to-20 eth1 "vlan 10" eth1 "vlan 20"
	check_flow vlan-entry-20-to-10 eth1 "vlan 20" eth1 "vlan 10"

	# VLAN 10 to the QinQ port, routed (no NAT), both ways at once.
	NS_S=$NS_Q tcp_xfer2 qinq-tcp6 ipv6 fd00:30::2 80 up && check_offloaded qinq-tcp6-offloaded
	NS_S=$NS_Q udp_xfer2 qinq-udp4 10.0.30.2 5302 && check_offloaded qinq-udp4-offloaded
	check_flow qinq-entry-in eth2 "vlan 802.1ad:100.30" eth1 "vlan 10"
	check_flow qinq-entry-out eth1 "vlan 10" eth2 "vlan 802.1ad:100.30"
}

vm_modules
for m in ppp_generic ppp_async pppoe nft_rt; do
	modprobe -q "$m" 2>/dev/null
done
# pppoe-server's pppd needs a pseudo-tty; the VM's /dev has no devpts.
if [ ! -e /dev/pts/ptmx ]; then
	mkdir -p /dev/pts
	mount -t devpts -o ptmxmode=0666 devpts /dev/pts
fi
mkdir -p /run/lock

echo "  lab $LAB"
case $LAB in
pppoe)
	if ! command -v pppoe-server >/dev/null || ! command -v pppd >/dev/null; then
		skip pppoe "pppd or pppoe-server missing (scripts/deps.sh vm)"
		exit 0
	fi
	pppoe_lab || fail pppoe-lab-setup "the lab did not come up"
	;;
vlan)
	vlan_lab || fail vlan-lab-setup "the lab did not come up"
	;;
esac
echo "  lab $LAB: ${SECONDS}s"
if [ "$E2E_FAILED" -ne 0 ]; then
	[ -e /run/netns/"$NS_R" ] && fp status | sed 's/^/    /'
	echo "  daemon log:" && tail -40 "$DAEMON_LOG" | sed 's/^/    /'
fi
exit $E2E_FAILED
