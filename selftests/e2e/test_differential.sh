#!/usr/bin/env bash
# The fast path against the kernel, packet by packet (issue 11).
#
# Four connections (TCP and UDP, IPv4 and IPv6) through the lab's router,
# with the reference ruleset and masquerade. The client injects the same
# ~300 mutated frames (diffpkt.py: TTL, options, fragments, extension
# headers, checksums, TCP flags, truncation, trailing bytes, MACs, VLAN
# tags, DSCP/ECN, flow label, DF) with AF_PACKET, and the server captures
# with AF_PACKET what reaches it, twice:
#   fast:   the connections are in the flow table ("fastpath flow add",
#           with the NAT conntrack chose), so XDP forwards what it takes;
#   kernel: the same, without entries: XDP passes everything.
# The two captures must be the same frames, byte for byte and in count,
# but for the exceptions listed below. The fast run must really have
# forwarded the cases it should, and leave the table with only the
# documented state change: FIN or RST mark the TCP entries teardown.
source "$(dirname "$0")/../lib.sh"

PY="$E2E_DIR/diffpkt.py"
SPORT4=41001 SPORT6=41002 UPORT4=41003 UPORT6=41004 TPORT=8080 UPORT=5353

# The frames the fast path forwards itself (the flows' packet counters
# must add up to exactly these), by name: "f0-tcp4-dscp-ef-300".
FAST_RE='-(base|base-after|ttl2|dscp-ef|ecn-ect0|ecn-ce|dscp-cs1-ecn-ect1|bad-l4-csum|df-clear|udp-csum-zero|flowlabel|flowlabel-dscp|tcp-urg-ack|tcp-psh-ack-ece-cwr)-[0-9]+$|-tcp[46]-trunc-l4-payload-'


# Exceptions: "CASE N: reason". N frames of the case reach the server in
# the fast run, none in the kernel run.
EXCEPTIONS=(
"bad-l4-csum 8: conntrack verifies the L4 checksum on the slow path and \
calls the packet invalid, which the ruleset drops; XDP does not sum the \
payload (nf_flowtable does not either), its incremental NAT update keeps the \
checksum as wrong as it came, and the server's stack drops the packet"
"trunc-l4-payload 4: the same for TCP: an IP length that cuts the segment \
inside its payload leaves a whole TCP header whose checksum no longer \
verifies (a UDP length beyond the IP packet sends UDP up as malformed)"
)

setup() {
	lab_up || return 1
	fp attach r0 r1 || return 1
	# The server drops what it gets, so it answers nothing (no RST, no
	# ICMP) that conntrack would see differently in the two runs.
	in_s nft -f - <<-EOF || return 1
		table inet diff {
			chain input {
				type filter hook input priority filter;
				meta l4proto { tcp, udp } drop
			}
		}
	EOF
	local cmac rmac
	cmac=$(ip -n "$NS_C" -j link show c0 | jq -r '.[0].address')
	rmac=$(ip -n "$NS_R" -j link show r0 | jq -r '.[0].address')
	cat >"$TMP/spec.json" <<-EOF
	{ "cmac": "$cmac", "rmac": "$rmac", "flows": [
	  { "family": 4, "proto": "tcp", "src": "10.0.1.2", "dst": "10.0.2.2", "sport": $SPORT4, "dport": $TPORT },
	  { "family": 6, "proto": "tcp", "src": "fd00:1::2", "dst": "fd00:2::2", "sport": $SPORT6, "dport": $TPORT },
	  { "family": 4, "proto": "udp", "src": "10.0.1.2", "dst": "10.0.2.2", "sport": $UPORT4, "dport": $UPORT },
	  { "family": 6, "proto": "udp", "src": "fd00:1::2", "dst": "fd00:2::2", "sport": $UPORT6, "dport": $UPORT }
	] }
	EOF
	python3 "$PY" frames "$TMP/spec.json" "$TMP/frames" || return 1
	# The first frame of each flow, alone: it makes the conntrack entry.
	awk '$1 ~ /-base-10$/' "$TMP/frames" >"$TMP/setup"
	[ "$(wc -l <"$TMP/setup")" -eq 4 ] && [ "$(wc -l <"$TMP/frames")" -ge 200 ]
}

# offload PROTO FAMILY CLIENT SERVER SPORT DPORT: the client-to-server
# direction in the table, with the NAT conntrack chose.
offload() {
	local nat natport
	read -r nat natport < <(ct_reply "$1" "$2" "$5")
	[ -n "$nat" ] || { echo "  no conntrack entry for $1 $2 port $5"; return 1; }
	fp flow add -i r0 -o r1 -p "$1" -s "$(ep "$3" "$5")" -d "$(ep "$4" "$6")" \
		--snat "$(ep "$nat" "$natport")"
}

# run NAME OFFLOAD: inject every frame, capture at the server into
# $TMP/NAME.cap. OFFLOAD=1 puts the four flows in the table first.
run() {
	local name=$1 offload=$2 cap_pid
	in_r conntrack -F >/dev/null 2>&1
	rm -f "$TMP/$name.ready"
	spawn in_s python3 "$PY" capture s0 "$TMP/frames" "$TMP/$name.cap" "$TMP/$name.ready"
	cap_pid=$!
	wait_for 100 test -e "$TMP/$name.ready" || { echo "  capture did not start"; return 1; }
	in_c python3 "$PY" inject c0 "$TMP/setup" || return 1
	wait_for 30 ct_established udp ipv6 "$UPORT6" || { echo "  no conntrack entries"; return 1; }
	if [ "$offload" = 1 ]; then
		offload tcp ipv4 10.0.1.2 10.0.2.2 $SPORT4 $TPORT &&
		offload tcp ipv6 fd00:1::2 fd00:2::2 $SPORT6 $TPORT &&
		offload udp ipv4 10.0.1.2 10.0.2.2 $UPORT4 $UPORT &&
		offload udp ipv6 fd00:1::2 fd00:2::2 $UPORT6 $UPORT || return 1
		flows_json >"$TMP/$name.flows0" || return 1
	fi
	in_c python3 "$PY" inject c0 "$TMP/frames" || return 1
	# The end marker goes through the kernel, after everything else.
	in_c python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"FPDIFF-END", ("10.0.2.2", 9))'
	wait "$cap_pid" || { echo "  capture failed"; return 1; }
	if [ "$offload" = 1 ]; then
		flows_json >"$TMP/$name.flows" || return 1
	fi
	return 0
}

compare() {
	local ok=1 c n_fast n_kern
	# Setup frames and the rest, sorted: arrival order is not compared
	# (redirected and passed frames take different queues).
	sort "$TMP/fast.cap" >"$TMP/fast.sorted"
	sort "$TMP/kernel.cap" >"$TMP/kernel.sorted"
	n_fast=$(wc -l <"$TMP/fast.sorted")
	n_kern=$(wc -l <"$TMP/kernel.sorted")
	echo "  $(wc -l <"$TMP/frames") frames sent (+4 setup); server got $n_fast (fast), $n_kern (kernel)"
	if [ "$n_kern" -lt 100 ]; then
		fail differential-sanity "the kernel run delivered only $n_kern frames"
		return 1
	fi
	# Exception cases, by their case part.
	local exc e
	exc=$(printf '%s\n' "${EXCEPTIONS[@]}" | awk '{ print $1 }' | paste -sd'|')
	grep -v -E -- "-($exc)-[0-9]+ " "$TMP/fast.sorted" >"$TMP/fast.rest"
	grep -v -E -- "-($exc)-[0-9]+ " "$TMP/kernel.sorted" >"$TMP/kernel.rest"
	if ! cmp -s "$TMP/fast.rest" "$TMP/kernel.rest"; then
		diff <(awk '{ print $1, length($2) / 2 }' "$TMP/kernel.rest") \
		     <(awk '{ print $1, length($2) / 2 }' "$TMP/fast.rest") | head -20 | sed 's/^/    /'
		diff "$TMP/kernel.rest" "$TMP/fast.rest" | grep '^[<>]' | head -4 | cut -c1-220 | sed 's/^/    /'
		fail differential "the server got different frames (< kernel, > fast; case and length above)"
		ok=0
	fi
	# Each exception behaves as documented, so a change shows.
	for e in "${EXCEPTIONS[@]}"; do
		local c n k f
		read -r c n <<<"${e%%:*}"
		k=$(grep -c -E -- "-$c-[0-9]+ " "$TMP/kernel.sorted")
		f=$(grep -c -E -- "-$c-[0-9]+ " "$TMP/fast.sorted")
		if [ "$k" -ne 0 ] || [ "$f" -ne "$n" ]; then
			fail "differential-exception-$c" "kernel delivered $k, fast $f; documented: 0 and $n"
			ok=0
		fi
		echo "  exception $c: ${e#*: }"
	done
	[ "$ok" = 1 ] && pass differential
}

# The fast run carried exactly the FAST_CASES frames itself, and the
# table holds the four entries, TCP in teardown (FIN, RST), UDP still xdp.
check_table() {
	local want got states
	want=$(awk '{ print $1 }' "$TMP/frames" | grep -c -E -- "$FAST_RE")
	got=$(jq '[.[].packets] | add' "$TMP/fast.flows")
	states=$(jq -r '[.[] | "\(.proto)/\(.state)"] | sort | join(" ")' "$TMP/fast.flows")
	echo "  fast path carried $got frames (want $want); entries: $states"
	if [ "$got" != "$want" ]; then
		fail differential-fast-carried "the flows counted $got packets, want $want"
	else
		pass differential-fast-carried
	fi
	if [ "$states" != "tcp/teardown tcp/teardown udp/xdp udp/xdp" ]; then
		fail differential-table "entries after the run: '$states'; want the TCP ones torn down by FIN/RST, the UDP ones untouched"
	else
		pass differential-table
	fi
}

if ! setup; then
	fail differential "lab setup failed"
	exit 1
fi
run fast 1 || { fail differential "the fast run failed"; exit 1; }
# The kernel alone: no entries.
for f in $(jq -r '.[] | "\(.proto)|\(.src)|\(.dst)"' "$TMP/fast.flows"); do
	IFS='|' read -r p s d <<<"$f"
	fp flow del -i r0 -p "$p" -s "$s" -d "$d" || fail differential "flow del $s failed"
done
n=$(flows_json | jq length) && [ "$n" = 0 ] || fail differential "entries left before the kernel run (or the table cannot be read)"
run kernel 0 || { fail differential "the kernel run failed"; exit 1; }
compare
check_table
# DIFF_KEEP=DIR keeps the frames and both captures for a closer look.
[ -n "${DIFF_KEEP:-}" ] && mkdir -p "$DIFF_KEEP" && cp "$TMP"/frames "$TMP"/*.cap "$TMP"/*.flows "$DIFF_KEEP"/
exit "$E2E_FAILED"
