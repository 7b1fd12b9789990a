#!/usr/bin/env bash
# The OpenWrt package (openwrt/fastpath/), checked without an OpenWrt SDK
# or device, which this machine does not have (docs/OPENWRT.md):
# - shellcheck and busybox ash's parser on the init and hotplug scripts;
# - the init script's UCI-to-command-line translation, run in busybox ash
#   (and dash) against a STAND-IN for OpenWrt's config_*/network_*/procd_*
#   functions (openwrt_standin.sh), on the shipped config and variants;
#   the resulting options are then given to the real `fastpath run`;
# - the hotplug script, against the same stand-in;
# - the fw4 include with nft -c inside a table shaped like fw4's, and
#   loaded for real in a namespace router, where it must mark forwarded
#   TCP to port 80 and leave port 8080 alone;
# - the daemon's sources against musl's headers;
# - the feed Makefile: its files/ list, the module it packages, its
#   recipes run by a stand-in SDK for a little- and a big-endian target,
#   and the BPF object built with its flags for both byte orders.
set -u
# The test library: pass/fail/skip, spawned processes and extra
# namespaces removed on exit, wait_for.
source "$(dirname "$0")/../lib.sh"
PKG=$TOP/openwrt/fastpath
FILES=$PKG/files
STANDIN=$TOP/selftests/e2e/openwrt_standin.sh
NS=fpow$$
EXTRA_NS+=("$NS-c" "$NS-r" "$NS-s")

# --- shell scripts ---------------------------------------------------------

if command -v shellcheck >/dev/null; then
	for f in fastpath.init fastpath.hotplug; do
		if out=$(shellcheck "$FILES/$f" 2>&1); then
			pass "shellcheck-$f"
		else
			fail "shellcheck-$f" "$(echo "$out" | head -20)"
		fi
	done
	if out=$(shellcheck "$STANDIN" 2>&1); then
		pass shellcheck-standin
	else
		fail shellcheck-standin "$(echo "$out" | head -20)"
	fi
else
	skip shellcheck "shellcheck is not installed (scripts/deps.sh)"
fi

# OpenWrt runs these in busybox ash; Debian's dash is the nearest other.
SHELLS=()
command -v busybox >/dev/null && busybox sh -c : 2>/dev/null && SHELLS+=("busybox sh")
command -v dash >/dev/null && SHELLS+=(dash)
if [ ${#SHELLS[@]} -eq 0 ]; then
	skip shells "neither busybox nor dash is installed"
fi
for sh in "${SHELLS[@]}"; do
	for f in fastpath.init fastpath.hotplug; do
		if out=$($sh -n "$FILES/$f" 2>&1); then
			pass "parse-$f-${sh%% *}"
		else
			fail "parse-$f-${sh%% *}" "$out"
		fi
	done
done

# --- the init script against the stand-in ----------------------------------

ROOT=$TMP/root
mkdir -p "$ROOT/lib/functions" "$ROOT/etc/init.d" "$TMP/conf"
# network_get_* and config_* are defined by the stand-in, sourced first.
echo '# stand-in: network_get_* come from openwrt_standin.sh' >"$ROOT/lib/functions/network.sh"
echo ". '$STANDIN'" >"$ROOT/lib/functions.sh"
# A stand-in for the fastpath binary, so that a detach is recorded and never
# touches this machine's real pins.
cat >"$TMP/fastpath-stub" <<EOF
#!/bin/sh
echo "fastpath \$*" >>"$TMP/calls"
EOF
chmod +x "$TMP/fastpath-stub"

# translate SHELL CONFIG [VAR=VALUE...]: run start_service of the init
# script with CONFIG as /etc/config/fastpath; procd's view goes to
# $TMP/out, log lines to $TMP/log. The devices that "exist" are $SI_DEVS.
translate() {
	local sh=$1 conf=$2
	shift 2
	cp "$conf" "$TMP/conf/fastpath"
	: >"$TMP/out"
	: >"$TMP/log"
	: >"$TMP/calls"
	# $sh is split on purpose ("busybox sh"); the script is for that shell.
	# shellcheck disable=SC2086,SC2016
	env SI_CONFDIR="$TMP/conf" SI_OUT="$TMP/out" SI_LOG="$TMP/log" \
		IPKG_INSTROOT="$ROOT" SI_PHYSDEV_lan=br-lan SI_L3DEV_lan=br-lan \
		SI_PHYSDEV_wan=eth0.7 SI_L3DEV_wan=pppoe-wan SI_DEVS="br-lan eth0.7 eth1" \
		SI_FLOW_OFFLOADING= SI_PIDFILE="$TMP/pid" "$@" \
		$sh -c '
		. "$1"
		. "$2"
		# Stand-ins for what only a router has: its devices, its pidfile,
		# its fastpath binary.
		fp_dev_exists() { case " $SI_DEVS " in *" $1 "*) return 0 ;; esac; return 1; }
		PIDFILE=$SI_PIDFILE
		PROG=$3
		start_service' sh "$STANDIN" "$FILES/fastpath.init" "$TMP/fastpath-stub"
}

# The command line procd was given, without "param command".
cmdline() {
	sed -n 's/^param command //p' "$TMP/out"
}

# with KEY VALUE: a copy of the shipped config with option KEY set to VALUE
# (added when the shipped file has it commented out or not at all).
with() {
	local f=$TMP/conf.$RANDOM
	awk -v k="$1" -v v="$2" '
		$1 == "option" && $2 == k { print "\toption " k " \x27" v "\x27"; done = 1; next }
		$1 == "#option" && $2 == k && !done { print "\toption " k " \x27" v "\x27"; done = 1; next }
		{ print }
		END { if (!done) print "\toption " k " \x27" v "\x27" }' "${3:-$FILES/fastpath.config}" >"$f"
	echo "$f"
}

want_default="/usr/sbin/fastpath run --policy mark:0x1/0x1 --idle-timeout 30 --lease 5 --hw-deadline 10 --keep-attached br-lan eth0.7"
want_default=${want_default/\/usr\/sbin\/fastpath/$TMP/fastpath-stub}

for sh in "${SHELLS[@]}"; do
	s=${sh%% *}

	translate "$sh" "$FILES/fastpath.config"
	got=$(cmdline)
	if [ "$got" = "$want_default" ] &&
		grep -qx 'param netdev br-lan eth0.7' "$TMP/out" &&
		grep -qx 'param respawn 3600 5 5' "$TMP/out" &&
		grep -qx "param pidfile $TMP/pid" "$TMP/out"; then
		pass "uci-shipped-config-$s"
	else
		fail "uci-shipped-config-$s" "got '$got', procd: $(tr '\n' ';' <"$TMP/out") log: $(cat "$TMP/log")"
	fi

	c=$(with sqm_guard 0)
	c=$(with hw off "$c")
	c=$(with max_flows 1000 "$c")
	c=$(with mode generic "$c")
	c=$(with capacity 4096 "$c")
	c=$(with policy all "$c")
	echo "	list devices 'eth1'" >>"$c"
	echo "	list devices 'br-lan'" >>"$c"
	translate "$sh" "$c"
	got=$(cmdline)
	want="$TMP/fastpath-stub run --policy all --idle-timeout 30 --lease 5 --max-flows 1000 --no-sqm-guard --no-hw --hw-deadline 10 --mode generic --capacity 4096 --keep-attached br-lan eth0.7 eth1"
	if [ "$got" = "$want" ]; then
		pass "uci-all-options-$s"
	else
		fail "uci-all-options-$s" "got '$got', want '$want'"
	fi

	# PPPoE: the device under the session, never pppoe-wan; a network with
	# no physical device falls back to its l3 device (a tunnel).
	translate "$sh" "$FILES/fastpath.config" SI_PHYSDEV_wan= SI_L3DEV_wan=wg0 SI_DEVS="br-lan wg0"
	got=$(cmdline)
	case "$got" in
	*" br-lan wg0") pass "uci-l3-fallback-$s" ;;
	*) fail "uci-l3-fallback-$s" "got '$got'" ;;
	esac

	# A network whose device does not exist yet is left out, with a log line.
	translate "$sh" "$FILES/fastpath.config" SI_DEVS="br-lan"
	got=$(cmdline)
	if [ "${got##* --keep-attached }" = "br-lan" ] && grep -q "eth0.7.*does not exist" "$TMP/log"; then
		pass "uci-missing-device-$s"
	else
		fail "uci-missing-device-$s" "got '$got', log: $(cat "$TMP/log")"
	fi

	# Refusals: no instance, and a log line that says why.
	refuse() {
		local name=$1 pattern=$2
		shift 2
		translate "$sh" "$@"
		if [ ! -s "$TMP/out" ] && grep -q "$pattern" "$TMP/log"; then
			pass "$name-$s"
		else
			fail "$name-$s" "procd: $(tr '\n' ';' <"$TMP/out") log: $(cat "$TMP/log")"
		fi
	}
	refuse uci-flow-offloading 'log daemon.err not starting: fw4 flow offloading is on' \
		"$FILES/fastpath.config" SI_FLOW_OFFLOADING=1
	refuse uci-disabled 'disabled in /etc/config/fastpath' "$(with enabled 0)"
	refuse uci-bad-lease "option lease must be a number, not '5s'" "$(with lease 5s)"
	refuse uci-bad-policy "option policy must be" "$(with policy mark)"
	refuse uci-bad-mode "option mode must be" "$(with mode turbo)"
	refuse uci-no-device 'none of the configured networks' "$FILES/fastpath.config" SI_DEVS=

	# Refusing while a daemon runs (flow offloading just turned on, then a
	# reload): that daemon is stopped through procd, and only once it has
	# exited is fastpath detached.
	# The stand-in daemon is orphaned, so that init reaps it once killed
	# (a zombie child of this shell would look alive to kill -0).
	(sleep 30 >/dev/null 2>&1 & echo $! >"$TMP/pid")
	daemon=$(cat "$TMP/pid")
	E2E_PIDS+=("$daemon")
	start=$SECONDS
	translate "$sh" "$FILES/fastpath.config" SI_FLOW_OFFLOADING=on
	if [ $((SECONDS - start)) -gt 5 ]; then
		fail "uci-refuse-stops-and-detaches-$s" "waited $((SECONDS - start)) s for a stopped daemon"
	elif grep -q 'ubus call service delete {"name":"fastpath"}' "$TMP/log" &&
		! kill -0 "$daemon" 2>/dev/null && grep -qx 'fastpath detach' "$TMP/calls" &&
		[ ! -s "$TMP/out" ]; then
		pass "uci-refuse-stops-and-detaches-$s"
	else
		fail "uci-refuse-stops-and-detaches-$s" "log: $(cat "$TMP/log") calls: $(cat "$TMP/calls")"
	fi
	rm -f "$TMP/pid"
done

# The translated options must be ones the real CLI accepts: "run OPTIONS
# --help" exits 0 only if every option before --help parsed. A bad value
# must make it fail, or this check could not.
if [ -x "$FP" ] && [ ${#SHELLS[@]} -gt 0 ]; then
	c=$(with sqm_guard 0)
	c=$(with hw 0 "$c")
	c=$(with max_flows 1000 "$c")
	c=$(with mode native "$c")
	c=$(with capacity 4096 "$c")
	for conf in "shipped:$FILES/fastpath.config" "all-options:$c"; do
		translate "${SHELLS[0]}" "${conf#*:}"
		read -r -a args <<<"$(cmdline)"
		opts=("${args[@]:2:${#args[@]}-4}") # drop PROG, "run" and the two devices
		if [ ${#opts[@]} -lt 4 ]; then
			fail "cli-accepts-${conf%%:*}" "no options translated: ${args[*]}"
		elif "$FP" run "${opts[@]}" --help >/dev/null 2>"$TMP/err"; then
			pass "cli-accepts-${conf%%:*}"
		else
			fail "cli-accepts-${conf%%:*}" "fastpath run ${opts[*]}: $(cat "$TMP/err")"
		fi
	done
	if "$FP" run --policy mark:0x1 --help >/dev/null 2>&1; then
		fail cli-rejects-bad "fastpath run accepted --policy mark:0x1"
	else
		pass cli-rejects-bad
	fi
else
	skip cli-accepts "build/fastpath is not built (make all)"
fi

# --- the hotplug script -----------------------------------------------------

cat >"$ROOT/etc/init.d/fastpath" <<EOF
#!/bin/sh
echo "init \$*" >>"$TMP/calls"
EOF
chmod +x "$ROOT/etc/init.d/fastpath"

# hotplug SHELL TYPE ACTION INTERFACE: run it as hotplug-call does.
hotplug() {
	: >"$TMP/calls"
	: >"$TMP/log"
	# shellcheck disable=SC2086,SC2016
	env SI_CONFDIR="$TMP/conf" SI_LOG="$TMP/log" IPKG_INSTROOT="$ROOT" \
		HOTPLUG_TYPE="$2" ACTION="$3" INTERFACE="$4" \
		$1 -c '. "$1"' sh "$FILES/fastpath.hotplug"
}

c=$(with enabled 1)
echo "	list devices 'eth1'" >>"$c"
cp "$c" "$TMP/conf/fastpath"
for sh in "${SHELLS[@]}"; do
	s=${sh%% *}
	ok=1 why=""
	for ev in "iface ifup wan reload" "net add eth1 reload" "iface ifup guest -" \
		"iface ifdown wan -" "net add wlan0 -" "net remove eth1 -"; do
		read -r type action ifname want <<<"$ev"
		hotplug "$sh" "$type" "$action" "$ifname"
		if [ "$want" = reload ]; then
			grep -qx 'init reload' "$TMP/calls" || { ok=0 why="$why; $type $action $ifname: no reload"; }
		else
			grep -q 'reload' "$TMP/calls" && { ok=0 why="$why; $type $action $ifname: reloaded"; }
		fi
	done
	if [ $ok -eq 1 ]; then
		pass "hotplug-$s"
	else
		fail "hotplug-$s" "${why#; }"
	fi
done

# --- the fw4 include --------------------------------------------------------

# A table shaped like the one fw4 prints (fw4 print on a default config):
# the include sits where fw4 puts chain-pre/forward/*.nft, at the top of
# the forward chain before its established/related verdict map.
fw4_table() {
	cat <<EOF
table inet fw4
flush table inet fw4
table inet fw4 {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state vmap { established : accept, related : accept }
		iifname "$2" jump input_lan
		iifname "$3" jump input_wan
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		include "$1"
		ct state vmap { established : accept, related : accept }
		iifname "$2" jump forward_lan
		iifname "$3" jump forward_wan
		jump handle_reject
	}
	chain output {
		type filter hook output priority filter; policy accept;
		oif "lo" accept
		ct state vmap { established : accept, related : accept }
	}
	chain handle_reject {
		meta l4proto tcp reject with tcp reset
		reject with icmpx type port-unreachable
	}
	chain input_lan {
		jump accept_from_lan
	}
	chain input_wan {
		ct status dnat accept
		jump reject_from_wan
	}
	chain forward_lan {
		jump accept_to_wan
		jump accept_to_lan
	}
	chain forward_wan {
		ct status dnat accept
		jump reject_to_lan
	}
	chain accept_from_lan {
		iifname "$2" counter accept
	}
	chain accept_to_lan {
		oifname "$2" counter accept
	}
	chain accept_to_wan {
		meta nfproto ipv4 oifname "$3" ct state invalid counter drop
		oifname "$3" counter accept
	}
	chain reject_from_wan {
		iifname "$3" counter jump handle_reject
	}
	chain reject_to_lan {
		oifname "$2" counter jump handle_reject
	}
	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$3" jump srcnat_wan
	}
	chain srcnat_wan {
		meta nfproto ipv4 masquerade
	}
	chain mangle_forward {
		type filter hook forward priority mangle; policy accept;
	}
}
EOF
}

if ! command -v nft >/dev/null; then
	skip fw4-include "nft is not installed"
else
	fw4_table "$FILES/fastpath.nft" br-lan eth0.7 >"$TMP/fw4.nft"
	if out=$(unshare -n nft -c -f "$TMP/fw4.nft" 2>&1); then
		pass fw4-include-nft-check
	else
		fail fw4-include-nft-check "$out"
	fi
	# The same check on a broken include must fail.
	sed 's/ct mark set/ct mark sett/' "$FILES/fastpath.nft" >"$TMP/broken.nft"
	fw4_table "$TMP/broken.nft" br-lan eth0.7 >"$TMP/fw4-broken.nft"
	if unshare -n nft -c -f "$TMP/fw4-broken.nft" >/dev/null 2>&1; then
		fail fw4-include-check-can-fail "nft -c accepted a broken include"
	else
		pass fw4-include-check-can-fail
	fi
fi

# The include loaded for real, in a router namespace between a client
# (lan0) and a server (wan0): an established TCP connection to port 80
# gets ct mark 0x1, one to port 8080 keeps mark 0. Both pass fw4's
# forward chain: the rule only marks.
fw4_lab() {
	local p
	for p in c r s; do ip netns add "$NS-$p" || return 1; done
	ip link add lan0 netns "$NS-r" type veth peer name eth0 netns "$NS-c" || return 1
	ip link add wan0 netns "$NS-r" type veth peer name eth0 netns "$NS-s" || return 1
	ip -n "$NS-c" addr add 10.77.1.2/24 dev eth0
	ip -n "$NS-s" addr add 10.77.2.2/24 dev eth0
	ip -n "$NS-r" addr add 10.77.1.1/24 dev lan0
	ip -n "$NS-r" addr add 10.77.2.1/24 dev wan0
	for p in c r s; do
		ip -n "$NS-$p" link set lo up
	done
	ip -n "$NS-c" link set eth0 up
	ip -n "$NS-s" link set eth0 up
	ip -n "$NS-r" link set lan0 up
	ip -n "$NS-r" link set wan0 up
	ip -n "$NS-c" route add default via 10.77.1.1
	ip -n "$NS-s" route add default via 10.77.2.1
	ip netns exec "$NS-r" sysctl -qw net.ipv4.ip_forward=1 || return 1
	fw4_table "$FILES/fastpath.nft" lan0 wan0 >"$TMP/fw4-lab.nft"
	ip netns exec "$NS-r" nft -f "$TMP/fw4-lab.nft"
}

# mark_of PORT: the ct mark of the router's TCP connection to PORT.
mark_of() {
	ip netns exec "$NS-r" conntrack -L -p tcp --dport "$1" 2>/dev/null |
		sed -n 's/.* mark=\([0-9]*\).*/\1/p' | head -1
}

if ! command -v conntrack >/dev/null || ! command -v socat >/dev/null; then
	skip fw4-include-marks "conntrack or socat is not installed"
elif ! fw4_lab 2>"$TMP/err"; then
	fail fw4-include-marks "lab setup: $(cat "$TMP/err")"
else
	for port in 80 8080; do
		ip netns exec "$NS-s" socat -T 10 TCP-LISTEN:$port,reuseaddr,fork EXEC:cat &
		E2E_PIDS+=($!)
	done
	for port in 80 8080; do
		wait_for 5 eval "ip netns exec $NS-s ss -Hltn 'sport = :$port' | grep -q ."
	done
	ok=1
	for port in 80 8080; do
		got=$( (echo hello; sleep 0.5) | ip netns exec "$NS-c" socat -t 5 -T 10 - TCP:10.77.2.2:$port)
		[ "$got" = hello ] || { ok=0; fail fw4-include-marks "no echo through the router on port $port"; }
	done
	m80=$(mark_of 80) m8080=$(mark_of 8080)
	if [ $ok -eq 1 ] && [ "$m80" = 1 ] && [ "$m8080" = 0 ]; then
		pass fw4-include-marks
	elif [ $ok -eq 1 ]; then
		fail fw4-include-marks "ct mark port 80 '$m80' (want 1), port 8080 '$m8080' (want 0)"
	fi
fi

# --- the daemon against musl -----------------------------------------------

# OpenWrt's C library is musl. Compile every user/**/*.c (not link: there is
# no musl libbpf here) with musl's headers and this machine's kernel and
# library headers, with the project's CFLAGS (-Werror included).
if ! command -v musl-gcc >/dev/null; then
	skip user-musl "musl-gcc is not installed (scripts/deps.sh)"
elif [ ! -f "$TOP/build/fastpath.skel.h" ]; then
	skip user-musl "build/fastpath.skel.h is not built (make all)"
else
	inc=$TMP/musl-inc
	mkdir -p "$inc"
	for d in linux asm-generic bpf libmnl libnetfilter_conntrack libnfnetlink; do
		ln -s "/usr/include/$d" "$inc/$d"
	done
	ln -s "/usr/include/$(gcc -dumpmachine)/asm" "$inc/asm"
	musl_cc() {
		musl-gcc -DFP_VERSION=\"0.1\" -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
			-I"$TOP/include" -I"$TOP/build" -I"$TOP/user" -idirafter "$inc" -c "$@"
	}
	ok=1 n=0
	while read -r f; do
		n=$((n + 1))
		if ! out=$(musl_cc "$f" -o "$TMP/musl.o" 2>&1); then
			ok=0
			fail user-musl "${f#"$TOP"/}: $(echo "$out" | grep -m3 error)"
		fi
	done < <(find "$TOP/user" -name '*.c' | sort)
	if [ $n -eq 0 ]; then
		fail user-musl "no user/**/*.c found"
	elif [ $ok -eq 1 ]; then
		pass "user-musl ($n files)"
	fi
	# It is musl's libc: glibc's <execinfo.h> is not there.
	printf '#include <execinfo.h>\n' >"$TMP/glibc.c"
	if musl_cc "$TMP/glibc.c" -o "$TMP/glibc.o" 2>/dev/null; then
		fail user-musl-is-musl "a glibc-only header compiled"
	else
		pass user-musl-is-musl
	fi
fi

# --- the feed Makefile ------------------------------------------------------

# Every ./files/X the Makefile installs exists, and every file in files/ is
# installed.
listed=$(grep -o '\./files/[A-Za-z0-9._-]*' "$PKG/Makefile" | sed 's|\./files/||' | sort -u)
present=$(find "$FILES" -maxdepth 1 -type f -printf '%f\n' | sort)
if [ "$listed" = "$present" ]; then
	pass feed-file-list
else
	fail feed-file-list "Makefile installs: $(echo "$listed" | tr '\n' ' '); files/ has: $(echo "$present" | tr '\n' ' ')"
fi

# The include lands where fw4 looks for chain-pre includes of "forward".
if grep -q 'usr/share/nftables.d/chain-pre/forward/30-fastpath.nft' "$PKG/Makefile"; then
	pass feed-fw4-include-path
else
	fail feed-fw4-include-path "fastpath.nft is not installed under /usr/share/nftables.d/chain-pre/forward/"
fi

# The module the KernelPackage names is one kmod/Kbuild builds (a rename
# of the module must change FASTPATH_KMOD too).
kmod=$(sed -n 's/^FASTPATH_KMOD:=//p' "$PKG/Makefile")
if [ -n "$kmod" ] && grep -Eq "^obj-m.*[[:space:]=]$kmod\.o" "$TOP/kmod/Kbuild"; then
	pass feed-kmod-name
else
	fail feed-kmod-name "FASTPATH_KMOD '$kmod' is not an obj-m of kmod/Kbuild"
fi

# The feed Makefile's own recipes (Build/Prepare, Build/Compile, the
# install lists), run by a STAND-IN for an OpenWrt SDK's rules.mk,
# package.mk, kernel.mk and bpf.mk (openwrt_sdk/) that builds for this
# machine: the host's gcc and clang, kbuild against Debian's headers. Once
# for a little-endian target, once (without the module) for a big-endian
# one, whose BPF object must be the one the daemon embeds.
SDK=$TOP/selftests/e2e/openwrt_sdk
printf '%s\n' '#include <stdio.h>' '#include <bpf/libbpf.h>' '#include "fastpath.skel.h"' \
	'int main(void) { size_t sz; const void *p = fastpath_bpf__elf_bytes(&sz);' \
	'return fwrite(p, 1, sz, stdout) != sz; }' >"$TMP/embedded.c"
# embedded BUILD: the object the skeleton in BUILD embeds, on stdout.
embedded() {
	gcc -I"$1/build" -I"$TOP/include" "$TMP/embedded.c" -o "$TMP/embedded" -lbpf &&
		"$TMP/embedded"
}
if [ ! -d /usr/src ] || [ -z "$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null)" ]; then
	skip feed-sdk-build "no Debian kernel headers for kbuild (scripts/deps.sh vm)"
else
	for variant in le be; do
		root=$TMP/pkg-$variant build=$TMP/sdk-$variant
		extra=()
		targets=(install-fastpath install-kmod-fastpath)
		if [ $variant = be ]; then
			extra=(CONFIG_BIG_ENDIAN=y SKIP_KMOD=1)
			targets=(install-fastpath)
		fi
		if ! make -C "$PKG" TOPDIR="$SDK" BUILD_DIR="$build" DEST="$root" "${extra[@]}" \
			"${targets[@]}" >"$TMP/sdk.log" 2>&1; then
			fail "feed-sdk-build-$variant" "$(grep -E 'rror|\*\*\*' "$TMP/sdk.log" | head -10)"
			continue
		fi
		pb=$build/fastpath-0.1
		want_files="etc/config/fastpath etc/hotplug.d/iface/30-fastpath etc/hotplug.d/net/30-fastpath"
		want_files="$want_files etc/init.d/fastpath usr/sbin/fastpath"
		want_files="$want_files usr/share/nftables.d/chain-pre/forward/30-fastpath.nft"
		got_files=$(cd "$root/fastpath" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
		order=$([ $variant = le ] && echo "little endian" || echo "big endian")
		if [ "$got_files" != "$want_files " ]; then
			fail "feed-sdk-build-$variant" "package files: $got_files"
		elif [ ! -x "$root/fastpath/etc/init.d/fastpath" ] || [ ! -x "$root/fastpath/usr/sbin/fastpath" ]; then
			fail "feed-sdk-build-$variant" "init script or binary not executable"
		elif ! "$root/fastpath/usr/sbin/fastpath" run --help >/dev/null; then
			fail "feed-sdk-build-$variant" "the packaged fastpath does not run"
		elif ! readelf -h "$pb/build/fastpath.bpf.o" | grep -q "Data:.*$order"; then
			fail "feed-sdk-build-$variant" "BPF object not $order"
		elif ! embedded "$pb" | cmp -s - "$pb/build/fastpath.bpf.o"; then
			fail "feed-sdk-build-$variant" "the daemon does not embed the $order object"
		else
			pass "feed-sdk-build-$variant"
		fi
		if [ $variant = le ]; then
			ko=$(find "$root/kmod-fastpath" -name "$kmod.ko")
			if [ -n "$ko" ] && modinfo "$ko" >/dev/null 2>&1 &&
				[ "$(cat "$root/kmod-fastpath/autoload")" = "$kmod" ]; then
				pass feed-sdk-kmod
			else
				fail feed-sdk-kmod "no $kmod.ko in kmod-fastpath, or not autoloaded"
			fi
		fi
	done
fi

# skel-embed.sh stops, rather than write a skeleton that embeds nothing,
# when the skeleton has no NAME__elf_bytes() (bpftool before Linux 5.16).
printf 'struct x { int y; };\n' >"$TMP/old.skel.h"
if "$PKG/skel-embed.sh" "$TOP/build/fastpath.bpf.o" fastpath_bpf <"$TMP/old.skel.h" \
	>"$TMP/new.skel.h" 2>/dev/null; then
	fail skel-embed-refuses "it accepted a skeleton without fastpath_bpf__elf_bytes()"
else
	pass skel-embed-refuses
fi

# The BPF object, with the feed's flags (FASTPATH_BPF_CFLAGS) where this
# machine's UAPI headers stand in for the OpenWrt toolchain's, for both
# byte orders. A probe of struct iphdr checks that the IP version is read
# from the high nibble of the first byte on both: it is the bitfield order
# that the target's own asm/byteorder.h would get wrong for BPF.
bpf_flags() {
	echo "-target $1 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter" \
		"-nostdinc -I$TOP/include -I$TOP/bpf -I$PKG/bpf-include -isystem /usr/include"
}
printf '#include <linux/ip.h>\nint f(struct iphdr *ip) { return ip->version; }\n' >"$TMP/probe.c"
for t in bpfel bpfeb; do
	want=$([ $t = bpfel ] && echo "little endian" || echo "big endian")
	# shellcheck disable=SC2046
	if ! out=$(clang $(bpf_flags $t) -c "$TOP/bpf/fastpath.bpf.c" -o "$TMP/fp-$t.o" 2>&1); then
		fail "bpf-object-$t" "$(echo "$out" | head -20)"
	elif ! readelf -h "$TMP/fp-$t.o" | grep -q "Data:.*$want"; then
		fail "bpf-object-$t" "not $want: $(readelf -h "$TMP/fp-$t.o" | grep Data:)"
	elif ! llvm-objdump -h "$TMP/fp-$t.o" | grep -q ' \.BTF '; then
		fail "bpf-object-$t" "no .BTF section (the maps are BTF-defined)"
	else
		pass "bpf-object-$t"
	fi
	# shellcheck disable=SC2046
	clang $(bpf_flags $t) -c "$TMP/probe.c" -o "$TMP/probe-$t.o" 2>"$TMP/err"
	if llvm-objdump -d "$TMP/probe-$t.o" 2>/dev/null | grep -Eq 'r0 >>= 4$'; then
		pass "bpf-iphdr-bitfields-$t"
	else
		fail "bpf-iphdr-bitfields-$t" "version not read from the high nibble: $(llvm-objdump -d "$TMP/probe-$t.o" 2>&1 | tail -3) $(cat "$TMP/err")"
	fi
done
# The probe tells right from wrong: with the x86 asm/ headers instead of
# bpf-include, a big-endian build reads the low nibble.
arch_inc=/usr/include/$(gcc -dumpmachine)
if clang -target bpfeb -O2 -nostdinc -I"$arch_inc" -isystem /usr/include -c "$TMP/probe.c" \
	-o "$TMP/probe-wrong.o" 2>/dev/null &&
	! llvm-objdump -d "$TMP/probe-wrong.o" | grep -Eq 'r0 >>= 4$'; then
	pass bpf-iphdr-probe-can-fail
else
	fail bpf-iphdr-probe-can-fail "the probe did not notice little-endian bitfields in a bpfeb build"
fi
# On this little-endian machine, the feed's bpfel object is the project's
# own build, instruction for instruction.
if [ -f "$TOP/build/fastpath.bpf.o" ]; then
	if diff <(llvm-objdump -d --no-show-raw-insn "$TMP/fp-bpfel.o" | tail -n +3) \
		<(llvm-objdump -d --no-show-raw-insn "$TOP/build/fastpath.bpf.o" | tail -n +3) >/dev/null; then
		pass bpf-object-same-as-make
	else
		fail bpf-object-same-as-make "the feed's flags give other code than make's build/fastpath.bpf.o"
	fi
else
	skip bpf-object-same-as-make "build/fastpath.bpf.o is not built (make all)"
fi

exit $E2E_FAILED
