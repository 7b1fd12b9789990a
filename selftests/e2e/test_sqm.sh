#!/usr/bin/env bash
# SQM on the TC tier (issue 12): a shaper at RATE_MBIT on the WAN egress
# r1, tbf on the host kernel (it has no cake, fq_codel or netem; tbf and
# htb are its shapers), cake in Debian's kernel (selftests/vm/test_sqm.sh
# runs this script there with SQM_QDISC=cake). The end hosts keep the
# veth's default offloads. With the daemon, the upload's direction leaves
# through the shaper and so goes to the TC tier, whose bpf_redirect()
# keeps the qdisc in charge:
# - the rate the shaper sends at in the upload's steady state (r1's
#   transmit byte counter: what the shaper let onto the wire, in frames
#   as it counts them) is within 10% of its rate: the TC tier keeps the
#   shaper busy and the shaper alone sets the pace (a tier that starved
#   it would fall short, one that bypassed it would run at veth speed);
# - once the daemon has offloaded the upload, the forward chain sees
#   under 1% of its packets, the TC program's redirect counter carries
#   them, and status shows r1 on the TC tier;
# - under that saturating upload the median ping RTT (the pings share the
#   shaper's queue with it) is within 20% of what the slow path gives
#   with the same qdisc, measured first in this test.
# The slow path must reach the rate too, or the comparison means nothing.
#
# What a user relies on is that the shaper, not fastpath, decides the
# latency: offloaded packets wait in the same queue as before. So the
# queue's depth must be one that neither path chooses. A TCP upload left
# to its congestion control does choose it: cubic kept the tbf's FIFO
# anywhere from 2.7 to 65 ms deep from run to run (HyStart's early exit,
# cubic's slow regrowth, losses), on either path. Here the client's route
# locks TCP's congestion window at QUEUE_MS of the shaper's rate
# ("cwnd lock", with "initcwnd" as large): from its first round trip the
# upload keeps exactly that many segments in flight, nearly all of them in
# the shaper's queue, and the shaper drains them at its rate. The queue
# stands at QUEUE_MS, and a ping waits that long behind it, on either
# path: the RTT is the shaper's (its rate) and the sender's window, and
# the per-packet cost of the path that brought them (slow path or TC,
# fractions of a millisecond) only shortens the standing queue as much as
# it lengthens the base RTT. The shaper never drops (a tbf limit of twice
# the queue; cake's AQM target above it), so the window never shrinks.
# A bypassed shaper would leave the pings nothing to wait for.
#
# The tbf is sized for its rate: a burst of 12 ms at the rate (over the
# 4 ms of a 250 Hz timer tick, so the timer's granularity does not hold
# the slow path under the rate), and a peak bucket of one frame (mtu 1600
# at twice the rate), so that it cuts every GSO packet of the slow path
# into segments as it queues them, as cake's split-gso does and as a NIC
# would: r1's byte counter then counts frames as they are on the wire,
# on both paths.
#
# cake is one queue (flowblind: its flow isolation would give the pings
# their own queue, whose few milliseconds of latency are the machine's
# scheduling noise more than cake's) with an "rtt" of 40 times QUEUE_MS,
# so that its AQM target (a twentieth of it: twice QUEUE_MS) leaves the
# standing queue alone. It splits GSO packets itself (split-gso, its
# default).
#
# With SQM_IFB=1 (the VM), ifb ingress shaping as sqm-scripts sets it up
# too: r1's ingress redirected (matchall, mirred) to an ifb that shapes at
# the same rate. A download through it stays on the slow path, held
# "sqm_ingress" (XDP and TC ingress both run before the ifb), and the ifb
# still limits it.
source "$(dirname "$0")/../lib.sh"

SQM_QDISC=${SQM_QDISC:-tbf}
RATE_MBIT=${RATE_MBIT:-20}
QUEUE_MS=${QUEUE_MS:-40}
SECS=${SECS:-10}
# The rate is read over WINDOW seconds, from 2 s into the transfer; the
# transfer's SECS must outlast that.
WINDOW=${WINDOW:-4}
MB=$((RATE_MBIT * SECS / 8))
BPS=$((RATE_MBIT * 1000000 / 8))
BURST=$((BPS * 12 / 1000))
# The upload's window, in full-sized frames (1514 bytes on the wire).
SEGS=$(((BPS * QUEUE_MS / 1000 + 757) / 1514))
LIMIT=$((BPS * QUEUE_MS / 1000 * 2))
IFB=ifb-$LAB_ID

# shaper DEV: the shaping root qdisc on DEV.
shaper() {
	if [ "$SQM_QDISC" = cake ]; then
		in_r tc qdisc replace dev "$1" root cake bandwidth "${RATE_MBIT}mbit" \
			besteffort flowblind rtt "$((QUEUE_MS * 40))ms"
	else
		in_r tc qdisc replace dev "$1" root tbf rate "${RATE_MBIT}mbit" burst "$BURST" \
			limit "$LIMIT" peakrate "$((RATE_MBIT * 2))mbit" mtu 1600
	fi
}

# Median RTT in µs of 30 pings through the shaper.
median_rtt() {
	in_c ping -c 30 -i 0.1 -W 2 10.0.2.2 |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR < 20) print 0; else printf "%d\n", v[int((NR + 1) / 2)] * 1000 }'
}

# tx_bytes DEV: sets TXB to the bytes DEV in the router has transmitted,
# what its root qdisc let onto the wire (frames with their Ethernet header,
# as the shaper counts them), and TXT to the time it was read, in µs. Read
# by the shell itself from /proc/PID/net/dev of a process in the router's
# namespace (ROUTER_PID), so the time is that of the read: starting tc to
# read the qdisc's counter takes a good part of a second under the VM's
# emulation, and varies with the load.
tx_bytes() {
	local t0=${EPOCHREALTIME/./} line f
	TXB=
	while read -r line; do
		[ "${line%%:*}" = "$1" ] || continue
		read -ra f <<<"${line#*:}"
		TXB=${f[8]}
	done <"/proc/$ROUTER_PID/net/dev"
	TXT=$(((t0 + ${EPOCHREALTIME/./}) / 2))
}

# shaped_xfer NAME PORT DEV: a saturating transfer (XFER_DIR, XFER_HOLD
# as for tcp_xfer); 2 s in (the queue standing) the rate the shaper on
# DEV sends at over the next WINDOW seconds, with 30 pings meanwhile.
# Sets KBIT (0 when its counter could not be read, or the transfer ended
# before the second reading, when the rate would count idle time) and
# RTT. The pings cross the server's link and the forward chain (fastpath
# leaves ICMP to the slow path): they are taken out of XFER_PKTS and
# XFER_FWD, which judge the transfer alone.
shaped_xfer() {
	local b0 b1 t0 t1 p0 p1 pid
	tcp_xfer_start "$1" ipv4 10.0.2.2 "$2" "$MB" || return 1
	# The receiver: it exits on the last byte (the sender once that byte
	# is in its socket buffer).
	pid=$XFER_SRV_PID
	[ "${XFER_DIR:-up}" = down ] && pid=$XFER_CLI_PID
	p0=$(lab_counter ping_pkts)
	sleep 2
	tx_bytes "$3"
	b0=$TXB t0=$TXT
	RTT=$(median_rtt)
	sleep "$(awk -v w="$WINDOW" -v e="$t0" -v n="$(usecs)" \
		'BEGIN { s = w - (n - e) / 1e6; printf "%.2f", (s > 0 ? s : 0) }')"
	tx_bytes "$3"
	b1=$TXB t1=$TXT
	KBIT=0
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "  $1: the transfer ended before the rate was read: make it longer (SECS)"
	elif [[ $b0 =~ ^[0-9]+$ && $b1 =~ ^[0-9]+$ ]]; then
		KBIT=$(((b1 - b0) * 8 * 1000 / (t1 - t0)))
	fi
	p1=$(lab_counter ping_pkts)
	tcp_xfer_wait "$1" || return 1
	if ! [[ $p0 =~ ^[0-9]+$ && $p1 =~ ^[0-9]+$ ]]; then
		fail "$1" "cannot read the ping counter"
		return 1
	fi
	XFER_FWD=$((XFER_FWD - (p1 - p0))) XFER_PKTS=$((XFER_PKTS - (p1 - p0)))
	echo "  [${SECONDS} s] $1: less $((p1 - p0)) ping packets: $XFER_PKTS packets, forward chain $XFER_FWD"
}

# within PCT A B: A is within PCT% of B.
within() {
	[ $(($2 * 100)) -ge $(($3 * (100 - $1))) ] && [ $(($2 * 100)) -le $(($3 * (100 + $1))) ]
}

# The ifb part (SQM_IFB=1): a download shaped at r1's ingress.
ifb_ingress() {
	local t=sqm-ifb
	ip link add "$IFB" netns "$NS_R" type ifb || { fail "$t-setup" "no ifb"; return; }
	in_r ip link set "$IFB" up
	shaper "$IFB" || { fail "$t-setup" "$SQM_QDISC rejected on the ifb"; return; }
	# At clsact ingress, which fastpath's own TC program shares.
	in_r tc qdisc replace dev r1 clsact &&
		in_r tc filter add dev r1 ingress matchall action mirred egress redirect dev "$IFB" ||
		{ fail "$t-setup" "ingress redirect to the ifb rejected"; return; }
	# The daemon probes the ingress devices as it starts.
	start_daemon --policy all r0 r1 || { fail "$t-daemon" "did not start"; return; }
	if XFER_DIR=down shaped_xfer "$t" 9202 "$IFB"; then
		echo "  ifb ingress: the ifb's $SQM_QDISC sent $KBIT kbit/s"
		check_slow "$t-stays-slow"
		if fp explain --json --no-sample 10.0.2.2:9202 2>/dev/null |
			jq -e '[.. | objects | .hold? // empty] | any(. == "sqm_ingress")' >/dev/null ||
			grep -q "hold sqm_ingress" <<<"$(fp status)"; then
			pass "$t-hold-sqm-ingress"
		else
			fail "$t-hold-sqm-ingress" "$(fp explain --no-sample 10.0.2.2:9202 | tr '\n' ' ')"
		fi
		if [ "$KBIT" -le $((RATE_MBIT * 1100)) ] && [ "$KBIT" -ge $((RATE_MBIT * 500)) ]; then
			pass "$t-shaper-limits"
		else
			fail "$t-shaper-limits" "$KBIT kbit/s through a ${RATE_MBIT} Mbit/s ifb shaper"
		fi
	fi
	stop_daemon
}

lab_up || { fail sqm-setup "lab setup failed"; exit 1; }
# A process in the router's namespace, for its /proc/PID/net/dev (tx_bytes).
spawn in_r sleep 3600
ROUTER_PID=$!
# The pings' packets in the forward chain (shaped_xfer).
in_r nft add counter inet filter ping_pkts &&
	in_r nft insert rule inet filter forward meta l4proto icmp counter name ping_pkts ||
	{ fail sqm-setup "cannot add the ping counter"; exit 1; }
# Socket buffers that never hold the upload back: its congestion window
# alone decides what is in flight (the receiver's window starts at 4 MB,
# not grown by autotuning over round trips the queue itself stretches).
in_s sysctl -qw net.ipv4.tcp_rmem="4096 4194304 8388608"
in_c sysctl -qw net.ipv4.tcp_wmem="4096 4194304 8388608"
# The upload's congestion window, locked (see above). Reno, built into
# every kernel and allowed in any namespace, instead of the machine's
# default: with the window locked and nothing dropped a loss-based
# algorithm never changes it, but BBR (this host's default) sizes it from
# its own estimate of the path, which keeps the queue short. The kernel
# applies a route's locked cwnd through its TCP metrics cache, whose entry
# for the server a first connection creates (unless metrics saving is
# off): a short transfer before the shaper, and the entry must then show
# the locked window.
in_c sysctl -qw net.ipv4.tcp_congestion_control=reno net.ipv4.tcp_no_metrics_save=0 &&
	in_c ip route replace default via 10.0.1.1 cwnd lock "$SEGS" initcwnd "$SEGS" ||
	{ fail sqm-setup "the client rejected reno or a cwnd lock of $SEGS"; exit 1; }
tcp_xfer sqm-warm ipv4 10.0.2.2 9199 1 || exit 1
if ! in_c ip tcp_metrics show 10.0.2.2 | grep -q " cwnd $SEGS "; then
	fail sqm-setup "no locked window in the client's TCP metrics: $(in_c ip tcp_metrics show 10.0.2.2)"
	exit 1
fi
shaper r1 || { fail sqm-setup "$SQM_QDISC rejected"; exit 1; }
[ "$SQM_QDISC" = cake ] && in_r tc -s qdisc show dev r1 | grep -E "^ +(target|interval) " | sed 's/^/  cake /'
echo "  [${SECONDS} s] $SQM_QDISC at ${RATE_MBIT} Mbit/s on r1 (tbf: burst $BURST, limit $LIMIT), $MB MB uploads, a window of $SEGS segments (${QUEUE_MS} ms)"

# The reference: the slow path through the same qdisc.
if shaped_xfer sqm-slow 9200 r1; then
	SLOW_RTT=$RTT
	echo "  slow path: the $SQM_QDISC sent $KBIT kbit/s, median ping RTT $SLOW_RTT us"
	if within 10 "$KBIT" $((RATE_MBIT * 1000)); then
		pass sqm-slow-rate
	else
		fail sqm-slow-rate "the slow path reached $KBIT kbit/s of ${RATE_MBIT} Mbit/s: the lab cannot judge"
	fi
	# The pings waited behind the standing queue, or the comparison
	# below would judge noise.
	if [ "$SLOW_RTT" -ge $((QUEUE_MS * 1000 / 2)) ]; then
		pass sqm-slow-queue
	else
		fail sqm-slow-queue "median RTT $SLOW_RTT us behind a ${QUEUE_MS} ms queue: the lab cannot judge"
	fi
else
	exit 1
fi

start_daemon --policy all r0 r1 || { fail sqm-daemon "did not start"; exit 1; }
# Counted once offloaded: what slips through the slow path before that
# waits in the shaper's queue with the rest, and how much of it there is
# depends on how fast a loaded machine lets the daemon learn. The first
# 256 KB are enough for that, and take a second at 2 Mbit/s.
if XFER_VIA=tc XFER_FIRST=262144 XFER_HOLD="port_offloaded 9201" shaped_xfer sqm-tc 9201 r1; then
	echo "  TC tier: the $SQM_QDISC sent $KBIT kbit/s, median ping RTT $RTT us"
	XFER_VIA=tc check_offloaded sqm-tc-offloaded
	if within 10 "$KBIT" $((RATE_MBIT * 1000)); then
		pass sqm-tc-rate
	else
		fail sqm-tc-rate "$KBIT kbit/s through a ${RATE_MBIT} Mbit/s $SQM_QDISC"
	fi
	if [ "$RTT" -gt 0 ] && [ "$SLOW_RTT" -gt 0 ] && within 20 "$RTT" "$SLOW_RTT"; then
		pass sqm-tc-rtt
	else
		fail sqm-tc-rtt "median RTT $RTT us on TC, $SLOW_RTT us on the slow path"
	fi
	if fp status | grep -q "r1 *tier tc: .*egress shaped by $SQM_QDISC"; then
		pass sqm-tc-status
	else
		fail sqm-tc-status "$(fp status | sed -n '/interfaces/,/flows/p' | tr '\n' ' ')"
	fi
fi
stop_daemon
[ "${SQM_IFB:-0}" = 1 ] && ifb_ingress
exit $E2E_FAILED
