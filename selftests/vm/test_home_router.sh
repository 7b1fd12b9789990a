#!/usr/bin/env bash
# A home router's WAN and LAN in Debian's kernel, which has the 8021q,
# pppoe and bridge modules the host kernel lacks: PPPoE over VLAN 7 from an
# ISP namespace (pppoe-server), br-lan over two ports with a client each,
# "fastpath run ppp0 br-lan". The in-VM part is home_router_inner.sh.
source "$(dirname "$0")/lib.sh"
vm_skip_unless_bootable home

if ! command -v pppoe-server >/dev/null || ! command -v pppd >/dev/null; then
	echo "SKIP home: pppd or pppoe-server is missing (scripts/deps.sh vm)"
	exit 0
fi
vm_run home bash "$VM_DIR/home_router_inner.sh" pppoe
