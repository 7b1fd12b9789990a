#!/usr/bin/env bash
# The daemon under faults (DESIGN.md, safety rules): conntrack kept alive
# while it sees nothing, kill -9 and restart, a firewall rule inserted
# mid-transfer, a next-hop MAC change, conntrack -F, rx VLAN offload turned
# back on, a vanished interface.
source "$(dirname "$0")/../lib.sh"

if ! lab_up; then
	fail faults-setup "lab setup failed"
	exit 1
fi
# A third router port, to be deleted under the running daemon.
ip link add x2 netns "$NS_C" type veth peer name r2 netns "$NS_R"
in_r ip link set r2 up
in_c ip link set x2 up
in_s sysctl -qw net.ipv4.conf.all.arp_notify=1 net.ipv4.conf.s0.arp_notify=1
start_daemon --policy all --idle-timeout 300 r0 r1 r2 || { fail faults-daemon "did not start"; exit 1; }

# conntrack would expire these flows within 4 s if nothing refreshed it.
in_r sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=4 \
	net.netfilter.nf_conntrack_udp_timeout=4 net.netfilter.nf_conntrack_udp_timeout_stream=4
XFER_PACE=10 tcp_xfer_start keepalive ipv4 10.0.2.2 8001 20
sleep 1
id0=$(in_r conntrack -L -p tcp --dport 8001 -o id 2>/dev/null | grep -o 'id=[0-9]*')
if tcp_xfer_wait keepalive; then
	id1=$(in_r conntrack -L -p tcp --dport 8001 -o id 2>/dev/null | grep -o 'id=[0-9]*')
	refreshes=$(status_field daemon refreshes)
	echo "  keepalive: conntrack $id0 -> ${id1:-gone}, $refreshes refreshes"
	if [ -n "$id0" ] && [ "$id0" = "$id1" ] && [ "$refreshes" -gt 0 ]; then
		pass keepalive-survives-timeout
	else
		fail keepalive-survives-timeout "conntrack entry $id0 became ${id1:-nothing}"
	fi
fi
in_r sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=432000 \
	net.netfilter.nf_conntrack_udp_timeout=30 net.netfilter.nf_conntrack_udp_timeout_stream=120

# kill -9: the lease runs out and the slow path takes over within the
# lease and a second; a new daemon re-adopts the pinned state and offloads
# the flow again.
# slow_path_ms PROBE T0 SECONDS: ms from T0 ($EPOCHREALTIME without the
# dot) until the router's stack forwards over 20 IPv4 datagrams between
# two reads; nothing after SECONDS. The count is ForwDatagrams of PROBE, a
# process in the router's namespace (router_probe), read with bash
# builtins: no fork per read, so the time is late by 20 ms and one read
# at most, even on a loaded host.
slow_path_ms() {
	local probe=$1 t0=$2 end=$(($(usecs) + $3 * 1000000)) a b
	forwarded "$probe"
	a=$FORWARDED
	while [ "${EPOCHREALTIME/./}" -le $end ]; do
		sleep 0.02
		forwarded "$probe"
		b=$FORWARDED
		if [ $((b - a)) -gt 20 ]; then
			echo $(((${EPOCHREALTIME/./} - t0) / 1000))
			return 0
		fi
		a=$b
	done
	return 1
}
# router_probe: PROBE = a process that sits in the router's namespace
# (once nsenter has entered it: before, /proc/PID/net is the caller's).
router_probe() {
	spawn in_r sleep 600
	PROBE=$!
	wait_for 10 eval '[ "$(ip netns identify "$PROBE")" = "$NS_R" ]'
}
# forwarded PID: FORWARDED = ForwDatagrams of PID's network namespace.
forwarded() {
	local hdr val i
	{ read -r hdr; read -r val; } <"/proc/$1/net/snmp"
	hdr=($hdr) val=($val)
	for i in "${!hdr[@]}"; do
		[ "${hdr[$i]}" = ForwDatagrams ] && FORWARDED=${val[$i]}
	done
}
XFER_PACE=24 tcp_xfer_start kill9 ipv4 10.0.2.2 8002 24
if wait_for 30 port_offloaded 8002; then
	lease_ms=$(status_field lease length_s | awk '{ printf "%d", $1 * 1000 }')
	router_probe || fail kill9-probe "no process in the router's namespace"
	t0=$(usecs)
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	if ms=$(slow_path_ms "$PROBE" "$t0" 15); then
		echo "  kill9: slow path took over after $ms ms (lease $lease_ms ms)"
		if [ "$lease_ms" -gt 0 ] && [ "$ms" -le $((lease_ms + 1000)) ]; then
			pass kill9-slow-path-within-lease
		else
			fail kill9-slow-path-within-lease "$ms ms, lease $lease_ms ms"
		fi
	else
		fail kill9-slow-path-within-lease "the forward chain stayed quiet"
	fi
	start_daemon --policy all --idle-timeout 300 r0 r1 r2
	if wait_for 30 port_offloaded 8002; then
		pass kill9-restart-offloads-again
	else
		fail kill9-restart-offloads-again "flow not back on the fast path: $(fp flows)"
	fi
	tcp_xfer_wait kill9 && pass kill9-transfer-intact
else
	fail kill9 "flow never offloaded"
	tcp_xfer_wait kill9
fi

# A drop rule for the flow: within 1 s none of its packets get through.
XFER_PACE=8 tcp_xfer_start nftdrop ipv4 10.0.2.2 8003 8
if wait_for 30 port_offloaded 8003; then
	in_r nft insert rule inet filter forward tcp dport 8003 drop
	sleep 1
	a=$(ip -n "$NS_S" -s -j link show s0 | jq '.[0].stats64.rx.packets')
	sleep 1
	b=$(ip -n "$NS_S" -s -j link show s0 | jq '.[0].stats64.rx.packets')
	echo "  nftdrop: $((b - a)) packets reached the server in the second after"
	[ $((b - a)) -le 2 ] && pass nft-drop-within-1s || fail nft-drop-within-1s "$((b - a)) packets still forwarded"
	handle=$(in_r nft -a list chain inet filter forward | awk '/dport 8003 drop/ { print $NF }')
	in_r nft delete rule inet filter forward handle "$handle"
	tcp_xfer_wait nftdrop && pass nft-drop-removed-transfer-completes
else
	fail nft-drop "flow never offloaded"
	tcp_xfer_wait nftdrop
fi

# The server's MAC changes (it announces itself with arp_notify): the
# transfer completes, and the entry toward the server carries the new MAC
# (and no entry the old one).
NEW_MAC=02:00:00:00:fa:57
XFER_PACE=8 tcp_xfer_start macchange ipv4 10.0.2.2 8004 8
if wait_for 30 port_offloaded 8004; then
	old_mac=$(ip -n "$NS_S" -j link show s0 | jq -r '.[0].address')
	in_s ip link set s0 address $NEW_MAC
	if wait_for 5 flows_match '.out == "r1" and .dmac == $m' --arg m $NEW_MAC &&
		no_flow_match '.dmac == $m' --arg m "$old_mac"; then
		pass mac-change-entry-has-new-mac
	else
		fail mac-change-entry-has-new-mac "$(flows_json | jq -c '[.[] | {in, out, dmac}]')"
	fi
	tcp_xfer_wait macchange && pass mac-change-transfer-completes
else
	fail mac-change "flow never offloaded"
	tcp_xfer_wait macchange
fi

# conntrack -F: the fast path is emptied within 1 s. The live transfer is
# picked up again by conntrack and learned anew from its next packet, so
# "emptied" means that no entry that existed before is left: every entry
# in the table a second later was learned after the flush (the daemon's
# count of learned directions grew by at least as many).
XFER_PACE=6 tcp_xfer_start ctflush ipv4 10.0.2.2 8005 6
if wait_for 30 port_offloaded 8005; then
	l0=$(status_field daemon learned)
	n0=$(auto_entries)
	in_r conntrack -F >/dev/null 2>&1
	sleep 1
	after=$(flows_json)
	l1=$(status_field daemon learned)
	n1=$(jq '[.[] | select(.static | not)] | length' <<<"$after")
	echo "  ctflush: $n0 entries before, $n1 a second after, $((l1 - l0)) learned since"
	if [ -n "$after" ] && [ "$n0" -ge 2 ] && [ $((l1 - l0)) -ge "$n1" ]; then
		pass conntrack-flush-empties-table
	else
		fail conntrack-flush-empties-table "$n0 entries before, $n1 after, $((l1 - l0)) learned since the flush"
	fi
	tcp_xfer_wait ctflush && pass conntrack-flush-transfer-completes
else
	fail conntrack-flush "flows never offloaded: $(fp flows | tr "\n" "|")"
	tcp_xfer_wait ctflush
fi

# rx VLAN offload turned back on under an attached port (issue 11, L2):
# XDP would no longer see the tags, and a tagged frame would match an
# untagged flow. The daemon turns it off again at the link message and
# says so. (A driver that keeps it on puts the port's input on the TC
# tier instead; no device here has it fixed on, so that branch is not run.)
rx_vlan() { in_r ethtool -k "$1" | awk '/^rx-vlan-offload:/ { print $2 }'; }
v0=$(rx_vlan r2)
in_r ethtool -K r2 rxvlan on
if [ "$v0" = off ] && wait_for 3 eval '[ "$(rx_vlan r2)" = off ]' &&
	grep -q 'r2: rx VLAN offload came back on' "$DAEMON_LOG"; then
	pass rx-vlan-offload-turned-off-again
else
	fail rx-vlan-offload-turned-off-again "r2 was $v0, now $(rx_vlan r2); log: $(grep 'rx VLAN' "$DAEMON_LOG" | tail -2 | tr '\n' '|')"
fi

# An attached interface vanishes: the daemon says so and keeps working.
in_r ip link del r2
sleep 1
if daemon_running && grep -q 'r2: interface removed' "$DAEMON_LOG"; then
	pass interface-removed-daemon-survives
else
	fail interface-removed-daemon-survives "$(tail -3 "$DAEMON_LOG")"
fi
if tcp_xfer after-removal ipv4 10.0.2.2 8006 50; then
	check_offloaded interface-removed-still-offloads
fi
exit $E2E_FAILED
