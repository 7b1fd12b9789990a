#!/usr/bin/env bash
# The daemon under attack (docs/DESIGN.md, "Safety rules" 10, "Security
# model"): a second daemon on the same pins is refused, a conntrack event
# flood never lets the lease lapse under an offloaded flow, and a storm of
# neighbour changes next to 10,000 offloaded connections costs the daemon
# little CPU, since each change is one index lookup, not a scan.
source "$(dirname "$0")/../lib.sh"

GEN=$TOP/build/ct_gen
# 11,001 client sockets in part 3.
ulimit -n 16384 2>/dev/null
FLOOD=$TOP/build/udp_flood

# to_mac MAC: entries that send to MAC (empty when the table cannot be read).
to_mac() { flows_json | jq --arg m "$1" '[.[] | select(.dmac == $m)] | length'; }

if ! lab_up; then
	fail flood-setup "lab setup failed"
	exit 1
fi

# utime + stime of a process, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' /proc/"$1"/stat
}

# off_entries PORT: offloaded entries (XDP or TC tier) with PORT at either end.
off_entries() {
	flows_json | jq --arg p ":$1" '[.[] | select((.state == "xdp" or .state == "tc") and
		((.src | endswith($p)) or (.dst | endswith($p))))] | length'
}

# --- 1. One daemon per pin directory ---
start_daemon --policy all r0 r1 || { fail flood-daemon "did not start"; exit 1; }
first=$DAEMON_PID
in_r "$FP" run --policy all r0 r1 >"$TMP/second" 2>&1
rc=$?
sleep 1
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$TMP/second")" -eq 1 ] &&
	grep -q "already runs on $FASTPATH_PIN_DIR" "$TMP/second" &&
	grep -q "pid $first" "$TMP/second"; then
	pass second-daemon-refused
else
	fail second-daemon-refused "exit $rc: $(head -c 300 "$TMP/second")"
fi
if kill -0 "$first" 2>/dev/null && daemon_running; then
	pass second-daemon-first-keeps-running
else
	fail second-daemon-first-keeps-running "the first daemon (pid $first) is gone or not in status"
fi

# --- 2. A conntrack event flood under an offloaded flow ---
# One UDP flow at 500 packets/s each way, offloaded; then three ct_gen
# create (and destroy) conntrack entries at full rate for 10 s, every one
# a candidate, more than the daemon can handle. Read four times a
# second during the flood, the lease the daemon renews must never have
# run out and the flow must stay in the table; over the flood, its
# packets must take the fast path, not the forward chain.
spawn in_s "$FLOOD" -s 5300
spawn in_c "$FLOOD" 10.0.2.2 5300 1 500 30 >/dev/null
if ! wait_for 15 eval '[ "$(off_entries 5300)" -ge 2 ]'; then
	fail flood-flow-offloaded "the UDP flow was not offloaded: $(fp flows | tr '\n' '|')"
else
	fwd0=$(lab_fwd_packets) red0=$(($(verdicts redirect) + $(tc_redirects)))
	ev0=$(status_field daemon ct_events)
	c0=$(cpu_ticks "$DAEMON_PID") t0=$(usecs)
	# Three generators (one per destination, so their entries differ):
	# more events than the daemon can handle on two cores.
	gens=()
	for g in 1 2 3; do
		spawn in_r "$GEN" -t 10 10000 10.201.0.$g >"$TMP/gen$g"
		gens+=($!)
	done
	gen=${gens[0]}
	samples=0 lapsed=0 gone=0 min=
	while kill -0 "$gen" 2>/dev/null; do
		if ! st=$(fp status --json) || ! n=$(off_entries 5300); then
			lapsed=$((lapsed + 1))
			sleep 0.25
			continue
		fi
		read -r state left < <(jq -r '"\(.lease.state) \(.lease.remaining_s)"' <<<"$st")
		samples=$((samples + 1))
		[ "$state" = valid ] || lapsed=$((lapsed + 1))
		[ "$n" -ge 2 ] || gone=$((gone + 1))
		min=$(awk -v a="$left" -v b="${min:-$left}" 'BEGIN { print (a < b) ? a : b }')
		sleep 0.25
	done
	wait "${gens[@]}"
	c1=$(cpu_ticks "$DAEMON_PID") t1=$(usecs)
	fwd=$(($(lab_fwd_packets) - fwd0)) red=$(($(verdicts redirect) + $(tc_redirects) - red0))
	settle_ev=$(status_field daemon ct_events)
	lost=$(status_field daemon events_lost)
	cpu=$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v us=$((t1 - t0)) \
		'BEGIN { printf "%d", 100 * c / hz / (us / 1e6) }')
	echo "  flood: ct_gen made $(cat "$TMP"/gen? | awk '{ n += $1 } END { print n }') entries; $((settle_ev - ev0)) events handled, $lost ENOBUFS episodes, daemon CPU $cpu%;" \
		"$samples samples, lease at least ${min:-?}s left, flow: $red fast-path packets, $fwd in the forward chain"
	# The flood reached the daemon (a generator that failed would make
	# the checks below pass on a quiet daemon).
	if [ $((settle_ev - ev0)) -ge 20000 ]; then
		pass flood-events-handled
	else
		fail flood-events-handled "$((settle_ev - ev0)) events handled during the flood"
	fi
	if [ "$samples" -ge 5 ] && [ "$lapsed" -eq 0 ] && awk -v m="$min" 'BEGIN { exit !(m > 0) }'; then
		pass flood-lease-never-lapsed
	else
		fail flood-lease-never-lapsed "$lapsed of $samples samples lapsed or unreadable, least left ${min:-?}s"
	fi
	# 500 packets/s each way for 10 s: 10,000 at least, under 1% slow.
	if [ "$gone" -eq 0 ] && [ "$red" -ge 5000 ] && [ $((fwd * 100)) -lt "$red" ]; then
		pass flood-flow-stays-offloaded
	else
		fail flood-flow-stays-offloaded "out of the table in $gone samples; $red fast, $fwd slow packets"
	fi
fi
stop_daemon
kill "${E2E_PIDS[@]}" 2>/dev/null
wait 2>/dev/null
in_r conntrack -F >/dev/null 2>&1

# --- 3. 1,000 neighbour changes a second next to 10,000 offloaded connections ---
# 11,001 UDP connections from the client, of which at least 10,000 are
# learned by the daemon (a loaded host learns the last ones slowly); then
# their traffic stops (the idle timeout keeps them in the table) and for
# 10 s the router's neighbours on r0 change MAC 1,000 times a second
# (what a LAN host sending gratuitous ARPs for many addresses causes).
# None of those neighbours carries a flow: the daemon's cost per change
# must not grow with the connections it holds.
# conntrack keeps the idle connections as long as the daemon does.
in_r sysctl -qw net.netfilter.nf_conntrack_udp_timeout=300 \
	net.netfilter.nf_conntrack_udp_timeout_stream=300
start_daemon --policy all --idle-timeout 300 r0 r1 || { fail neigh-daemon "did not start"; exit 1; }
for p in 5301 5302 5303; do
	spawn in_s "$FLOOD" -s $p
done
sleep 0.5
clients=()
for p in 5301 5302 5303; do
	spawn in_c "$FLOOD" 10.0.2.2 $p 3667 1 200 spread >/dev/null
	clients+=($!)
done
# (Seconds on a quiet machine; a loaded one learns them far slower.)
if ! wait_for 170 eval '[ "$(status_field daemon offloaded)" -ge 20000 ]'; then
	fail neigh-10k-offloaded "$(status_field daemon offloaded) directions offloaded, want 20000"
else
	pass neigh-10k-offloaded
	kill "${clients[@]}" 2>/dev/null
	sleep 1
	# Ten batches of 1,000 changes over 200 addresses, a new MAC each time.
	for s in $(seq 0 9); do
		for i in $(seq 0 999); do
			a=$((i % 200))
			printf 'neigh replace 10.0.1.%d lladdr 02:0a:%02x:%02x:%02x:%02x dev r0 nud stale\n' \
				$((a + 20)) "$s" $((i / 200)) $((a / 256)) $((a % 256))
		done >"$TMP/neigh$s"
	done
	in_r ip -batch "$TMP/neigh0" # the addresses exist before the window
	off0=$(status_field daemon offloaded)
	c0=$(cpu_ticks "$DAEMON_PID") t0=$(usecs)
	for s in $(seq 1 9) 0; do
		in_r ip -batch "$TMP/neigh$s" || fail neigh-batch "ip -batch failed"
		# the next batch starts on the next second of the window
		due=$((t0 + (s == 0 ? 10 : s) * 1000000))
		now=$(usecs)
		[ "$now" -lt "$due" ] && sleep "$(awk -v d=$((due - now)) 'BEGIN { print d / 1e6 }')"
	done
	c1=$(cpu_ticks "$DAEMON_PID") t1=$(usecs)
	off1=$(status_field daemon offloaded)
	pct=$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v us=$((t1 - t0)) \
		'BEGIN { printf "%.1f", 100 * c / hz / (us / 1e6) }')
	echo "  neighbours: 10,000 changes in $(((t1 - t0) / 1000)) ms, daemon CPU $pct% of a core," \
		"offloaded directions $off0 -> $off1"
	if awk -v p="$pct" -v us=$((t1 - t0)) 'BEGIN { exit !(p < 30 && us < 12000000) }'; then
		pass neigh-storm-cpu-under-30pct
	else
		fail neigh-storm-cpu-under-30pct "daemon CPU $pct% over $(((t1 - t0) / 1000)) ms"
	fi
	# Nobody's next hop changed: every flow stayed.
	if [ "$off1" -ge "$off0" ] && [ "$off0" -ge 20000 ]; then
		pass neigh-storm-flows-stay
	else
		fail neigh-storm-flows-stay "offloaded directions $off0 -> $off1"
	fi
	# The client's own MAC changes: every entry that sends to the old MAC
	# leaves the table (safety rule 5: within 1 s), found through the
	# index. Its flows keep sending at 1 pps, so they come back at once,
	# learned with the new MAC: what must be gone is the old one. 5 s,
	# since on a loaded host one listing of 22,000 entries takes seconds.
	old=$(ip -n "$NS_C" -j link show c0 | jq -r '.[0].address')
	n0=$(to_mac "$old")
	in_r ip neigh replace 10.0.1.2 lladdr 02:0b:00:00:00:02 dev r0 nud stale
	if [ "${n0:-0}" -ge 10000 ] && wait_for 5 eval '[ "$(to_mac "$old")" = 0 ]'; then
		pass neigh-mac-change-relearns
	else
		fail neigh-mac-change-relearns "entries to $old: ${n0:-none} before, $(to_mac "$old") after 5 s"
	fi
	in_r ip neigh del 10.0.1.2 dev r0 2>/dev/null
fi
stop_daemon
in_r conntrack -F >/dev/null 2>&1
in_r sysctl -qw net.netfilter.nf_conntrack_udp_timeout=30 \
	net.netfilter.nf_conntrack_udp_timeout_stream=120
