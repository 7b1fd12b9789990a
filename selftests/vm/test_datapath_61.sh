#!/usr/bin/env bash
# The datapath on Debian's 6.1 kernel: the packet vectors, in the VM. The
# daemon's end-to-end lab on 6.1 is test_flowtable.sh's fastpath half,
# which make check runs as well; the full host lab here would add minutes
# of emulation and prove nothing more.
source "$(dirname "$0")/lib.sh"
vm_skip_unless_bootable vm61

if [ "${1:-}" = inner ]; then
	vm_modules
	uname -r
	t0=$(date +%s)
	# Only what depends on the kernel: the layer check and the state
	# machine's cases are the same program on the host.
	selftests/run.sh vectors
	echo "  vectors: $(($(date +%s) - t0)) s in the VM"
	exit 0
fi
vm_run "${FP_VM_TAG:-vm61}" "$0" inner
