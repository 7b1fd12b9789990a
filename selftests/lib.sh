#!/usr/bin/env bash
# lib.sh - the one shell library of the tests: selftests/e2e, the in-VM
# parts of selftests/vm and selftests/bench source it. It sources
# scripts/lab.sh (the topology) and adds, on top of it:
#
#   pass/fail/skip, spawn     result lines; background processes it reaps
#   wait_for SECONDS CMD...   poll a condition, by the clock
#   start_daemon, stop_daemon "fastpath run" in the router, its log checked
#   tcp_xfer, udp_xfer        one transfer each, bytes compared
#   add_port_forward          DNAT from the WAN side to the client
#   check_offloaded, check_slow   what the last transfer took
#
# It removes the lab and every process it started on exit.

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$TESTS_DIR/.." && pwd)
# The python helpers (udp_echo.py, tcp_echo.py, pace.py).
E2E_DIR=$TESTS_DIR/e2e
# shellcheck source=../scripts/lab.sh
source "$TOP/scripts/lab.sh"

TMP=$(mktemp -d /tmp/fastpath-test.XXXXXX)
E2E_PIDS=()
E2E_FAILED=0
# Namespaces a test adds beyond the lab's client, router and server; the
# cleanup removes them, and their processes, too.
EXTRA_NS=()
DAEMON_PID=
declare -A XFER_STATE
DAEMON_LOG=$TMP/daemon.log
: >"$DAEMON_LOG"

e2e_cleanup() {
	local pid ns pids
	# The daemon first, so that its exit status and log are judged.
	stop_daemon
	for pid in "${E2E_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${E2E_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	lab_down
	for ns in "${EXTRA_NS[@]}"; do
		[ -e /run/netns/"$ns" ] || continue
		pids=$(ip netns pids "$ns")
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
	[ "$E2E_FAILED" -eq 0 ] || exit 1
}
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

# Background a command and remember its pid for the cleanup. The in_*
# helpers are expanded here, so $! is the process itself and not a
# subshell around it (ip netns exec and nsenter --no-fork exec in place).
spawn() {
	local f=$1
	shift
	case $f in
	in_c) ip netns exec "$NS_C" "${HOST_PIN[@]}" "$@" & ;;
	in_s) ip netns exec "$NS_S" "${HOST_PIN[@]}" "$@" & ;;
	in_r) nsenter --no-fork --net=/run/netns/"$NS_R" "$@" & ;;
	*) "$f" "$@" & ;;
	esac
	E2E_PIDS+=($!)
}

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	E2E_FAILED=1
}
skip() { echo "SKIP $1: $2"; }

# wait_for SECONDS CMD...: until CMD succeeds, for up to SECONDS (may be
# fractional) by the clock. By the clock, not by tries: under the VM's
# emulation one try of a command can take most of a second by itself.
wait_for() {
	local now end
	end=$(($(usecs) + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000000 }')))
	shift
	while ! "$@" >/dev/null 2>&1; do
		now=$(usecs)
		[ "$now" -ge "$end" ] && return 1
		sleep 0.1
	done
}

usecs() { echo "${EPOCHREALTIME/./}"; }

# listening PORT: a TCP socket listens on PORT in the server namespace
# (ss exits 0 whether or not its filter matched, so look at its output).
listening() {
	in_s ss -Hltn "sport = :$1" | grep -q .
}

# udp_bound WRAPPER PORT: a UDP socket is bound to PORT (in_s, in_c, ...).
udp_bound() {
	"$1" ss -Hlun "sport = :$2" | grep -q .
}

# udp_server PORT [WRAPPER]: udp_echo.py serving PORT in the server
# namespace (or through WRAPPER), returning once it is bound, so that the
# client's first datagrams are not refused while python starts. Its pid
# is the last of E2E_PIDS.
udp_server() {
	local port=$1 run=${2:-in_s}
	spawn "$run" python3 "$E2E_DIR/udp_echo.py" server "$port"
	wait_for 30 udp_bound "$run" "$port"
}

# ct_reply PROTO FAMILY ORIG_SPORT: "ADDR PORT" of the reply direction's
# destination, i.e. the post-NAT source the server sees.
ct_reply() {
	in_r conntrack -L -p "$1" -f "$2" --orig-port-src "$3" 2>/dev/null |
		awk '{ for (i = 1; i <= NF; i++) {
			if ($i ~ /^dst=/ && ++d == 2) a = substr($i, 5)
			if ($i ~ /^dport=/ && ++p == 2) b = substr($i, 7) }
		       if (a != "") { print a, b; exit } }'
}

# add_port_forward [FAMILIES [PROTO:PORT:TO...]]: DNAT port forwards on
# the router for what comes in from the WAN (r1): its PORT reaches the
# client (10.0.1.2, fd00:1::2) on port TO. FAMILIES is "ip ip6" (the
# default), "ip" or "ip6"; the default forward is tcp:8443:443, the WAN's
# 8443 to the client's 443, a port the reference ruleset marks for offload.
add_port_forward() {
	local fams=${1:-ip ip6} fam to rule proto port lport
	[ $# -gt 0 ] && shift
	local rules=("${@:-tcp:8443:443}")
	for fam in $fams; do
		to=10.0.1.2
		[ "$fam" = ip6 ] && to="[fd00:1::2]"
		echo "table $fam nat {"
		echo "	chain prerouting {"
		echo "		type nat hook prerouting priority dstnat;"
		for rule in "${rules[@]}"; do
			IFS=: read -r proto port lport <<<"$rule"
			echo "		iifname \"r1\" $proto dport $port dnat to $to:$lport"
		done
		echo "	}"
		echo "}"
	done | in_r nft -f -
}

# ct_established PROTO FAMILY ORIG_SPORT: the entry exists and, for TCP,
# is ESTABLISHED.
ct_established() {
	local out
	out=$(in_r conntrack -L -p "$1" -f "$2" --orig-port-src "$3" 2>/dev/null)
	[ -n "$out" ] && { [ "$1" != tcp ] || grep -q ESTABLISHED <<<"$out"; }
}

# ep ADDR PORT: the endpoint notation of "fastpath flow".
ep() {
	case $1 in
	*:*) echo "[$1]:$2" ;;
	*) echo "$1:$2" ;;
	esac
}

# --- the table, as "fastpath flows --json" and "status --json" show it ---
#
# A check that something is absent must fail when the listing itself
# fails: these return 2 then, and print nothing.

# flows_json: the table; returns 2 (and prints nothing) when the listing fails.
flows_json() {
	local out
	out=$(fp flows --json 2>/dev/null) && jq -e 'type == "array"' <<<"$out" >/dev/null || return 2
	echo "$out"
}

# flows_match JQ_FILTER [JQ ARGS...]: 0 when an entry matches the filter
# (a boolean expression on one entry), 1 when none does, 2 when the table
# cannot be read. no_flow_match is its negation that fails on 2 as well.
flows_match() {
	local filter=$1 out
	shift
	out=$(flows_json) || return 2
	jq -e "$@" "any(.[]; $filter)" <<<"$out" >/dev/null && return 0
	return 1
}
no_flow_match() {
	flows_match "$@"
	[ $? -eq 1 ]
}

# The packets the fast path carried for the entry with this ingress and source.
flow_packets() {
	flows_json | jq --arg src "$1" '[.[] | select(.src == $src) | .packets] | add // 0'
}

# port_entries PORT: entries in the lab's tier (lab_tier: xdp or tc) with
# PORT as source or destination port, before or after NAT (a port
# forward's reply entry has the forwarded port only in its rewrite).
port_entries() {
	flows_json | jq --arg p ":$1" --arg t "$(lab_tier)" \
		'[.[] | select(.state == $t and ([.src, .dst, .snat, .dnat] |
			any(. != null and endswith($p))))] | length'
}

# in_table PORT: both directions of the flow with PORT are in the table
# (an XFER_HOLD condition).
in_table() {
	[ "$(port_entries "$1")" -ge 2 ]
}

# port_offloaded PORT: both directions of the connection with PORT are in
# the table, and the forward chain stays still for a second.
port_offloaded() {
	[ "$(port_entries "$1")" -ge 2 ] && fwd_quiet
}

# Daemon-made entries in the table (static ones excluded).
auto_entries() {
	flows_json | jq '[.[] | select(.static | not)] | length'
}

# A field of "fastpath status --json", e.g. status_field daemon offloaded.
status_field() {
	local path= k
	for k in "$@"; do
		path="$path[\"$k\"]"
	done
	fp status --json | jq -r ".$path"
}

# status_is VALUE FIELD...: a field of "fastpath status --json" has VALUE
# now (for wait_for, which must re-read it on every try).
status_is() {
	local want=$1
	shift
	[ "$(status_field "$@")" = "$want" ]
}

# XDP's verdict counter REASON (redirect, pass, ...), 0 when fastpath is
# not attached (the kernel-flowtable side of test_flowtable.sh).
verdicts() {
	fp status --json 2>/dev/null | jq -r --arg r "$1" '.verdicts[$r] // 0' 2>/dev/null || echo 0
}

# verdicts_keep FILE VERDICT: as verdicts, keeping the whole status in
# FILE for xfer_why.
verdicts_keep() {
	fp status --json >"$1" 2>/dev/null
	jq -r --arg r "$2" '.verdicts[$r] // 0' "$1" 2>/dev/null || echo 0
}

# xfer_why: what changed in the status (verdicts and their reasons, the
# TC program's, the daemon's counters) between the last transfer's
# snapshot and its count: where the packets a check missed went.
xfer_why() {
	local a=$TMP/xfer-$XFER_NAME.st0 b=$TMP/xfer-$XFER_NAME.st1
	[ -s "$a" ] && [ -s "$b" ] || return 0
	echo "  $XFER_NAME, status changes: $(jq -rn --slurpfile a "$a" --slurpfile b "$b" '
		$a[0] as $x | $b[0] as $y |
		[$y | paths(numbers) | select(.[0] == "verdicts" or .[0] == "pass_reasons" or .[0] == "tc" or
			.[0] == "daemon" or .[0] == "lease")] |
		map(. as $p | {k: ($p | map(tostring) | join(".")),
			d: (($y | getpath($p)) - (($x | getpath($p)) // 0))}) |
		map(select(.d != 0 and (.k | test("pid|_ns$|_s$|uptime") | not))) |
		map("\(.k) \(if .d > 0 then "+" else "" end)\(.d)") | join(", ")')"
	# With FP_DAEMON_DEBUG, the daemon's own account of the meantime.
	[ -s "$TMP/xfer-$XFER_NAME.log0" ] && [ -e "${DAEMON_LOG:-}" ] &&
		tail -n +$(($(cat "$TMP/xfer-$XFER_NAME.log0") + 1)) "$DAEMON_LOG" |
		grep -E 'learning again|relearn|idle|gone|withdr|neighbour|route|rule|firewall|mark|table_full|not learned|teardown|lost|removed|down' |
			tail -20 | sed 's/^/    /'
	return 0
}

# --- the daemon ---

# start_daemon ARGS...: "fastpath run ARGS" on the router, logging to
# $DAEMON_LOG; returns once it reports itself running.
start_daemon() {
	spawn in_r "$FP" ${FP_DAEMON_DEBUG:+-v} run "$@" >>"$DAEMON_LOG" 2>&1
	DAEMON_PID=$!
	wait_for 60 daemon_running || {
		echo "  daemon did not start:"
		tail -5 "$DAEMON_LOG"
		return 1
	}
}

daemon_running() {
	kill -0 "$DAEMON_PID" 2>/dev/null &&
		fp status --json | grep -q "\"pid\":$DAEMON_PID"
}

# What the daemon prints when something it did failed (pr_warn's
# "cannot ...", "... failed", errors): none of it may appear in a test's
# log. A test that provokes such a line on purpose lists it, as an ERE,
# in DAEMON_LOG_EXPECTED.
DAEMON_ERRORS='^fastpath: .*(cannot |failed|[Ee]rror|out of memory|conntrack events: )'
DAEMON_LOG_EXPECTED=${DAEMON_LOG_EXPECTED:-}
DAEMON_LOG_SEEN=0

# daemon_log_check: the log lines written since the last check hold no
# error line; fails the test (case "daemon-log-clean") when they do.
daemon_log_check() {
	local bad
	bad=$(tail -n +$((DAEMON_LOG_SEEN + 1)) "$DAEMON_LOG" | grep -v '^fastpath: debug: ' |
		grep -E "$DAEMON_ERRORS" |
		{ if [ -n "$DAEMON_LOG_EXPECTED" ]; then grep -vE "$DAEMON_LOG_EXPECTED"; else cat; fi; })
	DAEMON_LOG_SEEN=$(wc -l <"$DAEMON_LOG")
	if [ -n "$bad" ]; then
		fail daemon-log-clean "the daemon logged errors:"
		sed 's/^/    /' <<<"$bad"
		return 1
	fi
}

# stop_daemon: SIGTERM, which the daemon must survive long enough to exit
# cleanly (status 0); then its log is checked. Nothing to do when no
# daemon runs (a test that killed it itself clears DAEMON_PID).
stop_daemon() {
	local rc=0 pid=$DAEMON_PID
	[ -n "$pid" ] || return 0
	DAEMON_PID=
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail daemon-clean-exit "the daemon exited with status $rc:"
		tail -5 "$DAEMON_LOG" | sed 's/^/    /'
	fi
	daemon_log_check && [ "$rc" -eq 0 ]
}

# --- transfers ---
#
# tcp_xfer NAME FAMILY SERVER PORT MB: MB megabytes of random data over
# TCP from the client namespace to SERVER:PORT in the server namespace
# (socat). Returns 1, after a FAIL line, unless every byte arrived. Sets,
# over the counted part of the transfer:
#   XFER_PKTS     packets on the server's link (rx + tx)
#   XFER_FWD      packets the router's forward chain saw
#   XFER_REDIR    packets XDP redirected
#   XFER_INVALID  packets "ct state invalid" dropped
#   XFER_RSTS     TCP RSTs sent by either end
#   XFER_OK       1 once the bytes compared equal
# Options, as variables on the call (XFER_DIR=down tcp_xfer ...):
#   XFER_DIR=down     the server sends, the client receives
#   XFER_SPORT=N      the client's source port
#   XFER_LPORT=N      the server listens on N, not PORT (a DNAT port forward)
#   XFER_LINK="NS DEV"  the server's link, for XFER_PKTS (default: $NS_S s0)
#   XFER_PACE=S       spread the data over S seconds (pace.py)
#   XFER_HOLD=CMD     send XFER_FIRST bytes (default 1 MB), meanwhile wait up
#                     to XFER_HOLD_S seconds (default 15) until CMD succeeds
#                     (eval'd), then, once those bytes are out and the link
#                     is quiet, count and send the rest: "what happens once
#                     the flow is offloaded"; XFER_ON_SNAP=CMD is eval'd
#                     right after the counters are read
#
# tcp_xfer_start and tcp_xfer_wait split it, for a fault injected while
# the data flows.
tcp_xfer() {
	tcp_xfer_start "$@" && tcp_xfer_wait "$1"
}

tcp_xfer_start() {
	local name=$1 fam=$2 srv=$3 port=$4 mb=$5
	local listen=TCP4-LISTEN connect=TCP4 blob=$TMP/blob$mb feed first=${XFER_FIRST:-1048576}
	[ "$fam" = ipv6 ] && listen=TCP6-LISTEN connect=TCP6
	[ -e "$blob" ] || head -c "${mb}M" /dev/urandom >"$blob"
	XFER_NAME=$name XFER_BLOB=$blob XFER_OK=0
	XFER_LINK_NOW=${XFER_LINK:-"$NS_S s0"}
	rm -f "$TMP/$name.go" "$TMP/$name.out"

	# The sender's data: a file, paced, or held after the first bytes.
	feed="FILE:$blob"
	[ -n "${XFER_PACE:-}" ] && feed="SYSTEM:python3 $E2E_DIR/pace.py $blob $XFER_PACE"
	[ -n "${XFER_HOLD:-}" ] && feed="SYSTEM:head -c $first $blob; touch $TMP/$name.held; \
while [ ! -e $TMP/$name.go ]; do sleep 0.05; done; tail -c +$((first + 1)) $blob"
	local lport=${XFER_LPORT:-$port} peer
	peer="$connect:$(ep "$srv" "$port")${XFER_SPORT:+,sourceport=$XFER_SPORT}"

	if [ "${XFER_DIR:-up}" = down ]; then
		spawn in_s timeout "$XFER_TIMEOUT" socat -u "$feed" "$listen:$lport,reuseaddr"
	else
		spawn in_s timeout "$XFER_TIMEOUT" socat -u "$listen:$lport,reuseaddr" "CREATE:$TMP/$name.out"
	fi
	XFER_SRV_PID=$!
	wait_for 30 listening "$lport" || { fail "$name" "server did not listen"; return 1; }
	xfer_snapshot
	XFER_FWD0=$XFER_F0
	if [ "${XFER_DIR:-up}" = down ]; then
		spawn in_c timeout "$XFER_TIMEOUT" socat -u "$peer" "CREATE:$TMP/$name.out"
	else
		spawn in_c timeout "$XFER_TIMEOUT" socat -u "$feed" "$peer"
	fi
	XFER_CLI_PID=$!
	if [ -n "${XFER_HOLD:-}" ]; then
		wait_for "${XFER_HOLD_S:-15}" eval "$XFER_HOLD" ||
			echo "  $name: still not offloaded ($XFER_HOLD) ${XFER_HOLD_S:-15} s into the transfer"
		# Counted from a standstill: the sender has sent its first part
		# and the link is quiet, so counters read one after another (a
		# status command takes a second under emulation) agree.
		wait_for 60 test -e "$TMP/$name.held"
		wait_for 10 xfer_link_quiet
		xfer_snapshot
		[ -n "${XFER_ON_SNAP:-}" ] && eval "$XFER_ON_SNAP"
		touch "$TMP/$name.go"
	fi
	# Other transfers may run before tcp_xfer_wait NAME: keep this one's state.
	XFER_STATE[$name]="$XFER_BLOB $XFER_CLI_PID $XFER_SRV_PID ${XFER_LINK_NOW// /,} $XFER_F0 $XFER_D0 $XFER_X0 $XFER_I0 $XFER_R0 $XFER_FWD0 $XFER_N0 $XFER_T0 ${XFER_HOLD:+held}"
	return 0
}

# The transfer's link carries nothing for 0.3 s.
xfer_link_quiet() {
	local a b
	a=$(lab_dev_packets $XFER_LINK_NOW)
	sleep 0.3
	b=$(lab_dev_packets $XFER_LINK_NOW)
	[ -n "$a" ] && [ "$a" = "$b" ]
}

# A transfer that takes longer has hung. Generous: under the VM's
# emulation on a loaded host 8 MB can take minutes.
XFER_TIMEOUT=${XFER_TIMEOUT:-300}

# nd_frames NS: IPv6 neighbour solicitations and advertisements NS sent
# and received (link-local frames on its link that no router counter sees).
nd_frames() {
	ip netns exec "$1" nstat -asz Icmp6InNeighborSolicits Icmp6InNeighborAdvertisements \
		Icmp6OutNeighborSolicits Icmp6OutNeighborAdvertisements 2>/dev/null |
		awk '/Neighbor/ { s += $2 } END { print s + 0 }'
}

# The TC tier's redirect counter (fp_tc_stats, summed over CPUs).
tc_redirects() {
	bpftool -j map lookup pinned "$FASTPATH_PIN_DIR/fp_tc_stats" key 0 0 0 0 2>/dev/null |
		jq '[.formatted.values[].value.packets] | add // 0' 2>/dev/null || echo 0
}

# The counters a transfer is judged by, before it (or its counted part).
xfer_snapshot() {
	XFER_F0=$(lab_fwd_packets) XFER_D0=$(lab_dev_packets $XFER_LINK_NOW)
	XFER_X0=$(verdicts_keep "$TMP/xfer-$XFER_NAME.st0" redirect)
	[ -e "${DAEMON_LOG:-}" ] && wc -l <"$DAEMON_LOG" >"$TMP/xfer-$XFER_NAME.log0"
	XFER_I0=$(lab_counter invalid_pkts)
	XFER_T0=0
	case ${XFER_VIA:-$(lab_tier)} in tc*) XFER_T0=$(tc_redirects) ;; esac
	XFER_N0=$(nd_frames "${XFER_LINK_NOW%% *}")
	XFER_R0=$(($(tcp_rsts "$NS_C") + $(tcp_rsts "$NS_S")))
}

# xfer_count: the counters since the snapshot.
xfer_count() {
	XFER_FWD=$(($(lab_fwd_packets) - XFER_F0))
	XFER_LEARN_FWD=$((XFER_F0 - XFER_FWD0))
	XFER_PKTS=$(($(lab_dev_packets $XFER_LINK_NOW) - XFER_D0))
	XFER_REDIR=$(($(verdicts_keep "$TMP/xfer-$XFER_NAME.st1" redirect) - XFER_X0))
	XFER_TC_REDIR=0
	case ${XFER_VIA:-$(lab_tier)} in tc*) XFER_TC_REDIR=$(($(tc_redirects) - XFER_T0)) ;; esac
	XFER_ND=$(($(nd_frames "${XFER_LINK_NOW%% *}") - XFER_N0))
	XFER_INVALID=$(($(lab_counter invalid_pkts) - XFER_I0))
	XFER_RSTS=$(($(tcp_rsts "$NS_C") + $(tcp_rsts "$NS_S") - XFER_R0))
}

tcp_xfer_wait() {
	local name=$1 link held
	read -r XFER_BLOB XFER_CLI_PID XFER_SRV_PID link XFER_F0 XFER_D0 XFER_X0 XFER_I0 XFER_R0 \
		XFER_FWD0 XFER_N0 XFER_T0 held <<<"${XFER_STATE[$name]}"
	XFER_LINK_NOW=${link//,/ } XFER_OK=0 XFER_NAME=$name
	if ! wait "$XFER_CLI_PID"; then
		fail "$name" "client failed"
		touch "$TMP/$name.go"
		return 1
	fi
	wait "$XFER_SRV_PID"
	xfer_count
	echo -n "  $name: $XFER_PKTS packets, forward chain $XFER_FWD, XDP redirected $XFER_REDIR"
	case ${XFER_VIA:-$(lab_tier)} in tc*) echo -n ", TC redirected $XFER_TC_REDIR" ;; esac
	echo ", invalid $XFER_INVALID, RSTs $XFER_RSTS${held:+ (counted once offloaded; $XFER_LEARN_FWD before)}"
	if ! cmp -s "$XFER_BLOB" "$TMP/$name.out"; then
		fail "$name" "received data differs ($(stat -c %s "$TMP/$name.out" 2>/dev/null || echo 0) of $(stat -c %s "$XFER_BLOB") bytes)"
		return 1
	fi
	XFER_OK=1
}

# udp_xfer NAME SERVER PORT MB: MB megabytes (may be fractional, e.g.
# 0.1) echoed through a UDP server (udp_echo.py, numbered datagrams,
# retransmits) and compared. Sets XFER_* as tcp_xfer does. Options:
#   XFER_SPORT=N   the client's source port
#   XFER_LPORT=N   the server binds N, not PORT (a DNAT port forward)
#   XFER_LINK      as for tcp_xfer
#   XFER_HOLD=CMD  one datagram is echoed first (conntrack sees a reply),
#                  then up to XFER_HOLD_S seconds until CMD succeeds;
#                  the transfer is counted from then on
#   XFER_WARM=1    a short echo on the same ports first, not counted, so
#                  the daemon learns the flow; with XFER_HOLD, waits for
#                  CMD after it
udp_xfer() {
	local name=$1 srv=$2 port=$3 mb=$4 blob sum ready
	local lport=${XFER_LPORT:-$port} cli=(python3 "$E2E_DIR/udp_echo.py" client "$srv" "$port")
	blob=$TMP/udp$mb
	[ -e "$blob" ] || head -c "$(awk -v m="$mb" 'BEGIN { printf "%d", m * 1048576 }')" /dev/urandom >"$blob"
	XFER_NAME=$name XFER_BLOB=$blob XFER_OK=0 XFER_RSTS=0
	XFER_LINK_NOW=${XFER_LINK:-"$NS_S s0"}
	[ -n "${XFER_SPORT:-}" ] && cli+=(--sport "$XFER_SPORT")

	udp_server "$lport" || { fail "$name" "the UDP server did not bind"; return 1; }
	local srv_pid=${E2E_PIDS[-1]}
	xfer_snapshot
	XFER_FWD0=$XFER_F0
	if [ -n "${XFER_WARM:-}" ]; then
		[ -e "$TMP/udpwarm" ] || head -c 120K /dev/urandom >"$TMP/udpwarm"
		in_c timeout 60 "${cli[@]:0:5}" "$TMP/udpwarm" "${cli[@]:5}" >/dev/null
		[ -n "${XFER_HOLD:-}" ] && { wait_for "${XFER_HOLD_S:-15}" eval "$XFER_HOLD" ||
			echo "  $name: still not offloaded ($XFER_HOLD) after the first exchange"; }
		xfer_snapshot
		sum=$(in_c timeout "$XFER_TIMEOUT" "${cli[@]:0:5}" "$blob" "${cli[@]:5}")
	elif [ -n "${XFER_HOLD:-}" ]; then
		coproc UDPC { in_c timeout "$XFER_TIMEOUT" "${cli[@]:0:5}" "$blob" "${cli[@]:5}" --first 2>&1; }
		E2E_PIDS+=("$UDPC_PID")
		local cli_pid=$UDPC_PID
		read -r -t 20 ready <&"${UDPC[0]}"
		if [ "$ready" != ready ]; then
			fail "$name" "no UDP reply through the slow path ($ready)"
			kill "$srv_pid" 2>/dev/null
			return 1
		fi
		wait_for "${XFER_HOLD_S:-15}" eval "$XFER_HOLD" ||
			echo "  $name: still not offloaded ($XFER_HOLD) after the first datagram"
		xfer_snapshot
		echo go >&"${UDPC[1]}"
		read -r -t 150 sum <&"${UDPC[0]}"
		wait "$cli_pid" 2>/dev/null
	else
		sum=$(in_c timeout "$XFER_TIMEOUT" "${cli[@]:0:5}" "$blob" "${cli[@]:5}")
	fi
	xfer_count
	kill "$srv_pid" 2>/dev/null
	local tcnote=
	case ${XFER_VIA:-$(lab_tier)} in tc*) tcnote=", TC redirected $XFER_TC_REDIR" ;; esac
	echo "  $name: $XFER_PKTS packets, forward chain $XFER_FWD, XDP redirected $XFER_REDIR$tcnote${XFER_HOLD:+ (counted once offloaded; $XFER_LEARN_FWD before)}"
	if [ "$sum" != "$(sha256sum <"$blob" | cut -d' ' -f1)" ]; then
		fail "$name" "echoed data differs: ${sum:-no answer}"
		return 1
	fi
	XFER_OK=1
}

# --- what carried the last transfer ---

# Frames on the server's link that neither XDP nor the forward chain
# sees: ARP between the router and the server (a few exchanges at most
# during a transfer). IPv6 neighbour discovery is counted (XFER_ND).
XFER_LINK_LOCAL=8

# check_offloaded NAME: the last transfer arrived intact, the forward
# chain saw under 1% of its packets, and the redirect counter of the tier
# the lab's devices call for (XFER_VIA, default lab_tier; set for the
# transfer too) grew by every packet the forward chain did not see.
# With XFER_VIA=xdp, XDP's redirect counter (link-local frames aside).
# With XFER_VIA=tc, the TC tier's counter instead, which must also cover 99% of the packets, while XDP redirects
# none. With XFER_VIA=tc+xdp each direction is on its own tier (a shaped
# egress one way only): TC and XDP redirects together cover every packet
# the forward chain did not see, and the TC tier, which carries the
# upload's data, at least as many as XDP, which carries its ACKs. With
# XFER_VIA=flowtable, the kernel's flowtable carried it and only the
# forward chain is judged.
check_offloaded() {
	local name=$1 via=${XFER_VIA:-$(lab_tier)}
	if [ "${XFER_OK:-0}" != 1 ]; then
		fail "$name" "the transfer did not complete"
	elif [ $((XFER_FWD * 100)) -ge "$XFER_PKTS" ]; then
		fail "$name" "forward chain saw $XFER_FWD of $XFER_PKTS packets"
	elif [ "$via" = xdp ] &&
		[ $((XFER_REDIR + XFER_FWD + XFER_LINK_LOCAL + XFER_ND)) -lt "$XFER_PKTS" ]; then
		fail "$name" "XDP redirected $XFER_REDIR of $XFER_PKTS packets ($XFER_FWD in the forward chain, $XFER_ND ND)"
	elif [ "$via" = tc+xdp ] && { [ "$XFER_TC_REDIR" -lt "$XFER_REDIR" ] ||
		[ $((XFER_TC_REDIR + XFER_REDIR + XFER_FWD + XFER_LINK_LOCAL + XFER_ND)) -lt "$XFER_PKTS" ]; }; then
		fail "$name" "TC redirected $XFER_TC_REDIR, XDP $XFER_REDIR of $XFER_PKTS packets ($XFER_FWD in the forward chain)"
	elif [ "$via" = tc ] && [ "$XFER_REDIR" -ne 0 ]; then
		fail "$name" "XDP redirected $XFER_REDIR packets of TC-tier flows"
	elif [ "$via" = tc ] && { [ $((XFER_TC_REDIR * 100)) -lt $((XFER_PKTS * 99)) ] ||
		[ $((XFER_TC_REDIR + XFER_FWD + XFER_LINK_LOCAL + XFER_ND)) -lt "$XFER_PKTS" ]; }; then
		fail "$name" "the TC program redirected $XFER_TC_REDIR of $XFER_PKTS packets ($XFER_FWD in the forward chain)"
	else
		pass "$name"
		return 0
	fi
	xfer_why
	return 0
}

# check_slow NAME: the last transfer arrived intact on the slow path:
# neither XDP nor (counted with XFER_VIA=tc*, the default on a TC-tier
# lab) the TC program redirected any of it.
check_slow() {
	if [ "${XFER_OK:-0}" != 1 ]; then
		fail "$1" "the transfer did not complete"
	elif [ "$XFER_REDIR" -eq 0 ] && [ "${XFER_TC_REDIR:-0}" -eq 0 ] && [ "$XFER_FWD" -gt 0 ]; then
		pass "$1"
	else
		fail "$1" "XDP redirected $XFER_REDIR, TC ${XFER_TC_REDIR:-0} of $XFER_PKTS packets"
	fi
}

# csum_errors: the checksum errors both end hosts' stacks counted (nstat
# TcpInCsumErrors, UdpInCsumErrors, Udp6InCsumErrors), the client's and
# the server's together.
csum_errors() {
	local n=0 ns
	for ns in "$NS_C" "$NS_S"; do
		n=$((n + $(ip netns exec "$ns" nstat -asz TcpInCsumErrors UdpInCsumErrors Udp6InCsumErrors |
			awk '/CsumErrors/ { s += $2 } END { print s + 0 }')))
	done
	echo "$n"
}

tcp_rsts() {
	ip netns exec "$1" nstat -asz TcpOutRsts | awk '/TcpOutRsts/ { print $2 }'
}

# The forward chain stays still for a second: the flow is on the fast path.
fwd_quiet() {
	local a b
	a=$(lab_fwd_packets)
	sleep 1
	b=$(lab_fwd_packets)
	[ $((b - a)) -le 3 ]
}

# fwd_busy [SECONDS]: the forward chain sees over 20 packets in SECONDS
# (default 0.5): the flow is on the slow path.
fwd_busy() {
	local a b
	a=$(lab_fwd_packets)
	sleep "${1:-0.5}"
	b=$(lab_fwd_packets)
	[ $((b - a)) -gt 20 ]
}
