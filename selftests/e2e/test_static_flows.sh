#!/usr/bin/env bash
# Static flows through NAT: the lab runs the reference ruleset with
# masquerade, a connection is opened through the slow path, its real NAT
# tuple is read from conntrack, both directions are added with
# "fastpath flow add", and the bulk of the transfer must then arrive
# intact with the forward chain seeing under 1% of its packets.
source "$(dirname "$0")/lib.sh"

SIZE_MB=${SIZE_MB:-24}

# Static flows have no daemon to set BE_LIBERAL on the connection, and
# conntrack never sees the window move; without this, the closing FIN
# would be INVALID and dropped by the ruleset.
setup() {
	lab_up || return 1
	fp attach r0 r1 || return 1
	in_r sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=1
	head -c "${SIZE_MB}M" /dev/urandom >"$TMP/blob"
}

# offload_both NAME PROTO FAMILY CLIENT SERVER SPORT DPORT: read the NAT
# tuple from conntrack and install both directions.
offload_both() {
	local name=$1 proto=$2 fam=$3 cli=$4 srv=$5 sport=$6 dport=$7
	local nat natport
	read -r nat natport < <(ct_reply "$proto" "$fam" "$sport")
	if [ -z "$nat" ]; then
		fail "$name" "no conntrack entry for source port $sport"
		return 1
	fi
	fp flow add -i r0 -o r1 -p "$proto" -s "$(ep "$cli" "$sport")" \
		-d "$(ep "$srv" "$dport")" --snat "$(ep "$nat" "$natport")" &&
	fp flow add -i r1 -o r0 -p "$proto" -s "$(ep "$srv" "$dport")" \
		-d "$(ep "$nat" "$natport")" --dnat "$(ep "$cli" "$sport")" || {
		fail "$name" "flow add failed"
		return 1
	}
}

remove_both() {
	local proto=$1 cli=$2 srv=$3 sport=$4 dport=$5 nat=$6 natport=$7
	fp flow del -i r0 -p "$proto" -s "$(ep "$cli" "$sport")" -d "$(ep "$srv" "$dport")"
	fp flow del -i r1 -p "$proto" -s "$(ep "$srv" "$dport")" -d "$(ep "$nat" "$natport")"
}

# check_offloaded NAME FWD_BEFORE DEV_BEFORE SRC: under 1% of the packets
# the server's link carried went through the forward chain.
check_offloaded() {
	local name=$1 fwd0=$2 dev0=$3 src=$4
	local fwd=$(($(lab_fwd_packets) - fwd0))
	local total=$(($(lab_dev_packets "$NS_S" s0) - dev0))
	local carried
	carried=$(flow_packets "$src")
	echo "  $name: $total packets on the server link, $fwd in the forward chain, $carried on the fast path"
	if [ "$carried" -le 0 ]; then
		fail "$name" "the fast path carried nothing"
		return 1
	fi
	if [ $((fwd * 100)) -ge "$total" ]; then
		fail "$name" "forward chain saw $fwd of $total packets (>= 1%)"
		return 1
	fi
}

tcp_transfer() {
	local name=$1 fam=$2 cli=$3 srv=$4 dport=$5 sport=$6
	local listen=TCP4-LISTEN connect=TCP4 nat natport fwd0 dev0
	[ "$fam" = ipv6 ] && listen=TCP6-LISTEN connect=TCP6

	spawn in_s timeout 120 socat -u "$listen:$dport,reuseaddr" "OPEN:$TMP/$name.out,creat,trunc"
	local srv_pid=$!
	wait_for 30 listening $dport || { fail "$name" "server did not listen"; return; }
	# 1000 bytes through the slow path, then hold until the flows are in.
	{ head -c 1000 "$TMP/blob"; wait_for 600 test -e "$TMP/$name.go"; tail -c +1001 "$TMP/blob"; } |
		in_c timeout 120 socat -u STDIN "$connect:$(ep "$srv" "$dport"),sourceport=$sport" &
	local cli_pid=$!
	E2E_PIDS+=("$cli_pid")
	if ! wait_for 50 ct_established tcp "$fam" "$sport"; then
		fail "$name" "connection not established"
		touch "$TMP/$name.go"
		return
	fi
	offload_both "$name" tcp "$fam" "$cli" "$srv" "$sport" "$dport" || { touch "$TMP/$name.go"; return; }
	read -r nat natport < <(ct_reply tcp "$fam" "$sport")
	fwd0=$(lab_fwd_packets)
	dev0=$(lab_dev_packets "$NS_S" s0)
	touch "$TMP/$name.go"
	wait "$cli_pid" || { fail "$name" "client failed"; return; }
	wait "$srv_pid" || { fail "$name" "server failed"; return; }
	if ! cmp -s "$TMP/blob" "$TMP/$name.out"; then
		fail "$name" "received data differs ($(stat -c %s "$TMP/$name.out") of $(stat -c %s "$TMP/blob") bytes)"
		return
	fi
	check_offloaded "$name" "$fwd0" "$dev0" "$(ep "$cli" "$sport")" && pass "$name"
	remove_both tcp "$cli" "$srv" "$sport" "$dport" "$nat" "$natport"
}

udp_transfer() {
	local name=$1 fam=$2 cli=$3 srv=$4 dport=$5 sport=$6
	local nat natport fwd0 dev0 sum want

	udp_server "$dport"
	coproc UDPC { in_c timeout 120 python3 "$E2E_DIR/udp_echo.py" client "$srv" "$dport" \
		"$TMP/blob" --sport "$sport" --first 2>&1; }
	local cli_pid=$UDPC_PID
	E2E_PIDS+=("$cli_pid")
	local ready
	read -r -t 20 ready <&"${UDPC[0]}"
	if [ "$ready" != ready ]; then
		fail "$name" "no UDP reply through the slow path ($ready)"
		return
	fi
	offload_both "$name" udp "$fam" "$cli" "$srv" "$sport" "$dport" || return
	read -r nat natport < <(ct_reply udp "$fam" "$sport")
	fwd0=$(lab_fwd_packets)
	dev0=$(lab_dev_packets "$NS_S" s0)
	echo go >&"${UDPC[1]}"
	read -r -t 120 sum <&"${UDPC[0]}"
	wait "$cli_pid" 2>/dev/null
	want=$(sha256sum <"$TMP/blob" | cut -d' ' -f1)
	if [ "$sum" != "$want" ]; then
		fail "$name" "echoed data differs: $sum"
		return
	fi
	check_offloaded "$name" "$fwd0" "$dev0" "$(ep "$cli" "$sport")" && pass "$name"
	remove_both udp "$cli" "$srv" "$sport" "$dport" "$nat" "$natport"
}

if ! setup; then
	fail static-flows-setup "lab setup or attach failed"
	exit 1
fi
tcp_transfer static-tcp4 ipv4 10.0.1.2 10.0.2.2 5001 40001
tcp_transfer static-tcp6 ipv6 fd00:1::2 fd00:2::2 5002 40002
udp_transfer static-udp4 ipv4 10.0.1.2 10.0.2.2 5003 40003
udp_transfer static-udp6 ipv6 fd00:1::2 fd00:2::2 5004 40004
exit $E2E_FAILED
