#!/usr/bin/env bash
# The hardware tier on Linux 6.12: the modules built against
# bookworm-backports' headers (make kmod KVER=..., build/kmod-KVER/) and
# all of test_kmod.sh's groups in that kernel.
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
FP_VM_KERNEL=$kver FP_VM_TAG=kmod612 FP_KO=$TOP/build/kmod-$kver exec bash "$VM_DIR/test_kmod.sh" "$@"
