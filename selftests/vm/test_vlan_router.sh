#!/usr/bin/env bash
# VLAN-to-VLAN routing in Debian's kernel (8021q): two tagged subinterfaces
# of one trunk port (eth1.10, eth1.20), and a QinQ port (802.1ad 100, inner
# 30), under "fastpath run eth1.10 eth1.20 eth2.100.30". The in-VM part is
# home_router_inner.sh.
source "$(dirname "$0")/lib.sh"
vm_skip_unless_bootable vlan
vm_run vlan bash "$VM_DIR/home_router_inner.sh" vlan
