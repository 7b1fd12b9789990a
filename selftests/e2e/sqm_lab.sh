#!/usr/bin/env bash
# NOT IN THE SUITE YET (named sqm_lab.sh, not test_*.sh): on this host its
# goodput check fails for the slow path as much as for the TC tier (3.8
# Mbit/s through an 8 Mbit/s tbf), so the lab, not the tier, is what needs
# tuning first (tbf burst/limit against GRO super-packets). Run it by hand:
#   bash selftests/e2e/sqm_lab.sh
# SQM on the TC tier (issue 12): a tbf at 8 Mbit/s (low enough to be the
# bottleneck on a loaded 2-core CI machine; RATE_MBIT, MB override) on the WAN egress (the
# host kernel has no cake). With the daemon, the upload direction goes to
# the TC tier, whose bpf_redirect() keeps the qdisc in charge:
# - a TCP upload's goodput is within 10% of the shaper rate;
# - the forward chain sees under 1% of its packets, the TC program's
#   redirect counter carries its data direction, status shows r1 on TC;
# - under that saturating upload the median ping RTT is within 20% of what
#   the slow path (no daemon, same qdisc) gives, measured in this test.
source "$(dirname "$0")/../lib.sh"

RATE_MBIT=${RATE_MBIT:-8}
MB=${MB:-10}		# about 10 s at 8 Mbit/s

tc_redirects() {
	bpftool -j map lookup pinned "$FASTPATH_PIN_DIR/fp_tc_stats" key 0 0 0 0 2>/dev/null |
		jq '[.formatted.values[].value.packets] | add // 0' 2>/dev/null || echo 0
}

# Median RTT in µs of 30 pings through the shaper while an upload runs.
median_rtt() {
	in_c ping -c 30 -i 0.1 -W 2 10.0.2.2 |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR < 20) print 0; else printf "%d\n", v[int((NR + 1) / 2)] * 1000 }'
}

# upload NAME PORT: a saturating upload with pings meanwhile; sets MS, RTT.
upload() {
	local t0
	t0=$(usecs)
	tcp_xfer_start "$1" ipv4 10.0.2.2 "$2" "$MB" || return 1
	sleep 1		# the queue fills
	RTT=$(median_rtt)
	tcp_xfer_wait "$1" || return 1
	MS=$((($(usecs) - t0) / 1000))
}

lab_up || { fail sqm-setup "lab setup failed"; exit 1; }
in_r tc qdisc replace dev r1 root tbf rate ${RATE_MBIT}mbit burst 16k limit 256k

# The reference: the slow path through the same qdisc.
upload sqm-slow 9200 || exit 1
SLOW_RTT=$RTT
echo "  slow path: $MB MB in $MS ms, median ping RTT $SLOW_RTT us"

start_daemon --policy all r0 r1 || { fail sqm-daemon "did not start"; exit 1; }
tc0=$(tc_redirects)
if XFER_VIA=tc upload sqm-tc 9201; then
	tcn=$(($(tc_redirects) - tc0))
	kbit=$((MB * 1048576 * 8 / MS))
	echo "  TC tier: $MB MB in $MS ms ($kbit kbit/s), TC redirected $tcn, median ping RTT $RTT us"
	XFER_VIA=tc check_offloaded sqm-tc-offloaded
	if [ $((tcn * 100)) -ge $((XFER_PKTS * 40)) ]; then
		pass sqm-tc-redirects
	else
		fail sqm-tc-redirects "TC redirected $tcn of $XFER_PKTS packets"
	fi
	# goodput within 10% of the rate (the tbf counts the L2 bytes too)
	if [ "$kbit" -ge $((RATE_MBIT * 900)) ] && [ "$kbit" -le $((RATE_MBIT * 1100)) ]; then
		pass sqm-tc-rate
	else
		fail sqm-tc-rate "$kbit kbit/s through a $RATE_MBIT Mbit/s tbf"
	fi
	if [ "$RTT" -gt 0 ] && [ "$SLOW_RTT" -gt 0 ] &&
		[ $((RTT * 100)) -le $((SLOW_RTT * 120)) ] && [ $((RTT * 100)) -ge $((SLOW_RTT * 80)) ]; then
		pass sqm-tc-rtt
	else
		fail sqm-tc-rtt "median RTT $RTT us on TC, $SLOW_RTT us on the slow path"
	fi
	if fp status | grep -q "r1 *tier tc: egress shaped by tbf"; then
		pass sqm-tc-status
	else
		fail sqm-tc-status "$(fp status | sed -n '/interfaces/,/flows/p' | tr '\n' ' ')"
	fi
fi
stop_daemon
exit $E2E_FAILED
