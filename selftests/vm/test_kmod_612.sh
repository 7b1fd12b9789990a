#!/usr/bin/env bash
# The hardware tier on Linux 6.12: the modules built against
# bookworm-backports' headers (make kmod KVER=..., build/kmod-KVER/) in
# that kernel. make check runs the groups that meet the kernel's API
# (module lifecycle, the genetlink family, the flow_rules built for
# TC_SETUP_FT): the labs of all groups took 28 minutes under TCG on a
# loaded machine, too long for make check's 45. FP_KMOD612_ALL=1 (make
# vm-check-all) or arguments run all or other groups.
source "$(dirname "$0")/lib.sh"
kver=$(ls -d /var/lib/fastpath/linux-6.12* 2>/dev/null | sed 's|.*/linux-||' | sort -V | tail -1)
if [ -z "$kver" ] || ! "$TOP/scripts/vm.sh" --kernel "$kver" --probe 2>/dev/null; then
	echo "SKIP kmod612: no 6.12 kernel here (scripts/deps.sh vm)"
	exit 0
fi
if ! out=$(make -C "$TOP" --no-print-directory kmod KVER="$kver" 2>&1); then
	echo "$out" | tail -20
	echo "FAIL kmod612-build: make kmod KVER=$kver failed"
	exit 1
fi
groups=("$@")
[ ${#groups[@]} -gt 0 ] || [ -n "${FP_KMOD612_ALL:-}" ] || groups=(lifecycle genl rules)
FP_VM_KERNEL=$kver FP_VM_TAG=kmod612 FP_KO=$TOP/build/kmod-$kver exec bash "$VM_DIR/test_kmod.sh" "${groups[@]}"
