#!/usr/bin/env bash
# NOT IN THE SUITE YET (sqm_vm.sh, not test_*.sh): see sqm_lab.sh. Run it
# by hand: bash selftests/vm/sqm_vm.sh (7.5 min under TCG). One run on
# the loaded host (load 17): the slow path reached 13.8 Mbit/s through a
# 50 Mbit/s cake, the TC tier 6.3 Mbit/s (with XDP on r0 the veth takes
# TSO from its peer, so TC sees every 1500-byte packet, where the slow
# path forwards GRO packets; per packet, TCG is slow). So 50 Mbit/s cannot
# be judged under TCG; RATE_MBIT must be one both reach (about 5). The
# ifb part held the download on the slow path ("sqm_ingress") as it must.
# SQM on Debian's 6.1 kernel, which has cake and ifb (issue 12): the host
# lab selftests/e2e/sqm_lab.sh with cake on the WAN egress instead of
# tbf, and ifb ingress shaping as sqm-scripts sets it up (SQM_IFB=1). The
# end hosts keep the veth's default offloads, as in the host labs.
source "$(dirname "$0")/lib.sh"
vm_skip_unless_bootable sqm

if [ "${1:-}" = inner ]; then
	vm_modules
	for m in sch_cake ifb act_mirred cls_matchall; do
		modprobe -q "$m" || { echo "SKIP sqm: no $m module in $(uname -r)"; exit 0; }
	done
	LAB_TX_OFFLOAD=on SQM_QDISC=cake SQM_IFB=1 RATE_MBIT=${RATE_MBIT:-50} \
		exec bash "$TOP/selftests/e2e/sqm_lab.sh"
fi
vm_run "${FP_VM_TAG:-vm61}" "$0" inner
