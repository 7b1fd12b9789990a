#!/usr/bin/env bash
# demo.sh - "sudo make demo": connections offloaded automatically.
#
# Builds the client/router/server lab with the reference ruleset (policy
# drop, "ct state invalid drop", ct mark 1 on TCP 80/443) and masquerade,
# runs "fastpath run --policy mark:1/1" on the router, and moves 64 MB to
# port 80 and 16 MB to port 22 through NAT. Port 80 is offloaded by
# itself; port 22 is not selected and stays on the slow path. Everything
# the demo creates is removed on exit.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
LAB_ID=demo$$
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (sudo make demo)" >&2; exit 1; }
# The tests' library: the lab, the daemon, transfers and their checks; it
# removes everything on exit.
source "$TOP/selftests/lib.sh"
trap 'e2e_cleanup; echo "== lab removed"' EXIT

say() { printf '\n== %s\n' "$*"; }
show() { printf '$ fastpath %s\n' "$*"; fp "$@"; }

say "lab: client 10.0.1.2 -> router (nft policy drop, mark 80/443, masquerade) -> server 10.0.2.2"
lab_up || exit 1
start_daemon --policy mark:1/1 r0 r1 || exit 1
echo '$ fastpath run --policy mark:1/1 r0 r1 &'
sed 's/^/  /' "$DAEMON_LOG"

# transfer NAME PORT MB SECONDS: a paced transfer; shows the table once
# the connection is in it, or SECONDS into the transfer.
transfer() {
	local name=$1 port=$2 mb=$3 secs=$4
	XFER_PACE=$secs tcp_xfer_start "$name" ipv4 10.0.2.2 "$port" "$mb" || return 1
	wait_for "$secs" port_offloaded "$port"
	show flows
	tcp_xfer_wait "$name" && echo "$mb MB arrived intact"
}

say "64 MB to port 80: conntrack marks it, fastpath learns and offloads it"
transfer http 80 64 8 && check_offloaded http-offloaded

say "16 MB to port 22: not marked, so it stays on the slow path"
transfer ssh 22 16 3 && check_slow ssh-stays-slow

say "what the fast path did"
show status

say "live: port 80 and port 22 at once, as fastpath top and explain see them"
XFER_PACE=20 tcp_xfer_start http2 ipv4 10.0.2.2 80 48 &&
	XFER_PACE=20 tcp_xfer_start ssh2 ipv4 10.0.2.2 22 8 || exit 1
# port 22 keeps the forward chain busy: wait for the table alone
in_table() { [ "$(port_entries "$1")" -ge 2 ]; }
wait_for 30 in_table 80
sleep 1		# a rate measured over a whole second
show top --once
show explain 10.0.2.2:22
tcp_xfer_wait http2 >/dev/null
tcp_xfer_wait ssh2 >/dev/null
