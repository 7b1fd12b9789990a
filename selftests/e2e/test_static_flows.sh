#!/usr/bin/env bash
# Static flows through NAT: the lab runs the reference ruleset with
# masquerade, a connection is opened through the slow path, its real NAT
# tuple is read from conntrack, both directions are added with
# "fastpath flow add", and the bulk of the transfer must then arrive
# intact with the forward chain seeing under 1% of its packets. Then a
# table really full of static entries, with the daemon running on it.
#
# The end hosts keep the veth's default offloads, so the router receives
# CHECKSUM_PARTIAL skbs, which only the TC tier forwards correctly: the
# flows are added with --tc (and without it in a lab whose hosts send
# complete checksums, LAB_TX_OFFLOAD=off: the XDP tier).
source "$(dirname "$0")/../lib.sh"
TIER=()
[ "$(lab_tier)" = tc ] && TIER=(--tc)

SIZE_MB=${SIZE_MB:-24}

# Static flows have no daemon to set BE_LIBERAL on the connection, and
# conntrack never sees the window move; without this, the closing FIN
# would be INVALID and dropped by the ruleset.
setup() {
	lab_up || return 1
	fp attach r0 r1 || return 1
	in_r sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=1
}

# offload_both PROTO FAMILY CLIENT SERVER SPORT DPORT: once conntrack has
# the connection (ESTABLISHED for TCP), read its NAT tuple and install
# both directions; with --replace, so that wait_for may try again.
offload_both() {
	local proto=$1 fam=$2 cli=$3 srv=$4 sport=$5 dport=$6
	local nat natport
	ct_established "$proto" "$fam" "$sport" || return 1
	read -r nat natport < <(ct_reply "$proto" "$fam" "$sport")
	[ -n "$nat" ] || return 1
	fp flow add "${TIER[@]}" --replace -i r0 -o r1 -p "$proto" -s "$(ep "$cli" "$sport")" \
		-d "$(ep "$srv" "$dport")" --snat "$(ep "$nat" "$natport")" &&
	fp flow add "${TIER[@]}" --replace -i r1 -o r0 -p "$proto" -s "$(ep "$srv" "$dport")" \
		-d "$(ep "$nat" "$natport")" --dnat "$(ep "$cli" "$sport")"
}

# remove_both PROTO CLIENT SERVER SPORT DPORT: "flow del" of both
# directions, which must succeed: they are still in the table.
remove_both() {
	local name=$1 proto=$2 cli=$3 srv=$4 sport=$5 dport=$6 fam=$7 nat natport
	read -r nat natport < <(ct_reply "$proto" "$fam" "$sport")
	fp flow del -i r0 -p "$proto" -s "$(ep "$cli" "$sport")" -d "$(ep "$srv" "$dport")" &&
		fp flow del -i r1 -p "$proto" -s "$(ep "$srv" "$dport")" -d "$(ep "$nat" "$natport")" ||
		fail "$name-flow-del" "the entries could not be removed"
}

# static_xfer NAME PROTO FAMILY CLIENT SERVER DPORT SPORT: the first bytes
# go through the slow path, the flows are added by hand, and the rest is
# counted: it must take the fast path, the entry's counters included.
static_xfer() {
	local name=$1 proto=$2 fam=$3 cli=$4 srv=$5 dport=$6 sport=$7 carried
	local hold="offload_both $proto $fam $cli $srv $sport $dport"
	if [ "$proto" = tcp ]; then
		XFER_FIRST=1000 XFER_HOLD=$hold XFER_SPORT=$sport tcp_xfer "$name" "$fam" "$srv" "$dport" "$SIZE_MB"
	else
		XFER_HOLD=$hold XFER_SPORT=$sport udp_xfer "$name" "$srv" "$dport" "$SIZE_MB"
	fi || return
	check_offloaded "$name"
	carried=$(flow_packets "$(ep "$cli" "$sport")")
	if [ "${carried:-0}" -gt 0 ]; then
		pass "$name-entry-counted"
	else
		fail "$name-entry-counted" "the entry counted ${carried:-no} packets"
	fi
	remove_both "$name" "$proto" "$cli" "$srv" "$sport" "$dport" "$fam"
}

if ! setup; then
	fail static-flows-setup "lab setup or attach failed"
	exit 1
fi
static_xfer static-tcp4 tcp ipv4 10.0.1.2 10.0.2.2 5001 40001
static_xfer static-tcp6 tcp ipv6 fd00:1::2 fd00:2::2 5002 40002
static_xfer static-udp4 udp ipv4 10.0.1.2 10.0.2.2 5003 40003
static_xfer static-udp6 udp ipv6 fd00:1::2 fd00:2::2 5004 40004

# --- a table really full: static entries take every slot (E2BIG) ---
# A small table, filled by hand; then the daemon runs on it. A new
# connection cannot get in: the refusal is counted and explained, the
# connection works on the slow path, and once "flow del" (with the daemon
# running) frees two slots it is offloaded. "flow add" works meanwhile too.
CAP=16
static_add() {
	fp flow add -i r0 -o r1 -p udp -s "10.0.1.2:$1" -d 10.0.2.2:9 --dmac 02:00:00:00:00:01
}
static_del() { fp flow del -i r0 -p udp -s "10.0.1.2:$1" -d 10.0.2.2:9; }
fp detach
if ! fp attach --capacity $CAP r0 r1; then
	fail table-full-setup "attach --capacity $CAP failed"
	exit 1
fi
added=0
for i in $(seq 20001 $((20000 + CAP + 4))); do
	static_add "$i" 2>"$TMP/adderr" || break
	added=$((added + 1))
done
if [ $added = $CAP ] && [ "$(cat "$TMP/adderr")" = "fastpath: flow table full ($CAP entries)" ]; then
	pass table-full-static-e2big
else
	fail table-full-static-e2big "$added entries went in, then: $(cat "$TMP/adderr")"
fi
start_daemon r0 r1 || { fail table-full-daemon "did not start"; exit 1; }
XFER_PACE=12 tcp_xfer_start full ipv4 10.0.2.2 5010 16 || exit 1
full_seen() {
	[ "$(status_field daemon table_full)" -gt 0 ] &&
		fp explain --json --no-sample 10.0.2.2:5010 |
		jq -e '.connections | length == 1 and all(.[0].directions[]; .reason == "table_full")'
}
if wait_for 10 full_seen && fwd_busy 1; then
	pass table-full-counted-slow-path
else
	fail table-full-counted-slow-path "table_full $(status_field daemon table_full): $(fp explain --no-sample 10.0.2.2:5010)"
fi
# Two slots free: one connection's two directions.
if static_del 20001 && static_del 20002; then
	pass flow-del-daemon-running
else
	fail flow-del-daemon-running "flow del refused"
fi
if wait_for 10 in_table 5010; then
	pass table-full-recovers
else
	fail table-full-recovers "not offloaded after two slots freed: $(fp explain --no-sample 10.0.2.2:5010)"
fi
# The table is full again: a hand-made entry is refused; one slot freed,
# it goes in, and the daemon leaves it alone.
if ! static_add 30001 2>/dev/null && static_del 20003 && static_add 30001 && sleep 2 && flows_match '.src == "10.0.1.2:30001" and .static' &&
	static_del 30001; then
	pass flow-add-daemon-running
else
	fail flow-add-daemon-running "$(fp flows)"
fi
tcp_xfer_wait full || true
stop_daemon
exit $E2E_FAILED
