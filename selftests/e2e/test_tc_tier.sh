#!/usr/bin/env bash
# The TC tier with static flows, through veths with their default offloads:
# the end hosts keep transmit checksum offload on, so the router receives
# CHECKSUM_PARTIAL skbs, which XDP cannot forward correctly (issue 12).
# Both directions of each connection are added with "fastpath flow add
# --tc": XDP passes them ("tier_tc") and the clsact ingress program
# forwards them with bpf_redirect(). Each transfer must arrive intact,
# the receivers must count no checksum errors (nstat), the forward chain
# must see under 1% of the packets, and the TC program's redirect counter
# (fp_tc_stats) must account for the rest while XDP redirects none.
#
# Then jumbo frames: with a 9000-byte LAN MTU the frags-aware XDP program
# still attaches in native mode, and a frame longer than a page, which
# arrives in several buffers, goes up as "multibuf" and gets its answer.
source "$(dirname "$0")/lib.sh"

SIZE_MB=${SIZE_MB:-24}
export LAB_TX_OFFLOAD=on

setup() {
	lab_up || return 1
	fp attach r0 r1 || return 1
	# Static flows have no daemon to set BE_LIBERAL (test_static_flows.sh).
	in_r sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=1
	head -c "${SIZE_MB}M" /dev/urandom >"$TMP/blob"
}

# One counter of the TC program, summed over CPUs: tc_counter REASON_INDEX.
tc_counter() {
	bpftool -j map lookup pinned "$FASTPATH_PIN_DIR/fp_tc_stats" key "$1" 0 0 0 |
		jq '[.formatted.values[].value.packets] | add'
}
TC_REDIRECT=0	# FP_R_REDIRECT

# Checksum errors counted by both end hosts' stacks.
csum_errors() {
	local n=0 ns
	for ns in "$NS_C" "$NS_S"; do
		n=$((n + $(ip netns exec "$ns" nstat -asz TcpInCsumErrors UdpInCsumErrors Udp6InCsumErrors |
			awk '/CsumErrors/ { s += $2 } END { print s + 0 }')))
	done
	echo "$n"
}

offload_both() {
	local name=$1 proto=$2 fam=$3 cli=$4 srv=$5 sport=$6 dport=$7
	local nat natport
	read -r nat natport < <(ct_reply "$proto" "$fam" "$sport")
	if [ -z "$nat" ]; then
		fail "$name" "no conntrack entry for source port $sport"
		return 1
	fi
	NAT=$nat NATPORT=$natport
	fp flow add --tc -i r0 -o r1 -p "$proto" -s "$(ep "$cli" "$sport")" \
		-d "$(ep "$srv" "$dport")" --snat "$(ep "$nat" "$natport")" &&
	fp flow add --tc -i r1 -o r0 -p "$proto" -s "$(ep "$srv" "$dport")" \
		-d "$(ep "$nat" "$natport")" --dnat "$(ep "$cli" "$sport")" || {
		fail "$name" "flow add failed"
		return 1
	}
}

remove_both() {
	local proto=$1 cli=$2 srv=$3 sport=$4 dport=$5
	fp flow del -i r0 -p "$proto" -s "$(ep "$cli" "$sport")" -d "$(ep "$srv" "$dport")"
	fp flow del -i r1 -p "$proto" -s "$(ep "$srv" "$dport")" -d "$(ep "$NAT" "$NATPORT")"
}

# Baselines, taken once the flows are in.
mark() {
	F0=$(lab_fwd_packets) D0=$(lab_dev_packets "$NS_S" s0)
	T0=$(tc_counter $TC_REDIRECT) X0=$(status_field verdicts redirect)
	E0=$(csum_errors)
}

check_tc() {
	local name=$1
	local fwd=$(($(lab_fwd_packets) - F0)) total=$(($(lab_dev_packets "$NS_S" s0) - D0))
	local tc=$(($(tc_counter $TC_REDIRECT) - T0)) xdp=$(($(status_field verdicts redirect) - X0))
	local errs=$(($(csum_errors) - E0))
	echo "  $name: $total packets on the server link, forward chain $fwd, TC redirected $tc, XDP redirected $xdp, checksum errors $errs"
	if [ "$errs" -ne 0 ]; then
		fail "$name" "the end hosts counted $errs checksum errors"
	elif [ $((fwd * 100)) -ge "$total" ]; then
		fail "$name" "forward chain saw $fwd of $total packets (>= 1%)"
	elif [ "$xdp" -ne 0 ]; then
		fail "$name" "XDP redirected $xdp packets of TC-tier flows"
	elif [ $((tc * 100)) -lt $((total * 99)) ]; then
		fail "$name" "the TC program redirected $tc of $total packets"
	else
		pass "$name"
	fi
}

tcp_transfer() {
	local name=$1 fam=$2 cli=$3 srv=$4 dport=$5 sport=$6
	local listen=TCP4-LISTEN connect=TCP4
	[ "$fam" = ipv6 ] && listen=TCP6-LISTEN connect=TCP6

	spawn in_s timeout 120 socat -u "$listen:$dport,reuseaddr" "OPEN:$TMP/$name.out,creat,trunc"
	local srv_pid=$!
	wait_for 30 listening "$dport" || { fail "$name" "server did not listen"; return; }
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
	mark
	touch "$TMP/$name.go"
	wait "$cli_pid" || { fail "$name" "client failed"; return; }
	wait "$srv_pid" || { fail "$name" "server failed"; return; }
	if ! cmp -s "$TMP/blob" "$TMP/$name.out"; then
		fail "$name" "received data differs ($(stat -c %s "$TMP/$name.out") of $(stat -c %s "$TMP/blob") bytes)"
		return
	fi
	check_tc "$name"
	remove_both tcp "$cli" "$srv" "$sport" "$dport"
}

udp_transfer() {
	local name=$1 fam=$2 cli=$3 srv=$4 dport=$5 sport=$6
	local sum want

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
	mark
	echo go >&"${UDPC[1]}"
	read -r -t 120 sum <&"${UDPC[0]}"
	wait "$cli_pid" 2>/dev/null
	want=$(sha256sum <"$TMP/blob" | cut -d' ' -f1)
	if [ "$sum" != "$want" ]; then
		fail "$name" "echoed data differs: $sum"
		return
	fi
	check_tc "$name"
	remove_both udp "$cli" "$srv" "$sport" "$dport"
}

# Native XDP with a 9000-byte LAN MTU; a jumbo frame goes up in pieces.
jumbo() {
	local name=tc-jumbo-native-xdp mb0 mb
	fp detach >/dev/null 2>&1
	in_c ip link set c0 mtu 9000 && in_r ip link set r0 mtu 9000 || {
		fail "$name" "cannot set MTU 9000"
		return
	}
	if ! fp attach --mode native r0 r1; then
		fail "$name" "native XDP refused r0 with MTU 9000"
		return
	fi
	if ! in_r ip -d link show r0 | grep -q ' xdp '; then
		fail "$name" "r0 is not in native XDP mode: $(in_r ip link show r0 | head -1)"
		return
	fi
	mb0=$(status_field pass_reasons multibuf)
	if ! in_c ping -c 3 -i 0.2 -W 2 -s 8000 -M do 10.0.1.1 >/dev/null; then
		fail "$name" "an 8028-byte ping to the router got no answer"
		return
	fi
	mb=$(($(status_field pass_reasons multibuf) - mb0))
	echo "  $name: r0 native XDP at MTU 9000, $mb multi-buffer frames passed"
	if [ "$mb" -lt 3 ]; then
		fail "$name" "$mb multi-buffer frames counted, want 3"
		return
	fi
	pass "$name"
}

if ! setup; then
	fail tc-tier-setup "lab setup or attach failed"
	exit 1
fi

tcp_transfer tc-tcp4 ipv4 10.0.1.2 10.0.2.2 5001 40001
tcp_transfer tc-tcp6 ipv6 fd00:1::2 fd00:2::2 5002 40002
udp_transfer tc-udp4 ipv4 10.0.1.2 10.0.2.2 5003 40003
udp_transfer tc-udp6 ipv6 fd00:1::2 fd00:2::2 5004 40004
jumbo
exit $E2E_FAILED
