#!/usr/bin/env bash
# "fastpath run" offloads by itself: the reference ruleset marks TCP 80/443,
# the daemon runs with --policy mark:1/1, and transfers to 80 and 443 must
# leave the forward chain, while another port stays on the slow path.
# Connections close cleanly through FIN with "ct state invalid drop" in
# place. A DNAT port forward (the WAN's 8443 to the LAN's 443) is
# offloaded the same way. UDP is offloaded both ways under --policy all.
#
# The end hosts keep the veth's default offloads (issue 12): they transmit
# CHECKSUM_PARTIAL skbs, so the daemon puts both ingress devices on the
# TC tier (lab_tier), which must carry the transfers intact: the TC
# program's redirects account for them and neither end host counts a
# checksum error (nstat).
source "$(dirname "$0")/../lib.sh"

# TCP transfers are 100 MB: on veth the RTT is ~20 us, so slow start can
# put a few hundred packets through the slow path in the ~0.5 ms the daemon
# takes to learn a connection; 100 MB keeps that fixed cost well under the
# 1% bound, as a real RTT would.
MB=${MB:-100}
UDP_MB=${UDP_MB:-24}
PORTS=${PORTS:-80 443 8080}

# no_csum_errors NAME ERRS0: the end hosts counted no checksum error since
# csum_errors said ERRS0.
no_csum_errors() {
	local errs=$(($(csum_errors) - $2))
	if [ "$errs" -eq 0 ]; then
		pass "$1-no-csum-errors"
	else
		fail "$1-no-csum-errors" "the end hosts counted $errs checksum errors"
	fi
}

# offloaded NAME: the transfer took the fast path and closed cleanly.
offloaded() {
	check_offloaded "$1-offloaded"
	if [ "$XFER_INVALID" -eq 0 ] && [ "$XFER_RSTS" -eq 0 ]; then
		pass "$1-clean-close"
	else
		fail "$1-clean-close" "invalid $XFER_INVALID, RSTs $XFER_RSTS"
	fi
}

# add_port_forward: 10.0.2.1 and fd00:2::1 port 8443 reach the client's 443.
if ! lab_up || ! add_port_forward || ! start_daemon --policy mark:1/1 r0 r1; then
	fail daemon-offload-setup "lab or daemon failed to start"
	exit 1
fi
echo "  tier of the lab's ingress devices: $(lab_tier)"
lan_ns=$NS_C wan_ns=$NS_S

for fam in ipv4 ipv6; do
	srv=10.0.2.2 wan=10.0.2.1
	[ $fam = ipv6 ] && srv=fd00:2::2 wan=fd00:2::1
	for port in $PORTS; do
		name=auto-tcp-$fam-$port
		e0=$(csum_errors)
		tcp_xfer "$name" $fam $srv $port "$MB" || continue
		if [ $port = 8080 ]; then
			check_slow "$name-stays-slow"
		else
			offloaded "$name"
			no_csum_errors "$name" "$e0"
		fi
	done
	# The port forward, from the server (the WAN) to the client: the
	# client namespace plays the server; the packets are still counted
	# on the server's link.
	name=auto-tcp-$fam-dnat
	e0=$(csum_errors)
	NS_C=$wan_ns NS_S=$lan_ns XFER_LPORT=443 XFER_LINK="$wan_ns s0" \
		tcp_xfer "$name" $fam $wan 8443 "$MB" && { offloaded "$name"; no_csum_errors "$name" "$e0"; }
done

# The closed connections leave the table once conntrack reports them.
wait_for 5 status_is 0 entries &&
	pass auto-table-empty-after-close || fail auto-table-empty-after-close "$(fp flows)"

# The learner on clsact egress (pref 64087) passes with TC_ACT_UNSPEC:
# a filter after it (OpenWrt's qosify marks DSCP there) must still see
# the packets leaving r1 (the mirror hands them to the ifb, which counts
# them received). TC_ACT_OK from the learner would end the chain. After
# the transfers: the ifb's coming and going are link changes the daemon
# re-probes its devices on, which the first transfer's learning would pay.
if in_r ip link add fpifb1 type ifb && in_r ip link set fpifb1 up &&
	in_r tc filter add dev r1 egress prio 65000 u32 match u32 0 0 \
		action mirred egress mirror dev fpifb1; then
	in_c ping -c 5 -i 0.2 -W 2 10.0.2.2 >/dev/null
	n=$(in_r ip -s -j link show fpifb1 | jq '.[0].stats64.rx.packets')
	if [ "${n:-0}" -ge 5 ]; then
		pass learn-pass-goes-on
	else
		fail learn-pass-goes-on "the egress filter behind the learner saw ${n:-none} of 5 pings"
	fi
else
	fail learn-pass-goes-on "cannot add the egress mirror behind the learner"
fi
in_r tc filter del dev r1 egress prio 65000 2>/dev/null
in_r ip link del fpifb1 2>/dev/null

# The established timeout raised under an offloaded flow (the daemon
# reads the sysctl every 10 s): the connection it refreshed with the old,
# short value must be refreshed again in time with the new one, or
# conntrack expires it under its flow and a new entry picks the stream up
# mid-way (another id, the NAT mapping made again).
ct_id_443() {
	in_r conntrack -L -p tcp --dport 443 -o id 2>/dev/null | grep -o 'id=[0-9]*' | head -1
}
timeout_raised() {
	local name=auto-timeout-raised key=net.netfilter.nf_conntrack_tcp_timeout_established
	local old id0 id1
	old=$(in_r sysctl -n $key) || { fail $name "cannot read $key"; return; }
	in_r sysctl -qw $key=4
	sleep 11		# past the daemon's last read of the sysctl
	XFER_PACE=24 tcp_xfer_start $name ipv4 10.0.2.2 443 6
	wait_for 10 port_offloaded 443 || echo "  $name: not offloaded 10 s in"
	sleep 2			# refreshed with 4 s meanwhile
	id0=$(ct_id_443)
	in_r sysctl -qw $key="$old"
	tcp_xfer_wait $name || { in_r sysctl -qw $key="$old"; return; }
	id1=$(ct_id_443)
	echo "  $name: conntrack ${id0:-none} -> ${id1:-none}"
	if [ -n "$id0" ] && [ "$id0" = "$id1" ]; then
		pass $name
	else
		fail $name "the connection's conntrack entry went: ${id0:-none} -> ${id1:-none}"
	fi
}
timeout_raised

stop_daemon
start_daemon --policy all r0 r1 || { fail daemon-restart "policy all"; exit 1; }
for fam in ipv4 ipv6; do
	srv=10.0.2.2
	[ $fam = ipv6 ] && srv=fd00:2::2
	e0=$(csum_errors)
	udp_xfer auto-udp-$fam $srv 5300 "$UDP_MB" &&
		{ check_offloaded "auto-udp-$fam-offloaded"; no_csum_errors "auto-udp-$fam" "$e0"; }
done

exit $E2E_FAILED
