#!/usr/bin/env bash
# The daemon under faults (DESIGN.md, safety rules): conntrack kept alive
# while it sees nothing, kill -9 and restart, a firewall rule inserted
# mid-transfer, a next-hop MAC change, conntrack -F, a vanished interface.
source "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail faults-setup "lab setup failed"
	exit 1
fi
# A third router port, to be deleted under the running daemon.
ip link add x2 netns "$NS_C" type veth peer name r2 netns "$NS_R"
in_r ip link set r2 up
in_c ip link set x2 up
in_s sysctl -qw net.ipv4.conf.all.arp_notify=1 net.ipv4.conf.s0.arp_notify=1
start_daemon --policy all r0 r1 r2 || { fail faults-daemon "did not start"; exit 1; }

# conntrack would expire these flows within 4 s if nothing refreshed it.
in_r sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=4 \
	net.netfilter.nf_conntrack_udp_timeout=4 net.netfilter.nf_conntrack_udp_timeout_stream=4
paced_start keepalive 8001 10 20
sleep 1
id0=$(in_r conntrack -L -p tcp --dport 8001 -o id 2>/dev/null | grep -o 'id=[0-9]*')
if paced_wait keepalive; then
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

# kill -9: the lease runs out and the slow path takes over within 10 s;
# a new daemon re-adopts the pinned state and offloads the flow again.
paced_start kill9 8002 14 20
if wait_for 50 fwd_quiet; then
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	t0=$(date +%s%N)
	if wait_for 100 fwd_busy; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		echo "  kill9: slow path took over after $ms ms"
		[ $ms -le 10000 ] && pass kill9-slow-path-within-10s || fail kill9-slow-path-within-10s "$ms ms"
	else
		fail kill9-slow-path-within-10s "the forward chain stayed quiet"
	fi
	start_daemon --policy all r0 r1 r2
	if wait_for 50 fwd_quiet && [ "$(auto_entries)" -ge 2 ]; then
		pass kill9-restart-offloads-again
	else
		fail kill9-restart-offloads-again "flow not back on the fast path: $(fp flows)"
	fi
	paced_wait kill9 && pass kill9-transfer-intact
else
	fail kill9 "flow never offloaded"
fi

# A drop rule for the flow: within 1 s none of its packets get through.
paced_start nftdrop 8003 8 8
if wait_for 50 fwd_quiet; then
	in_r nft insert rule inet filter forward tcp dport 8003 drop
	sleep 1
	a=$(ip -n "$NS_S" -s -j link show s0 | jq '.[0].stats64.rx.packets')
	sleep 1
	b=$(ip -n "$NS_S" -s -j link show s0 | jq '.[0].stats64.rx.packets')
	echo "  nftdrop: $((b - a)) packets reached the server in the second after"
	[ $((b - a)) -le 2 ] && pass nft-drop-within-1s || fail nft-drop-within-1s "$((b - a)) packets still forwarded"
	handle=$(in_r nft -a list chain inet filter forward | awk '/dport 8003 drop/ { print $NF }')
	in_r nft delete rule inet filter forward handle "$handle"
	paced_wait nftdrop && pass nft-drop-removed-transfer-completes
else
	fail nft-drop "flow never offloaded"
fi

# The server's MAC changes (it announces itself with arp_notify): the
# transfer completes and the flow follows the new MAC.
paced_start macchange 8004 8 8
if wait_for 50 fwd_quiet; then
	in_s ip link set s0 address 02:00:00:00:fa:57
	if paced_wait macchange; then
		pass mac-change-transfer-completes
	fi
else
	fail mac-change "flow never offloaded"
fi

# conntrack -F: the fast path is emptied within 1 s. The live flow is
# picked up again by conntrack and learned anew from its next packet, so
# "emptied" means every entry that existed before is gone: the counters
# of whatever is in the table now started again from zero.
entry_packets() {
	fp flows --json | jq '[.[] | select(.static | not) | .packets] | add // 0'
}
paced_start ctflush 8005 6 6
if wait_for 50 fwd_quiet && [ "$(auto_entries)" -ge 2 ]; then
	p0=$(entry_packets)
	in_r conntrack -F >/dev/null 2>&1
	sleep 0.5
	p1=$(entry_packets)
	echo "  ctflush: $p0 packets on the old entries, $p1 on the entries after the flush"
	if [ "$p1" -lt "$p0" ]; then
		pass conntrack-flush-empties-table
	else
		fail conntrack-flush-empties-table "the old entries survived ($p0 -> $p1 packets)"
	fi
	paced_wait ctflush && pass conntrack-flush-transfer-completes
else
	fail conntrack-flush "flow never offloaded"
fi

# An attached interface vanishes: the daemon says so and keeps working.
in_r ip link del r2
sleep 1
if daemon_running && grep -q 'r2: interface removed' "$TMP/daemon.log"; then
	pass interface-removed-daemon-survives
else
	fail interface-removed-daemon-survives "$(tail -3 "$TMP/daemon.log")"
fi
if tcp_xfer after-removal ipv4 10.0.2.2 8006 50; then
	check_fast interface-removed-still-offloads
fi
exit $E2E_FAILED
