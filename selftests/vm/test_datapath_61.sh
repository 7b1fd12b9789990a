#!/usr/bin/env bash
# The datapath on Debian's 6.1 kernel: the unit vectors and the daemon's
# end-to-end lab (TCP v4/v6 by mark, the unselected port, UDP), in the VM.
source "$(dirname "$0")/lib.sh"
vm_skip_unless_bootable vm61

if [ "${1:-}" = inner ]; then
	vm_modules
	uname -r
	t0=$(date +%s)
	selftests/run.sh unit
	echo "  unit suite: $(($(date +%s) - t0)) s in the VM"
	# Smaller transfers: TCG is slow, and these prove behaviour, not
	# speed; still large enough that learning's first slow-path packets
	# stay under the 1% the tests allow.
	MB=10 UDP_MB=4 PORTS="80 8080" bash selftests/e2e/test_daemon_offload.sh
	exit 0
fi
vm_run vm61 "$0" inner
