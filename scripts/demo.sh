#!/usr/bin/env bash
# demo.sh - "sudo make demo": a NAT transfer carried by the XDP fast path.
#
# Builds the client/router/server lab with the reference ruleset and
# masquerade, attaches fastpath to the router, opens a TCP connection
# through the slow path, installs its two directions from the conntrack
# entry, moves 64 MB and shows what the fast path did. Everything it
# creates is removed on exit.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
LAB_ID=demo$$
source "$TOP/scripts/lab.sh"

TMP=$(mktemp -d /tmp/fastpath-demo.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	lab_down
	rm -rf "$TMP"
	echo "== lab removed"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (sudo make demo)" >&2; exit 1; }

say "lab: client 10.0.1.2 -> router (nft policy drop + masquerade) -> server 10.0.2.2"
lab_up || exit 1
in_r sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=1
show fp attach r0 r1

say "a TCP connection to the server, port 80, first bytes through the slow path"
head -c 64M /dev/urandom >"$TMP/blob"
in_s socat -u TCP4-LISTEN:80,reuseaddr "OPEN:$TMP/out,creat,trunc" &
PIDS+=($!)
srv=$!
sleep 0.5
{ head -c 1000 "$TMP/blob"; while [ ! -e "$TMP/go" ]; do sleep 0.1; done; tail -c +1001 "$TMP/blob"; } |
	in_c socat -u STDIN TCP4:10.0.2.2:80,sourceport=40080 &
PIDS+=($!)
cli=$!
for _ in $(seq 50); do
	ct=$(in_r conntrack -L -p tcp --orig-port-src 40080 2>/dev/null | grep ESTABLISHED) && break
	sleep 0.1
done
printf '$ conntrack -L\n%s\n' "$ct"
read -r nat natport < <(awk '{ for (i = 1; i <= NF; i++) {
	if ($i ~ /^dst=/ && ++d == 2) a = substr($i, 5)
	if ($i ~ /^dport=/ && ++p == 2) b = substr($i, 7) } print a, b }' <<<"$ct")

say "offload both directions with the tuple conntrack chose"
show fp flow add -i r0 -o r1 -p tcp -s 10.0.1.2:40080 -d 10.0.2.2:80 --snat "$nat:$natport"
show fp flow add -i r1 -o r0 -p tcp -s "10.0.2.2:80" -d "$nat:$natport" --dnat 10.0.1.2:40080

fwd0=$(lab_fwd_packets)
say "moving 64 MB"
start=$(date +%s.%N)
touch "$TMP/go"
wait "$cli" && wait "$srv"
end=$(date +%s.%N)
if cmp -s "$TMP/blob" "$TMP/out"; then
	echo "64 MB arrived intact in $(printf '%.2f' "$(echo "$end - $start" | bc 2>/dev/null || echo 0)") s"
else
	echo "DATA DIFFERS"
fi
echo "forward chain saw $(($(lab_fwd_packets) - fwd0)) packets of the transfer"

say "what the fast path did"
show fp flows
show fp status
