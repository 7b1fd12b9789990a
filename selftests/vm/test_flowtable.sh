#!/usr/bin/env bash
# fastpath side by side with the kernel's nf_flowtable (software flow
# offloading, OpenWrt's kmod-nft-offload), on the same 6.1 kernel, lab and
# reference ruleset. Each must deliver TCP and UDP intact through
# masquerade and through a DNAT port forward, and prove with the forward
# chain's counter that it bypassed the slow path.
source "$(dirname "$0")/lib.sh"
vm_skip_unless_bootable flowtable

if [ "${1:-}" != inner ]; then
	vm_run vm61 "$0" inner
	exit
fi

vm_modules
source "$TOP/selftests/lib.sh"
MB=${MB:-8}

# A port forward on the WAN side: 10.0.2.1:2222/tcp and :2223/udp reach
# the client's ports 22 and 23.
add_port_forward() {
	in_r nft -f - <<-'NFT'
	table ip nat {
		chain prerouting {
			type nat hook prerouting priority dstnat;
			iifname "r1" tcp dport 2222 dnat to 10.0.1.2:22
			iifname "r1" udp dport 2223 dnat to 10.0.1.2:23
		}
	}
	NFT
}

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

# The port forward, from the server (the WAN) to the client: the client
# namespace plays the server and the other way round; the packets are
# still counted on the server's link.
dnat_tcp() {
	local lan=$NS_C wan=$NS_S
	NS_C=$wan NS_S=$lan XFER_LPORT=22 XFER_LINK="$wan s0" \
		tcp_xfer "$1" ipv4 10.0.2.1 2222 "$MB" && check_offloaded "$1"
}

dnat_udp() {
	local lan=$NS_C wan=$NS_S
	NS_C=$wan NS_S=$lan XFER_LPORT=23 XFER_LINK="$wan s0" \
		udp_xfer "$1" 10.0.2.1 2223 6 && check_offloaded "$1"
}

run_side() {
	local side=$1 XFER_VIA=xdp
	# The kernel's flowtable carries its side: XDP redirects nothing there.
	[ "$side" = flowtable ] && XFER_VIA=flowtable
	if ! lab_up; then
		fail "$side-setup" "lab setup failed"
		return
	fi
	add_port_forward
	if [ "$side" = flowtable ]; then
		add_flowtable || { fail "$side-setup" "flowtable rejected"; lab_down; return; }
	else
		start_daemon --policy all r0 r1 || { fail "$side-setup" "daemon"; lab_down; return; }
	fi
	tcp_xfer "$side-tcp-masq" ipv4 10.0.2.2 80 "$MB" && check_offloaded "$side-tcp-masq"
	dnat_tcp "$side-tcp-dnat"
	udp_xfer "$side-udp-masq" 10.0.2.2 5300 6 && check_offloaded "$side-udp-masq"
	dnat_udp "$side-udp-dnat"
	stop_daemon
	lab_down
}

LAB_ID=ft$$ run_side flowtable
LAB_ID=fp$$ run_side fastpath
exit $E2E_FAILED
