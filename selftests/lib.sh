#!/usr/bin/env bash
# lib.sh - shared helpers of the end-to-end tests. Source it; it sources
# scripts/lab.sh, and removes the lab and every process it started on exit.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$E2E_DIR/../.." && pwd)
# shellcheck source=../../scripts/lab.sh
source "$TOP/scripts/lab.sh"

TMP=$(mktemp -d /tmp/fastpath-e2e.XXXXXX)
E2E_PIDS=()
E2E_FAILED=0

e2e_cleanup() {
	local pid
	for pid in "${E2E_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${E2E_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	lab_down
	rm -rf "$TMP"
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

# Wait until a command succeeds, up to $1 tenths of a second.
wait_for() {
	local tries=$1
	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && return 1
		sleep 0.1
	done
}

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
	wait_for 300 udp_bound "$run" "$port"
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

# The packets the fast path carried for the entry with this ingress and source.
flow_packets() {
	fp flows --json | jq --arg src "$1" '[.[] | select(.src == $src) | .packets] | add // 0'
}

# start_daemon ARGS...: "fastpath run ARGS" on the router, logging to
# $TMP/daemon.log; waits until it reports itself running.
start_daemon() {
	spawn in_r "$FP" run "$@" >>"$TMP/daemon.log" 2>&1
	DAEMON_PID=$!
	wait_for 100 daemon_running || { echo "  daemon did not start:"; tail -5 "$TMP/daemon.log"; return 1; }
}

daemon_running() {
	kill -0 "$DAEMON_PID" 2>/dev/null &&
		fp status --json | grep -q "\"pid\":$DAEMON_PID"
}

stop_daemon() {
	kill "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
}

# A field of "fastpath status --json", e.g. status_field daemon offloaded.
status_field() {
	local path=
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

tcp_rsts() {
	ip netns exec "$1" nstat -asz TcpOutRsts | awk '/TcpOutRsts/ { print $2 }'
}

# tcp_xfer NAME FAMILY SERVER DPORT MB: a socat transfer client -> server;
# sets XFER_FWD (forward-chain packets), XFER_PKTS (server link packets),
# XFER_INVALID and XFER_RSTS (both ends) during it. Returns 1 on bad data.
tcp_xfer() {
	local name=$1 fam=$2 srv=$3 dport=$4 mb=$5
	local listen=TCP4-LISTEN connect=TCP4 f0 d0 i0 r0 x0
	[ "$fam" = ipv6 ] && listen=TCP6-LISTEN connect=TCP6
	[ -e "$TMP/blob$mb" ] || head -c "${mb}M" /dev/urandom >"$TMP/blob$mb"

	spawn in_s timeout 120 socat -u "$listen:$dport,reuseaddr" "OPEN:$TMP/$name.out,creat,trunc"
	local srv_pid=$!
	wait_for 30 listening $dport || { fail "$name" "server did not listen"; return 1; }
	f0=$(lab_fwd_packets) d0=$(lab_dev_packets "$NS_S" s0) i0=$(lab_counter invalid_pkts)
	x0=$(status_field verdicts redirect)
	r0=$(($(tcp_rsts "$NS_C") + $(tcp_rsts "$NS_S")))
	if ! in_c timeout 120 socat -u "FILE:$TMP/blob$mb" "$connect:$(ep "$srv" "$dport")"; then
		fail "$name" "client failed"
		return 1
	fi
	wait "$srv_pid"
	XFER_FWD=$(($(lab_fwd_packets) - f0))
	XFER_PKTS=$(($(lab_dev_packets "$NS_S" s0) - d0))
	XFER_INVALID=$(($(lab_counter invalid_pkts) - i0))
	XFER_REDIR=$(($(status_field verdicts redirect) - x0))
	XFER_RSTS=$(($(tcp_rsts "$NS_C") + $(tcp_rsts "$NS_S") - r0))
	echo "  $name: $XFER_PKTS packets, forward chain $XFER_FWD, XDP redirected $XFER_REDIR, invalid $XFER_INVALID, RSTs $XFER_RSTS"
	if ! cmp -s "$TMP/blob$mb" "$TMP/$name.out"; then
		fail "$name" "received data differs"
		return 1
	fi
}

# offloaded NAME: the last transfer put under 1% of its packets through
# the forward chain.
check_fast() {
	if [ $((XFER_FWD * 100)) -lt "$XFER_PKTS" ]; then
		pass "$1"
	else
		fail "$1" "forward chain saw $XFER_FWD of $XFER_PKTS packets"
	fi
}

# The last transfer stayed on the slow path: XDP redirected none of it.
check_slow() {
	if [ "$XFER_REDIR" -eq 0 ] && [ "$XFER_FWD" -gt 0 ]; then
		pass "$1"
	else
		fail "$1" "XDP redirected $XFER_REDIR of $XFER_PKTS packets"
	fi
}

# paced_start NAME PORT SECONDS MB: a TCP transfer (IPv4) spread over
# SECONDS; paced_wait NAME checks it arrived intact.
paced_start() {
	local name=$1 port=$2 secs=$3 mb=$4
	[ -e "$TMP/blob$mb" ] || head -c "${mb}M" /dev/urandom >"$TMP/blob$mb"
	spawn in_s timeout 120 socat -u "TCP4-LISTEN:$port,reuseaddr" "OPEN:$TMP/$name.out,creat,trunc"
	PACED_SRV=$!
	wait_for 30 listening $port || return 1
	# The pipeline's pid would be a subshell: record the client by its own
	# pid file instead, so cleanup can always reach it.
	python3 "$E2E_DIR/pace.py" "$TMP/blob$mb" "$secs" |
		ip netns exec "$NS_C" timeout 120 socat -u STDIN "TCP4:10.0.2.2:$port" &
	PACED_CLI=$!
	PACED_MB=$mb
}

paced_wait() {
	local name=$1
	if ! wait "$PACED_CLI"; then
		fail "$name" "client failed"
		return 1
	fi
	wait "$PACED_SRV"
	if ! cmp -s "$TMP/blob$PACED_MB" "$TMP/$name.out"; then
		fail "$name" "data differs ($(stat -c %s "$TMP/$name.out") bytes arrived)"
		return 1
	fi
}

# Daemon-made entries in the table (static ones excluded).
auto_entries() {
	fp flows --json | jq '[.[] | select(.static | not)] | length'
}

# The forward chain stays still for a second: the flow is on the fast path.
fwd_quiet() {
	local a b
	a=$(lab_fwd_packets)
	sleep 1
	b=$(lab_fwd_packets)
	[ $((b - a)) -le 3 ]
}

fwd_busy() {
	local a b
	a=$(lab_fwd_packets)
	sleep 0.5
	b=$(lab_fwd_packets)
	[ $((b - a)) -gt 20 ]
}
