#!/usr/bin/env bash
# "fastpath run" offloads by itself: the reference ruleset marks TCP 80/443,
# the daemon runs with --policy mark:1/1, and transfers to 80 and 443 must
# leave the forward chain, while another port stays on the slow path.
# Connections close cleanly through FIN with "ct state invalid drop" in
# place. UDP is offloaded both ways under --policy all.
source "$(dirname "$0")/../lib.sh"

# TCP transfers are 100 MB: on veth the RTT is ~20 us, so slow start can
# put a few hundred packets through the slow path in the ~0.5 ms the daemon
# takes to learn a connection; 100 MB keeps that fixed cost well under the
# 1% bound, as a real RTT would.
MB=${MB:-100}
UDP_MB=${UDP_MB:-24}
PORTS=${PORTS:-80 443 8080}

if ! lab_up || ! start_daemon --policy mark:1/1 r0 r1; then
	fail daemon-offload-setup "lab or daemon failed to start"
	exit 1
fi

for fam in ipv4 ipv6; do
	srv=10.0.2.2
	[ $fam = ipv6 ] && srv=fd00:2::2
	for port in $PORTS; do
		name=auto-tcp-$fam-$port
		tcp_xfer "$name" $fam $srv $port "$MB" || continue
		if [ $port = 8080 ]; then
			check_slow "$name-stays-slow"
		else
			check_offloaded "$name-offloaded"
			if [ "$XFER_INVALID" -eq 0 ] && [ "$XFER_RSTS" -eq 0 ]; then
				pass "$name-clean-close"
			else
				fail "$name-clean-close" "invalid $XFER_INVALID, RSTs $XFER_RSTS"
			fi
		fi
	done
done

# The closed connections leave the table once conntrack reports them.
wait_for 5 status_is 0 entries &&
	pass auto-table-empty-after-close || fail auto-table-empty-after-close "$(fp flows)"

stop_daemon
start_daemon --policy all r0 r1 || { fail daemon-restart "policy all"; exit 1; }
for fam in ipv4 ipv6; do
	srv=10.0.2.2
	[ $fam = ipv6 ] && srv=fd00:2::2
	udp_xfer auto-udp-$fam $srv 5300 "$UDP_MB" && check_offloaded "auto-udp-$fam-offloaded"
done

exit $E2E_FAILED
