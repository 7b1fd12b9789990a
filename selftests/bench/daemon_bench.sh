#!/usr/bin/env bash
# daemon_bench.sh - the daemon's side of "make bench".
#
# 1. Event throughput: ct_gen creates many UDP conntrack entries (each a
#    candidate, so the daemon adds two learning entries per connection),
#    then "conntrack -F" destroys them. Events handled divided by the
#    daemon's own CPU time gives events per second on one core.
# 2. Offload latency: iperf3 UDP streams through the lab; the daemon times
#    each direction from the conntrack event that made it a candidate to
#    its entry in the flow table (p50, p99 over all streams and runs).
#
# Writes build/bench_daemon.json; bench.sh merges it into bench.json.
set -u
LAB_ID=dbench$$
# The test library: the lab, start_daemon/stop_daemon, status_field, and
# the cleanup of everything on exit.
source "$(dirname "$0")/../lib.sh"
OUT=${1:-$TOP/build/bench_daemon.json}
GEN=$TOP/build/ct_gen
CONNS=${CONNS:-100000}
RUNS=${RUNS:-10}

# Netlink messages the kernel dropped on the way to process $1, summed
# over its netlink sockets: the Drops column of /proc/PID/net/netlink
# (sk_drops, one per message netlink_overrun() could not queue), for
# the inodes of the process's sockets. The daemon's own events_lost
# counts ENOBUFS episodes, each of which may stand for thousands of
# conntrack events; this is the number of events.
nl_drops() {
	local inodes
	inodes=$(find /proc/"$1"/fd -lname 'socket:*' -printf '%l\n' 2>/dev/null |
		tr -dc '0-9\n' | sort -u | tr '\n' ' ')
	awk -v want=" $inodes " 'NR > 1 && index(want, " " $10 " ") { d += $9 }
		END { print d + 0 }' /proc/"$1"/net/netlink
}

# utime + stime of a process, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' /proc/"$1"/stat
}

# Wait until the daemon's event counter stops moving.
settle() {
	local a b=-1
	while :; do
		a=$(status_field daemon ct_events)
		[ "$a" = "$b" ] && return
		b=$a
		sleep 0.5
	done
}

lab_up || exit 1
# The router namespace shares the host conntrack table size.

# 1. Event throughput.
start_daemon --policy all --capacity $((CONNS * 2 + 1024)) r0 r1 || exit 1
settle
ev0=$(status_field daemon ct_events)
c0=$(cpu_ticks "$DAEMON_PID")
t0=$(date +%s%N)
read -r made gen_s < <(in_r "$GEN" "$CONNS")
in_r conntrack -F >/dev/null 2>&1
settle
ev1=$(status_field daemon ct_events)
c1=$(cpu_ticks "$DAEMON_PID")
t1=$(date +%s%N)
episodes=$(status_field daemon events_lost)
# Events read but dropped unhandled before a resync dump (older than it).
discarded=$(status_field daemon events_discarded)
lost=$(nl_drops "$DAEMON_PID")
hz=$(getconf CLK_TCK)
events=$((ev1 - ev0))
cpu_s=$(python3 -c "print(max(($c1 - $c0) / $hz, 1 / $hz))")
eps=$(python3 -c "print(round($events / $cpu_s))")
wall_eps=$(python3 -c "print(round($events / (($t1 - $t0) / 1e9)))")
stop_daemon || exit 1

# 2. Offload latency: 8 UDP flows sending 2000 packets/s each from their
# first packet on, echoed by the server; a flow becomes a candidate when
# conntrack sees the first echo, and its next packet follows within
# 0.5 ms. (Many more flows at once would measure the slow path's backlog
# on this 2-core machine, since all of them start on it.)
start_daemon --policy all r0 r1 || exit 1
ip netns exec "$NS_S" "$TOP/build/udp_flood" -s 5300 &
ECHO=$!
sleep 0.5
for _ in $(seq "$RUNS"); do
	in_c "$TOP/build/udp_flood" 10.0.2.2 5300 8 2000 1 >/dev/null
done
p50=$(status_field daemon latency_p50_us)
p99=$(status_field daemon latency_p99_us)
learned=$(status_field daemon learned)
kill "$ECHO" 2>/dev/null
wait "$ECHO" 2>/dev/null
stop_daemon || exit 1

printf '\ndaemon: %d conntrack events (%d created in %.2fs by ct_gen, then flushed)\n' \
	"$events" "$made" "$gen_s"
printf '  %d events lost (dropped by the kernel: socket buffer full), in %d ENOBUFS episodes\n' \
	"$lost" "$episodes"
printf '  %d events discarded by the daemon before its resync dump\n' "$discarded"
printf '  %-34s %12s\n' "events/s on one core (daemon CPU)" "$eps"
printf '  %-34s %12s\n' "events/s wall clock" "$wall_eps"
printf '  %-34s %12s\n' "offload latency p50 (us)" "$p50"
printf '  %-34s %12s\n' "offload latency p99 (us)" "$p99"
printf '  (%d directions learned over %d runs of 8 UDP flows at 2000 pps each)\n' "$learned" "$RUNS"

# The daemon's log, for a reader to judge: pr_warn() and pr_info() print
# the same "fastpath: " prefix, so warnings cannot be told apart here.
if [ -s "$TMP/daemon.log" ]; then
	echo "  daemon log ($(wc -l <"$TMP/daemon.log") lines, the first 20):"
	head -20 "$TMP/daemon.log" | sed 's/^/    /'
fi

# A run that measured nothing must not pass for a result.
for v in "$events" "$eps" "$lost" "$discarded" "$p50" "$p99" "$learned"; do
	case $v in
	''|*[!0-9.]*) echo "daemon_bench: FAIL: no usable result ('$v'); see $TMP/daemon.log" >&2
		cat "$TMP/daemon.log" >&2
		exit 1 ;;
	esac
done
# Every connection made at least one event, handled, lost, or read and
# discarded before a resync (whose dump then no longer lists what the
# flush removed meanwhile).
if [ $((events + lost + discarded)) -lt "$CONNS" ] || [ "$learned" -eq 0 ]; then
	echo "daemon_bench: FAIL: $events events handled, $lost lost and $discarded discarded for $CONNS connections, $learned directions learned" >&2
	exit 1
fi

cat >"$OUT" <<JSON
{"ct_events_per_s": $eps, "ct_events_per_s_wall": $wall_eps, "ct_events": $events,
 "ct_events_lost": $lost, "ct_events_discarded": $discarded, "ct_enobufs_episodes": $episodes, "offload_latency_p50_us": $p50, "offload_latency_p99_us": $p99,
 "offload_latency_samples": $learned}
JSON
