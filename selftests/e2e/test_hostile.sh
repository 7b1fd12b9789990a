#!/usr/bin/env bash
# Hostile input and changes nothing else watches (issue 11, M2-M4):
#   - connections that end on the router itself (200 idle loopback ones,
#     and one of its own to the server) are never candidates (hold local);
#   - a host on the WAN sends 20 RSTs with the right tuple and random
#     sequence numbers at an offloaded download: the connection survives,
#     is back on the fast path within 2 s, and still closes cleanly;
#   - a policy-routing rule added under a live flow moves it within 1 s;
#   - an idle forwarded connection leaves the learning map after 10 s
#     (hold not_learned), and status shows the learning-map counters.
source "$(dirname "$0")/../lib.sh"

if ! lab_up; then
	fail hostile-setup "lab setup failed"
	exit 1
fi
start_daemon --policy all --idle-timeout 300 r0 r1 || { fail hostile-daemon "did not start"; exit 1; }
# Where a WAN host sends its frames to: the router's WAN port.
rmac=$(ip -n "$NS_R" -j link show r1 | jq -r '.[0].address')

# explain_hold ENDPOINT: the hold reason "fastpath explain" gives the
# first connection with that endpoint.
explain_hold() {
	fp explain --json --no-sample "$1" | jq -r '.connections[0].hold // "none"'
}

# conntrack's own count of invalid packets in the router: an invalid
# packet addressed to the masquerade address never reaches the forward
# chain (without its conntrack entry it is not de-NATed, and goes to INPUT).
ct_invalid() {
	in_r conntrack -S 2>/dev/null | grep -o 'invalid=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }'
}

# sleep_until USECS: sleep until the clock ($(usecs)) reaches USECS.
sleep_until() {
	local left=$(($1 - $(usecs)))
	[ "$left" -gt 0 ] && sleep "$(awk -v u="$left" 'BEGIN { printf "%.3f", u / 1e6 }')"
	return 0
}

# slow_share: FWD and PKTS since the last call: the forward chain's packets
# and the server link's (the download's packets, both ways).
slow_share() {
	local f d
	f=$(lab_fwd_packets) d=$(lab_dev_packets "$NS_S" s0)
	FWD=$((f - ${SH_F:-f})) PKTS=$((d - ${SH_D:-d}))
	SH_F=$f SH_D=$d
}

# --- M4: connections that end on the router ---
# 200 idle loopback connections, held open by one process in the router.
spawn in_r python3 -c '
import socket, sys, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 9100))
srv.listen(256)
conns = []
for _ in range(200):
    conns.append(socket.create_connection(("127.0.0.1", 9100)))
    conns.append(srv.accept()[0])
open(sys.argv[1], "w").close()
time.sleep(600)
' "$TMP/lo.ready"
# The router's own connection to the server: it leaves through r1, but
# its replies are delivered locally.
spawn in_s socat TCP4-LISTEN:8103,reuseaddr EXEC:"sleep 600"
wait_for 30 listening 8103
spawn in_r socat EXEC:"sleep 600" TCP4:10.0.2.2:8103
if wait_for 30 test -e "$TMP/lo.ready" &&
	wait_for 10 eval 'in_r ss -Htn state established "dport = :8103" | grep -q .'; then
	# Every conntrack event of those connections has been handled once
	# status counts them all as local.
	wait_for 10 eval '[ "$(status_field daemon slow_path local)" -ge 201 ]'
	# explain's record is first written by the daemon's tick, once the
	# connection has lived through a whole tick period (up to 2 s).
	wait_for 5 eval '[ "$(explain_hold 10.0.2.2:8103)" = local ]'
	cand=$(status_field daemon candidates) loc=$(status_field daemon slow_path local)
	own=$(explain_hold 10.0.2.2:8103)
	echo "  local: $loc connections held local, $cand candidates; the router's own: $own"
	if [ "$cand" -eq 0 ] && [ "$loc" -ge 201 ] && [ "$own" = local ]; then
		pass local-connections-never-candidates
	else
		fail local-connections-never-candidates "$cand candidates, $loc local, own connection: $own"
	fi
else
	fail local-connections-never-candidates "the loopback connections did not open"
fi

# An idle forwarded connection: a candidate first, not_learned after 10 s
# until its retry at 20 s. What explain and status say 11 s after it was
# ESTABLISHED is taken in the background and judged at the end.
spawn in_s socat TCP4-LISTEN:8104,reuseaddr EXEC:"sleep 600"
wait_for 30 listening 8104
spawn in_c socat EXEC:"sleep 600" TCP4:10.0.2.2:8104,sourceport=40104
wait_for 10 ct_established tcp ipv4 40104
idle_t0=$(usecs)
idle_probe() {
	sleep_until $((idle_t0 + 11000000))
	explain_hold 10.0.2.2:8104 >"$TMP/idle.hold"
	echo $((($(usecs) - idle_t0) / 1000)) >"$TMP/idle.ms"
	fp status --json >"$TMP/idle.json"
	fp status --prometheus >"$TMP/idle.prom"
	fp status >"$TMP/idle.txt"
}
idle_probe &
E2E_PIDS+=($!)
IDLE_PROBE=$!

# --- M2: forged RSTs from the WAN at an offloaded download ---
# The download is paced (2 MB/s, 20 s) so that it outlasts the measurement.
XFER_DIR=down XFER_PACE=20 XFER_SPORT=40101 tcp_xfer_start rst ipv4 10.0.2.2 8101 40
if wait_for 30 port_offloaded 8101; then
	read -r nat_ip nat_port <<<"$(ct_reply tcp ipv4 40101)"
	torn0=$(status_field daemon torn_down) re0=$(status_field daemon teardown_relearned)
	inv0=$(ct_invalid)
	in_s python3 "$E2E_DIR/forge_rst.py" s0 "$rmac" 10.0.2.2 8101 "$nat_ip" "$nat_port" 20 >"$TMP/rst.seq"
	# The RSTs are out: the slow path's share in the first second after
	# them, the next one, and the 2 s after that, which is judged.
	slow_share
	t0=$(usecs)
	sleep_until $((t0 + 1000000))
	slow_share
	w1="$FWD of $PKTS"
	sleep_until $((t0 + 2000000))
	slow_share
	w2="$FWD of $PKTS"
	sleep_until $((t0 + 4000000))
	slow_share
	inv1=$(ct_invalid)
	torn1=$(status_field daemon torn_down) re1=$(status_field daemon teardown_relearned)
	state=$(in_r conntrack -L -p tcp --orig-port-src 40101 2>/dev/null | awk '{ print $4; exit }')
	echo "  rst: $(wc -l <"$TMP/rst.seq") RSTs sent, $((inv1 - inv0)) judged invalid by conntrack; conntrack $state;" \
		"torn down $((torn1 - torn0)), learned again $((re1 - re0));" \
		"forward chain: $w1 packets in 0-1 s, $w2 in 1-2 s, $FWD of $PKTS in 2-4 s"
	if [ $((torn1 - torn0)) -lt 1 ]; then
		fail rst-forged-back-on-fast-path "the RSTs tore nothing down: nothing was tested"
	elif [ "$state" != ESTABLISHED ]; then
		fail rst-forged-back-on-fast-path "conntrack says $state"
	elif [ "$PKTS" -lt 1000 ] || [ $((FWD * 100)) -ge $((PKTS * 5)) ]; then
		fail rst-forged-back-on-fast-path "forward chain saw $FWD of $PKTS packets 2-4 s after the RSTs"
	else
		pass rst-forged-back-on-fast-path
	fi
	fwd_inv2=$(lab_counter invalid_pkts)
	if tcp_xfer_wait rst; then
		inv3=$(ct_invalid) fwd_inv3=$(lab_counter invalid_pkts)
		state=$(in_r conntrack -L -p tcp --orig-port-src 40101 2>/dev/null | awk '{ print $4; exit }')
		echo "  rst: the close: $((inv3 - inv1)) invalid (forward chain $((fwd_inv3 - fwd_inv2))), $XFER_RSTS RSTs sent by the ends; conntrack ${state:-gone}"
		if [ $((inv3 - inv1)) -eq 0 ] && [ $((fwd_inv3 - fwd_inv2)) -eq 0 ] &&
			[ "$XFER_RSTS" -eq 0 ] && [ "$state" != ESTABLISHED ]; then
			pass rst-forged-connection-survives-closes-cleanly
		else
			fail rst-forged-connection-survives-closes-cleanly "$((inv3 - inv1)) invalid, $XFER_RSTS RSTs, conntrack ${state:-gone}"
		fi
	fi
else
	fail rst-forged "flow never offloaded"
	tcp_xfer_wait rst
fi

# A legitimate half-close: the client sends its FIN 1 s into an offloaded
# download, and the server goes on sending for 4 s more. conntrack judges
# that data with BE_LIBERAL still set (the window it last saw before the
# offload is stale): all of it arrives, none is invalid. (Clearing
# BE_LIBERAL when the flow leaves the fast path stalls this transfer.)
spawn in_s python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8106))
s.listen(1)
c, _ = s.accept()
c.recv(2)
n, end = 0, time.time() + 5
while time.time() < end:
    c.sendall(b"h" * 65536)
    n += 65536
    time.sleep(0.02)
c.close()
open(sys.argv[1], "w").write("%d\n" % n)
' "$TMP/half.sent"
wait_for 30 listening 8106
inv0=$(ct_invalid) torn0=$(status_field daemon torn_down)
got=$(in_c timeout 60 python3 -c '
import socket, time
s = socket.create_connection(("10.0.2.2", 8106), source_address=("0.0.0.0", 40106))
s.sendall(b"go")
s.settimeout(10)
n, t0, shut = 0, time.time(), False
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        n += len(b)
        if not shut and time.time() - t0 > 1:
            s.shutdown(socket.SHUT_WR)
            shut = True
except socket.timeout:
    pass
print(n)
')
wait_for 10 test -s "$TMP/half.sent"
sent=$(cat "$TMP/half.sent" 2>/dev/null) inv1=$(ct_invalid) torn1=$(status_field daemon torn_down)
echo "  half-close: ${got:-0} of ${sent:-?} bytes after the client's FIN at 1 s, $((inv1 - inv0)) invalid, $((torn1 - torn0)) torn down"
if [ "$torn1" -le "$torn0" ]; then
	fail half-closed-download-completes "the flow was not offloaded when the FIN came: nothing was tested"
elif [ -n "$sent" ] && [ "${got:-0}" = "$sent" ] && [ "$inv1" -eq "$inv0" ]; then
	pass half-closed-download-completes
else
	fail half-closed-download-completes "${got:-0} of ${sent:-?} bytes, $((inv1 - inv0)) invalid"
fi

# The same at an offloaded connection that has gone idle: conntrack cuts
# the timeout of an ESTABLISHED connection to 10 s for a RST it lets
# through; the daemon's recheck puts the established timeout back, so the
# connection outlives the RSTs and still carries data afterwards.
spawn in_s socat TCP4-LISTEN:8105,reuseaddr EXEC:cat
wait_for 30 listening 8105
coproc IDLE { in_c python3 -c '
import os, socket, sys, time
s = socket.create_connection(("10.0.2.2", 8105), source_address=("0.0.0.0", 40105))
def echo(b):
    s.sendall(b)
    got = b""
    while len(got) < len(b):
        got += s.recv(65536)
    return got == b
while not os.path.exists(sys.argv[1]):
    echo(b"x" * 1000)
    time.sleep(0.02)
print("idle", flush=True)
sys.stdin.readline()
print("ok" if echo(b"ping" * 100) else "bad", flush=True)
' "$TMP/idle.stop" 2>&1; }
E2E_PIDS+=("$IDLE_PID")
if wait_for 30 port_offloaded 8105; then
	touch "$TMP/idle.stop"
	read -r -t 10 _ <&"${IDLE[0]}"	# "idle": it stopped sending
	read -r nat_ip nat_port <<<"$(ct_reply tcp ipv4 40105)"
	re0=$(status_field daemon teardown_relearned)
	in_s python3 "$E2E_DIR/forge_rst.py" s0 "$rmac" 10.0.2.2 8105 "$nat_ip" "$nat_port" 20 >/dev/null
	tmo0=$(in_r conntrack -L -p tcp --orig-port-src 40105 2>/dev/null | awk '{ print $3; exit }')
	wait_for 5 eval '[ "$(status_field daemon teardown_relearned)" -gt "$re0" ]'
	ct=$(in_r conntrack -L -p tcp --orig-port-src 40105 2>/dev/null)
	tmo1=$(awk '{ print $3; exit }' <<<"$ct") state=$(awk '{ print $4; exit }' <<<"$ct")
	echo reply >&"${IDLE[1]}"
	read -r -t 30 reply <&"${IDLE[0]}"
	echo "  rst-idle: conntrack timeout ${tmo0:-?} s just after the RSTs, ${tmo1:-?} s ($state) after the recheck; data afterwards: ${reply:-none}"
	if [ "$state" = ESTABLISHED ] && [ "${tmo1:-0}" -ge 300 ] && [ "$reply" = ok ]; then
		pass rst-forged-idle-connection-survives
	else
		fail rst-forged-idle-connection-survives "conntrack ${state:-gone}, timeout ${tmo1:-?} s, data afterwards: ${reply:-none}"
	fi
else
	fail rst-forged-idle-connection-survives "flow never offloaded"
fi

# --- M3: a policy-routing rule under a live flow ---
# The client's traffic is sent to a blackhole by a new rule: within 1 s
# nothing of the upload reaches the server. Without the rule, it completes.
XFER_PACE=8 tcp_xfer_start iprule ipv4 10.0.2.2 8102 8
if wait_for 30 port_offloaded 8102; then
	in_r ip route add blackhole default table 100
	in_r ip rule add from 10.0.1.2 lookup 100 prio 100
	sleep 1
	a=$(ip -n "$NS_S" -s -j link show s0 | jq '.[0].stats64.rx.packets')
	sleep 1
	b=$(ip -n "$NS_S" -s -j link show s0 | jq '.[0].stats64.rx.packets')
	echo "  iprule: $((b - a)) packets reached the server in the second after"
	if [ $((b - a)) -le 2 ]; then
		pass ip-rule-moves-flow-within-1s
	else
		fail ip-rule-moves-flow-within-1s "$((b - a)) packets still forwarded"
	fi
	in_r ip rule del from 10.0.1.2 lookup 100 prio 100
	in_r ip route del blackhole default table 100
	tcp_xfer_wait iprule && pass ip-rule-removed-transfer-completes
else
	fail ip-rule "flow never offloaded"
	tcp_xfer_wait iprule
fi

# --- M4: the idle connection left the learning map ---
wait "$IDLE_PROBE"
hold=$(cat "$TMP/idle.hold" 2>/dev/null) ms=$(cat "$TMP/idle.ms" 2>/dev/null)
echo "  idle: hold ${hold:-?} ${ms:-?} ms after ESTABLISHED"
if [ "$hold" = not_learned ]; then
	pass idle-candidate-not-learned
else
	fail idle-candidate-not-learned "hold ${hold:-?} ${ms:-?} ms after ESTABLISHED"
fi
# The learning map's counters, in every format of status (then).
if jq -e '.daemon.not_learned >= 1 and .daemon.learn_full == 0 and
		.daemon.slow_path.not_learned >= 1' "$TMP/idle.json" >/dev/null &&
	grep -q 'full learning map 0, not learned within 10 s [1-9]' "$TMP/idle.txt" &&
	grep -q '^fastpath_daemon_learn_full_total 0' "$TMP/idle.prom" &&
	grep -q '^fastpath_daemon_slow_connections{reason="not_learned"} [1-9]' "$TMP/idle.prom"; then
	pass status-shows-learning-map
else
	fail status-shows-learning-map "$(grep -i learn "$TMP/idle.txt" "$TMP/idle.prom")"
fi
exit $E2E_FAILED
