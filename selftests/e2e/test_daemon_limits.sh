#!/usr/bin/env bash
# The daemon at its limits: a full table (--max-flows), the SQM guard,
# idle removal, and bad command-line input.
source "$(dirname "$0")/../lib.sh"

# expect_rc NAME STATUS CMD...
expect_rc() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >/dev/null 2>"$TMP/err"
	rc=$?
	if [ $rc -eq "$want" ] && [ "$(wc -l <"$TMP/err")" -le 1 ]; then
		pass "$name"
	else
		fail "$name" "exit $rc (want $want): $(head -c 200 "$TMP/err")"
	fi
}

if ! lab_up; then
	fail limits-setup "lab setup failed"
	exit 1
fi

expect_rc run-no-interface 2 fp run
expect_rc run-bad-policy 2 fp run --policy mark:2 r0
expect_rc run-bad-policy-value 2 fp run --policy mark:3/1 r0
expect_rc run-bad-lease 2 fp run --lease 0 r0
expect_rc run-bad-max-flows 2 fp run --max-flows 0 r0
expect_rc run-bad-idle 2 fp run --idle-timeout x r0
expect_rc run-no-such-interface 1 fp run eth9
expect_rc run-help 0 fp run --help

# 64 connections, room for 16: all work, 16 are offloaded.
start_daemon --policy all --max-flows 16 --idle-timeout 2 r0 r1 || { fail limits-daemon "did not start"; exit 1; }
spawn in_s python3 "$E2E_DIR/tcp_echo.py" server 9000
wait_for 5 listening 9000
in_c timeout 60 python3 "$E2E_DIR/tcp_echo.py" client 10.0.2.2 9000 64 5 >"$TMP/multi" 2>&1 &
multi=$!
# Read once the table has filled (python alone takes seconds to start on
# a loaded host), while the connections still send.
wait_for 20 eval '[ "$(status_field daemon offloaded)" -ge 32 ] && [ "$(status_field daemon table_full)" -gt 0 ]'
offl=$(status_field daemon offloaded)
full=$(status_field daemon table_full)
held=$(status_field daemon slow_path table_full)
echo "  max-flows: $offl directions offloaded, $held connections held for a full table, $full refusals"
wait $multi
if grep -qx 'ok 64' "$TMP/multi"; then
	pass full-table-all-64-work
else
	fail full-table-all-64-work "$(cat "$TMP/multi")"
fi
[ "$offl" -eq 32 ] && pass full-table-16-offloaded || fail full-table-16-offloaded "$offl directions offloaded, want 32"
[ "$full" -gt 0 ] && [ "$held" -gt 0 ] && pass full-table-counted || fail full-table-counted "refusals $full, held $held"

# Idle flows leave the table after --idle-timeout (2 s here).
wait_for 6 status_is 0 entries &&
	pass idle-flows-removed || fail idle-flows-removed "$(status_field entries) entries left"
stop_daemon

# A silent UDP flow: its entries stay for --idle-timeout (10 s here), then
# leave the table; from then on the daemon no longer refreshes its
# conntrack entry, whose timeout runs down until conntrack expires it.
# How long a flow has been idle is the entry's own idle_s (the datapath's
# last-seen), so a slow host does not blur the timing.
IDLE=10 CT_UDP=20
in_r sysctl -qw net.netfilter.nf_conntrack_udp_timeout=$CT_UDP \
	net.netfilter.nf_conntrack_udp_timeout_stream=$CT_UDP
start_daemon --policy all --idle-timeout $IDLE r0 r1 || { fail idle-daemon "did not start"; exit 1; }
# idle_entries: "COUNT MAX_IDLE_S" of the flow's entries; nothing when
# the table cannot be read.
idle_entries() {
	flows_json | jq -r '[.[] | select(.src == "10.0.1.2:45400" or .src == "10.0.2.2:5400")] |
		"\(length) \([.[].idle_s // 0] | max // 0 | floor)"'
}
# ct_idle: "TIMEOUT" of the flow's conntrack entry, "gone" when it has
# none; nothing (a failure) when conntrack cannot be read.
ct_idle() {
	local out
	out=$(in_r conntrack -L -p udp --orig-port-src 45400 2>/dev/null) || return 1
	[ -n "$out" ] && awk '{ print $3; exit }' <<<"$out" || echo gone
}
ct_idle_gone() { [ "$(ct_idle)" = gone ]; }
if XFER_SPORT=45400 udp_xfer idle-udp 10.0.2.2 5400 1; then
	seen=-1 n=
	end=$((SECONDS + IDLE + 8))
	while [ $SECONDS -le $end ] && read -r n idle < <(idle_entries) && [ "$n" -gt 0 ]; do
		seen=$idle
		sleep 0.2
	done
	echo "  idle-udp: entries seen up to $seen s idle, then ${n:-unreadable} left (--idle-timeout ${IDLE}s)"
	if [ "$n" = 0 ] && [ "$seen" -ge $((IDLE - 1)) ]; then
		pass idle-udp-removed-after-timeout
	else
		fail idle-udp-removed-after-timeout "entries seen up to $seen s idle, ${n:-unreadable} left"
	fi
	a=$(ct_idle)
	sleep 2
	b=$(ct_idle)
	echo "  idle-udp: conntrack timeout $a s, then $b s two seconds later"
	if [ "$b" = gone ] || { [ "$a" != gone ] && [ -n "$b" ] && [ "$b" -le $((a - 1)) ]; }; then
		pass idle-udp-conntrack-not-refreshed
	else
		fail idle-udp-conntrack-not-refreshed "timeout ${a:-unreadable} -> ${b:-unreadable}"
	fi
	if wait_for $((CT_UDP + 3)) ct_idle_gone; then
		pass idle-udp-conntrack-expires
	else
		fail idle-udp-conntrack-expires "conntrack still has it: timeout $(ct_idle)"
	fi
fi
stop_daemon
in_r sysctl -qw net.netfilter.nf_conntrack_udp_timeout=30 \
	net.netfilter.nf_conntrack_udp_timeout_stream=120

# A shaping root qdisc moves the flows leaving through it to the TC tier
# (docs/DESIGN.md, "Tiers"): the redirect keeps the qdisc in charge, so the
# tbf still limits them, and the forward chain still sees almost nothing.
# The upload's data leaves through the tbf (TC); its ACKs do not, so they
# take the tier their ingress calls for: TC in this lab, whose end hosts
# transmit CHECKSUM_PARTIAL skbs (lab_tier), XDP behind hosts that send
# complete checksums.
via=tc
[ "$(lab_tier)" = xdp ] && via=tc+xdp
in_r tc qdisc replace dev r1 root tbf rate 200mbit burst 64k latency 50ms
start_daemon --policy all r0 r1 || { fail sqm-daemon "did not start"; exit 1; }
tc0=$(tc_redirects) t0=$(date +%s%N)
if XFER_VIA=$via tcp_xfer sqm-guard ipv4 10.0.2.2 9100 50; then
	t1=$(date +%s%N) tcn=$(($(tc_redirects) - tc0))
	XFER_VIA=$via check_offloaded sqm-guard-tc-tier
	# the data direction (out through the tbf) is on TC: its packets are
	# about half of the transfer's, whatever carries the ACKs
	if [ $((tcn * 100)) -ge $((XFER_PKTS * 40)) ]; then
		pass sqm-guard-tc-redirects
	else
		fail sqm-guard-tc-redirects "TC redirected $tcn of $XFER_PKTS packets"
	fi
	# 50 MB through 200 Mbit/s takes at least 2 s (10% margin)
	ms=$(((t1 - t0) / 1000000))
	if [ "$ms" -ge 1800 ]; then
		pass sqm-guard-tbf-limits
	else
		fail sqm-guard-tbf-limits "50 MB in $ms ms: faster than the 200 Mbit/s tbf"
	fi
	tcd=$(fp status --json | jq -r '.daemon.tc_directions')
	if fp status | grep -q "r1 *tier tc: .*egress shaped by tbf"; then
		pass sqm-guard-status-tier
	else
		fail sqm-guard-status-tier "status: $(fp status | grep -A2 interfaces | tr '\n' ' ')"
	fi
	echo "  sqm-guard: ${ms} ms, TC redirected $tcn, TC directions now $tcd"
fi
stop_daemon
# ...unless the user says otherwise: then the tier its ingress calls for
# carries it (XDP past the qdisc; TC, which keeps the qdisc, in this lab).
in_r tc qdisc replace dev r1 root tbf rate 2gbit burst 256k latency 50ms
start_daemon --policy all --no-sqm-guard r0 r1 || { fail sqm-daemon "did not start"; exit 1; }
if tcp_xfer sqm-override ipv4 10.0.2.2 9101 50; then
	check_offloaded sqm-override-offloads
fi
stop_daemon

# Lost conntrack events (the daemon stopped while 200k connections appear)
# are recovered by a full dump: afterwards it tracks what conntrack has.
start_daemon --policy all r0 r1 || { fail resync-daemon "did not start"; exit 1; }
kill -STOP "$DAEMON_PID"
read -r want _ < <(in_r "$TOP/build/ct_gen" 200000)
kill -CONT "$DAEMON_PID"
settled() {
	[ "$(status_field daemon connections)" -ge "$want" ] &&
		[ "$(status_field daemon resyncs)" -ge 1 ]
}
if wait_for 60 settled; then
	echo "  resync: $(status_field daemon events_lost) losses, $(status_field daemon connections) connections tracked of $want"
	pass lost-events-resync
else
	fail lost-events-resync "lost $(status_field daemon events_lost), resyncs $(status_field daemon resyncs), tracking $(status_field daemon connections) of $want"
	sed 's/^/    /' "$DAEMON_LOG"
fi
in_r conntrack -F >/dev/null 2>&1
wait_for 60 status_is 0 daemon connections &&
	pass flush-after-resync || fail flush-after-resync "$(status_field daemon connections) connections left"
daemon_running && pass daemon-alive-after-burst || fail daemon-alive-after-burst "$(tail -3 "$DAEMON_LOG")"
stop_daemon
exit $E2E_FAILED
