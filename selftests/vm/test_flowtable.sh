#!/usr/bin/env bash
# fastpath side by side with the kernel's nf_flowtable (software flow
# offloading, OpenWrt's kmod-nft-offload), on the same 6.1 kernel, lab and
# reference ruleset. Each must deliver TCP and UDP intact through
# masquerade and through a DNAT port forward, and prove with the forward
# chain's counter that it bypassed the slow path.
#
# Both are judged the same way: from the moment the connection is
# offloaded (conntrack's [OFFLOAD] flag for the kernel's flowtable, both
# entries in the table for fastpath), with the packets before it reported
# as the learning window. The TCP sender streams the first half of its
# data meanwhile and pauses there only while the counters are read
# (XFER_HOLD, XFER_FIRST half the size: a wait from the first MB could
# outlast the idle timeout under a loaded host's emulation); a UDP flow is offloaded from a short exchange
# first (XFER_WARM). Under TCG learning takes a time, not a number of
# packets, so a whole-transfer share would measure the host.
source "$(dirname "$0")/lib.sh"
vm_skip_unless_bootable flowtable

if [ "${1:-}" != inner ]; then
	vm_run vm61 "$0" inner
	exit
fi

vm_modules
source "$TOP/selftests/lib.sh"
MB=${MB:-8}

# The kernel flowtable, selecting established TCP and UDP as the reference
# ruleset's "flow add @f" variant does.
add_flowtable() {
	in_r nft -f - <<-'NFT'
	table inet filter {
		flowtable f {
			hook ingress priority 0
			devices = { r0, r1 }
		}
	}
	NFT
	in_r nft insert rule inet filter forward meta l4proto '{ tcp, udp }' ct state established flow add @f
}

# offloaded PROTO PORT: the connection to PORT is offloaded by the side
# under test.
offloaded() {
	if [ "$SIDE" = flowtable ]; then
		in_r conntrack -L -p "$1" --dport "$2" 2>/dev/null | grep -q '\[OFFLOAD\]'
	else
		in_table "$2"
	fi
}

xfer_tcp() {
	XFER_FIRST=$((MB << 19)) XFER_HOLD="offloaded tcp $4" XFER_HOLD_S=15 \
		tcp_xfer "$@" "$MB" && check_offloaded "$1"
}

xfer_udp() {
	XFER_SPORT=$(($3 + 30000)) XFER_WARM=1 XFER_HOLD="offloaded udp $3" XFER_HOLD_S=15 \
		udp_xfer "$@" 6 && check_offloaded "$1"
}

# The port forward, from the server (the WAN) to the client: the client
# namespace plays the server and the other way round; the packets are
# still counted on the server's link.
dnat_tcp() {
	local lan=$NS_C wan=$NS_S
	NS_C=$wan NS_S=$lan XFER_LPORT=22 XFER_LINK="$wan s0" xfer_tcp "$1" ipv4 10.0.2.1 2222
}

dnat_udp() {
	local lan=$NS_C wan=$NS_S
	NS_C=$wan NS_S=$lan XFER_LPORT=23 XFER_LINK="$wan s0" xfer_udp "$1" 10.0.2.1 2223
}

run_side() {
	local side=$1 XFER_VIA=xdp SIDE=$1
	# The kernel's flowtable carries its side: XDP redirects nothing there.
	[ "$side" = flowtable ] && XFER_VIA=flowtable
	if ! lab_up; then
		fail "$side-setup" "lab setup failed"
		return
	fi
	# The WAN's 10.0.2.1:2222/tcp and :2223/udp reach the client's 22 and 23.
	add_port_forward ip tcp:2222:22 udp:2223:23
	if [ "$side" = flowtable ]; then
		add_flowtable || { fail "$side-setup" "flowtable rejected"; lab_down; return; }
	else
		start_daemon --policy all r0 r1 || { fail "$side-setup" "daemon"; lab_down; return; }
	fi
	xfer_tcp "$side-tcp-masq" ipv4 10.0.2.2 80
	dnat_tcp "$side-tcp-dnat"
	xfer_udp "$side-udp-masq" 10.0.2.2 5300
	dnat_udp "$side-udp-dnat"
	stop_daemon
	lab_down
}

LAB_ID=ft$$ run_side flowtable
LAB_ID=fp$$ run_side fastpath
exit $E2E_FAILED
