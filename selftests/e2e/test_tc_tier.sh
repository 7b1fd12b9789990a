#!/usr/bin/env bash
# The TC tier with static flows, through veths with their default offloads:
# the end hosts keep transmit checksum offload on, so the router receives
# CHECKSUM_PARTIAL skbs, which XDP cannot forward correctly (issue 12).
# Both directions of each connection are added with "fastpath flow add
# --tc": XDP passes them ("tier_tc") and the TC ingress program (tcx, or
# clsact before Linux 6.6) forwards them with bpf_redirect(). Each transfer must arrive intact,
# the receivers must count no checksum errors (nstat), the forward chain
# must see under 1% of the packets, and the TC program's redirect counter
# (fp_tc_stats) must account for the rest while XDP redirects none.
#
# Then jumbo frames: with a 9000-byte LAN MTU the frags-aware XDP program
# still attaches in native mode, a frame longer than a page, which arrives
# in several buffers, goes up as "multibuf" and gets its answer, and a TCP
# transfer from the 9000-byte LAN to the 1500-byte WAN side still goes
# through the TC tier intact.
#
# Last, path MTU discovery through the daemon's offloaded flows, with the
# MSS clamp removed so that only PMTU makes the path work. The far side
# takes jumbo frames too (s0 at MTU 9000: a server on a jumbo network
# behind the router's 1500-byte WAN), so both ends announce a jumbo MSS;
# the LAN client sends 9000-byte segments, the router answers with ICMP
# "fragmentation needed" (IPv4) or "packet too big" (IPv6), the client
# learns the path MTU and the transfer completes intact on the TC tier.
# Both ways: an upload the client opens (through masquerade) and a
# download the client serves to the WAN through a DNAT port forward.
# (The WAN side never sends more than 1500 bytes here: with a 9000-byte
# LAN, nothing on its way to the client is smaller.)
source "$(dirname "$0")/../lib.sh"

SIZE_MB=${SIZE_MB:-24}
PMTU_MB=${PMTU_MB:-24}

setup() {
	lab_up || return 1
	fp attach r0 r1 || return 1
	# Static flows have no daemon to set BE_LIBERAL (test_static_flows.sh).
	in_r sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=1
}

# tc_hook: the TC program sits on tcx where the kernel has it (6.6), else
# on clsact (status says which), and what it passes goes on to the filters
# after it: sqm-scripts' ingress redirect to an ifb (u32 match-all,
# mirred), behind ours (prio 65000, after our clsact filter's 0xfa58
# too), must carry the pings, which the TC program passes (no entry).
# Returning TC_ACT_OK from tcx would skip that filter, and with it the
# ingress shaping.
tc_hook() {
	local want=clsact kver hooks n
	kver=$(uname -r)
	if [ "${kver%%.*}" -gt 6 ] || { [ "${kver%%.*}" -eq 6 ] && [ "$(cut -d. -f2 <<<"$kver")" -ge 6 ]; }; then
		want=tcx
	fi
	hooks=$(fp status --json | jq -r '[.interfaces[].tc_hook] | join(" ")')
	if [ "$hooks" = "$want $want" ]; then
		pass "tc-hook-$want"
	else
		fail "tc-hook-$want" "status shows the TC program on '$hooks' for r0 r1"
	fi
	in_r tc qdisc add dev r0 clsact 2>/dev/null
	if ! in_r ip link add fpifb0 type ifb || ! in_r ip link set fpifb0 up ||
		! in_r tc filter add dev r0 ingress prio 65000 u32 match u32 0 0 \
			action mirred egress redirect dev fpifb0; then
		fail tc-pass-goes-on "cannot add the ifb redirect"
		in_r ip link del fpifb0 2>/dev/null
		return
	fi
	in_c ping -c 5 -i 0.2 -W 2 10.0.2.2 >/dev/null
	n=$(in_r ip -s -j link show fpifb0 | jq '.[0].stats64.tx.packets')
	in_r tc filter del dev r0 ingress prio 65000
	in_r ip link del fpifb0
	if [ "$n" -ge 5 ]; then
		pass tc-pass-goes-on
	else
		fail tc-pass-goes-on "the ifb behind the TC program carried $n of 5 pings"
	fi
}

# tc_offload_both PROTO FAMILY CLIENT SERVER SPORT DPORT: once conntrack
# has the connection, both directions on the TC tier (--replace: wait_for
# may try again).
tc_offload_both() {
	local proto=$1 fam=$2 cli=$3 srv=$4 sport=$5 dport=$6 nat natport
	ct_established "$proto" "$fam" "$sport" || return 1
	read -r nat natport < <(ct_reply "$proto" "$fam" "$sport")
	[ -n "$nat" ] || return 1
	TC_NAT=$nat TC_NATPORT=$natport
	fp flow add --tc --replace -i r0 -o r1 -p "$proto" -s "$(ep "$cli" "$sport")" \
		-d "$(ep "$srv" "$dport")" --snat "$(ep "$nat" "$natport")" &&
	fp flow add --tc --replace -i r1 -o r0 -p "$proto" -s "$(ep "$srv" "$dport")" \
		-d "$(ep "$nat" "$natport")" --dnat "$(ep "$cli" "$sport")"
}

# tc_xfer NAME PROTO FAMILY CLIENT SERVER DPORT SPORT: the first bytes
# through the slow path, then both directions on the TC tier; the rest
# must arrive intact, with no checksum error at either end, on the TC
# tier (check_offloaded with XFER_VIA=tc).
tc_xfer() {
	local name=$1 proto=$2 fam=$3 cli=$4 srv=$5 dport=$6 sport=$7 e0 errs
	local hold="tc_offload_both $proto $fam $cli $srv $sport $dport"
	e0=$(csum_errors)
	if [ "$proto" = tcp ]; then
		XFER_VIA=tc XFER_FIRST=1000 XFER_HOLD=$hold XFER_SPORT=$sport \
			tcp_xfer "$name" "$fam" "$srv" "$dport" "$SIZE_MB"
	else
		XFER_VIA=tc XFER_HOLD=$hold XFER_SPORT=$sport udp_xfer "$name" "$srv" "$dport" "$SIZE_MB"
	fi || return
	errs=$(($(csum_errors) - e0))
	if [ "$errs" -ne 0 ]; then
		fail "$name" "the end hosts counted $errs checksum errors"
	else
		XFER_VIA=tc check_offloaded "$name"
	fi
	fp flow del -i r0 -p "$proto" -s "$(ep "$cli" "$sport")" -d "$(ep "$srv" "$dport")"
	fp flow del -i r1 -p "$proto" -s "$(ep "$srv" "$dport")" -d "$(ep "$TC_NAT" "$TC_NATPORT")"
}

# Native XDP with a 9000-byte LAN MTU; a jumbo frame goes up in pieces.
jumbo() {
	local name=tc-jumbo-native-xdp mb0 mb
	fp detach >/dev/null 2>&1
	in_c ip link set c0 mtu 9000 && in_r ip link set r0 mtu 9000 || {
		fail "$name" "cannot set MTU 9000"
		return
	}
	if ! fp attach --mode native r0 r1; then
		fail "$name" "native XDP refused r0 with MTU 9000"
		return
	fi
	if ! in_r ip -d link show r0 | grep -q ' xdp '; then
		fail "$name" "r0 is not in native XDP mode: $(in_r ip link show r0 | head -1)"
		return
	fi
	mb0=$(status_field pass_reasons multibuf)
	if ! in_c ping -c 3 -i 0.2 -W 2 -s 8000 -M do 10.0.1.1 >/dev/null; then
		fail "$name" "an 8028-byte ping to the router got no answer"
		return
	fi
	mb=$(($(status_field pass_reasons multibuf) - mb0))
	echo "  $name: r0 native XDP at MTU 9000, $mb multi-buffer frames passed"
	if [ "$mb" -lt 3 ]; then
		fail "$name" "$mb multi-buffer frames counted, want 3"
		return
	fi
	pass "$name"
}

# icmp_too_big: the router's ICMP "fragmentation needed" and ICMPv6
# "packet too big" sent, together (nstat: the first counts under
# IcmpOutDestUnreachs, which nothing else here sends).
icmp_too_big() {
	nsenter --net=/run/netns/"$NS_R" nstat -asz IcmpOutDestUnreachs Icmp6OutPktTooBigs |
		awk '/Icmp/ { s += $2 } END { print s + 0 }'
}

# pmtu_offloaded PORT...: a tc entry for each PORT, the forward chain quiet.
pmtu_offloaded() {
	local p
	for p in "$@"; do
		[ "$(port_entries "$p")" -ge 1 ] || return 1
	done
	fwd_quiet
}

# pmtu_xfer NAME FAMILY: one TCP transfer whose sender sits on the
# 9000-byte LAN (the client's upload, or with DNAT=1 its download to the
# WAN through the port forward); it must arrive intact and offloaded,
# after the router told the sender the path MTU, which the sender's
# route cache then holds (1500). PMTU discovery happens in the first
# megabyte, which goes before the daemon offloads the connection; the
# rest is counted once it has (XFER_HOLD), so a learning window that a
# loaded machine stretches does not count against the fast path.
pmtu_xfer() {
	local name=$1 fam=$2 srv=10.0.2.2 wan=10.0.2.1 i0 n e0 errs cache
	local lan_ns=$NS_C wan_ns=$NS_S
	[ "$fam" = ipv6 ] && srv=fd00:2::2 wan=fd00:2::1
	in_c ip route flush cache >/dev/null 2>&1
	in_c ip -6 route flush cache >/dev/null 2>&1
	i0=$(icmp_too_big) e0=$(csum_errors)
	if [ "${DNAT:-0}" = 1 ]; then
		NS_C=$wan_ns NS_S=$lan_ns XFER_DIR=down XFER_LPORT=443 XFER_LINK="$wan_ns s0" \
			XFER_HOLD="pmtu_offloaded 8443 443" tcp_xfer "$name" "$fam" "$wan" 8443 "$PMTU_MB" || return
	else
		XFER_HOLD="port_offloaded 80" tcp_xfer "$name" "$fam" "$srv" 80 "$PMTU_MB" || return
	fi
	cache=$(in_c ip -o route get "$srv" 2>/dev/null)
	n=$(($(icmp_too_big) - i0)) errs=$(($(csum_errors) - e0))
	echo "  $name: the router sent $n ICMP too-big; the client's route: $cache"
	if [ "$n" -lt 1 ]; then
		fail "$name" "the router sent no ICMP too-big: no PMTU discovery took place"
	elif ! grep -q 'mtu 1500' <<<"$cache"; then
		fail "$name" "the client did not learn the path MTU: $cache"
	elif [ "$errs" -ne 0 ]; then
		fail "$name" "the end hosts counted $errs checksum errors"
	else
		check_offloaded "$name"
	fi
}

# big_frames: the IP packets over 1400 bytes the server has received
# (counted before GRO could merge any: its veth has no XDP, so no NAPI).
big_frames() {
	in_s nft list chain inet rmtu big 2>/dev/null | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

# route_mtu_xfer NAME FAMILY: the router's route to the server says
# "mtu 1400" (the device 1500): the kernel forwards nothing bigger on it,
# and neither may the fast path. The first part goes on the slow path and
# teaches the client 1400; once offloaded, the client forgets it (route
# cache flushed) and sends 1500-byte packets again. None of them may reach
# the server: the fast path leaves them to the kernel, which drops them
# with an ICMP too-big for 1400, so the client's route holds 1400 at the
# end. The rest stays offloaded.
route_mtu_xfer() {
	local name=$1 fam=$2 srv=10.0.2.2 i0 b0 n big cache fl=""
	[ "$fam" = ipv6 ] && srv=fd00:2::2 fl=-6
	if ! in_s nft -f - <<-EOF || [ -z "$(big_frames)" ]; then
		table inet rmtu { chain big { type filter hook input priority 0; meta length > 1400 counter; }; }
	EOF
		fail "$name" "cannot count the server's big packets"
		return
	fi
	if ! in_r ip $fl route add "$srv" dev r1 mtu 1400; then
		fail "$name" "cannot add the route with an MTU"
		in_s nft delete table inet rmtu
		return
	fi
	in_c ip route flush cache >/dev/null 2>&1
	in_c ip -6 route flush cache >/dev/null 2>&1
	XFER_ON_SNAP="in_c ip $fl route flush cache; i0=\$(icmp_too_big) b0=\$(big_frames)" \
		XFER_HOLD="port_offloaded 80" tcp_xfer "$name" "$fam" "$srv" 80 "$PMTU_MB"
	cache=$(in_c ip -o route get "$srv" 2>/dev/null)
	n=$(($(icmp_too_big) - i0)) big=$(($(big_frames) - b0))
	in_r ip $fl route del "$srv" dev r1 mtu 1400
	in_s nft delete table inet rmtu
	[ "${XFER_OK:-0}" = 1 ] || return
	echo "  $name: once offloaded, $big packets over 1400 bytes reached the server, the router sent $n ICMP too-big; the client's route: $cache"
	if [ "$big" -ne 0 ]; then
		fail "$name" "$big packets over the route's MTU went through"
	elif [ "$n" -lt 1 ]; then
		fail "$name" "the router sent no ICMP too-big once offloaded"
	elif ! grep -q 'mtu 1400' <<<"$cache"; then
		fail "$name" "the client did not learn the route's MTU: $cache"
	else
		check_offloaded "$name"
	fi
}

# The daemon on the jumbo LAN, MSS clamp removed, a port forward from the
# WAN's 8443 to the client's 443.
pmtu() {
	fp detach >/dev/null 2>&1
	in_r nft delete table inet mangle || { fail pmtu-setup "cannot remove the MSS clamp"; return; }
	add_port_forward || { fail pmtu-setup "port forward rejected"; return; }
	in_s ip link set s0 mtu 9000 || { fail pmtu-setup "cannot set s0's MTU"; return; }
	start_daemon --policy all r0 r1 || { fail pmtu-setup "the daemon did not start"; return; }
	if in_r ip -d link show r0 | grep -q ' xdp '; then
		pass pmtu-daemon-native-xdp
	else
		fail pmtu-daemon-native-xdp "r0 at MTU 9000: $(in_r ip -d link show r0 | grep -o 'xdp[a-z]*' | head -1)"
	fi
	pmtu_xfer pmtu-tcp4-up ipv4
	pmtu_xfer pmtu-tcp6-up ipv6
	DNAT=1 pmtu_xfer pmtu-tcp4-dnat-down ipv4
	DNAT=1 pmtu_xfer pmtu-tcp6-dnat-down ipv6
	route_mtu_xfer route-mtu-tcp4 ipv4
	route_mtu_xfer route-mtu-tcp6 ipv6
	stop_daemon
}

if ! setup; then
	fail tc-tier-setup "lab setup or attach failed"
	exit 1
fi

tc_hook
tc_xfer tc-tcp4 tcp ipv4 10.0.1.2 10.0.2.2 5001 40001
tc_xfer tc-tcp6 tcp ipv6 fd00:1::2 fd00:2::2 5002 40002
tc_xfer tc-udp4 udp ipv4 10.0.1.2 10.0.2.2 5003 40003
tc_xfer tc-udp6 udp ipv6 fd00:1::2 fd00:2::2 5004 40004
jumbo
# The same TC-tier transfer across the 9000 / 1500 MTU boundary.
in_r ip -d link show r0 | grep -q ' xdp ' &&
	tc_xfer tc-jumbo-lan-tcp4 tcp ipv4 10.0.1.2 10.0.2.2 5005 40005
in_r ip -d link show r0 | grep -q ' xdp ' && pmtu
exit $E2E_FAILED
