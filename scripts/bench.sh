#!/usr/bin/env bash
# Live-frame benchmark of the fast path (docs/PERF.md describes the method).
#
#   scripts/bench.sh [fp_bench options]     (root; `make bench` builds first)
#
# Builds a client - router - server lab of network namespaces with the
# reference firewall and masquerade in the router, then runs build/fp_bench
# inside the router namespace. fp_bench prints the table and writes
# build/bench.json, then selftests/bench/daemon_bench.sh adds the daemon's
# numbers to it. The namespaces carry this shell's PID, so concurrent labs
# never collide, and they are deleted on every exit path.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

BENCH=build/fp_bench
JSON=${BENCH_JSON:-build/bench.json}
# A partial run (any option) leaves build/bench.json alone, unless the
# caller names a file in BENCH_JSON.
json_args=()
if [ $# -eq 0 ] || [ -n "${BENCH_JSON:-}" ]; then
	json_args=(--json "$JSON")
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "bench.sh: needs root (BPF, network namespaces)" >&2
	exit 1
fi
if [ ! -x "$BENCH" ]; then
	echo "bench.sh: $BENCH is missing; run 'make bench'" >&2
	exit 1
fi

C=fpb-cli-$$ R=fpb-rtr-$$ S=fpb-srv-$$
bench_pid=

cleanup() {
	local ns
	if [ -n "$bench_pid" ]; then
		kill "$bench_pid" 2>/dev/null || true
		wait "$bench_pid" 2>/dev/null || true
	fi
	for ns in "$C" "$R" "$S"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}
trap cleanup EXIT
# EXIT runs the cleanup; the handlers only make sure we get there.
trap 'exit 130' INT
trap 'exit 143' TERM

# The router sees the client on rc0 (10.0.1.0/24, fd00:1::/64) and the
# server on rs0 (10.0.2.0/24, fd00:2::/64). The fast_pppoe_vlan frames
# (PPPoE over VLAN 7) need no VLAN or PPPoE device here: they are injected
# into XDP, which parses the bytes, and leave untagged.
lab() {
	ip netns add "$C"
	ip netns add "$R"
	ip netns add "$S"
	# Two queues per veth, as a NIC has one per CPU: with one, frames
	# that both CPUs redirect (fast_2cpu) would meet in one ring and its
	# lock, which no real NIC shares between CPUs.
	ip -n "$R" link add rc0 numtxqueues 2 numrxqueues 2 type veth \
		peer name c0 netns "$C" numtxqueues 2 numrxqueues 2
	ip -n "$R" link add rs0 numtxqueues 2 numrxqueues 2 type veth \
		peer name s0 netns "$S" numtxqueues 2 numrxqueues 2

	ip -n "$C" addr add 10.0.1.2/24 dev c0
	ip -n "$C" addr add fd00:1::2/64 dev c0 nodad
	ip -n "$R" addr add 10.0.1.1/24 dev rc0
	ip -n "$R" addr add fd00:1::1/64 dev rc0 nodad
	ip -n "$R" addr add 10.0.2.1/24 dev rs0
	ip -n "$R" addr add fd00:2::1/64 dev rs0 nodad
	ip -n "$S" addr add 10.0.2.2/24 dev s0
	ip -n "$S" addr add fd00:2::2/64 dev s0 nodad
	for ns in "$C" "$R" "$S"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$C" link set c0 up
	ip -n "$R" link set rc0 up
	ip -n "$R" link set rs0 up
	ip -n "$S" link set s0 up
	ip -n "$C" route add default via 10.0.1.1
	ip -n "$C" -6 route add default via fd00:1::1
	ip -n "$S" route add default via 10.0.2.1
	ip -n "$S" -6 route add default via fd00:2::1

	ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$R" sysctl -qw net.ipv6.conf.all.forwarding=1

	# Nobody answers ARP/ND during the run (the server's veth drops
	# everything in XDP), so the next hop is static, as a busy router's
	# neighbour cache would be.
	local smac
	smac=$(ip netns exec "$S" cat /sys/class/net/s0/address)
	ip -n "$R" neigh replace 10.0.2.2 lladdr "$smac" dev rs0 nud permanent
	ip -n "$R" -6 neigh replace fd00:2::2 lladdr "$smac" dev rs0 nud permanent

	# The reference firewall (DESIGN.md) and masquerade toward the server.
	ip netns exec "$R" nft -f - <<-EOF
		table inet filter {
			chain forward {
				type filter hook forward priority filter; policy drop;
				ct state invalid drop
				tcp dport { 80, 443 } ct state established ct mark set ct mark or 0x1
				ct state established,related accept
				accept
			}
		}
		table ip nat {
			chain postrouting {
				type nat hook postrouting priority srcnat;
				oifname "rs0" masquerade
			}
		}
		table ip6 nat {
			chain postrouting {
				type nat hook postrouting priority srcnat;
				oifname "rs0" masquerade
			}
		}
	EOF
}

# set -e stops at the first failing step; the ERR trap names it.
trap 'echo "bench.sh: building the lab failed at: ${BASH_COMMAND%%$'"'\\n'"'*}" >&2' ERR
lab
trap - ERR

# BENCH_LAB_HOOK: a script run once the lab stands, with its namespaces in
# C, R and S (bench_vm.sh uses it to put the kernel flowtable in place).
if [ -n "${BENCH_LAB_HOOK:-}" ]; then
	C=$C R=$R S=$S bash "$BENCH_LAB_HOOK" || {
		echo "bench.sh: $BENCH_LAB_HOOK failed" >&2
		exit 1
	}
fi

# A failed run must not leave the previous run's numbers looking current.
if [ ${#json_args[@]} -gt 0 ]; then
	rm -f "$JSON"
fi

# In the background so that a signal reaches our traps at once rather
# than after the run; `wait` passes fp_bench's exit status on.
cmac=$(ip netns exec "$C" cat /sys/class/net/c0/address)
ip netns exec "$R" "$BENCH" \
	--in-dev rc0 --out-dev rs0 \
	--peer-netns "/run/netns/$S" --peer-dev s0 \
	--src4 10.0.1.2 --dst4 10.0.2.2 --nat4 10.0.2.1 \
	--src6 fd00:1::2 --dst6 fd00:2::2 --nat6 fd00:2::1 \
	--src-mac "$cmac" "${json_args[@]}" "$@" &
bench_pid=$!
wait "$bench_pid"
bench_pid=

# BENCH_POST_HOOK: run after fp_bench, while the lab still stands.
if [ -n "${BENCH_POST_HOOK:-}" ]; then
	C=$C R=$R S=$S bash "$BENCH_POST_HOOK" || {
		echo "bench.sh: $BENCH_POST_HOOK failed" >&2
		exit 1
	}
fi

# Adds the keys of JSON file $2 to JSON file $1; one line on failure.
merge_json() {
	python3 - "$1" "$2" <<-'EOF'
		import json, sys
		try:
		    with open(sys.argv[1]) as f:
		        merged = json.load(f)
		    with open(sys.argv[2]) as f:
		        merged.update(json.load(f))
		except (OSError, ValueError) as e:
		    sys.exit("bench.sh: cannot merge %s: %s" % (sys.argv[2], e))
		with open(sys.argv[1], "w") as f:
		    json.dump(merged, f, indent=2)
		    f.write("\n")
	EOF
}

# The daemon's side of `make bench` builds its own lab; it adds its keys
# to the same bench.json. Only after a full run (options select a partial
# one, which writes no JSON), and never at the cost of the numbers above.
DAEMON_BENCH=selftests/bench/daemon_bench.sh
DAEMON_JSON=build/bench_daemon.json
if [ $# -eq 0 ] && [ -f "$DAEMON_BENCH" ]; then
	cleanup
	rm -f "$DAEMON_JSON"
	if bash "$DAEMON_BENCH" "$DAEMON_JSON" && merge_json "$JSON" "$DAEMON_JSON"; then
		echo "merged $DAEMON_JSON into $JSON"
	else
		# The datapath numbers stay in $JSON, but the run failed.
		echo "bench.sh: FAIL: the daemon benchmark failed; $JSON has the datapath numbers only" >&2
		exit 1
	fi
fi
