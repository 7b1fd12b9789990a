#!/usr/bin/env bash
# "fastpath top", "fastpath explain" and "status --prometheus" against a
# running daemon in the reference lab (policy mark:1/1: the ruleset marks
# TCP 80 and 443):
#   - during a transfer to port 80, "top --once" lists the flow on the xdp
#     tier with a nonzero rate, and explain says both directions are
#     offloaded there (text and --json); "top" on a pseudo-terminal shows
#     it too, quits on q with status 0 and restores the terminal;
#   - a transfer to port 8080 (not marked) is explained as excluded by the
#     policy;
#   - the Prometheus output parses with python3-prometheus-client and its
#     values are those of "status --json";
#   - with a tbf on the egress and the SQM guard on, the shaped direction
#     is explained as offloaded on the TC tier, the other on XDP;
#   - an offloaded UDP flow whose datagrams arrive with TTL 1 is explained
#     with that reason (per flow: the entry keeps its last pass reason);
#     before those, its conntrack entry became a stream (ASSURED, the
#     stream timeout) from the packets the fast path carried alone.
#
# This is the one host lab whose end hosts send complete checksums
# (transmit checksum offload off, as hosts on a wire; every other lab
# keeps the veth's defaults and so runs on the TC tier): here the daemon
# chooses the XDP tier, and the SQM case shows XDP and TC side by side.
source "$(dirname "$0")/../lib.sh"
export LAB_TX_OFFLOAD=off
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if ! lab_up; then
	fail explain-setup "lab setup failed"
	exit 1
fi
start_daemon --policy mark:1/1 r0 r1 || { fail explain-daemon "did not start"; exit 1; }

# explain_json ENDPOINT: "fastpath explain --json" without the 1 s sample.
explain_json() {
	fp explain --json --no-sample "$@"
}

# explain_all ENDPOINT JQ_DIR_FILTER: the endpoint matches at least one
# connection and every direction of every match satisfies the filter.
explain_all() {
	local ep=$1 filter=$2 out
	out=$(explain_json "$ep") || return 1
	jq -e "(.connections | length) >= 1 and
	       all(.connections[].directions[]; $filter)" <<<"$out" >/dev/null
}

# top_has_flow PORT TIER: a row of "top --once" for PORT on TIER with a
# nonzero pps (columns: IN PROTO SRC DST OUT TIER PPS MBIT/S).
top_has_flow() {
	fp top --once >"$TMP/top" 2>&1 || return 1
	awk -v p=":$1" -v t="$2" '
		($3 ~ p"$" || $4 ~ p"$") && $6 == t && $7 > 0 { found = 1 }
		END { exit !found }' "$TMP/top"
}

# --- offloaded: port 80 ---
# Paced over 20 s: every check below runs while it flows.
XFER_PACE=20 tcp_xfer_start http ipv4 10.0.2.2 80 48 || exit 1
# Each look at the table takes a second or more on a loaded machine.
if wait_for 40 in_table 80; then
	# The daemon measures rates once a second.
	if wait_for 5 top_has_flow 80 xdp; then
		pass top-once-lists-flow
	else
		fail top-once-lists-flow "no xdp row for :80 with a rate:"
		sed 's/^/    /' "$TMP/top"
	fi
	if grep -q '^tiers:.* xdp [1-9]' "$TMP/top" && grep -q '^pass/s:' "$TMP/top"; then
		pass top-once-totals
	else
		fail top-once-totals "$(head -3 "$TMP/top")"
	fi
	if explain_all 10.0.2.2:80 '.offloaded == true and .tier == "xdp" and .reason == "offloaded" and .pps > 0'; then
		pass explain-offloaded-json
	else
		fail explain-offloaded-json "$(explain_json 10.0.2.2:80)"
	fi
	out=$(fp explain 10.0.1.2 10.0.2.2:80)
	if [ "$(grep -c 'offloaded on the xdp tier' <<<"$out")" -eq 2 ] &&
		grep -q '^pass reasons now, all flows together' <<<"$out"; then
		pass explain-offloaded-text
	else
		fail explain-offloaded-text "$out"
	fi
	id=$(explain_json 10.0.2.2:80 | jq '.connections[0].id')
	if explain_json --id "$id" | jq -e --argjson id "$id" \
		'.connections | length == 1 and .[0].id == $id' >/dev/null; then
		pass explain-by-id
	else
		fail explain-by-id "id $id: $(explain_json --id "$id")"
	fi
	# Interactive, on a terminal: a frame with the flow, q, exit 0, and
	# the terminal's settings as they were.
	if in_r python3 "$E2E_DIR/pty_top.py" ':80 .* xdp +[1-9]' 10 "$FP" top >"$TMP/pty" 2>&1; then
		pass top-interactive-q-restores-terminal
	else
		fail top-interactive-q-restores-terminal "$(sed 's/^/    /' "$TMP/pty")"
	fi
else
	fail top-once-lists-flow "port 80 never offloaded"
fi
tcp_xfer_wait http && check_offloaded http-offloaded

# --- excluded by the policy: port 8080 is not marked ---
XFER_PACE=8 tcp_xfer_start web ipv4 10.0.2.2 8080 8 || exit 1
policy_held() { explain_all 10.0.2.2:8080 '.offloaded == false and .reason == "policy"'; }
if wait_for 15 policy_held; then
	out=$(fp explain --no-sample 10.0.2.2:8080)
	if [ "$(grep -c 'excluded by the policy' <<<"$out")" -eq 2 ]; then
		pass explain-policy
	else
		fail explain-policy "$out"
	fi
else
	fail explain-policy "$(explain_json 10.0.2.2:8080)"
fi
tcp_xfer_wait web && check_slow policy-slow

# Nothing matches: a clear line and status 1.
if fp explain --no-sample 192.0.2.99 >"$TMP/none" 2>&1; then
	fail explain-no-match "exit 0: $(cat "$TMP/none")"
else
	if grep -q '^no connection matches' "$TMP/none"; then
		pass explain-no-match
	else
		fail explain-no-match "$(cat "$TMP/none")"
	fi
fi

# --- Prometheus: a real parser, and the values of status --json ---
# Counters move while connections close: retry until two JSON snapshots
# around the Prometheus one agree.
prom_check() {
	fp status --json >"$TMP/s1.json" && fp status --prometheus >"$TMP/prom" &&
		fp status --json >"$TMP/s2.json" || return 2
	# Debian's package serves the system python, not a pyenv one.
	"$PY" - "$TMP/s1.json" "$TMP/s2.json" "$TMP/prom" <<'EOF'
import json, sys
from prometheus_client.parser import text_string_to_metric_families

s1, s2 = (json.load(open(p)) for p in sys.argv[1:3])
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[3]).read())}

def val(fam, **labels):
    got = [s.value for s in fams[fam].samples
           if all(s.labels.get(k) == v for k, v in labels.items())
           and not s.name.endswith("_created")]
    if len(got) != 1:
        raise SystemExit(f"{fam} {labels}: {len(got)} samples")
    return got[0]

def both(f):
    a, b = f(s1), f(s2)
    if a != b:
        sys.exit(3)             # moved meanwhile: try again
    return a

want = {}
want[("fastpath_packets", (("program", "xdp"), ("verdict", "redirect")))] = both(lambda s: s["verdicts"]["redirect"])
want[("fastpath_packets", (("program", "xdp"), ("verdict", "pass")))] = both(lambda s: s["verdicts"]["pass"])
for r in s1["pass_reasons"]:
    want[("fastpath_pass_packets", (("program", "xdp"), ("reason", r)))] = both(lambda s: s["pass_reasons"][r])
for t in s1["flows_by_tier"]:
    want[("fastpath_flows", (("tier", t),))] = both(lambda s: s["flows_by_tier"][t])
d = {"ct_events": "fastpath_daemon_ct_events", "events_lost": "fastpath_daemon_events_lost",
     "resyncs": "fastpath_daemon_resyncs", "learned": "fastpath_daemon_learned",
     "torn_down": "fastpath_daemon_torn_down", "connections": "fastpath_daemon_connections",
     "offloaded": "fastpath_daemon_offloaded_directions",
     "learning_window_packets": "fastpath_daemon_learning_window_packets"}
for k, fam in d.items():
    want[(fam, ())] = both(lambda s: s["daemon"][k])
want[("fastpath_offload_latency_seconds", (("quantile", "0.5"),))] = both(lambda s: s["daemon"]["latency_p50_us"]) / 1e6
want[("fastpath_offload_latency_seconds", (("quantile", "0.99"),))] = both(lambda s: s["daemon"]["latency_p99_us"]) / 1e6
want[("fastpath_daemon_up", ())] = 1

bad = []
for (fam, labels), v in want.items():
    got = val(fam, **dict(labels))
    if abs(got - v) > 1e-6 * max(1, abs(v)):
        bad.append(f"{fam}{dict(labels)} = {got}, status --json says {v}")
if s1["daemon"]["learned"] < 2 or want[("fastpath_packets", (("program", "xdp"), ("verdict", "redirect")))] == 0:
    bad.append("nothing was offloaded: the comparison proves little")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(f"{len(want)} values match")
EOF
}
for _ in 1 2 3 4 5; do
	prom_check >"$TMP/promcheck" 2>&1
	rc=$?
	[ $rc -eq 3 ] || break
	sleep 1
done
if [ $rc -eq 0 ]; then
	echo "  prometheus: $(cat "$TMP/promcheck")"
	pass prometheus-parses-and-matches
else
	fail prometheus-parses-and-matches "rc $rc: $(head -5 "$TMP/promcheck")"
fi
stop_daemon

# --- a shaper: tbf on the server side, SQM guard on (the default) ---
# The direction that leaves through the tbf goes to the TC tier, so the
# qdisc still shapes it (docs/DESIGN.md, "Tiers"); its ACKs stay on XDP.
in_r tc qdisc replace dev r1 root tbf rate 2gbit burst 256k latency 50ms
start_daemon --policy all r0 r1 || { fail explain-sqm-daemon "did not start"; exit 1; }
sqm_tiers() {
	local out
	out=$(explain_json 10.0.2.2:9100) || return 1
	jq -e '(.connections | length) == 1 and
	       (.connections[0].directions[] | select(.direction == "original") |
		.offloaded and .tier == "tc") and
	       (.connections[0].directions[] | select(.direction == "reply") |
		.offloaded and .tier == "xdp")' <<<"$out" >/dev/null
}
# 40 MB over 15 s: the learning window (learning under the tbf takes a
# while) stays well under the 1% the forward chain may see.
XFER_VIA=tc+xdp XFER_PACE=15 tcp_xfer_start shaped ipv4 10.0.2.2 9100 40 || exit 1
# Learning under the tbf can take seconds on a loaded machine (main too).
if wait_for 14 sqm_tiers; then
	out=$(fp explain --no-sample 10.0.2.2:9100)
	if [ "$(grep -c 'offloaded on the tc tier' <<<"$out")" -eq 1 ] &&
		[ "$(grep -c 'offloaded on the xdp tier' <<<"$out")" -eq 1 ]; then
		pass explain-sqm
	else
		fail explain-sqm "$out"
	fi
else
	fail explain-sqm "$(explain_json 10.0.2.2:9100)"
fi
XFER_VIA=tc+xdp tcp_xfer_wait shaped && XFER_VIA=tc+xdp check_offloaded sqm-tc-tier

# --- per-flow pass reasons: an offloaded UDP flow gets datagrams with TTL 1 ---
# The router must pass each up (ICMP time exceeded); the entry keeps why,
# and explain says it for that flow (the TC tier here: the tbf is on r1).
udp_server 5360 || fail explain-ttl "the UDP server did not bind"
ttl_flow() { in_c python3 "$E2E_DIR/udp_ttl.py" 10.0.2.2 5360 40600 "$@"; }
# Both directions in the table, on whichever tier.
ttl_offloaded() { explain_all 10.0.2.2:5360 '.offloaded'; }
warms=0
for _ in 1 2 3 4; do
	echoed=$(ttl_flow warm 3)
	warms=$((warms + 1))
	ttl_offloaded && break
done
# The warm-up's packets after its first 2 s took the fast path only:
# conntrack saw none of them, yet the entry must be a stream as conntrack
# would have made it (ASSURED, nf_conntrack_udp_timeout_stream, not the
# 30 s of nf_conntrack_udp_timeout), before any TTL-1 datagram goes up.
# (Offloaded only by a later warm-up, conntrack saw late packets itself.)
udp_stream() {
	in_r conntrack -L -p udp --orig-port-src 40600 --orig-port-dst 5360 2>/dev/null |
		awk '/ASSURED/ && $3 > 60 { ok = 1 } END { exit !ok }'
}
if ttl_offloaded; then
	# One more second of exchanges, all on the fast path: the margin for
	# a daemon that took the new connection's event late.
	ttl_flow warm 1 >/dev/null
	[ "$warms" -eq 1 ] || echo "  explain-udp-stream: offloaded in warm-up $warms: conntrack saw packets 2 s in itself"
	if wait_for 3 udp_stream; then
		pass explain-udp-stream
	else
		fail explain-udp-stream "not ASSURED with the stream timeout: $(in_r conntrack -L -p udp --orig-port-src 40600 2>&1 | grep src=)"
	fi
	# 100 datagrams over 5 s; the 1 s sample starts once the first went up.
	ttl_flow ttl1 100 &
	ttl_pid=$!
	wait_for 4 explain_all 10.0.2.2:5360 '.direction == "reply" or .passed_packets > 0'
	out=$(fp explain 10.0.2.2:5360)
	wait "$ttl_pid"
	if grep -q 'passed up in the last second, the last for ttl: TTL' <<<"$out"; then
		pass explain-ttl-text
	else
		fail explain-ttl-text "$out"
	fi
	if explain_all 10.0.2.2:5360 'if .direction == "original" then
		.offloaded and .last_pass_reason == "ttl" and .passed_packets >= 100
		else .last_pass_reason == null end'; then
		pass explain-ttl-json
	else
		fail explain-ttl-json "$(explain_json 10.0.2.2:5360)"
	fi
else
	fail explain-ttl "the UDP flow was not offloaded ($echoed echoes in the last 3 s): $(explain_json 10.0.2.2:5360)"
fi
stop_daemon
in_r tc qdisc del dev r1 root
