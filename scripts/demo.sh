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
source "$TOP/scripts/lab.sh"

TMP=$(mktemp -d /tmp/fastpath-demo.XXXXXX)
cleanup() {
	lab_down
	rm -rf "$TMP"
	echo "== lab removed"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { printf '\n== %s\n' "$*"; }
show() { printf '$ fastpath %s\n' "$*"; fp "$@"; }

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (sudo make demo)" >&2; exit 1; }

say "lab: client 10.0.1.2 -> router (nft policy drop, mark 80/443, masquerade) -> server 10.0.2.2"
lab_up || exit 1
nsenter --no-fork --net=/run/netns/"$NS_R" "$FP" run --policy mark:1/1 r0 r1 2>"$TMP/daemon.log" &
for _ in $(seq 50); do
	fp status --json 2>/dev/null | grep -q '"running":true' && break
	sleep 0.1
done
echo '$ fastpath run --policy mark:1/1 r0 r1 &'
sed 's/^/  /' "$TMP/daemon.log"

# transfer NAME PORT MB SECONDS: a paced socat transfer; prints the result.
transfer() {
	local name=$1 port=$2 mb=$3 secs=$4 f0
	head -c "${mb}M" /dev/urandom >"$TMP/$name.in"
	ip netns exec "$NS_S" socat -u "TCP4-LISTEN:$port,reuseaddr" "OPEN:$TMP/$name.out,creat,trunc" &
	local srv=$!
	sleep 0.3
	f0=$(lab_fwd_packets)
	python3 "$TOP/selftests/e2e/pace.py" "$TMP/$name.in" "$secs" |
		ip netns exec "$NS_C" socat -u STDIN "TCP4:10.0.2.2:$port" &
	local cli=$!
	sleep $((secs / 2))
	show flows
	wait "$cli"
	wait "$srv"
	if cmp -s "$TMP/$name.in" "$TMP/$name.out"; then
		echo "$mb MB arrived intact; the router's forward chain saw $(($(lab_fwd_packets) - f0)) packets"
	else
		echo "DATA DIFFERS"
	fi
}

say "64 MB to port 80: conntrack marks it, fastpath learns and offloads it"
transfer http 80 64 4

say "16 MB to port 22: not marked, so it stays on the slow path"
transfer ssh 22 16 2

say "what the fast path did"
show status
