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
source "$TOP/selftests/e2e/lib.sh"
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

# fwd_check NAME F0 P0: the transfer since F0/P0 left the forward chain.
fwd_check() {
	local name=$1 f=$(($(lab_fwd_packets) - $2)) p=$(($(lab_dev_packets "$NS_S" s0) - $3))
	echo "  $name: $p packets on the server link, $f in the forward chain"
	if [ $((f * 100)) -lt "$p" ]; then
		pass "$name"
	else
		fail "$name" "forward chain saw $f of $p packets"
	fi
}

# TCP from the server to the router's port 2222, forwarded to the client.
dnat_tcp() {
	local name=$1 f0 p0
	spawn in_c timeout 120 socat -u TCP4-LISTEN:22,reuseaddr "OPEN:$TMP/$name.out,creat,trunc"
	local srv=$!
	wait_for 30 sh -c "ip netns exec $NS_C ss -Hltn 'sport = :22' | grep -q ."
	f0=$(lab_fwd_packets) p0=$(lab_dev_packets "$NS_S" s0)
	if ! in_s timeout 120 socat -u "FILE:$TMP/blob$MB" TCP4:10.0.2.1:2222; then
		fail "$name" "client failed"
		return
	fi
	wait "$srv"
	cmp -s "$TMP/blob$MB" "$TMP/$name.out" || { fail "$name" "data differs"; return; }
	fwd_check "$name" "$f0" "$p0"
}

# UDP echo through masquerade (client -> server) or the port forward.
udp_xfer() {
	local name=$1 where=$2 f0 p0 sum
	if [ "$where" = masq ]; then
		udp_server 5300
		f0=$(lab_fwd_packets) p0=$(lab_dev_packets "$NS_S" s0)
		sum=$(in_c timeout 120 python3 "$E2E_DIR/udp_echo.py" client 10.0.2.2 5300 "$TMP/blob4")
	else
		udp_server 23 in_c
		f0=$(lab_fwd_packets) p0=$(lab_dev_packets "$NS_S" s0)
		sum=$(in_s timeout 120 python3 "$E2E_DIR/udp_echo.py" client 10.0.2.1 2223 "$TMP/blob4")
	fi
	kill "${E2E_PIDS[-1]}" 2>/dev/null
	[ "$sum" = "$(sha256sum <"$TMP/blob4" | cut -d' ' -f1)" ] || { fail "$name" "echo differs"; return; }
	fwd_check "$name" "$f0" "$p0"
}

run_side() {
	local side=$1
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
	tcp_xfer "$side-tcp-masq" ipv4 10.0.2.2 80 "$MB" && check_fast_fwd "$side-tcp-masq"
	dnat_tcp "$side-tcp-dnat"
	udp_xfer "$side-udp-masq" masq
	udp_xfer "$side-udp-dnat" dnat
	lab_down
}

# tcp_xfer's check_fast also counts XDP redirects, which the flowtable
# side has none of; judge both sides by the forward chain alone.
check_fast_fwd() {
	if [ $((XFER_FWD * 100)) -lt "$XFER_PKTS" ]; then
		pass "$1"
	else
		fail "$1" "forward chain saw $XFER_FWD of $XFER_PKTS packets"
	fi
}

head -c "${MB}M" /dev/urandom >"$TMP/blob$MB"
head -c 6M /dev/urandom >"$TMP/blob4"
LAB_ID=ft$$ run_side flowtable
LAB_ID=fp$$ run_side fastpath
exit $E2E_FAILED
