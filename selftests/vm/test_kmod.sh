#!/usr/bin/env bash
# The hardware tier (kmod/) in Debian's kernel: module lifecycle, the
# genetlink family, the flow_rules a MediaTek-like driver receives, and
# the reference lab on simulated PPE ports under "fastpath run". The
# in-VM part is kmod_inner.sh; the modules come from build/ (make kmod).
# Arguments pick groups of tests: lifecycle genl rules hw indirect fallback.
source "$(dirname "$0")/lib.sh"
vm_skip_unless_bootable kmod

if [ ! -e "$TOP/build/fastpath_ppe.ko" ] || [ ! -e "$TOP/build/ppe_sim.ko" ]; then
	if ! make -C "$TOP" --no-print-directory kmod >/dev/null 2>&1; then
		echo "SKIP kmod: the modules do not build here (make kmod needs linux-headers)"
		exit 0
	fi
fi
vm_run kmod bash "$VM_DIR/kmod_inner.sh" "$@"
