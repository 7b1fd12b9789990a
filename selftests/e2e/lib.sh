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

# Background a command and remember its pid for the cleanup.
spawn() {
	"$@" &
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
	fp flows --json | python3 -c '
import json, sys
src = sys.argv[1]
print(sum(f["packets"] for f in json.load(sys.stdin) if f["src"] == src))' "$1"
}
