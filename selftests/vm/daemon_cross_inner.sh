#!/usr/bin/env bash
# daemon_cross_inner.sh ARCH - the in-VM part of lab_cross.sh: the daemon
# lab of scripts/lab.sh (client, router with the reference ruleset and
# masquerade, server) in that architecture's Debian kernel, with "fastpath
# run" of build/ARCH on its CPU. Runs as root under the lab userland that
# "scripts/vm.sh --arch ARCH --lab" packs into the initramfs (Debian's
# bash, iproute2, nftables, conntrack, socat, jq, python3 of that CPU).
#
# TCP and UDP, IPv4 and IPv6, each through masquerade: the bytes arrive
# intact, the forward chain sees under 1% of the packets and XDP's
# redirect counter covers the rest (check_offloaded), and "fastpath flows"
# shows both directions with the client's, the server's and the
# masquerade's addresses and ports, as conntrack has them.
#
# Transfers are small (TCG is slow) and judged once both directions are in
# the table: the sender pauses after its first MB until then (XFER_HOLD),
# and a UDP flow is learned from a short exchange first (XFER_WARM). What
# the check is about is the path after learning, which under TCG on a
# loaded host can take seconds.
set -u
arch=$1
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# MIPS cannot exec from the 9p share: the command runs from tmpfs.
mkdir -p /tmp/fpbin
cp "$VM_DIR/../../build/$arch/fastpath" /tmp/fpbin/ || { echo "FAIL setup: no build/$arch/fastpath"; exit 1; }
export FP=/tmp/fpbin/fastpath
# shellcheck source=lib.sh
source "$VM_DIR/lib.sh"
# shellcheck source=../lib.sh
source "$VM_DIR/../lib.sh"

# busybox's nsenter and taskset run their own applet for a command that
# busybox also has (FEATURE_PREFER_APPLETS), not the one in PATH: "ip"
# would be busybox's, which knows no "nodad". Through coreutils' env, the
# lab's commands are looked up in PATH, which has Debian's first.
[ ${#HOST_PIN[@]} -gt 0 ] && HOST_PIN+=(/usr/bin/env)
in_r() { nsenter --no-fork --net=/run/netns/"$NS_R" /usr/bin/env "$@"; }

MB=${MB:-4}
UDP_MB=${UDP_MB:-1}

jit=/proc/sys/net/core/bpf_jit_enable
[ -e $jit ] && echo 1 >$jit
echo "  kernel $(uname -r) on $(uname -m), bpf_jit_enable=$(cat $jit 2>/dev/null || echo none)"
vm_modules

# held NAME PORT: both directions of the connection with PORT are in the
# table (the XFER_HOLD condition); then "fastpath flows" and the
# masquerade's port from conntrack are kept for flows_right.
held() {
	[ "$(port_entries "$2")" -ge 2 ] || return 1
	fp flows | tr -s ' ' >"$TMP/$1.flows"
}

# flows_right NAME PROTO FAMILY CLIENT SPORT SERVER PORT NATADDR: the
# kept listing has the client's direction, masqueraded to NATADDR (the
# router's WAN address) and the port conntrack chose, and the server's,
# translated back, each on the fast path.
flows_right() {
	local name=$1 proto=$2 fam=$3 cli=$4 sport=$5 srv=$6 port=$7 nat=$8 ct nport want ok=1
	ct=$(ct_reply "$proto" "$fam" "$sport")
	nport=${ct#* }
	if [ -z "$ct" ] || [ "${ct% *}" != "$nat" ]; then
		fail "$name-flows" "conntrack has no masquerade of $sport to $nat: '$ct'"
		return 1
	fi
	for want in "r0 $proto $(ep "$cli" "$sport") -> $(ep "$srv" "$port") snat $(ep "$nat" "$nport") => r1 xdp " \
		"r1 $proto $(ep "$srv" "$port") -> $(ep "$nat" "$nport") dnat $(ep "$cli" "$sport") => r0 xdp "; do
		grep -qF "$want" "$TMP/$name.flows" 2>/dev/null || {
			fail "$name-flows" "no line '$want' in: $(tr '\n' '|' <"$TMP/$name.flows" 2>/dev/null)"
			ok=0
		}
	done
	[ $ok = 1 ] && pass "$name-flows: $(ep "$cli" "$sport") -> $(ep "$srv" "$port") snat $(ep "$nat" "$nport")"
}

# tcp NAME FAMILY up|down PORT SPORT: $MB MB over TCP through masquerade.
tcp() {
	local name=$1 fam=$2 srv=10.0.2.2 cli=10.0.1.2 nat=10.0.2.1
	[ "$fam" = ipv6 ] && srv=fd00:2::2 cli=fd00:1::2 nat=fd00:2::1
	XFER_DIR=$3 XFER_SPORT=$5 XFER_HOLD="held $name $4" XFER_HOLD_S=30 \
		tcp_xfer "$name" "$fam" "$srv" "$4" "$MB" || return
	check_offloaded "$name-offloaded"
	flows_right "$name" tcp "$fam" "$cli" "$5" "$srv" "$4" "$nat"
}

# udp NAME FAMILY PORT SPORT: $UDP_MB MB echoed over UDP (udp_echo.py).
udp() {
	local name=$1 fam=$2 srv=10.0.2.2 cli=10.0.1.2 nat=10.0.2.1
	[ "$fam" = ipv6 ] && srv=fd00:2::2 cli=fd00:1::2 nat=fd00:2::1
	XFER_SPORT=$4 XFER_WARM=1 XFER_HOLD="held $name $3" XFER_HOLD_S=30 \
		udp_xfer "$name" "$srv" "$3" "$UDP_MB" || return
	check_offloaded "$name-offloaded"
	flows_right "$name" udp "$fam" "$cli" "$4" "$srv" "$3" "$nat"
}

if ! lab_up; then
	fail lab-setup "the lab did not come up"
	exit 1
fi
# Where the JIT cannot take the clock's timer (mips32: no BPF-to-BPF
# calls), the daemon says so once, as it loads the object without it.
# shellcheck disable=SC2034 # read by lib.sh's daemon_log_check
[ "$arch" = mipsel ] && DAEMON_LOG_EXPECTED="load refused \(EINVAL\): again without the clock's timer"
# Under TCG on a shared host, the harness's own pauses in a flow (the
# sender held until the table has both directions, the counters read
# before it goes on: a dozen process starts) last tens of seconds, and
# longer on mipsel's one CPU. A pause past the daemon's idle timeout (30 s)
# sends the flow back to learning, and one past conntrack's for a UDP flow
# (30 s: offloaded early, conntrack never sees it long enough to call it a
# stream) ends the connection; either way the rest of the transfer starts
# on the slow path again. Both are set to 300 s here, so that what is
# judged is the path a flow takes, not how long the emulation took.
in_r sysctl -qw net.netfilter.nf_conntrack_udp_timeout=300 || fail lab-setup "cannot set the UDP timeout"
if ! start_daemon --policy all --idle-timeout 300 r0 r1; then
	fail daemon-start "the daemon did not start"
	exit 1
fi
tcp tcp4-up ipv4 up 80 40080
tcp tcp6-down ipv6 down 443 40443
udp udp4 ipv4 5300 45300
udp udp6 ipv6 5301 45301
fp status 2>&1 | grep -E '^(flows|verdicts|pass reasons|tc|lease)' | sed 's/^/  /'
stop_daemon && pass daemon-clean-exit
exit $E2E_FAILED
