#!/usr/bin/env bash
# kmod_inner.sh - the in-VM part of test_kmod.sh: the hardware tier
# (kmod/fastpath.ko) on the simulated PPE NIC (selftests/kmod/ppe_sim.ko).
# Runs as root in Debian's kernel; prints PASS/FAIL/SKIP lines.
#
#   lifecycle  insmod/rmmod x20 with flows bound, slab counts, dmesg
#   genl       the family's errors: bad, missing or reply-only attributes,
#              no CAP_NET_ADMIN, unknown devices and flows, a veth
#   rules      the flow_rule ppe_sim receives per case, line for line,
#              and the rules it refuses (IPv6 NAT, a full bucket)
#   hw         the reference lab on ppe_sim ports with "fastpath run": a
#              transfer in hardware, conntrack kept alive, refusals back
#              on XDP, rmmod, link down and device removal mid-transfer
#   indirect   the same ports without ndo_setup_tc (indirect blocks)
#   fallback   the lab on veth: XDP tier, and status says why
#   lease      the module's lease and idle expiry through genetlink, then
#              the daemon killed (-9) and stopped (-STOP) under a bound
#              transfer: the hardware lets go, the slow path finishes it
#   acct       conntrack accounting on real entries (nf_conntrack_acct=1):
#              the family's cases, then a TCP download and a UDP stream
#              through the daemon, with and without the module
#
# "kmod_inner.sh rules hw" runs a subset (test_kmod.sh passes its arguments).
set -u
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$VM_DIR/lib.sh"
# shellcheck source=../lib.sh
source "$VM_DIR/../lib.sh"

# The modules for this kernel: build/ (make kmod), or FP_KO (make kmod KVER=...).
KO=${FP_KO:-$TOP/build}
DBG=/sys/kernel/debug/ppe_sim
MB=${MB:-8}
TESTS=${*:-lifecycle genl rules hw indirect fallback lease acct}
G() { python3 "$VM_DIR/fpgenl.py" "$@"; }
Gr() { in_r python3 "$VM_DIR/fpgenl.py" "$@"; }
MAC1=02:00:00:00:00:01
MAC2=02:00:00:00:00:02

kmod_load() {
	insmod "$KO/ppe_sim.ko" "$@" && insmod "$KO/fastpath.ko"
}

kmod_unload() {
	rmmod fastpath 2>/dev/null
	rmmod ppe_sim 2>/dev/null
	return 0
}

ifindex() { cat "/sys/class/net/$1/ifindex"; }
# A device's ifindex in the lab's router ("in_r cat /sys/..." would read
# the VM's own sysfs: nsenter --net does not remount it).
ridx() { ip -n "$NS_R" -o link show "$1" | cut -d: -f1; }

# Four ports, two pairs, in the current namespace.
sim_ports() {
	ip link add pa type ppesim && ip link add pb link pa type ppesim &&
		ip link add pc type ppesim && ip link add pd link pc type ppesim || return 1
	for d in pa pb pc pd; do ip link set "$d" up; done
}

# A SNAT direction pa -> pc and an IPv6 route direction pc -> pa, then the
# module's flows (one python run: each start costs seconds under TCG).
sim_flows() {
	local a c
	a=$(ifindex pa) c=$(ifindex pc)
	G add key_ifindex="$a" key_family=inet key_proto=tcp key_saddr=10.0.1.2 \
		key_daddr=10.0.2.2 key_sport=40000 key_dport=80 flow_oif="$c" \
		flow_dmac=$MAC2 flow_smac=$MAC1 flow_flags=snat \
		flow_nat_saddr=10.0.2.1 flow_nat_sport=40000 -- \
		add key_ifindex="$c" key_family=inet6 key_proto=udp key_saddr=fd00::2 \
		key_daddr=fd00::1 key_sport=53 key_dport=4000 flow_oif="$a" \
		flow_dmac=$MAC2 flow_smac=$MAC1 -- flows
}

# Objects in each kmalloc cache, per-CPU slabs flushed first.
slab_snapshot() {
	local c
	sleep 1
	for c in /sys/kernel/slab/kmalloc-*; do
		[ -L "$c" ] && continue
		echo 1 >"$c/shrink" 2>/dev/null
		echo "$(basename "$c") $(cut -d' ' -f1 "$c/objects")"
	done
}

# The kernel log lines that would mean a bug in the modules.
dmesg_bad() {
	dmesg | sed -n "$((DMESG0 + 1)),\$p" |
		grep -E 'WARNING|BUG|Oops|general protection|leaked|refcount|waiting for .* to become free|kmemleak|Call Trace'
}

# slab_grew BEFORE AFTER: the caches of 512 bytes and up that grew by 40
# objects or more.
slab_grew() {
	join <(echo "$1") <(echo "$2") | awk '{
		size = $1; sub(/^kmalloc-(cg-)?/, "", size)
		if (size ~ /k$/) size = size * 1024
		d = $3 - $2
		if (size + 0 >= 512 && d >= 40) printf "%s +%d ", $1, d }'
}

test_lifecycle() {
	local i ok=0 n before after grew
	kmod_unload
	# Two warm-up rounds fill the caches whatever a round needs.
	for i in 0 1; do
		kmod_load && sim_ports && sim_flows >/dev/null
		kmod_unload
	done
	before=$(slab_snapshot)
	NETDEVS0=$(ls /sys/class/net | wc -l)
	for i in $(seq 20); do
		kmod_load || { echo "  round $i: insmod failed"; break; }
		if ! sim_ports || ! n=$(sim_flows | grep -c '"state": "offloaded"'); then
			echo "  round $i: ports or flows failed"
			kmod_unload
			break
		fi
		# Odd rounds pull the NIC driver out from under offloaded flows;
		# fastpath.ko must let go of them (and its device references).
		if [ $((i % 2)) = 1 ]; then
			rmmod ppe_sim && rmmod fastpath
		else
			rmmod fastpath && rmmod ppe_sim
		fi || { echo "  round $i: rmmod failed"; kmod_unload; break; }
		[ "$n" = 2 ] && ok=$((ok + 1))
	done
	after=$(slab_snapshot)
	[ $ok = 20 ] && pass insmod-rmmod-20-with-flows ||
		fail insmod-rmmod-20-with-flows "$ok of 20 rounds offloaded 2 flows and unloaded"

	# Slab counts are coarse: over 20 rounds of plain veth pairs, with no
	# module at all, the caches of small objects move by hundreds and
	# those of 256-512 byte objects by up to 32. Judged here: caches of
	# 512 bytes and up (a flow, a rule, a logged rule, a netdev) growing
	# by two objects a round. The exact check is the modules' own: they
	# count what they allocate and report any leak at unload, which
	# kmod-dmesg-clean looks for; and no port may outlive its module.
	# Devices, RCU callbacks and deferred frees of the last round may
	# still be on their way out on a loaded host: a leak stays, they go.
	for i in $(seq 10); do
		grew=$(slab_grew "$before" "$after")
		[ -z "$grew" ] && break
		after=$(slab_snapshot)
	done
	[ "$(ls /sys/class/net | wc -l)" = "$NETDEVS0" ] ||
		grew="$grew devices left: $(ls /sys/class/net | tr '\n' ' ')"
	echo "  slab growth over 20 rounds (objects >= 512 B, >= 40): ${grew:-none}"
	join <(echo "$before") <(echo "$after") | awk '$3 != $2 { printf "%s %+d  ", $1, $3 - $2 }' |
		fold -w 100 -s | sed 's/^/    /'
	echo
	[ -z "$grew" ] && pass no-slab-growth || fail no-slab-growth "$grew"
}

# genl_err NAME ERRNO COMMAND...: COMMAND fails with errno number ERRNO.
genl_err() {
	local name=$1 want=$2 out
	shift 2
	out=$("$@" 2>&1 >/dev/null)
	if grep -q "^error $want " <<<"$out"; then
		pass "$name"
		echo "    $out"
	else
		fail "$name" "wanted $want, got: ${out:-success}"
	fi
}

test_genl() {
	local ST
	kmod_load || { fail genl-setup "insmod failed"; return; }
	sim_ports
	ip link add va type veth peer name vb && ip link set va up && ip link set vb up
	ST=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import fpgenl; print(fpgenl.ATTR["FP_A_HW_STATE"])' "$VM_DIR")

	genl_err genl-unknown-attribute-einval 22 G raw flow_add 99:00
	genl_err genl-reply-only-attribute-einval 22 G raw flow_add "$ST:00"
	genl_err genl-missing-attribute-einval 22 G raw flow_add
	genl_err genl-short-attribute-erange 34 G raw dev_get 3:0500
	genl_err genl-bad-family-einval 22 G add key_ifindex=1 key_family=7 key_proto=tcp \
		key_saddr=10.0.0.1 key_daddr=10.0.0.2 key_sport=1 key_dport=2 \
		flow_oif=1 flow_dmac=$MAC1 flow_smac=$MAC2
	genl_err genl-no-such-device-enodev 19 G dev 99999
	genl_err genl-unknown-flow-enoent 2 G del key_ifindex="$(ifindex pa)" key_family=inet \
		key_proto=udp key_saddr=10.0.0.1 key_daddr=10.0.0.2 key_sport=1 key_dport=2
	genl_err genl-veth-eopnotsupp 95 G add key_ifindex="$(ifindex va)" key_family=inet \
		key_proto=udp key_saddr=10.0.0.1 key_daddr=10.0.0.2 key_sport=1 key_dport=2 \
		flow_oif="$(ifindex pa)" flow_dmac=$MAC1 flow_smac=$MAC2
	if G dev "$(ifindex va)" --probe | grep -q '"bind": "none", "err": -95'; then
		pass genl-veth-not-capable
	else
		fail genl-veth-not-capable "$(G dev "$(ifindex va)" --probe)"
	fi
	if command -v setpriv >/dev/null; then
		genl_err genl-no-cap-net-admin-eperm 1 \
			setpriv --inh-caps=-net_admin --bounding-set=-net_admin \
			python3 "$VM_DIR/fpgenl.py" devs
	else
		skip genl-no-cap-net-admin-eperm "setpriv is not installed"
	fi
	ip link del va
	kmod_unload
}

# rule_case NAME ANSWER EXPECTED ATTR...: add one direction from pa to pc;
# FLOW_ADD answers ANSWER ("ok" or "error ERRNO NAME: MESSAGE"), and what
# ppe_sim logged for it is EXPECTED, line for line.
rule_case() {
	local name=$1 answer=$2 expected=$3 got
	shift 3
	echo clear >"$DBG/rules"
	got=$(G add "$@" 2>&1) && got=ok
	if [ "$got" != "$answer" ]; then
		fail "$name" "FLOW_ADD answered '$got', not '$answer'"
		return
	fi
	got=$(sed '/^$/d' "$DBG/rules")
	if [ "$got" = "$expected" ]; then
		pass "$name"
	else
		fail "$name" "the rule differs:"
		diff <(echo "$expected") <(echo "$got") | sed 's/^/    /'
	fi
}

# The source MAC 02:00:00:00:00:01 and destination 02:00:00:00:00:02 as
# nf_flowtable writes them (fp_rule.c), then the NAT, CSUM and REDIRECT.
eth_actions() {
	cat <<-EOF
	action mangle eth offset=4 mask=ffff0000 val=00000200
	action mangle eth offset=8 mask=00000000 val=00000001
	action mangle eth offset=0 mask=00000000 val=02000000
	action mangle eth offset=4 mask=0000ffff val=00020000
	EOF
}

test_rules() {
	local a c h s1 s2 out
	kmod_load ways=2 || { fail rules-setup "insmod failed"; return; }
	sim_ports
	a=$(ifindex pa) c=$(ifindex pc)

	h=$(G hash 2 10.0.1.2 40000 10.0.2.2 80)
	rule_case rule-ipv4-snat ok "$(cat <<-EOF
	rule dev=pa prio=0 protocol=0x0003
	keys 0x2100017
	control addr_type=2/0xffff flags=0x0/0x0
	basic n_proto=0x0800/0xffff ip_proto=6/0xff
	ipv4 src=10.0.1.2/255.255.255.255 dst=10.0.2.2/255.255.255.255
	ports src=40000/0xffff dst=80/0xffff
	tcp flags=0x0000/0x0005
	meta ingress_ifindex=$a/0xffffffff ingress_iftype=0/0x0
	$(eth_actions)
	action mangle ip4 offset=12 mask=00000000 val=0a000201
	action mangle tcp offset=0 mask=0000ffff val=9c400000
	action csum flags=0x9
	action redirect dev=pc
	entry hnapt hash=$h way=0
	result 0
	EOF
	)" key_ifindex="$a" key_family=inet key_proto=tcp key_saddr=10.0.1.2 key_daddr=10.0.2.2 \
		key_sport=40000 key_dport=80 flow_oif="$c" flow_dmac=$MAC2 flow_smac=$MAC1 \
		flow_flags=snat flow_nat_saddr=10.0.2.1 flow_nat_sport=40000

	h=$(G hash 2 10.0.1.2 40001 10.0.1.1 8080)
	rule_case rule-ipv4-dnat ok "$(cat <<-EOF
	rule dev=pa prio=0 protocol=0x0003
	keys 0x2100017
	control addr_type=2/0xffff flags=0x0/0x0
	basic n_proto=0x0800/0xffff ip_proto=6/0xff
	ipv4 src=10.0.1.2/255.255.255.255 dst=10.0.1.1/255.255.255.255
	ports src=40001/0xffff dst=8080/0xffff
	tcp flags=0x0000/0x0005
	meta ingress_ifindex=$a/0xffffffff ingress_iftype=0/0x0
	$(eth_actions)
	action mangle ip4 offset=16 mask=00000000 val=0a000202
	action mangle tcp offset=0 mask=ffff0000 val=00000050
	action csum flags=0x9
	action redirect dev=pc
	entry hnapt hash=$h way=0
	result 0
	EOF
	)" key_ifindex="$a" key_family=inet key_proto=tcp key_saddr=10.0.1.2 key_daddr=10.0.1.1 \
		key_sport=40001 key_dport=8080 flow_oif="$c" flow_dmac=$MAC2 flow_smac=$MAC1 \
		flow_flags=dnat flow_nat_daddr=10.0.2.2 flow_nat_dport=80

	h=$(G hash 2 10.0.1.2 5000 10.0.2.2 53)
	rule_case rule-ipv4-route ok "$(cat <<-EOF
	rule dev=pa prio=0 protocol=0x0003
	keys 0x2000017
	control addr_type=2/0xffff flags=0x0/0x0
	basic n_proto=0x0800/0xffff ip_proto=17/0xff
	ipv4 src=10.0.1.2/255.255.255.255 dst=10.0.2.2/255.255.255.255
	ports src=5000/0xffff dst=53/0xffff
	meta ingress_ifindex=$a/0xffffffff ingress_iftype=0/0x0
	$(eth_actions)
	action redirect dev=pc
	entry ipv4_route hash=$h way=0
	result 0
	EOF
	)" key_ifindex="$a" key_family=inet key_proto=udp key_saddr=10.0.1.2 key_daddr=10.0.2.2 \
		key_sport=5000 key_dport=53 flow_oif="$c" flow_dmac=$MAC2 flow_smac=$MAC1

	h=$(G hash 2 fd00:1::2 40000 fd00:2::2 443)
	rule_case rule-ipv6-route ok "$(cat <<-EOF
	rule dev=pa prio=0 protocol=0x0003
	keys 0x210001b
	control addr_type=3/0xffff flags=0x0/0x0
	basic n_proto=0x86dd/0xffff ip_proto=6/0xff
	ipv6 src=fd00:1::2/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff dst=fd00:2::2/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
	ports src=40000/0xffff dst=443/0xffff
	tcp flags=0x0000/0x0005
	meta ingress_ifindex=$a/0xffffffff ingress_iftype=0/0x0
	$(eth_actions)
	action redirect dev=pc
	entry ipv6_5t hash=$h way=0
	result 0
	EOF
	)" key_ifindex="$a" key_family=inet6 key_proto=tcp key_saddr=fd00:1::2 key_daddr=fd00:2::2 \
		key_sport=40000 key_dport=443 flow_oif="$c" flow_dmac=$MAC2 flow_smac=$MAC1

	# IPv6 NAT: four IP6 mangles per address, which MediaTek refuses.
	rule_case rule-ipv6-snat-refused \
		"error 95 EOPNOTSUPP: ppe_sim: the PPE rewrites no IPv6 header" "$(cat <<-EOF
	rule dev=pa prio=0 protocol=0x0003
	keys 0x210001b
	control addr_type=3/0xffff flags=0x0/0x0
	basic n_proto=0x86dd/0xffff ip_proto=6/0xff
	ipv6 src=fd00:1::2/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff dst=fd00:2::2/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
	ports src=40001/0xffff dst=443/0xffff
	tcp flags=0x0000/0x0005
	meta ingress_ifindex=$a/0xffffffff ingress_iftype=0/0x0
	$(eth_actions)
	action mangle ip6 offset=8 mask=00000000 val=fd000002
	action mangle ip6 offset=12 mask=00000000 val=00000000
	action mangle ip6 offset=16 mask=00000000 val=00000000
	action mangle ip6 offset=20 mask=00000000 val=00000001
	action mangle tcp offset=0 mask=0000ffff val=9c410000
	action redirect dev=pc
	result -95
	EOF
	)" key_ifindex="$a" key_family=inet6 key_proto=tcp key_saddr=fd00:1::2 key_daddr=fd00:2::2 \
		key_sport=40001 key_dport=443 flow_oif="$c" flow_dmac=$MAC2 flow_smac=$MAC1 \
		flow_flags=snat flow_nat_saddr=fd00:2::1 flow_nat_sport=40001
	if ! out=$(G flows); then
		fail rule-refused-not-kept "the module's flows cannot be listed"
	elif grep -q '"sport": 40001, "dport": 443' <<<"$out"; then
		fail rule-refused-not-kept "$(grep '"sport": 40001, "dport": 443' <<<"$out")"
	else
		pass rule-refused-not-kept
	fi

	# A full bucket: two flows of another source fill both ways.
	read -r s1 s2 < <(G collide 2 2 10.0.1.2 41000 10.0.2.2 80 10.0.1.3)
	for s in $s1 $s2; do
		G add key_ifindex="$a" key_family=inet key_proto=tcp key_saddr=10.0.1.3 \
			key_daddr=10.0.2.2 key_sport="$s" key_dport=80 flow_oif="$c" \
			flow_dmac=$MAC2 flow_smac=$MAC1
	done
	out=$(G add key_ifindex="$a" key_family=inet key_proto=tcp key_saddr=10.0.1.2 \
		key_daddr=10.0.2.2 key_sport=41000 key_dport=80 flow_oif="$c" \
		flow_dmac=$MAC2 flow_smac=$MAC1 2>&1)
	if [ "$out" = "error 28 ENOSPC: ppe_sim: hash bucket full" ] &&
		grep -q "bucket $(G hash 2 10.0.1.2 41000 10.0.2.2 80) full" "$DBG/rules"; then
		pass rule-bucket-collision-refused
	else
		fail rule-bucket-collision-refused "${out:-accepted}"
	fi
	kmod_unload
}

# The PPE's share of a transfer: HW_FWD frames forwarded by ppe_sim,
# XDP_SEEN frames the XDP program saw (any verdict).
ppe_forwarded() { sed -n 's/.*forwarded=\([0-9]*\).*/\1/p' "$DBG/stats"; }
xdp_seen() { fp status --json | jq '.verdicts.redirect + .verdicts.pass'; }

# hw_xfer NAME ARGS...: tcp_xfer NAME ARGS... (options included), and
# what the PPE forwarded and XDP saw meanwhile; with XFER_HOLD, from the
# moment it held (XFER_ON_SNAP), as tcp_xfer counts the rest.
hw_snap() { HW_X0=$(xdp_seen) HW_P0=$(ppe_forwarded); }
hw_xfer() {
	local rc
	hw_snap
	[ -n "${XFER_HOLD:-}" ] && local XFER_ON_SNAP=hw_snap
	tcp_xfer "$@"
	rc=$?
	XDP_SEEN=$(($(xdp_seen) - HW_X0))
	HW_FWD=$(($(ppe_forwarded) - HW_P0))
	echo "  $1: PPE $HW_FWD, XDP saw $XDP_SEEN"
	return $rc
}

# Transfers are judged once the connection is where the case expects it
# (bound in the PPE, or both entries on XDP): under TCG on a loaded host a
# connection's slow-path start (handshake, conntrack event, learning, the
# module's bind) takes a time, not a number of packets. The sender streams
# the first half of its data and pauses there only while the counters are
# read (XFER_HOLD, XFER_FIRST half the size: a wait from the first MB could
# outlast the idle timeout);
# tcp_xfer reports the forward chain's packets before it as the learning
# window.
HOLD_HW="hw_bound_at_least 2"
HOLD_XDP="in_table 80"
# One direction bound in the PPE, the other on XDP (a bucket collision).
HOLD_SPLIT="hw_bound_at_least 1 && [ \"\$(port_entries 80)\" -ge 1 ]"

hw_bound_at_least() { [ "$(status_field daemon hw bound)" -ge "$1" ]; }
hw_mode_is() { status_is "$1" daemon hw mode; }

# check_hw NAME: the PPE carried over 99% of the last transfer; XDP and the
# forward chain saw under 1%.
check_hw() {
	if [ $((HW_FWD * 100)) -gt $((XFER_PKTS * 99)) ] &&
		[ $((XDP_SEEN * 100)) -lt "$XFER_PKTS" ] && [ $((XFER_FWD * 100)) -lt "$XFER_PKTS" ]; then
		pass "$1"
	else
		fail "$1" "PPE $HW_FWD, XDP $XDP_SEEN, forward chain $XFER_FWD of $XFER_PKTS packets"
	fi
}

# check_xdp NAME: XDP carried the last transfer (check_offloaded), the
# PPE none of it.
check_xdp() {
	if [ "$HW_FWD" -ne 0 ]; then
		fail "$1" "the PPE forwarded $HW_FWD packets"
	else
		check_offloaded "$1"
	fi
}

test_hw() {
	local id0 id1 refreshes fb0 out a c s t0 s1 s2 flows
	kmod_load || { fail hw-setup "insmod failed"; return; }
	if ! LAB_LINK=ppesim lab_up || ! FP_DAEMON_DEBUG=1 start_daemon --policy mark:1/1 r0 r1; then
		fail hw-setup "lab or daemon failed to start"
		lab_down
		kmod_unload
		return
	fi
	out=$(fp status)
	echo "$out" | sed -n '/^interfaces:/,/^flows:/p' | sed 's/^/    /'
	if grep -q '^  r0 .*tier hw: ppesim offloads flows' <<<"$out" &&
		grep -q '^  r1 .*tier hw:' <<<"$out"; then
		pass hw-status-tier-hw
	else
		fail hw-status-tier-hw "$(grep -A2 '^interfaces' <<<"$out")"
	fi

	XFER_FIRST=$((MB << 19)) XFER_HOLD=$HOLD_HW hw_xfer hw-tcp4 ipv4 10.0.2.2 80 "$MB" && check_hw hw-tcp4-carried-by-ppe
	if [ "$(status_field daemon hw offered)" -ge 2 ] && [ "$(status_field daemon hw fallbacks)" = 0 ]; then
		pass hw-tcp4-offered-no-fallback
	else
		fail hw-tcp4-offered-no-fallback "$(fp status --json)"
	fi

	# conntrack sees none of a bound flow: the hardware counters must
	# keep it alive past a 4 s timeout.
	in_r sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=4
	XFER_PACE=12 tcp_xfer_start hw-keepalive ipv4 10.0.2.2 443 6
	if wait_for 60 hw_bound_at_least 2; then
		id0=$(in_r conntrack -L -p tcp --dport 443 -o id 2>/dev/null | grep -o 'id=[0-9]*')
		flows=$(fp flows | grep -c ' hw ')
		if tcp_xfer_wait hw-keepalive; then
			id1=$(in_r conntrack -L -p tcp --dport 443 -o id 2>/dev/null | grep -o 'id=[0-9]*')
			refreshes=$(status_field daemon refreshes)
			echo "  keepalive: conntrack $id0 -> ${id1:-gone}, $refreshes refreshes, $flows directions in hw"
			if [ -n "$id0" ] && [ "$id0" = "$id1" ] && [ "$refreshes" -gt 0 ] && [ "$flows" -ge 2 ]; then
				pass hw-keepalive-from-hw-counters
			else
				fail hw-keepalive-from-hw-counters "conntrack $id0 became ${id1:-nothing}, $refreshes refreshes"
			fi
		fi
	else
		fail hw-keepalive-from-hw-counters "never bound: $(fp flows)"
		tcp_xfer_wait hw-keepalive
	fi
	in_r sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=432000

	# IPv6 through masquerade: ppe_sim refuses the IPv6 NAT rule, XDP carries it.
	fb0=$(status_field daemon hw fallbacks)
	XFER_FIRST=$((MB << 19)) XFER_HOLD=$HOLD_XDP hw_xfer hw-tcp6-nat ipv6 fd00:2::2 80 "$MB" &&
		check_xdp hw-ipv6-nat-falls-back-to-xdp
	[ "$(status_field daemon hw fallbacks)" -ge $((fb0 + 2)) ] &&
		pass hw-ipv6-nat-counted-as-fallback ||
		fail hw-ipv6-nat-counted-as-fallback "fallbacks $fb0 -> $(status_field daemon hw fallbacks)"

	# A bucket collision: the client's direction finds both ways of its
	# bucket taken and stays on XDP; the server's goes to the PPE.
	a=$(ridx r0) c=$(ridx r1)
	s=42424
	read -r s1 s2 < <(G collide 2 2 10.0.1.2 $s 10.0.2.2 80 10.0.1.99)
	for p in $s1 $s2; do
		Gr add key_ifindex="$a" key_family=inet key_proto=tcp key_saddr=10.0.1.99 \
			key_daddr=10.0.2.2 key_sport="$p" key_dport=80 flow_oif="$c" \
			flow_dmac=$MAC2 flow_smac=$MAC1
	done
	fb0=$(status_field daemon hw fallbacks)
	t0=$(sed -n 's/.*bucket_full=\([0-9]*\).*/\1/p' "$DBG/stats")
	XFER_SPORT=$s XFER_FIRST=$((MB << 19)) XFER_HOLD=$HOLD_SPLIT hw_xfer hw-collision ipv4 10.0.2.2 80 "$MB"
	if [ "$(sed -n 's/.*bucket_full=\([0-9]*\).*/\1/p' "$DBG/stats")" -gt "$t0" ] &&
		[ "$(status_field daemon hw fallbacks)" -gt "$fb0" ] && [ "$HW_FWD" -gt 0 ] &&
		[ "$XDP_SEEN" -gt 0 ] && [ $((XFER_FWD * 100)) -lt "$XFER_PKTS" ]; then
		pass hw-bucket-collision-falls-back-to-xdp
	else
		fail hw-bucket-collision-falls-back-to-xdp "bucket_full $t0 -> $(grep -o 'bucket_full=[0-9]*' "$DBG/stats"), PPE $HW_FWD, XDP $XDP_SEEN"
	fi

	# The link goes down under a bound flow: the kmod withdraws it, the
	# transfer carries on through the stack and back onto a fast path.
	XFER_PACE=12 tcp_xfer_start hw-linkdown ipv4 10.0.2.2 80 6
	if wait_for 60 hw_bound_at_least 2; then
		in_r ip link set r1 down
		sleep 0.5
		out=$(grep -c 'out=r1\|in=r1' "$DBG/table")
		in_r ip link set r1 up
		in_s ping -c1 -W2 10.0.2.1 >/dev/null
		if tcp_xfer_wait hw-linkdown && [ "$out" = 0 ]; then
			pass hw-link-down-mid-transfer
		else
			fail hw-link-down-mid-transfer "$out PPE entries of r1 left after it went down"
		fi
	else
		fail hw-link-down-mid-transfer "never bound"
		tcp_xfer_wait hw-linkdown
	fi

	# A bound device is deleted: no reference may hold it back.
	in_r ip link add r2 type ppesim && in_r ip link add x2 link r2 type ppesim &&
		in_r ip link set r2 up && in_r ip link set x2 up
	a=$(ridx r2) c=$(ridx x2)
	Gr add key_ifindex="$a" key_family=inet key_proto=udp key_saddr=10.9.0.1 \
		key_daddr=10.9.0.2 key_sport=1000 key_dport=2000 flow_oif="$c" \
		flow_dmac=$MAC2 flow_smac=$MAC1
	sleep 0.3
	t0=$(date +%s%N)
	in_r timeout 20 ip link del r2
	t0=$((($(date +%s%N) - t0) / 1000000))
	if [ "$t0" -lt 5000 ] && flows=$(Gr flows) && devs=$(Gr devs) &&
		! grep -q "\"ifindex\": $a," <<<"$flows" && ! grep -q '"name": "r2"' <<<"$devs"; then
		pass hw-device-removal-releases
	else
		fail hw-device-removal-releases "deletion took $t0 ms; $(Gr flows | grep -c "\"ifindex\": $a,") flows left"
	fi

	# rmmod under a bound flow: the transfer finishes on a lower tier.
	XFER_PACE=12 tcp_xfer_start hw-rmmod ipv4 10.0.2.2 80 6
	if wait_for 60 hw_bound_at_least 2; then
		rmmod fastpath
		if tcp_xfer_wait hw-rmmod && wait_for 30 hw_mode_is no_kmod; then
			pass hw-rmmod-mid-transfer
		else
			fail hw-rmmod-mid-transfer "hw mode $(status_field daemon hw mode)"
		fi
	else
		fail hw-rmmod-mid-transfer "never bound"
		tcp_xfer_wait hw-rmmod
	fi
	insmod "$KO/fastpath.ko"
	wait_for 60 hw_mode_is on && pass hw-kmod-comes-back ||
		fail hw-kmod-comes-back "hw mode $(status_field daemon hw mode)"

	stop_daemon
	lab_down
	kmod_unload
}

test_indirect() {
	local out
	kmod_load indirect=1 || { fail indirect-setup "insmod failed"; return; }
	if ! LAB_LINK=ppesim lab_up || ! start_daemon --policy mark:1/1 r0 r1; then
		fail indirect-setup "lab or daemon failed to start"
		lab_down
		kmod_unload
		return
	fi
	out=$(fp status)
	grep -q '^  r0 .*tier hw: ppesim offloads flows (TC_SETUP_FT through an indirect block)' <<<"$out" &&
		pass indirect-status-tier-hw || fail indirect-status-tier-hw "$(grep -A2 '^interfaces' <<<"$out")"
	XFER_FIRST=$((MB << 19)) XFER_HOLD=$HOLD_HW hw_xfer indirect-tcp4 ipv4 10.0.2.2 80 "$MB" &&
		check_hw indirect-tcp4-carried-by-ppe
	stop_daemon
	lab_down
	# The driver leaves first here: its indirect blocks go through the cleanup.
	rmmod ppe_sim && rmmod fastpath && pass indirect-unload ||
		{ fail indirect-unload "rmmod failed"; kmod_unload; }
}

test_fallback() {
	local out
	kmod_load || { fail fallback-setup "insmod failed"; return; }
	if ! lab_up || ! start_daemon --policy mark:1/1 r0 r1; then
		fail fallback-setup "lab or daemon failed to start"
		lab_down
		kmod_unload
		return
	fi
	out=$(fp status)
	echo "$out" | sed -n '/^interfaces:/,/^flows:/p' | sed 's/^/    /'
	grep -q '^  r0 .*tier xdp: veth has no flow offload (TC_SETUP_FT: Operation not supported)' <<<"$out" &&
		pass fallback-veth-status-says-why || fail fallback-veth-status-says-why "$(grep -A2 '^interfaces' <<<"$out")"
	XFER_FIRST=$((MB << 19)) XFER_HOLD=$HOLD_XDP tcp_xfer fallback-tcp4 ipv4 10.0.2.2 80 "$MB" &&
		check_offloaded fallback-veth-on-xdp-tier
	[ "$XFER_REDIR" -gt 0 ] && [ "$(status_field daemon hw offered)" = 0 ] &&
		pass fallback-veth-nothing-offered || fail fallback-veth-nothing-offered "$(fp status --json)"
	stop_daemon
	kmod_unload
	start_daemon --policy mark:1/1 r0 r1
	out=$(fp status)
	grep -q '^  r0 .*tier xdp: the hardware tier module fastpath.ko is not loaded' <<<"$out" &&
		[ "$(status_field daemon hw mode)" = no_kmod ] &&
		pass fallback-no-kmod-status-says-why || fail fallback-no-kmod-status-says-why "$out"
	XFER_FIRST=$((MB << 19)) XFER_HOLD=$HOLD_XDP tcp_xfer fallback-nokmod-tcp4 ipv4 10.0.2.2 80 "$MB" &&
		check_offloaded fallback-no-kmod-on-xdp-tier
	stop_daemon
	lab_down
}

ppe_bound() { sed -n 's/.*bound=\([0-9]*\).*/\1/p' "$DBG/stats"; }
ppe_none_bound() { [ "$(ppe_bound)" = 0 ]; }
# Directions the module holds in the current namespace.
kmod_flows() { G flows | grep -c '"state"'; }
lease_field() { G lease | jq -r ".$1"; }

# Entries in ppe_sim's table, any state (cheap to poll: python is not).
ppe_used() { sed -n 's/.*used=\([0-9]*\).*/\1/p' "$DBG/stats"; }
ppe_empty() { [ "$(ppe_used)" = 0 ]; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
sim_add_args() {
	echo add key_ifindex="$(ifindex pa)" key_family=inet key_proto=tcp key_saddr=10.0.1.2 \
		key_daddr=10.0.2.2 key_sport="$1" key_dport=80 flow_oif="$(ifindex pc)" \
		flow_dmac=$MAC2 flow_smac=$MAC1
}

# The lease and the idle expiry as the family offers them, without a
# daemon. Each python start costs a second or more under emulation, so
# the times are taken from ppe_sim's table and from the lease's own
# "left_ms" answer, not from the client's runs.
lease_genl() {
	local t0 t left n out
	kmod_load || { fail lease-setup "insmod failed"; return 1; }
	sim_ports
	genl_err lease-too-short-erange 34 G lease lease_ms=50
	genl_err lease-idle-too-long-erange 34 G lease idle_s=86401

	# No lease set: a direction stays (the legacy behaviour, for clients
	# that do not renew one).
	G $(sim_add_args 40100)
	sleep 2
	[ "$(kmod_flows)" = 1 ] && [ "$(lease_field lease_ms)" = 0 ] &&
		pass lease-none-keeps-directions || fail lease-none-keeps-directions "$(G flows)"
	G flush

	# A 4 s lease, not renewed: everything goes within the lease + 1 s,
	# FLOW_ADD is refused until a renewal, and the lapse is counted.
	left=$(G lease lease_ms=4000 -- $(sim_add_args 40101) -- $(sim_add_args 40102) -- lease |
		tail -1 | jq .lease_left_ms)
	t0=$(now_ms)
	n=$(ppe_used)
	wait_for 15 ppe_empty
	t=$(($(now_ms) - t0))
	echo "  lease 4000 ms: $n entries; ${left} ms left, all withdrawn after $t ms; $(G lease)"
	if [ "$n" = 2 ] && ppe_empty && [ "$(kmod_flows)" = 0 ] &&
		[ "$t" -le $((left + 1000)) ] && [ "$t" -ge $((left - 1000)) ] &&
		[ "$(lease_field lease_lapses)" = 1 ]; then
		pass lease-lapse-withdraws-all
	else
		fail lease-lapse-withdraws-all "$n entries, $(ppe_used) left after $t ms ($left ms were left)"
	fi
	genl_err lease-lapsed-add-refused 127 G $(sim_add_args 40103)
	# Renewed every second for 8 s (in one client run), a 2 s lease
	# holds; then it is ended (what a daemon does when it stops), which
	# withdraws nothing.
	out=$(G lease lease_ms=2000 -- $(sim_add_args 40104) \
		$(for _ in 1 2 3 4 5 6 7 8; do echo -- sleep 1 -- lease lease_ms=2000; done) \
		-- lease lease_ms=0 | tail -1)
	n=$(ppe_used)
	[ "$n" = 1 ] && [ "$(jq .lease_lapses <<<"$out")" = 1 ] &&
		pass lease-renewed-holds || fail lease-renewed-holds "$n entries, $out"
	sleep 4
	[ "$(ppe_used)" = 1 ] && pass lease-ended-keeps || fail lease-ended-keeps "$(G flows)"
	G flush

	# Idle expiry: a direction whose counters never move leaves after
	# the expiry, within one more counter poll (1 s).
	G lease idle_s=2 -- $(sim_add_args 40105) >/dev/null
	t0=$(now_ms)
	wait_for 8 ppe_empty
	t=$(($(now_ms) - t0))
	echo "  idle expiry 2 s: withdrawn $t ms after the add returned"
	ppe_empty && [ "$t" -ge 500 ] && [ "$t" -le 3500 ] &&
		pass lease-idle-expiry || fail lease-idle-expiry "$(ppe_used) left after $t ms"
	kmod_unload
}

# The daemon dies (KILL) or hangs (STOP) under a transfer the PPE carries:
# within lease + 2 s ppe_sim holds no bound entry and forwards nothing
# more, the slow path finishes the transfer, the bytes are intact.
lease_daemon() {
	local sig=$1 lease=2 name t0 t p1 p2 f1 f2 bound
	name=lease-$(tr 'A-Z' 'a-z' <<<"$sig")
	if ! start_daemon --lease $lease --policy mark:1/1 r0 r1; then
		fail "$name" "the daemon did not start"
		return
	fi
	# 24 s: under a loaded emulator binding can take a good part of it,
	# and the transfer must still be running when the daemon goes.
	XFER_PACE=24 tcp_xfer_start "$name" ipv4 10.0.2.2 80 8
	if ! wait_for 15 hw_bound_at_least 2; then
		fail "$name" "never bound: $(fp flows)"
		stop_daemon
		tcp_xfer_wait "$name"
		return
	fi
	local cli
	read -r _ cli _ <<<"${XFER_STATE[$name]}"
	if ! kill -0 "$cli" 2>/dev/null; then
		fail "$name" "the transfer ended before it was bound; nothing to test"
		stop_daemon
		tcp_xfer_wait "$name"
		return
	fi
	bound=$(ppe_bound)
	t0=$(date +%s%N)
	kill -"$sig" "$DAEMON_PID"
	wait_for $((lease + 4)) ppe_none_bound
	t=$((($(date +%s%N) - t0) / 1000000))
	p1=$(ppe_forwarded) f1=$(lab_fwd_packets)
	sleep 1
	p2=$(ppe_forwarded)
	if tcp_xfer_wait "$name"; then
		f2=$(lab_fwd_packets)
		echo "  $name: $bound bound entries, none $t ms after SIG$sig (lease ${lease}s);" \
			"PPE forwarded $((p2 - p1)) after; forward chain $((f2 - f1)) packets after"
		if ppe_none_bound && [ "$t" -le $(((lease + 2) * 1000)) ] &&
			[ "$p2" = "$p1" ] && [ $((f2 - f1)) -gt 100 ]; then
			pass "$name-hw-withdrawn-slow-path-finishes"
		else
			fail "$name-hw-withdrawn-slow-path-finishes" "bound $(ppe_bound) after $t ms, PPE +$((p2 - p1)), forward chain +$((f2 - f1))"
		fi
	fi
	if [ "$sig" = STOP ]; then
		kill -CONT "$DAEMON_PID"
		stop_daemon
	else
		# Killed: no clean exit to check, only its log.
		wait "$DAEMON_PID" 2>/dev/null
		DAEMON_PID=
		daemon_log_check
	fi
}

test_lease() {
	lease_genl || return
	kmod_load || { fail lease-setup "insmod failed"; return; }
	if ! LAB_LINK=ppesim lab_up; then
		fail lease-setup "the lab did not come up"
		lab_down
		kmod_unload
		return
	fi
	lease_daemon KILL
	lease_daemon STOP
	lab_down
	kmod_unload
}

# ct_counters PROTO SPORT: "orig_packets orig_bytes reply_packets reply_bytes"
# of the router's entry with that original source port.
ct_counters() {
	in_r conntrack -L -p "$1" --orig-port-src "$2" -o extended 2>/dev/null |
		awk '{ n = 0; for (i = 1; i <= NF; i++)
			if ($i ~ /^(packets|bytes)=/) { sub(/^[a-z]*=/, "", $i); printf "%s ", $i; n++ }
			if (n == 4) { print ""; exit } }'
}

# One UDP datagram from the client (source port $1) and its echo: a real
# conntrack entry, masqueraded, replied.
udp_once() {
	in_c python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(5)
s.sendto(b"x" * 100, ("10.0.2.2", 5353))
s.recv(2000)' "$1"
}

# acct_case NAME SPORT WANT ATTR...: FP_CMD_CT_ACCT with ATTRs; the entry's
# four counters grow by exactly WANT ("dp db rp rb").
acct_case() {
	local name=$1 sport=$2 want=$3 before after d
	shift 3
	before=$(ct_counters udp "$sport")
	if ! out=$(Gr acct "$@" 2>&1); then
		fail "$name" "$out"
		return
	fi
	after=$(ct_counters udp "$sport")
	d=$(paste -d' ' <(tr ' ' '\n' <<<"$before" | sed '/^$/d') <(tr ' ' '\n' <<<"$after" | sed '/^$/d') |
		awk '{ printf "%s%.0f", (NR > 1 ? " " : ""), $2 - $1 }')
	echo "  $name: counters $before-> $after(+$d)"
	[ -n "$before" ] && [ "$d" = "$want" ] && pass "$name" || fail "$name" "grew by '$d', not '$want'"
}

test_acct() {
	local reply raddr rport
	kmod_load || { fail acct-setup "insmod failed"; return; }
	if ! lab_up; then
		fail acct-setup "the lab did not come up"
		lab_down
		kmod_unload
		return
	fi
	udp_server 5353
	in_r sysctl -qw net.netfilter.nf_conntrack_acct=1
	# Each client run takes seconds under emulation: the entry must
	# outlive them all (a UDP entry not yet assured lasts 30 s), and a
	# transfer's entry must outlive the checks after it, also when the
	# connection ended with a RST (CLOSE lasts 10 s).
	in_r sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600
	in_r sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_close=300
	in_r conntrack -F 2>/dev/null
	udp_once 40500 || fail acct-setup "no UDP echo"
	in_r conntrack -L -p udp --orig-port-src 40500 -o extended 2>/dev/null | sed 's/^/    /'

	# By the original tuple: its direction gets the first pair.
	acct_case acct-orig-tuple 40500 "1000 1000000 2000 3000000" \
		key_family=inet key_proto=udp key_saddr=10.0.1.2 key_daddr=10.0.2.2 \
		key_sport=40500 key_dport=5353 acct_packets=1000 acct_bytes=1000000 \
		acct_rev_packets=2000 acct_rev_bytes=3000000
	# By the reply tuple (post-NAT): the reply direction gets the first pair.
	read -r raddr rport < <(ct_reply udp ipv4 40500)
	acct_case acct-reply-tuple 40500 "0 0 7 700" \
		key_family=inet key_proto=udp key_saddr=10.0.2.2 key_daddr="$raddr" \
		key_sport=5353 key_dport="$rport" acct_packets=7 acct_bytes=700
	# Above 2^32 (nf_ct_acct_add() counts in unsigned int).
	acct_case acct-over-4g 40500 "5 5000000000 0 0" \
		key_family=inet key_proto=udp key_saddr=10.0.1.2 key_daddr=10.0.2.2 \
		key_sport=40500 key_dport=5353 acct_packets=5 acct_bytes=5000000000

	genl_err acct-no-entry-enoent 2 Gr acct key_family=inet key_proto=udp \
		key_saddr=10.0.1.2 key_daddr=10.0.2.2 key_sport=40599 key_dport=5353 acct_packets=1
	genl_err acct-too-large-erange 34 Gr acct key_family=inet key_proto=udp \
		key_saddr=10.0.1.2 key_daddr=10.0.2.2 key_sport=40500 key_dport=5353 \
		acct_bytes=$(((1 << 40) + 1))
	genl_err acct-missing-tuple-einval 22 Gr acct key_family=inet key_proto=udp acct_packets=1
	# An entry made while accounting was off has no counters to add to.
	in_r sysctl -qw net.netfilter.nf_conntrack_acct=0
	udp_once 40501 || fail acct-setup "no UDP echo"
	genl_err acct-off-eopnotsupp 95 Gr acct key_family=inet key_proto=udp \
		key_saddr=10.0.1.2 key_daddr=10.0.2.2 key_sport=40501 key_dport=5353 acct_packets=1
	in_r sysctl -qw net.netfilter.nf_conntrack_acct=1

	# The daemon feeds what XDP carried into the entry: conntrack's counts
	# match what the server's link carried, for a TCP download and a UDP
	# stream. Without the module they hold only what the slow path saw,
	# which also shows the check can fail.
	if start_daemon r0 r1; then
		status_is on daemon ct_accounting && pass acct-status-on ||
			fail acct-status-on "$(status_field daemon ct_accounting)"
		acct_xfer acct-daemon-tcp-down tcp && acct_check acct-daemon-tcp-counters-match-link
		acct_xfer acct-daemon-udp udp && acct_check acct-daemon-udp-counters-match-link
		stop_daemon
	else
		fail acct-daemon-counters-match-link "the daemon did not start"
	fi
	rmmod fastpath
	if start_daemon r0 r1; then
		fp status | grep -q '^conntrack accounting: off (module not loaded)$' &&
			pass acct-status-off-no-module ||
			fail acct-status-off-no-module "$(fp status | grep accounting)"
		acct_xfer acct-nokmod-tcp-down tcp && acct_check_short acct-no-module-tcp-counters-slow-path-only
		acct_xfer acct-nokmod-udp udp && acct_check_short acct-no-module-udp-counters-slow-path-only
		stop_daemon
	else
		fail acct-no-module-counters-slow-path-only "the daemon did not start"
	fi
	lab_down
	kmod_unload
}

# The accounting transfers' sizes. The issue's test is a 100 MB download.
# Under TCG one took 79-92 s on a quiet host; 32 MB took 57-74 s on a
# quiet host and 65-91 s while other VMs ran, so 100 MB under load comes
# near the 300 s a transfer may take, and twice it adds minutes to "make
# check". The default is 32 MB (the counters matched the link exactly at
# both sizes); ACCT_MB=100 runs the issue's size, with a longer timeout
# (test_kmod.sh passes both variables into the VM).
ACCT_MB=${ACCT_MB:-32}
ACCT_UDP_MB=${ACCT_UDP_MB:-1}

# acct_xfer NAME tcp|udp: through the daemon, a TCP download of $ACCT_MB
# from port 5201 or a UDP stream of $ACCT_UDP_MB echoed by port 5354.
# Sets ACCT_CT (the entry's counters: original packets, L3 bytes, reply
# packets, L3 bytes) and ACCT_IF (the same four as the server's link
# carried them, counted by port_sniff.py: the original direction is what
# the server received).
acct_xfer() {
	local name=$1 proto=$2 port sniff link t0
	port=5201
	[ "$proto" = udp ] && port=5354
	in_r conntrack -F 2>/dev/null
	rm -f "$TMP/sniff.ready"
	spawn in_s python3 "$VM_DIR/port_sniff.py" s0 "$port" "$TMP/sniff.ready" "$proto" >"$TMP/sniff.out"
	sniff=$!
	wait_for 300 test -e "$TMP/sniff.ready" || { fail "$name" "port_sniff.py did not start"; return 1; }
	t0=$(date +%s)
	if [ "$proto" = tcp ]; then
		XFER_DIR=down XFER_TIMEOUT=$((ACCT_MB * 10 + 120)) \
			tcp_xfer "$name" ipv4 10.0.2.2 "$port" "$ACCT_MB" || return 1
		rm -f "$TMP/blob$ACCT_MB" "$TMP/$name.out"
	else
		udp_xfer "$name" 10.0.2.2 "$port" "$ACCT_UDP_MB" || return 1
	fi
	echo "  $name: $(($(date +%s) - t0)) s for $( [ "$proto" = tcp ] && echo "$ACCT_MB" || echo "$ACCT_UDP_MB") MB"
	# the teardown and the daemon's last tick
	sleep 3
	kill -TERM "$sniff"
	wait "$sniff"
	read -r -a link <"$TMP/sniff.out"
	ACCT_CT=$(in_r conntrack -L -p "$proto" --dport "$port" -o extended 2>/dev/null | head -1 |
		awk '{ n = 0; for (i = 1; i <= NF; i++)
			if ($i ~ /^(packets|bytes)=/) { sub(/^[a-z]*=/, "", $i); printf "%s%s", (n++ ? " " : ""), $i } }')
	ACCT_IF="${link[2]:-} ${link[3]:-} ${link[0]:-} ${link[1]:-}"
	echo "  $name: conntrack $ACCT_CT; server link $ACCT_IF (packets, L3 bytes: original, reply; ${link[4]:-?} capture drops)"
	[ "${link[4]:-}" = 0 ] || { fail "$name" "the capture dropped ${link[4]:-?} packets"; return 1; }
}

# acct_sum I J: the sum of fields I and J of a line on stdin.
acct_sum() { awk -v i="$1" -v j="$2" '{ printf "%.0f", $i + $j }'; }

# acct_check NAME: each of the four counters within 1% of the link's, and
# XDP carried most of it (or the check would not be about the module).
acct_check() {
	if [ -n "$ACCT_CT" ] && [ $((XFER_REDIR * 2)) -gt "$(acct_sum 1 3 <<<"$ACCT_IF")" ] &&
		paste -d' ' <(tr ' ' '\n' <<<"$ACCT_CT") <(tr ' ' '\n' <<<"$ACCT_IF") |
		awk 'NF != 2 || $2 <= 0 { exit 1 }
		     { d = $1 - $2; if (d < 0) d = -d; if (d * 100 > $2) exit 1 }'; then
		pass "$1"
	else
		fail "$1" "conntrack $ACCT_CT, link $ACCT_IF, XDP redirected $XFER_REDIR"
	fi
}

# acct_check_short NAME: without the module conntrack counts only what the
# slow path carried: its packets and XDP's redirects add up to the link's
# packets (within 1%), and most packets were XDP's.
acct_check_short() {
	local ct link
	ct=$(acct_sum 1 3 <<<"$ACCT_CT") link=$(acct_sum 1 3 <<<"$ACCT_IF")
	echo "  $1: conntrack $ct + XDP $XFER_REDIR packets; the link $link"
	if [ -n "$ACCT_CT" ] && [ "$link" -gt 0 ] && [ $((XFER_REDIR * 2)) -gt "$link" ] &&
		[ $(((ct + XFER_REDIR - link) * 100)) -le "$link" ] &&
		[ $(((link - ct - XFER_REDIR) * 100)) -le "$link" ]; then
		pass "$1"
	else
		fail "$1" "conntrack $ACCT_CT, link $ACCT_IF, XDP redirected $XFER_REDIR"
	fi
}

if [ ! -e "$KO/fastpath.ko" ] || [ ! -e "$KO/ppe_sim.ko" ]; then
	echo "SKIP kmod: build/fastpath.ko and build/ppe_sim.ko missing (make kmod)"
	exit 0
fi
vm_modules
kmod_unload
DMESG0=$(dmesg | wc -l)
echo "  kernel $(uname -r)"
for t in $TESTS; do
	"test_$t"
done
bad=$(dmesg_bad)
if [ -z "$bad" ]; then
	pass dmesg-clean
else
	fail dmesg-clean "the kernel log has warnings:"
	echo "$bad" | head -40 | sed 's/^/    /'
fi
exit $E2E_FAILED
