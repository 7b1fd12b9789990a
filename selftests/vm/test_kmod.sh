#!/usr/bin/env bash
# The hardware tier (kmod/) in Debian's kernel: module lifecycle, the
# genetlink family, the flow_rules a MediaTek-like driver receives, and
# the reference lab on simulated PPE ports under "fastpath run". The
# in-VM part is kmod_inner.sh; the modules come from build/ (make kmod).
# Arguments pick groups of tests: lifecycle genl rules hw indirect fallback.
source "$(dirname "$0")/lib.sh"
vm_skip_unless_bootable kmod

if [ ! -e "$TOP/build/fastpath.ko" ] || [ ! -e "$TOP/build/ppe_sim.ko" ]; then
	if ! make -C "$TOP" --no-print-directory kmod >/dev/null 2>&1; then
		echo "SKIP kmod: the modules do not build here (make kmod needs linux-headers)"
		exit 0
	fi
fi
# As vm_run, with a longer watchdog: the whole suite takes 10-15 minutes
# under TCG, more while other VMs share the CPUs.
# FP_KO (test_kmod_612.sh) names the modules of another kernel; ACCT_MB
# sizes the accounting test's download (ACCT_MB=100 for the issue's size).
tag=${FP_VM_TAG:-kmod}
"$TOP/scripts/vm.sh" --timeout 2400 -- env FP_KO="${FP_KO:-}" ACCT_MB="${ACCT_MB:-}" ACCT_UDP_MB="${ACCT_UDP_MB:-}" bash "$VM_DIR/kmod_inner.sh" "$@" 2>&1 |
	sed -u "s/^\(PASS\|FAIL\|SKIP\) /\1 $tag-/"
rc=${PIPESTATUS[0]}
# 1: some test failed and said so; anything else is the VM's own trouble.
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || echo "FAIL $tag: the VM run exited with status $rc"
exit "$rc"
