#!/usr/bin/env bash
# The datapath on Linux 6.12 (bookworm-backports, unpacked by
# scripts/deps.sh vm): test_datapath_61.sh's vectors, in that kernel.
source "$(dirname "$0")/lib.sh"
if ! "$TOP/scripts/vm.sh" --kernel 6.12 --probe 2>/dev/null; then
	echo "SKIP vm612: no 6.12 kernel here (scripts/deps.sh vm)"
	exit 0
fi
FP_VM_KERNEL=6.12 FP_VM_TAG=vm612 exec bash "$VM_DIR/test_datapath_61.sh" "$@"
